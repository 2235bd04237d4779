package dump

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"golang.org/x/sync/errgroup"

	"github.com/pgark/pgark/format"
	"github.com/pgark/pgark/internal/conn"
	"github.com/pgark/pgark/internal/copybin"
)

// piece is a block cut from a COPY stream, with its rows; -1 for text,
// whose rows the sink's goroutine counts.
type piece struct {
	data []byte
	rows int
}

// blockSink receives finished blocks: whole COPY rows, rows of them.
type blockSink func(data []byte, rows uint32) error

// copyTable streams COPY ... TO STDOUT of t through pc into blocks of about
// size bytes handed to sink: text rows, or binary tuples (without the
// stream's header and trailer) when binary is set, which adds (FORMAT
// binary) to sql. A second goroutine runs sink, so that the next block
// fills while the last one is compressed and written; at most three blocks
// are held. It returns the rows and bytes copied.
func copyTable(ctx context.Context, pc *pgconn.PgConn, sql string, binary bool, size int, sink blockSink) (rows, n int64, err error) {
	sql = copySQL(sql, binary)
	return chunkStream(ctx, size, binary, sink, func(ctx context.Context, w io.Writer) error {
		_, err := pc.CopyTo(ctx, w, sql)
		return err
	})
}

// copySQL is the COPY ... TO STDOUT statement sql, in binary when binary
// is set.
func copySQL(sql string, binary bool) string {
	if binary {
		return sql + " (FORMAT binary)"
	}
	return sql
}

// batchPages is the size under which a table is copied in a batch: 1 MiB
// of heap, which the server copies in a few milliseconds, about what a
// round trip and a COPY's start cost.
const batchPages = 128

// maxBatch is the most tables in one batch: a worker takes a batch as a
// whole, so it is also how many small tables go to one worker at once.
const maxBatch = 64

// batchLen is how many of tables, which must not be empty, go together:
// the small whole tables at their front (at most maxBatch), else 1. Large
// objects, whose size is not measured, go alone.
func batchLen(tables []table) int {
	n := 0
	for n < len(tables) && n < maxBatch && tables[n].pages < batchPages && tables[n].part == "" && !tables[n].lo {
		n++
	}
	return max(n, 1)
}

// copyBatch copies tables, a batch (see batchLen: no large objects), with
// one Query message that holds all their COPY statements (each after its
// LOCK ... NOWAIT when lock is set). The server runs them one after the
// other and answers in order, so a batch costs one round trip where a
// COPY each costs one per table, which is most of a small table's time.
// Each table's data goes through chunkStream as copyTable's does. On
// failure the connection is left in the middle of the answers: the dump
// fails and closes it.
func (d *dumper) copyBatch(ctx context.Context, pc *pgconn.PgConn, worker int, tables []table, aw *format.Writer, lock bool) error {
	var sql strings.Builder
	for _, t := range tables {
		if lock {
			sql.WriteString(lockStatement(t) + ";\n")
		}
		sql.WriteString(copySQL(t.copyTo, t.types != nil) + ";\n")
	}
	fe := pc.Frontend()
	fe.Send(&pgproto3.Query{String: sql.String()})
	if err := fe.Flush(); err != nil {
		return errCopy(tables[0].relation, fmt.Errorf("send the COPY statements of %d tables: %w", len(tables), err))
	}
	for _, t := range tables {
		if lock {
			if err := answer(ctx, pc, nil); err != nil {
				return lockError(t, err)
			}
		}
		d.progress(Event{Kind: EventTableStart, Table: t.relation, Part: t.part, Worker: worker})
		rows, n, err := chunkStream(ctx, d.blockSize, t.types != nil, tableSink(aw, t), func(ctx context.Context, w io.Writer) error {
			return answer(ctx, pc, w)
		})
		if err != nil {
			return errCopy(t.relation, err)
		}
		d.tableDone(worker, t, rows, n)
	}
	msg, err := pc.ReceiveMessage(ctx)
	if err != nil {
		return errCopy(tables[len(tables)-1].relation, err)
	}
	if _, ok := msg.(*pgproto3.ReadyForQuery); !ok {
		return errCopy(tables[len(tables)-1].relation, fmt.Errorf("server sent %T after the last COPY of a batch", msg))
	}
	return nil
}

