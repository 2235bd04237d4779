package replication

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgark/pgark/internal/wal"
)

// StartOptions are START_REPLICATION's for a physical stream.
type StartOptions struct {
	Slot     string         // "": stream without a slot
	Start    wal.LSN        // where to start; the server rounds nothing, so a segment start is usual
	Timeline wal.TimelineID // 0: the server's current timeline
}

// Stream is an open START_REPLICATION PHYSICAL stream: CopyBoth mode on c.
// Receive messages with Receive, report progress with SendStatus, and end
// it with Stop. After Stop or an error, c is back to normal or closed.
type Stream struct {
	c       *pgconn.PgConn
	ended   bool // the server sent CopyDone
	stopped bool
	buf     []byte
}

// StartReplication sends START_REPLICATION [SLOT s] PHYSICAL start
// [TIMELINE t] and waits for the server to enter CopyBoth mode.
func StartReplication(ctx context.Context, c *pgconn.PgConn, o StartOptions) (*Stream, error) {
	cmd := "START_REPLICATION"
	if o.Slot != "" {
		if err := ValidateSlotName(o.Slot); err != nil {
			return nil, err
		}
		cmd += " SLOT " + o.Slot
	}
	cmd += " PHYSICAL " + o.Start.String()
	if o.Timeline != 0 {
		cmd += " TIMELINE " + o.Timeline.String()
	}
	c.Frontend().SendQuery(&pgproto3.Query{String: cmd})
	if err := c.Frontend().Flush(); err != nil {
		return nil, fmt.Errorf("replication: start replication: %w", err)
	}
	for {
		msg, err := c.ReceiveMessage(ctx)
		if err != nil {
			return nil, fmt.Errorf("replication: start replication: %w", err)
		}
		switch m := msg.(type) {
		case *pgproto3.CopyBothResponse:
			return &Stream{c: c}, nil
		case *pgproto3.ErrorResponse:
			err := pgconn.ErrorResponseToPgError(m)
			drainToReady(ctx, c)
			return nil, fmt.Errorf("replication: start replication: %w", err)
		case *pgproto3.NoticeResponse, *pgproto3.ParameterStatus:
		default:
			return nil, fmt.Errorf("replication: start replication: %w: unexpected %T", ErrProtocol, msg)
		}
	}
}

// drainToReady reads up to ReadyForQuery after an error, so that the
// connection can run the next command.
func drainToReady(ctx context.Context, c *pgconn.PgConn) {
	for {
		msg, err := c.ReceiveMessage(ctx)
		if err != nil {
			return
		}
		if _, ok := msg.(*pgproto3.ReadyForQuery); ok {
			return
		}
	}
}

// StreamMessage is what Receive returns: XLogData, PrimaryKeepalive or
// EndOfStream.
type StreamMessage interface{ streamMessage() }

// EndOfStream means the server ended the stream with CopyDone: the
// timeline it streamed has ended (a promotion), or it is shutting down.
// Call Stop to finish the exchange and learn the next timeline.
type EndOfStream struct{}

func (XLogData) streamMessage()         {}
func (PrimaryKeepalive) streamMessage() {}
func (EndOfStream) streamMessage()      {}

// Receive waits for the next message of the stream. XLogData.Data is a
// copy, valid after the next call. When ctx ends while Receive waits, the
// read is interrupted by a deadline (pgconn's default context handling,
// which the connections made by internal/conn keep) and the stream stays
// usable: a caller may wake itself this way to send a status update, then
// call Receive again. After any other error the stream is unusable and
// the connection should be closed.
func (s *Stream) Receive(ctx context.Context) (StreamMessage, error) {
	if s.ended || s.stopped {
		return EndOfStream{}, nil
	}
	for {
		msg, err := s.c.ReceiveMessage(ctx)
		if err != nil {
			return nil, fmt.Errorf("replication: receive: %w", err)
		}
		switch m := msg.(type) {
		case *pgproto3.CopyData:
			return s.parse(m.Data)
		case *pgproto3.CopyDone:
			s.ended = true
			return EndOfStream{}, nil
		case *pgproto3.ErrorResponse:
			return nil, fmt.Errorf("replication: receive: %w", pgconn.ErrorResponseToPgError(m))
		case *pgproto3.NoticeResponse, *pgproto3.ParameterStatus:
		case *pgproto3.CommandComplete, *pgproto3.ReadyForQuery:
			// A walsender told to shut down ends the command without
			// CopyDone; the connection closes next.
			s.ended = true
			return nil, fmt.Errorf("replication: receive: %w", ErrServerEnded)
		default:
			return nil, fmt.Errorf("replication: receive: %w: unexpected %T", ErrProtocol, msg)
		}
	}
}

