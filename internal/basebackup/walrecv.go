package basebackup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgark/pgark/internal/replication"
	"github.com/pgark/pgark/internal/wal"
)

// walReceiver streams WAL into a pg_wal directory while the backup runs,
// as pg_basebackup -X stream's background process: each segment is
// written as NAME.partial, zero-filled to its full size first, and renamed
// to NAME once complete and fsynced. The segment holding the backup's end
// is renamed too once the WAL up to the end is in it and fsynced: the
// zeros after it are what PostgreSQL's recovery reads as the end of WAL,
// and pg_basebackup leaves it so.
type walReceiver struct {
	c        *pgconn.PgConn
	slot     string
	dir      string
	segSize  wal.SegmentSize
	timeline wal.TimelineID
	interval time.Duration

	// setEnd delivers the backup's end LSN on endCh and closes woken,
	// which interrupts a receive waiting for WAL so that the end is
	// noticed at once.
	endOnce sync.Once
	endCh   chan wal.LSN
	woken   chan struct{}

	f       *os.File
	fileSeg wal.SegmentNo
	pos     wal.LSN // next byte expected
	flushed wal.LSN // durable up to here
}

func newWALReceiver(c *pgconn.PgConn, slot, dir string, segSize wal.SegmentSize,
	tli wal.TimelineID, interval time.Duration,
) *walReceiver {
	if interval <= 0 {
		interval = 10 * time.Second
	}
	r := &walReceiver{c: c, slot: slot, dir: dir, segSize: segSize, timeline: tli, interval: interval,
		endCh: make(chan wal.LSN, 1), woken: make(chan struct{})}
	return r
}

// setEnd tells the receiver to stop once it has the WAL up to end.
func (r *walReceiver) setEnd(end wal.LSN) {
	r.endOnce.Do(func() {
		r.endCh <- end
		close(r.woken)
	})
}

// run streams from the segment holding start until the end given by
// setEnd, then stops the stream. It leaves no .partial file behind on
// success.
func (r *walReceiver) run(ctx context.Context, start wal.LSN) (err error) {
	defer func() {
		if r.f != nil {
			r.f.Close()
		}
		if err != nil {
			err = fmt.Errorf("basebackup: stream WAL: %w", err)
		}
	}()
	if r.timeline > 1 {
		h, err := replication.TimelineHistoryFile(ctx, r.c, r.timeline)
		if err != nil {
			return err
		}
		if err := writeDurable(filepath.Join(r.dir, h.FileName), h.Content); err != nil {
			return err
		}
	}
	r.pos = r.segSize.StartLSN(r.segSize.Segment(start))
	r.flushed = r.pos
	s, err := replication.StartReplication(ctx, r.c, replication.StartOptions{Slot: r.slot, Start: r.pos, Timeline: r.timeline})
	if err != nil {
		return err
	}
	wakeCtx, wake := context.WithCancel(ctx)
	defer wake()
	go func() {
		select {
		case <-r.woken:
			wake()
		case <-wakeCtx.Done():
		}
	}()
	end, known := wal.InvalidLSN, false
	nextStatus := time.Now().Add(r.interval)
	for {
		if !known {
			select {
			case end = <-r.endCh:
				known = true
			default:
			}
		}
		if known && r.pos >= end {
			break
		}
		base := ctx
		if !known {
			base = wakeCtx
		}
		rctx, cancel := context.WithDeadline(base, nextStatus)
		msg, err := s.Receive(rctx)
		cancel()
		if err != nil {
			// A deadline or a wake-up interrupts pgconn's read without
			// breaking the connection: go round again.
			if ctx.Err() == nil && (pgconn.Timeout(err) || errors.Is(err, context.Canceled)) {
				if !time.Now().Before(nextStatus) {
					if err := r.status(ctx, s, false); err != nil {
						return err
					}
					nextStatus = time.Now().Add(r.interval)
				}
				continue
			}
			return err
		}
		switch m := msg.(type) {
		case replication.XLogData:
			if err := r.write(m); err != nil {
				return err
			}
		case replication.PrimaryKeepalive:
			if m.ReplyRequested {
				if err := r.status(ctx, s, false); err != nil {
					return err
				}
				nextStatus = time.Now().Add(r.interval)
			}
		case replication.EndOfStream:
			return fmt.Errorf("server ended the stream at %s, before the backup's end", r.pos)
		}
	}
	if err := r.closeSegment(); err != nil {
		return err
	}
	if err := r.status(ctx, s, false); err != nil {
		return err
	}
	_, err = s.Stop(ctx)
	return err
}

func (r *walReceiver) status(ctx context.Context, s *replication.Stream, reply bool) error {
	return s.SendStatus(ctx, replication.StandbyStatus{Write: r.pos, Flush: r.flushed, ClientTime: time.Now(), ReplyRequested: reply})
}

// write puts WAL into its segments, which it opens and completes as needed.
func (r *walReceiver) write(x replication.XLogData) error {
	if x.WALStart != r.pos {
		return fmt.Errorf("%w: WAL from %s, want %s", replication.ErrProtocol, x.WALStart, r.pos)
	}
	data := x.Data
	for len(data) > 0 {
		seg, off := r.segSize.Segment(r.pos), r.segSize.Offset(r.pos)
		if r.f == nil {
			if err := r.openSegment(seg); err != nil {
				return err
			}
		}
		n := min(uint64(len(data)), uint64(r.segSize)-off)
		if _, err := r.f.WriteAt(data[:n], int64(off)); err != nil {
			return fmt.Errorf("write %s: %w", r.f.Name(), err)
		}
		r.pos = r.pos.Add(n)
		data = data[n:]
		if r.segSize.Offset(r.pos) == 0 {
			if err := r.closeSegment(); err != nil {
				return err
			}
		}
	}
	return nil
}

// openSegment creates seg's .partial file at full size, zero-filled.
func (r *walReceiver) openSegment(seg wal.SegmentNo) error {
	name := filepath.Join(r.dir, wal.PartialFileName(r.timeline, seg, r.segSize))
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	zeros := make([]byte, 1<<20)
	for off := int64(0); off < int64(r.segSize); off += int64(len(zeros)) {
		if _, err := f.WriteAt(zeros[:min(int64(len(zeros)), int64(r.segSize)-off)], off); err != nil {
			f.Close()
			return fmt.Errorf("preallocate %s: %w", name, err)
		}
	}
	r.f, r.fileSeg = f, seg
	return nil
}

// closeSegment fsyncs the open segment and renames it to its final name.
func (r *walReceiver) closeSegment() error {
	if r.f == nil {
		return nil
	}
	f := r.f
	r.f = nil
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("fsync %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	final := filepath.Join(r.dir, wal.SegmentFileName(r.timeline, r.fileSeg, r.segSize))
	if err := os.Rename(f.Name(), final); err != nil {
		return err
	}
	if err := syncDir(r.dir); err != nil {
		return err
	}
	r.flushed = r.pos
	return nil
}

// writeDurable writes a small file and fsyncs it and its directory.
func writeDurable(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}