// answer reads the server's answer to the next statement of a batch, up
// to its CommandComplete; a COPY's rows go to w, which is nil for any
// other statement.
func answer(ctx context.Context, pc *pgconn.PgConn, w io.Writer) error {
	for {
		msg, err := pc.ReceiveMessage(ctx)
		if err != nil {
			return err
		}
		switch m := msg.(type) {
		case *pgproto3.CommandComplete:
			return nil
		case *pgproto3.ErrorResponse:
			return pgconn.ErrorResponseToPgError(m)
		case *pgproto3.NoticeResponse, *pgproto3.ParameterStatus, *pgproto3.NotificationResponse:
			// pgconn has passed these on
		case *pgproto3.CopyOutResponse, *pgproto3.CopyDone:
			if w == nil {
				return fmt.Errorf("server sent %T in answer to a statement other than COPY", msg)
			}
		case *pgproto3.CopyData:
			if w == nil {
				return fmt.Errorf("server sent COPY data in answer to a statement other than COPY")
			}
			if _, err := w.Write(m.Data); err != nil {
				return err
			}
		default:
			return fmt.Errorf("server sent %T in the middle of a batch of COPY statements", msg)
		}
	}
}

// chunkStream runs source, which writes a stream of COPY text rows to w
// (or a COPY binary stream when binary is set), and cuts the stream into
// blocks for sink as copyTable describes.
func chunkStream(ctx context.Context, size int, binary bool, sink blockSink, source func(context.Context, io.Writer) error) (rows, n int64, err error) {
	g, gctx := errgroup.WithContext(ctx)
	full := make(chan piece, 1)
	// Buffers start small and grow to a block's size as they fill: a
	// small table needs little, and one dump may copy thousands of them.
	first := min(size+size/4, 64<<10)
	free := make(chan []byte, 2)
	free <- make([]byte, 0, first)
	free <- make([]byte, 0, first)
	g.Go(func() error {
		for cb := range full {
			b, r := cb.data, cb.rows
			if r < 0 {
				r = bytes.Count(b, []byte{'\n'})
			}
			if err := sink(b, uint32(r)); err != nil {
				return err
			}
			rows += int64(r)
			n += int64(len(b))
			if cap(b) > 4*size {
				b = make([]byte, 0, first) // let a huge row's buffer go
			}
			free <- b[:0] // never blocks: at most three buffers exist
		}
		return nil
	})
	g.Go(func() error {
		c := &chunker{ctx: gctx, size: size, full: full, free: free, buf: make([]byte, 0, first)}
		var w interface {
			io.Writer
			flush() error
		} = c
		if binary {
			w = &binChunker{chunker: c}
		}
		err := source(gctx, w)
		if err == nil {
			err = w.flush()
		}
		close(full)
		return err
	})
	err = g.Wait()
	return rows, n, err
}

// chunker is the io.Writer COPY writes into: it gathers the stream and
// cuts a block at the end of the first row that reaches size bytes, so
// every block but the last holds at least size bytes and at most one row
// more. A row that has not ended grows the buffer until it does.
type chunker struct {
	ctx     context.Context
	size    int
	full    chan<- piece
	free    <-chan []byte
	buf     []byte
	scanned int // buf[:scanned] past size-1 holds no '\n'
}

