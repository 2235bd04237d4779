package receivewal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgark/pgark/internal/conn"
	"github.com/pgark/pgark/internal/replication"
	"github.com/pgark/pgark/internal/wal"
)

// DefaultReconnectDelay is how long Run waits before reconnecting after a
// session failed, as pg_receivewal waits.
const DefaultReconnectDelay = 5 * time.Second

// ConnectFunc opens a physical replication connection.
type ConnectFunc func(ctx context.Context) (*pgconn.PgConn, error)

// Options say where and how Run streams.
type Options struct {
	// Dir receives the WAL; it must exist.
	Dir string
	// Connect opens the replication connections.
	Connect ConnectFunc
	// Slot, if set, is the physical replication slot to stream from.
	Slot string
	// Synchronous fsyncs after every WAL message and reports the flush
	// position at once.
	Synchronous bool
	// StatusInterval is the time between standby status updates; 0 sends
	// them only when the server asks (pg_receivewal -s 0).
	StatusInterval time.Duration
	// EndPos, if valid, stops Run once WAL past it has been received and
	// made durable.
	EndPos wal.LSN
	// NoLoop makes Run return a session's error instead of reconnecting.
	NoLoop bool
	// ReconnectDelay is the wait before reconnecting; 0 means
	// DefaultReconnectDelay.
	ReconnectDelay time.Duration
	// Info, if set, receives progress messages (pg_receivewal -v's).
	Info func(msg string)
	// Warn, if set, receives warnings: skipped files, reconnections.
	Warn func(msg string)
}

func (o *Options) check() error {
	switch {
	case o.Dir == "":
		return errors.New("receivewal: no target directory")
	case o.Connect == nil:
		return errors.New("receivewal: no way to connect")
	case o.StatusInterval < 0:
		return fmt.Errorf("receivewal: invalid status interval %s", o.StatusInterval)
	}
	if o.Slot != "" {
		if err := replication.ValidateSlotName(o.Slot); err != nil {
			return fmt.Errorf("receivewal: %w", err)
		}
	}
	return nil
}

// receiver is one Run's state.
type receiver struct {
	o        Options
	systemID string
	segSize  wal.SegmentSize
}

func (r *receiver) info(format string, args ...any) {
	if r.o.Info != nil {
		r.o.Info(fmt.Sprintf(format, args...))
	}
}

func (r *receiver) warn(format string, args ...any) {
	if r.o.Warn != nil {
		r.o.Warn(fmt.Sprintf(format, args...))
	}
}

// Run streams WAL into o.Dir until WAL past o.EndPos is durable (nil), ctx
// ends (an error wrapping ctx's), or, with o.NoLoop, a session fails. The
// package documentation describes the sequence.
func Run(ctx context.Context, o Options) error {
	if err := o.check(); err != nil {
		return err
	}
	if o.ReconnectDelay <= 0 {
		o.ReconnectDelay = DefaultReconnectDelay
	}
	if fi, err := os.Stat(o.Dir); err != nil {
		return fmt.Errorf("receivewal: %w", err)
	} else if !fi.IsDir() {
		return fmt.Errorf("receivewal: %s is not a directory", o.Dir)
	}
	r := &receiver{o: o}
	c, err := open(ctx, o.Connect)
	if err != nil {
		return err
	}
	if err := r.setup(ctx, c); err != nil {
		closeConn(ctx, c)
		return err
	}
	for {
		if c == nil {
			c, err = o.Connect(ctx)
			if err != nil {
				err = fmt.Errorf("receivewal: %w", err)
			}
		}
		if c != nil {
			err = r.session(ctx, c)
			closeConn(ctx, c)
			c = nil
			if err == nil {
				return nil
			}
		}
		if ctx.Err() != nil || o.NoLoop {
			return err
		}
		r.warn("%v; disconnected; waiting %s to try again", err, o.ReconnectDelay)
		select {
		case <-ctx.Done():
			return fmt.Errorf("receivewal: %w", context.Cause(ctx))
		case <-time.After(o.ReconnectDelay):
		}
	}
}

