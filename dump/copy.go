package dump

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/sync/errgroup"

	"github.com/pgark/pgark/internal/conn"
)

// blockSink receives finished blocks: whole COPY rows, rows of them.
type blockSink func(data []byte, rows uint32) error

// copyTable streams COPY ... TO STDOUT of t through pc into blocks of about
// size bytes handed to sink. A second goroutine runs sink, so that the
// next block fills while the last one is compressed and written; at most
// three blocks are held. It returns the rows and bytes copied.
func copyTable(ctx context.Context, pc *pgconn.PgConn, sql string, size int, sink blockSink) (rows, n int64, err error) {
	return chunkStream(ctx, size, sink, func(ctx context.Context, w io.Writer) error {
		_, err := pc.CopyTo(ctx, w, sql)
		return err
	})
}

// chunkStream runs source, which writes a stream of COPY text rows to w,
// and cuts the stream into blocks for sink as copyTable describes.
func chunkStream(ctx context.Context, size int, sink blockSink, source func(context.Context, io.Writer) error) (rows, n int64, err error) {
	g, gctx := errgroup.WithContext(ctx)
	full := make(chan []byte, 1)
	free := make(chan []byte, 2)
	free <- make([]byte, 0, size+size/4)
	free <- make([]byte, 0, size+size/4)
	g.Go(func() error {
		for b := range full {
			r := bytes.Count(b, []byte{'\n'})
			if err := sink(b, uint32(r)); err != nil {
				return err
			}
			rows += int64(r)
			n += int64(len(b))
			if cap(b) > 4*size {
				b = make([]byte, 0, size+size/4) // let a huge row's buffer go
			}
			free <- b[:0] // never blocks: at most three buffers exist
		}
		return nil
	})
	g.Go(func() error {
		c := &chunker{ctx: gctx, size: size, full: full, free: free, buf: make([]byte, 0, size+size/4)}
		err := source(gctx, c)
		if err == nil {
			err = c.flush()
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
	full    chan<- []byte
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
		if err := c.cut(from + i + 1); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// cut hands off buf[:end] and keeps the rest.
func (c *chunker) cut(end int) error {
	var next []byte
	select {
	case next = <-c.free:
	case <-c.ctx.Done():
		return context.Cause(c.ctx)
	}
	next = append(next[:0], c.buf[end:]...)
	select {
	case c.full <- c.buf[:end]:
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
	return c.cut(len(c.buf))
}

// errCopy wraps a COPY failure with the table.
func errCopy(rel string, err error) error {
	if conn.Lost(err) {
		return fmt.Errorf("dump: copy %s: %s: %w", rel, conn.LostMessage, err)
	}
	return fmt.Errorf("dump: copy %s: %w", rel, err)
}