func (c *chunker) Write(p []byte) (int, error) {
	c.buf = append(c.buf, p...)
	for len(c.buf) >= c.size {
		from := max(c.size-1, c.scanned)
		i := bytes.IndexByte(c.buf[from:], '\n')
		if i < 0 {
			c.scanned = len(c.buf)
			break
		}
		if err := c.cut(from+i+1, -1); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// cut hands off buf[:end] and keeps the rest.
func (c *chunker) cut(end, rows int) error {
	var next []byte
	select {
	case next = <-c.free:
	case <-c.ctx.Done():
		return context.Cause(c.ctx)
	}
	next = append(next[:0], c.buf[end:]...)
	select {
	case c.full <- piece{data: c.buf[:end], rows: rows}:
	case <-c.ctx.Done():
		return context.Cause(c.ctx)
	}
	c.buf, c.scanned = next, 0
	return nil
}

// flush hands off what is left at the end of the stream, which must be
// whole rows.
func (c *chunker) flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	if c.buf[len(c.buf)-1] != '\n' {
		return errors.New("COPY output does not end with a complete row")
	}
	return c.cut(len(c.buf), -1)
}

// binChunker is chunker for a COPY binary stream: it checks and drops the
// stream's header and trailer and cuts a block at the end of the first
// tuple that reaches size bytes. A tuple that has not ended grows the
// buffer until it does.
type binChunker struct {
	*chunker
	pos    int  // buf[:pos] is whole tuples
	rows   int  // of them
	header bool // the stream's header is read
	ended  bool // the trailer is read
}

// copySignature begins every COPY binary stream.
const copySignature = "PGCOPY\n\xff\r\n\x00"

func (c *binChunker) Write(p []byte) (int, error) {
	if c.ended {
		return 0, errors.New("COPY binary output goes on after its trailer")
	}
	c.buf = append(c.buf, p...)
	if !c.header {
		// The signature, an int32 of flags and the length of a header
		// extension, then the extension.
		if len(c.buf) < len(copySignature)+8 {
			return len(p), nil
		}
		if string(c.buf[:len(copySignature)]) != copySignature {
			return 0, errors.New("COPY binary output does not begin with its signature")
		}
		if flags := binary.BigEndian.Uint32(c.buf[len(copySignature):]); flags != 0 {
			return 0, fmt.Errorf("COPY binary output has flags %#x", flags)
		}
		ext := int64(binary.BigEndian.Uint32(c.buf[len(copySignature)+4:]))
		n := int64(len(copySignature)+8) + ext
		if int64(len(c.buf)) < n {
			return len(p), nil
		}
		c.buf = c.buf[:copy(c.buf, c.buf[n:])]
		c.header = true
	}
	for {
		end, err := nextTuple(c.buf[c.pos:])
		if err != nil {
			return 0, err
		}
		if end < 0 { // the trailer
			if c.pos+2 != len(c.buf) {
				return 0, errors.New("COPY binary output goes on after its trailer")
			}
			c.buf, c.ended = c.buf[:c.pos], true
			break
		}
		if end == 0 {
			break
		}
		c.rows++
		if c.pos += end; c.pos >= c.size {
			if err := c.cut(c.pos, c.rows); err != nil {
				return 0, err
			}
			c.pos, c.rows = 0, 0
		}
	}
	return len(p), nil
}

// flush hands off what is left at the end of the stream, after its trailer.
func (c *binChunker) flush() error {
	if !c.ended {
		return errors.New("COPY binary output ends without its trailer")
	}
	if len(c.buf) == 0 {
		return nil
	}
	return c.cut(len(c.buf), c.rows)
}

// nextTuple returns the length of the tuple p begins with, 0 if p does not
// hold all of it yet, -1 if p begins with the stream's trailer.
func nextTuple(p []byte) (int, error) {
	if len(p) < 2 {
		return 0, nil
	}
	nf := int(int16(binary.BigEndian.Uint16(p)))
	if nf == -1 {
		return -1, nil
	}
	if nf < 0 {
		return 0, fmt.Errorf("COPY binary output has a tuple of %d fields", nf)
	}
	q := 2
	for range nf {
		if len(p)-q < 4 {
			return 0, nil
		}
		n := int(int32(binary.BigEndian.Uint32(p[q:])))
		if n < -1 {
			return 0, fmt.Errorf("COPY binary output has a field of length %d", n)
		}
		if q += 4 + max(n, 0); q > len(p) {
			return 0, nil
		}
	}
	return q, nil
}

// binarySink writes blocks of binary tuples of entry id, whose columns
// have these types, to aw as binary blocks. A block larger than a record
// (its last tuple is) goes as binary blocks of the tuples that fit and, for
// a tuple larger than a record, a text chain of that row: binary blocks
// never continue.
func binarySink(aw *format.Writer, id uint32, types []uint32) blockSink {
	var dec *copybin.Decoder
	return func(b []byte, rows uint32) error {
		if len(b) <= format.MaxPayload {
			return aw.WriteBinaryBlock(id, b, rows)
		}
		for len(b) > 0 {
			end, n := 0, uint32(0)
			for end < len(b) {
				k, _ := nextTuple(b[end:])
				if k <= 0 || end+k > format.MaxPayload {
					break
				}
				end += k
				n++
			}
			if n > 0 {
				if err := aw.WriteBinaryBlock(id, b[:end], n); err != nil {
					return err
				}
				b = b[end:]
				continue
			}
			k, _ := nextTuple(b)
			if k <= 0 {
				return errors.New("COPY binary block does not end with a whole tuple")
			}
			if dec == nil {
				var err error
				if dec, err = copybin.NewDecoder(types); err != nil {
					return err
				}
			}
			text, err := dec.AppendRows(nil, b[:k])
			if err != nil {
				return fmt.Errorf("turn a row of %d bytes into text: %w", k, err)
			}
			if err := aw.WriteBlock(id, text, 1); err != nil {
				return err
			}
			b = b[k:]
		}
		return nil
	}
}

// errCopy wraps a COPY failure with the table.
func errCopy(rel string, err error) error {
	if conn.Lost(err) {
		return fmt.Errorf("dump: copy %s: %s: %w", rel, conn.LostMessage, err)
	}
	return fmt.Errorf("dump: copy %s: %w", rel, err)
}