// open connects and checks the connection as pg_receivewal does before
// anything else: a replication connection that is not database specific,
// to a server this package supports.
func open(ctx context.Context, connect ConnectFunc) (*pgconn.PgConn, error) {
	c, err := connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("receivewal: %w", err)
	}
	if err := checkServer(ctx, c); err != nil {
		closeConn(ctx, c)
		return nil, fmt.Errorf("receivewal: %w", err)
	}
	return c, nil
}

func checkServer(ctx context.Context, c *pgconn.PgConn) error {
	info, err := replication.IdentifySystem(ctx, c)
	if err != nil {
		return err
	}
	if info.DBName != "" {
		return fmt.Errorf("the replication connection is unexpectedly database specific (database %q)", info.DBName)
	}
	v, err := conn.ServerVersion(ctx, c)
	if err != nil {
		return err
	}
	return replication.CheckServerVersion(v, "READ_REPLICATION_SLOT")
}

// setup learns what every session checks against: the system, the
// segment size, and that the slot, if any, exists and is physical.
func (r *receiver) setup(ctx context.Context, c *pgconn.PgConn) error {
	info, err := replication.IdentifySystem(ctx, c)
	if err != nil {
		return fmt.Errorf("receivewal: %w", err)
	}
	r.systemID = info.SystemID
	if r.segSize, err = replication.SegmentSize(ctx, c); err != nil {
		return fmt.Errorf("receivewal: %w", err)
	}
	if r.o.Slot != "" {
		if _, err := r.readSlot(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

func (r *receiver) readSlot(ctx context.Context, c *pgconn.PgConn) (replication.SlotInfo, error) {
	s, err := replication.ReadReplicationSlot(ctx, c, r.o.Slot)
	if err != nil {
		return s, fmt.Errorf("receivewal: %w", err)
	}
	if s.Type != "physical" {
		return s, fmt.Errorf("receivewal: replication slot %q is %s, not physical", r.o.Slot, s.Type)
	}
	return s, nil
}

// closeConn closes c without waiting long: ctx may be over.
func closeConn(ctx context.Context, c *pgconn.PgConn) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	c.Close(ctx)
}

// errStopped is a session's own "the end position was reached".
var errStopped = errors.New("receivewal: reached the end position")

// session streams on one connection, following timeline switches, until
// the end position (nil) or an error.
func (r *receiver) session(ctx context.Context, c *pgconn.PgConn) (err error) {
	info, err := replication.IdentifySystem(ctx, c)
	if err != nil {
		return fmt.Errorf("receivewal: %w", err)
	}
	if info.SystemID != r.systemID {
		return fmt.Errorf("receivewal: the server's system identifier is now %s, it was %s", info.SystemID, r.systemID)
	}
	start, tli, err := r.streamingStart(ctx, c, info)
	if err != nil {
		return err
	}
	w, err := wal.NewSegmentWriter(r.o.Dir, r.segSize)
	if err != nil {
		return fmt.Errorf("receivewal: %w", err)
	}
	defer func() {
		if cerr := w.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("receivewal: %w", cerr)
		}
	}()
	for {
		if err := r.history(ctx, c, tli); err != nil {
			return err
		}
		if r.o.EndPos != wal.InvalidLSN && r.o.EndPos < start {
			r.info("stopped log streaming at %s (timeline %s)", start, tli)
			return nil
		}
		r.info("starting log streaming at %s (timeline %s)", start, tli)
		if err := w.Begin(tli, start); err != nil {
			return fmt.Errorf("receivewal: %w", err)
		}
		s, err := replication.StartReplication(ctx, c, replication.StartOptions{Slot: r.o.Slot, Start: start, Timeline: tli})
		if err != nil {
			return fmt.Errorf("receivewal: %w", err)
		}
		err = r.stream(ctx, s, w)
		if errors.Is(err, errStopped) {
			return r.stop(ctx, s, w)
		}
		if err != nil {
			return fmt.Errorf("receivewal: %w", err)
		}
		// The server ended the timeline, or is shutting down.
		stopPos := w.Position()
		if err := r.closeSegment(w); err != nil {
			return err
		}
		end, err := s.Stop(ctx)
		if err != nil {
			return fmt.Errorf("receivewal: %w", err)
		}
		if end.NextTimeline == 0 {
			return fmt.Errorf("receivewal: the server ended the replication stream at %s (timeline %s) before the end position", stopPos, tli)
		}
		if end.NextTimeline <= tli {
			return fmt.Errorf("receivewal: server reported unexpected next timeline %s, following timeline %s", end.NextTimeline, tli)
		}
		if end.NextStart > stopPos {
			return fmt.Errorf("receivewal: server stopped streaming timeline %s at %s, but reported next timeline %s to begin at %s",
				tli, stopPos, end.NextTimeline, end.NextStart)
		}
		r.info("switched to timeline %s at %s", end.NextTimeline, end.NextStart)
		tli = end.NextTimeline
		start = r.segSize.StartLSN(r.segSize.Segment(end.NextStart))
	}
}

// streamingStart is where a session starts: see the package documentation.
func (r *receiver) streamingStart(ctx context.Context, c *pgconn.PgConn, info replication.SystemInfo) (wal.LSN, wal.TimelineID, error) {
	ss, err := wal.FindStreamingStart(r.o.Dir, r.segSize)
	if err != nil {
		return 0, 0, fmt.Errorf("receivewal: %w", err)
	}
	for _, name := range ss.Skipped {
		r.warn("segment file %q has incorrect size, skipping", name)
	}
	start, tli := ss.Start, ss.Timeline
	if start == wal.InvalidLSN && r.o.Slot != "" {
		s, err := r.readSlot(ctx, c)
		if err != nil {
			return 0, 0, err
		}
		if s.RestartLSN != wal.InvalidLSN && s.RestartTLI != 0 {
			start, tli = s.RestartLSN, s.RestartTLI
		}
	}
	if start == wal.InvalidLSN {
		start, tli = info.XLogPos, info.Timeline
	}
	return r.segSize.StartLSN(r.segSize.Segment(start)), tli, nil
}

// history writes timeline tli's history file into the directory, if it
// is after timeline 1 and the directory does not have it.
func (r *receiver) history(ctx context.Context, c *pgconn.PgConn, tli wal.TimelineID) error {
	if tli <= 1 {
		return nil
	}
	name := wal.HistoryFileName(tli)
	if _, err := os.Lstat(filepath.Join(r.o.Dir, name)); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("receivewal: %w", err)
	}
	h, err := replication.TimelineHistoryFile(ctx, c, tli)
	if err != nil {
		return fmt.Errorf("receivewal: %w", err)
	}
	if err := wal.WriteFileDurably(r.o.Dir, h.FileName, h.Content); err != nil {
		return fmt.Errorf("receivewal: %w", err)
	}
	return nil
}