// ErrServerEnded is wrapped by Receive's error when the server ends the
// stream without CopyDone, as a walsender does when the server shuts down.
var ErrServerEnded = errors.New("the server ended the replication stream (is it shutting down?)")

func (s *Stream) parse(b []byte) (StreamMessage, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("replication: receive: %w: empty CopyData", ErrProtocol)
	}
	switch b[0] {
	case TypeXLogData:
		x, err := ParseXLogData(b)
		if err != nil {
			return nil, err
		}
		x.Data = slices.Clone(x.Data)
		return x, nil
	case TypePrimaryKeepalive:
		return ParsePrimaryKeepalive(b)
	}
	return nil, fmt.Errorf("replication: receive: %w: unknown message type %q", ErrProtocol, b[0])
}

// SendStatus sends a standby status update.
func (s *Stream) SendStatus(ctx context.Context, st StandbyStatus) error {
	if s.stopped {
		return errors.New("replication: send status: stream stopped")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.buf = EncodeStandbyStatusUpdate(s.buf[:0], st)
	s.c.Frontend().Send(&pgproto3.CopyData{Data: s.buf})
	if err := s.c.Frontend().Flush(); err != nil {
		return fmt.Errorf("replication: send status: %w", err)
	}
	return nil
}

// TimelineEnd is what the server says after a stream it ended: the next
// timeline and where it starts. Both are zero if the server said nothing
// (the stream was stopped by the client, or the server is shutting down).
type TimelineEnd struct {
	NextTimeline wal.TimelineID
	NextStart    wal.LSN
}

// Stop ends the stream: it sends CopyDone (once), discards WAL the server
// sent meanwhile, waits for the server's CopyDone and command completion,
// and returns what the server said about the next timeline, if anything.
// The connection can then run other commands.
func (s *Stream) Stop(ctx context.Context) (TimelineEnd, error) {
	var end TimelineEnd
	if s.stopped {
		return end, nil
	}
	s.stopped = true
	s.c.Frontend().Send(&pgproto3.CopyDone{})
	if err := s.c.Frontend().Flush(); err != nil {
		return end, fmt.Errorf("replication: stop: %w", err)
	}
	var pgErr error
	for {
		msg, err := s.c.ReceiveMessage(ctx)
		if err != nil {
			return end, fmt.Errorf("replication: stop: %w", err)
		}
		switch m := msg.(type) {
		case *pgproto3.CopyData, *pgproto3.CopyDone, *pgproto3.RowDescription, *pgproto3.CommandComplete,
			*pgproto3.NoticeResponse, *pgproto3.ParameterStatus:
		case *pgproto3.DataRow:
			if len(m.Values) >= 2 {
				tli, err1 := wal.ParseTimelineID(string(m.Values[0]))
				lsn, err2 := wal.ParseLSN(string(m.Values[1]))
				if err1 != nil || err2 != nil {
					return end, fmt.Errorf("replication: stop: %w: next timeline %q %q", ErrProtocol, m.Values[0], m.Values[1])
				}
				end = TimelineEnd{NextTimeline: tli, NextStart: lsn}
			}
		case *pgproto3.ErrorResponse:
			pgErr = pgconn.ErrorResponseToPgError(m)
		case *pgproto3.ReadyForQuery:
			if pgErr != nil {
				return end, fmt.Errorf("replication: stop: %w", pgErr)
			}
			return end, nil
		default:
			return end, fmt.Errorf("replication: stop: %w: unexpected %T", ErrProtocol, msg)
		}
	}
}
