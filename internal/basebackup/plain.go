package basebackup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/sync/errgroup"

	"github.com/pgark/pgark/internal/conn"
	"github.com/pgark/pgark/internal/replication"
)

// Plain takes a base backup into the plain data directory opts.Dir, as
// pg_basebackup -F plain does. See the package documentation for the
// sequence and what a failure leaves behind.
func Plain(ctx context.Context, opts Options) (res *Result, err error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	res = &Result{Label: opts.Label, StartTime: time.Now()}

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
	dirMode, err := dataDirMode(ctx, main)
	if err != nil {
		return nil, err
	}

	// Everything written is undone on failure, unless NoClean.
	var targets []*target
	defer func() {
		if err == nil || opts.NoClean {
			return
		}
		for _, t := range targets {
			if rerr := t.remove(); rerr != nil {
				err = errors.Join(err, fmt.Errorf("basebackup: remove %s after the failure: %w", t.dir, rerr))
			}
		}
	}()
	t, err := prepareDir(opts.Dir, dirMode)
	if err != nil {
		return nil, err
	}
	targets = append(targets, t)
	walDir := filepath.Join(opts.Dir, "pg_wal")

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
		if err := os.Mkdir(walDir, dirMode); err != nil {
			return nil, fmt.Errorf("basebackup: %w", err)
		}
		recv = newWALReceiver(walConn, slot, walDir, res.SegmentSize, sys.Timeline, opts.StatusInterval)
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
		// No TABLESPACE_MAP: in a plain directory the tablespaces are
		// symbolic links in pg_tblspc, remapped with -T as they are made.
	})
	if err != nil {
		return nil, fmt.Errorf("basebackup: %w", err)
	}
	start := bb.Start()
	res.Start, res.Timeline = start.LSN, start.Timeline

	mapDir := func(loc string) string {
		if d, ok := opts.TablespaceMapping[filepath.Clean(loc)]; ok {
			return d
		}
		return loc
	}
	var total int64
	for _, h := range bb.Tablespaces() {
		if h.SizeKB > 0 {
			total += h.SizeKB * 1024
		}
		if h.OID == 0 {
			continue
		}
		ts := Tablespace{OID: h.OID, Location: h.Location, Dir: mapDir(h.Location)}
		t, err := prepareDir(ts.Dir, dirMode)
		if err != nil {
			return nil, fmt.Errorf("%w (tablespace %d at %s; relocate it with -T)", err, h.OID, h.Location)
		}
		targets = append(targets, t)
		res.Tablespaces = append(res.Tablespaces, ts)
	}

	sy := newSyncer()
	g, gctx := errgroup.WithContext(ctx)
	if recv != nil {
		g.Go(func() error { return recv.run(gctx, start.LSN) })
	}
	g.Go(func() error {
		r := &reader{bb: bb, ctx: gctx, progress: opts.Progress, warn: opts.Warn,
			prog: Progress{Total: total, Archives: len(bb.Tablespaces())}}
		x := &extractor{sync: sy, dirMode: dirMode, mapDir: mapDir}
		end, manifest, err := r.consume(x, opts.Dir, res.Tablespaces)
		if err != nil {
			return err
		}
		res.End = end.LSN
		res.Manifest = manifest
		if manifest == "" && !opts.NoManifest {
			return fmt.Errorf("basebackup: %w: the server sent no backup manifest", replication.ErrProtocol)
		}
		if recv != nil {
			recv.setEnd(end.LSN)
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}

	// Durable first, then complete: pg_control appears last.
	if recv != nil {
		sy.dir(walDir)
	}
	if err := sy.sync(); err != nil {
		return nil, err
	}
	for _, ts := range res.Tablespaces {
		if err := syncDir(ts.Dir); err != nil {
			return nil, err
		}
	}
	if err := os.Rename(filepath.Join(opts.Dir, filepath.FromSlash(controlTemp)),
		filepath.Join(opts.Dir, filepath.FromSlash(controlFile))); err != nil {
		return nil, fmt.Errorf("basebackup: complete the backup: %w", err)
	}
	if err := syncDir(filepath.Join(opts.Dir, "global")); err != nil {
		return nil, err
	}
	res.EndTime = time.Now()
	return res, nil
}

func closeConn(c *pgconn.PgConn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.Close(ctx)
}

// dataDirMode is the mode of the server's data directory
// (data_directory_mode, 0700 or 0750 with group access), which the copy
// gets too: the server refuses any other.
func dataDirMode(ctx context.Context, c *pgconn.PgConn) (fs.FileMode, error) {
	v, err := replication.Show(ctx, c, "data_directory_mode")
	if err != nil {
		return 0, fmt.Errorf("basebackup: %w", err)
	}
	m, err := strconv.ParseUint(v, 8, 32)
	if err != nil || m&^0o777 != 0 {
		return 0, fmt.Errorf("basebackup: invalid data_directory_mode %q", v)
	}
	if m&0o070 != 0 {
		return 0o750, nil
	}
	return 0o700, nil
}

// reader walks the BASE_BACKUP stream: archives, then the manifest. It is
// also the io.Reader of the current archive or manifest's data.
type reader struct {
	ctx      context.Context
	bb       *replication.BaseBackupStream
	progress func(Progress)
	warn     func(string)
	prog     Progress
	notices  int

	buf     []byte
	pending replication.BaseBackupMessage // what ended the current data
	eof     bool                          // the stream is over
	err     error                         // the stream's failure, sticky
}

func (r *reader) next() (replication.BaseBackupMessage, error) {
	if m := r.pending; m != nil {
		r.pending = nil
		return m, nil
	}
	if r.eof {
		return nil, io.EOF
	}
	if r.err != nil {
		return nil, r.err
	}
	for {
		m, err := r.bb.Next(r.ctx)
		r.flushNotices()
		if err == io.EOF {
			r.eof = true
		}
		if err != nil {
			if err != io.EOF {
				r.err = err
			}
			return nil, err
		}
		if p, ok := m.(*replication.Progress); ok {
			r.prog.Done = p.Bytes
			if r.progress != nil {
				r.progress(r.prog)
			}
			continue
		}
		return m, nil
	}
}

func (r *reader) flushNotices() {
	ns := r.bb.Notices()
	for ; r.notices < len(ns); r.notices++ {
		if r.warn != nil {
			n := ns[r.notices]
			r.warn(fmt.Sprintf("%s: %s (SQLSTATE %s)", strings.ToLower(n.Severity), n.Message, n.Code))
		}
	}
}

// Read returns the current archive's (or manifest's) data, then io.EOF at
// the next message that is not data.
func (r *reader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.pending != nil || r.eof {
			return 0, io.EOF
		}
		m, err := r.next()
		if err == io.EOF {
			return 0, io.EOF
		}
		if err != nil {
			return 0, err
		}
		if d, ok := m.(*replication.ArchiveData); ok {
			r.buf = d.Data // valid until the next r.next, which waits for it to drain
			continue
		}
		r.pending = m
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// drain reads what is left of the current archive after its tar end; only
// zero padding may remain.
func (r *reader) drain() error {
	var b [32 << 10]byte
	for {
		n, err := r.Read(b[:])
		for _, c := range b[:n] {
			if c != 0 {
				return errTruncated
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// consume extracts every archive and writes the manifest into dir, and
// returns the end position and the manifest's path.
func (r *reader) consume(x *extractor, dir string, tablespaces []Tablespace) (_ replication.BaseBackupPosition, _ string, err error) {
	// A failure of the stream is reported as it is, not as a failure to
	// write the file that was being read when it came.
	defer func() {
		if err != nil && r.err != nil {
			err = fmt.Errorf("basebackup: %w", r.err)
		}
	}()
	var manifest string
	for {
		m, err := r.next()
		if err == io.EOF {
			return r.bb.End(), manifest, nil
		}
		if err != nil {
			return replication.BaseBackupPosition{}, "", err
		}
		switch m := m.(type) {
		case *replication.NewArchive:
			r.prog.Archive++
			root, main := dir, m.TablespaceLocation == ""
			if !main {
				root = ""
				for _, ts := range tablespaces {
					if ts.Location == m.TablespaceLocation {
						root = ts.Dir
					}
				}
				if root == "" {
					return replication.BaseBackupPosition{}, "", fmt.Errorf("basebackup: %w: archive %s for unlisted tablespace %s",
						replication.ErrProtocol, m.Name, m.TablespaceLocation)
				}
			}
			if err := x.extract(r, root, main); err != nil {
				return replication.BaseBackupPosition{}, "", err
			}
			if err := r.drain(); err != nil {
				return replication.BaseBackupPosition{}, "", err
			}
		case *replication.ManifestStart:
			manifest = filepath.Join(dir, "backup_manifest")
			if err := r.writeManifest(manifest); err != nil {
				return replication.BaseBackupPosition{}, "", err
			}
			x.sync.file(manifest)
		case *replication.ArchiveData:
			return replication.BaseBackupPosition{}, "", fmt.Errorf("basebackup: %w: data before any archive", replication.ErrProtocol)
		}
	}
}

func (r *reader) writeManifest(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("basebackup: %w", err)
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("basebackup: write %s: %w", path, err)
	}
	return nil
}
