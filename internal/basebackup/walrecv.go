package basebackup

import (
	"context"
	"errors"
	"fmt"
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
	w        *wal.SegmentWriter

	// setEnd delivers the backup's end LSN on endCh and closes woken,
	// which interrupts a receive waiting for WAL so that the end is
	// noticed at once.
	endOnce sync.Once
	endCh   chan wal.LSN
	woken   chan struct{}
}

func newWALReceiver(c *pgconn.PgConn, slot, dir string, segSize wal.SegmentSize,
	tli wal.TimelineID, interval time.Duration,
) (*walReceiver, error) {
	if interval <= 0 {
		interval = 10 * time.Second
	}
	w, err := wal.NewSegmentWriter(dir, segSize)
	if err != nil {
		return nil, fmt.Errorf("basebackup: %w", err)
	}
	return &walReceiver{c: c, slot: slot, dir: dir, segSize: segSize, timeline: tli, interval: interval, w: w,
		endCh: make(chan wal.LSN, 1), woken: make(chan struct{})}, nil
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
		if cerr := r.w.Close(); err == nil && cerr != nil {
			err = cerr
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
		if err := wal.WriteFileDurably(r.dir, h.FileName, h.Content); err != nil {
			return err
		}
	}
	from := r.segSize.StartLSN(r.segSize.Segment(start))
	if err := r.w.Begin(r.timeline, from); err != nil {
		return err
	}
	s, err := replication.StartReplication(ctx, r.c, replication.StartOptions{Slot: r.slot, Start: from, Timeline: r.timeline})
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
		if known && r.w.Position() >= end {
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
			if err := r.w.Write(m.WALStart, m.Data); err != nil {
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
			return fmt.Errorf("server ended the stream at %s, before the backup's end", r.w.Position())
		}
	}
	if err := r.w.Finish(); err != nil {
		return err
	}
	if err := r.status(ctx, s, false); err != nil {
		return err
	}
	_, err = s.Stop(ctx)
	return err
}

func (r *walReceiver) status(ctx context.Context, s *replication.Stream, reply bool) error {
	return s.SendStatus(ctx, replication.StandbyStatus{Write: r.w.Position(), Flush: r.w.Flushed(), ClientTime: time.Now(), ReplyRequested: reply})
}
