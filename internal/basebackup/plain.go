package basebackup

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgark/pgark/internal/replication"
)

// Plain takes a base backup into the plain data directory opts.Dir, as
// pg_basebackup -F plain does. See the package documentation for the
// sequence and what a failure leaves behind.
func Plain(ctx context.Context, opts Options) (*Result, error) {
	return backup(ctx, opts, &plainOutput{}, func(b *run) string { return filepath.Join(b.opts.Dir, "pg_wal") })
}

// plainOutput extracts the archives into a data directory and its
// tablespaces' directories (remapped with -T).
type plainOutput struct {
	x *extractor
}

func (p *plainOutput) begin(b *run) error {
	p.x = &extractor{sync: b.sync, dirMode: b.dirMode, sums: b.sums,
		mapDir: func(loc string) string { return mapDir(b.opts.TablespaceMapping, loc) }}
	for _, h := range b.tablespaces {
		if h.OID == 0 {
			continue
		}
		ts := Tablespace{OID: h.OID, Location: h.Location, Dir: p.x.mapDir(h.Location)}
		t, err := prepareDir(ts.Dir, b.dirMode)
		if err != nil {
			return fmt.Errorf("%w (tablespace %d at %s; relocate it with -T)", err, h.OID, h.Location)
		}
		b.targets = append(b.targets, t)
		b.res.Tablespaces = append(b.res.Tablespaces, ts)
	}
	return nil
}

func (p *plainOutput) archive(b *run, r io.Reader, m *replication.NewArchive) error {
	ts, err := b.tablespaceFor(m)
	if err != nil {
		return err
	}
	root := b.opts.Dir
	if ts != nil {
		root = p.x.mapDir(ts.Location)
	}
	if err := p.x.extract(r, root, manifestPrefix(ts), ts == nil); err != nil {
		return err
	}
	return drain(r)
}

func (p *plainOutput) manifest(b *run, raw []byte) error {
	path := filepath.Join(b.opts.Dir, "backup_manifest")
	b.res.Manifest = path
	return b.writeFile(path, raw)
}

// finish: durable first, then complete: pg_control appears last.
func (p *plainOutput) finish(_ context.Context, b *run) error {
	var dirs []string
	for _, ts := range b.res.Tablespaces {
		dirs = append(dirs, ts.Dir)
	}
	if err := b.syncAll(dirs...); err != nil {
		return err
	}
	return completeControl(b.opts.Dir)
}

// completeControl puts pg_control in place, which makes the data
// directory dir startable, and makes that durable.
func completeControl(dir string) error {
	if err := os.Rename(filepath.Join(dir, filepath.FromSlash(controlTemp)),
		filepath.Join(dir, filepath.FromSlash(controlFile))); err != nil {
		return fmt.Errorf("basebackup: complete the data directory: %w", err)
	}
	return syncDir(filepath.Join(dir, "global"))
}

// mapDir applies a tablespace mapping to a location.
func mapDir(mapping map[string]string, loc string) string {
	if d, ok := mapping[filepath.Clean(loc)]; ok {
		return d
	}
	return loc
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

// drain reads what is left of an archive after its tar end; only zero
// padding may remain.
func drain(r io.Reader) error {
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
