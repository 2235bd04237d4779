package basebackup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/pgark/pgark/internal/conn"
	"github.com/pgark/pgark/internal/replication"
)

// output is where a backup's archives go: a plain data directory or a
// pgark backup directory.
type output interface {
	// begin prepares the targets once the server has said which
	// tablespaces it sends; it appends what it creates to b.targets.
	begin(b *run) error
	// archive consumes one archive's tar stream, calling b.sums.copy for
	// every regular file it holds.
	archive(b *run, r io.Reader, m *replication.NewArchive) error
	// manifest stores the manifest's bytes, checked already.
	manifest(b *run, raw []byte) error
	// finish makes everything durable and marks the backup complete
	// (last), after the WAL receiver is done.
	finish(ctx context.Context, b *run) error
}

// run is one backup in progress.
type run struct {
	opts    Options
	res     *Result
	dirMode fs.FileMode
	walDir  string // where the WAL receiver writes, "" without one
	sums    *fileSums
	sync    *syncer
	targets []*target
	// tablespaces are the server's, as it announced them.
	tablespaces []replication.TablespaceHeader
}

// backup runs BASE_BACKUP into out. See the package documentation for
// the sequence and what a failure leaves behind.
func backup(ctx context.Context, opts Options, out output, walDir func(b *run) string) (res *Result, err error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	res = &Result{Label: opts.Label, StartTime: time.Now()}
	b := &run{opts: opts, res: res, sync: newSyncer()}
	if !opts.NoManifest {
		if b.sums, err = newFileSums(opts.ManifestChecksums); err != nil {
			return nil, err
		}
	}

	main, err := opts.Connect(ctx)
	if err != nil {
		return nil, err
	}
	defer closeConn(main)
	if res.ServerVersion, err = conn.ServerVersion(ctx, main); err != nil {
		return nil, fmt.Errorf("basebackup: %w", err)
	}
	if err := replication.CheckServerVersion(res.ServerVersion, "BASE_BACKUP"); err != nil {
		return nil, fmt.Errorf("basebackup: %w", err)
	}
	sys, err := replication.IdentifySystem(ctx, main)
	if err != nil {
		return nil, fmt.Errorf("basebackup: %w", err)
	}
	res.SystemID = sys.SystemID
	if res.SegmentSize, err = replication.SegmentSize(ctx, main); err != nil {
		return nil, fmt.Errorf("basebackup: %w", err)
	}
	if b.dirMode, err = dataDirMode(ctx, main); err != nil {
		return nil, err
	}

	// Everything written is undone on failure, unless NoClean.
	defer func() {
		if err == nil || opts.NoClean {
			return
		}
		for _, t := range b.targets {
			if rerr := t.remove(); rerr != nil {
				err = errors.Join(err, fmt.Errorf("basebackup: remove %s after the failure: %w", t.dir, rerr))
			}
		}
	}()
	t, err := prepareDir(opts.Dir, b.dirMode)
	if err != nil {
		return nil, err
	}
	b.targets = append(b.targets, t)

	// The WAL connection and its temporary slot exist before the backup
	// starts, so the server keeps every segment from the backup's start.
	var recv *walReceiver
	if opts.WAL == WALStream {
		walConn, err := opts.Connect(ctx)
		if err != nil {
			return nil, err
		}
		defer closeConn(walConn)
		slot := fmt.Sprintf("pgark_basebackup_%d", walConn.PID())
		if _, err := replication.CreateReplicationSlot(ctx, walConn, slot,
			replication.SlotOptions{Temporary: true, ReserveWAL: true}); err != nil {
			return nil, fmt.Errorf("basebackup: %w", err)
		}
		b.walDir = walDir(b)
		if err := os.Mkdir(b.walDir, b.dirMode); err != nil {
			return nil, fmt.Errorf("basebackup: %w", err)
		}
		if recv, err = newWALReceiver(walConn, slot, b.walDir, res.SegmentSize, sys.Timeline, opts.StatusInterval); err != nil {
			return nil, err
		}
	}

	bb, err := replication.StartBaseBackup(ctx, main, replication.BaseBackupOptions{
		Label:      opts.Label,
		Progress:   opts.Progress != nil,
		Checkpoint: opts.Checkpoint,
		WAL:        opts.WAL == WALFetch,
		// As pg_basebackup: a backup that carries its WAL need not wait
		// for the server to archive it.
		NoWait:            opts.WAL != WALNone,
		Manifest:          map[bool]string{false: "yes", true: "no"}[opts.NoManifest],
		ManifestChecksums: opts.ManifestChecksums,
		MaxRate:           opts.MaxRate,
		// No TABLESPACE_MAP: the tablespaces stay symbolic links in
		// pg_tblspc, remapped with -T as they are made.
	})
	if err != nil {
		return nil, fmt.Errorf("basebackup: %w", err)
	}
	start := bb.Start()
	res.Start, res.Timeline = start.LSN, start.Timeline
	b.tablespaces = bb.Tablespaces()
	if err := out.begin(b); err != nil {
		return nil, err
	}

	var total int64
	for _, h := range b.tablespaces {
		if h.SizeKB > 0 {
			total += h.SizeKB * 1024
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	if recv != nil {
		g.Go(func() error { return recv.run(gctx, start.LSN) })
	}
	g.Go(func() error {
		r := &reader{bb: bb, ctx: gctx, progress: opts.Progress, warn: opts.Warn,
			prog: Progress{Total: total, Archives: len(b.tablespaces)}}
		end, err := r.consume(b, out)
		if err != nil {
			return err
		}
		res.End = end.LSN
		if recv != nil {
			recv.setEnd(end.LSN)
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := out.finish(ctx, b); err != nil {
		return nil, err
	}
	res.EndTime = time.Now()
	return res, nil
}

// consume hands every archive to out and checks and stores the manifest,
// and returns the end position.
func (r *reader) consume(b *run, out output) (_ replication.BaseBackupPosition, err error) {
	// A failure of the stream is reported as it is, not as a failure to
	// write the file that was being read when it came.
	defer func() {
		if err != nil && r.err != nil {
			err = fmt.Errorf("basebackup: %w", r.err)
		}
	}()
	var raw []byte
	for {
		m, err := r.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return replication.BaseBackupPosition{}, err
		}
		switch m := m.(type) {
		case *replication.NewArchive:
			r.prog.Archive++
			if err := out.archive(b, r, m); err != nil {
				return replication.BaseBackupPosition{}, err
			}
		case *replication.ManifestStart:
			if raw, err = io.ReadAll(r); err != nil {
				return replication.BaseBackupPosition{}, fmt.Errorf("basebackup: read the manifest: %w", err)
			}
		case *replication.ArchiveData:
			return replication.BaseBackupPosition{}, fmt.Errorf("basebackup: %w: data before any archive", replication.ErrProtocol)
		}
	}
	end := r.bb.End()
	if b.opts.NoManifest {
		return end, nil
	}
	if raw == nil {
		return end, fmt.Errorf("basebackup: %w: the server sent no backup manifest", replication.ErrProtocol)
	}
	if err := b.sums.check(raw, b.res.SystemID, b.res.Timeline, b.res.Start, end.LSN); err != nil {
		return end, err
	}
	return end, out.manifest(b, raw)
}

// tablespaceFor returns the announced tablespace whose archive m is, or
// nil for the main data directory's.
func (b *run) tablespaceFor(m *replication.NewArchive) (*replication.TablespaceHeader, error) {
	if m.TablespaceLocation == "" {
		return nil, nil
	}
	for i, h := range b.tablespaces {
		if h.OID != 0 && h.Location == m.TablespaceLocation {
			return &b.tablespaces[i], nil
		}
	}
	return nil, fmt.Errorf("basebackup: %w: archive %s for unlisted tablespace %s",
		replication.ErrProtocol, m.Name, m.TablespaceLocation)
}

// manifestPrefix is where a tablespace's files are in the manifest.
func manifestPrefix(ts *replication.TablespaceHeader) string {
	if ts == nil {
		return ""
	}
	return fmt.Sprintf("pg_tblspc/%d/", ts.OID)
}

// writeFile writes data to path (a new file) and records it for the
// final fsync.
func (b *run) writeFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("basebackup: %w", err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("basebackup: write %s: %w", path, err)
	}
	b.sync.file(path)
	return nil
}

// syncAll fsyncs what the backup wrote: the files and directories
// recorded, the WAL directory and every extra directory.
func (b *run) syncAll(dirs ...string) error {
	if b.walDir != "" {
		b.sync.dir(b.walDir)
	}
	if err := b.sync.sync(); err != nil {
		return err
	}
	for _, d := range dirs {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	return nil
}