// closeSegment ends the stream's open segment, which stays .partial.
func (r *receiver) closeSegment(w *wal.SegmentWriter) error {
	if r.segSize.Offset(w.Position()) != 0 {
		r.info("not renaming %q, segment is not complete",
			wal.PartialFileName(w.Timeline(), r.segSize.Segment(w.Position()), r.segSize))
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("receivewal: %w", err)
	}
	return nil
}

// stop ends a stream at the end position: the WAL made durable, the
// server told so, the stream ended.
func (r *receiver) stop(ctx context.Context, s *replication.Stream, w *wal.SegmentWriter) error {
	r.info("stopped log streaming at %s (timeline %s)", w.Position(), w.Timeline())
	if err := r.closeSegment(w); err != nil {
		return err
	}
	if err := r.status(ctx, s, w); err != nil {
		return fmt.Errorf("receivewal: %w", err)
	}
	if _, err := s.Stop(ctx); err != nil {
		return fmt.Errorf("receivewal: %w", err)
	}
	return nil
}

func (r *receiver) status(ctx context.Context, s *replication.Stream, w *wal.SegmentWriter) error {
	return s.SendStatus(ctx, replication.StandbyStatus{Write: w.Position(), Flush: w.Flushed(), ClientTime: time.Now()})
}

// syncStatus makes what was written durable and reports it.
func (r *receiver) syncStatus(ctx context.Context, s *replication.Stream, w *wal.SegmentWriter) error {
	if err := w.Sync(); err != nil {
		return err
	}
	return r.status(ctx, s, w)
}

// stream receives WAL into w until the end position is passed
// (errStopped), the server ends the stream (nil) or an error.
func (r *receiver) stream(ctx context.Context, s *replication.Stream, w *wal.SegmentWriter) error {
	interval := r.o.StatusInterval
	var lastStatus time.Time // zero: a status update goes out at once
	for {
		if r.o.EndPos != wal.InvalidLSN && r.o.EndPos < w.Position() {
			return errStopped
		}
		now := time.Now()
		if r.o.Synchronous && w.Flushed() < w.Position() ||
			interval > 0 && now.Sub(lastStatus) >= interval {
			if err := r.syncStatus(ctx, s, w); err != nil {
				return err
			}
			lastStatus = now
		}
		rctx, cancel := ctx, context.CancelFunc(func() {})
		if interval > 0 {
			rctx, cancel = context.WithDeadline(ctx, lastStatus.Add(interval))
		}
		msg, err := s.Receive(rctx)
		cancel()
		if err != nil {
			if ctx.Err() == nil && interval > 0 && pgconn.Timeout(err) {
				continue // time for a status update
			}
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			return err
		}
		switch m := msg.(type) {
		case replication.XLogData:
			before := w.Position()
			if err := w.Write(m.WALStart, m.Data); err != nil {
				return err
			}
			for seg := r.segSize.Segment(before) + 1; seg <= r.segSize.Segment(w.Position()); seg++ {
				r.info("finished segment at %s (timeline %s)", r.segSize.StartLSN(seg), w.Timeline())
			}
		case replication.PrimaryKeepalive:
			if m.ReplyRequested {
				if err := r.syncStatus(ctx, s, w); err != nil {
					return err
				}
				lastStatus = time.Now()
			}
		case replication.EndOfStream:
			return nil
		}
	}
}

// CreateSlot creates the physical replication slot name, as pg_receivewal
// --create-slot does, except that the slot reserves WAL from its creation
// on (RESERVE_WAL), so that a first Run with it on an empty directory
// starts there and misses nothing. With ifNotExists a slot of that name
// that exists already is not an error; created says which happened.
func CreateSlot(ctx context.Context, connect ConnectFunc, name string, ifNotExists bool) (created bool, err error) {
	if err := replication.ValidateSlotName(name); err != nil {
		return false, fmt.Errorf("receivewal: %w", err)
	}
	c, err := open(ctx, connect)
	if err != nil {
		return false, err
	}
	defer closeConn(ctx, c)
	_, err = replication.CreateReplicationSlot(ctx, c, name, replication.SlotOptions{ReserveWAL: true})
	var pgErr *pgconn.PgError
	if err != nil && ifNotExists && errors.As(err, &pgErr) && pgErr.Code == "42710" { // duplicate_object
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("receivewal: %w", err)
	}
	return true, nil
}

// DropSlot drops the replication slot name, as pg_receivewal --drop-slot
// does (without waiting for a slot in use).
func DropSlot(ctx context.Context, connect ConnectFunc, name string) error {
	if err := replication.ValidateSlotName(name); err != nil {
		return fmt.Errorf("receivewal: %w", err)
	}
	c, err := open(ctx, connect)
	if err != nil {
		return err
	}
	defer closeConn(ctx, c)
	if err := replication.DropReplicationSlot(ctx, c, name, false); err != nil {
		return fmt.Errorf("receivewal: %w", err)
	}
	return nil
}
