package dump

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// collect runs chunkStream over input written in pieces of random size and
// returns the blocks and row counts the sink saw.
func collect(t *testing.T, input []byte, size int, seed uint64) (blocks [][]byte, rows []uint32) {
	t.Helper()
	blocks, rows, gotRows, gotBytes, err := collectForm(t, input, size, seed, false)
	require.NoError(t, err)
	assert.Equal(t, int64(len(input)), gotBytes)
	assert.Equal(t, int64(bytes.Count(input, []byte{'\n'})), gotRows)
	return blocks, rows
}

// collectForm is collect for text or, with binary, a COPY binary stream.
func collectForm(t *testing.T, input []byte, size int, seed uint64, binary bool) (blocks [][]byte, rows []uint32, gotRows, gotBytes int64, err error) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed))
	gotRows, gotBytes, err = chunkStream(t.Context(), size, binary, func(b []byte, n uint32) error {
		blocks = append(blocks, bytes.Clone(b))
		rows = append(rows, n)
		return nil
	}, func(_ context.Context, w io.Writer) error {
		for rest := input; len(rest) > 0; {
			n := min(len(rest), 1+r.IntN(3*size))
			if _, err := w.Write(rest[:n]); err != nil {
				return err
			}
			rest = rest[n:]
		}
		return nil
	})
	return blocks, rows, gotRows, gotBytes, err
}

func TestChunkStream(t *testing.T) {
	const size = 1000
	var in bytes.Buffer
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		switch i % 500 {
		case 7:
			in.WriteString(strings.Repeat("x", 5*size)) // longer than a block
		case 8:
			// empty row (a table without columns)
		default:
			in.WriteString(strings.Repeat("ab\\n\t", r.IntN(40)))
		}
		in.WriteByte('\n')
	}
	for seed := range uint64(5) {
		blocks, rows := collect(t, in.Bytes(), size, seed)
		require.NotEmpty(t, blocks)
		assert.Equal(t, in.Bytes(), bytes.Join(blocks, nil))
		for i, b := range blocks {
			assert.Equal(t, byte('\n'), b[len(b)-1], "block %d ends inside a row", i)
			assert.Equal(t, uint32(bytes.Count(b, []byte{'\n'})), rows[i])
			if i < len(blocks)-1 {
				assert.GreaterOrEqual(t, len(b), size, "block %d is short", i)
			}
			// A block exceeds the size only by the row that crossed it.
			if len(b) > size {
				lastRowStart := bytes.LastIndexByte(b[:len(b)-1], '\n') + 1
				assert.Less(t, lastRowStart, size, "block %d holds more than one row past the size", i)
			}
		}
	}
}

func TestChunkStreamEmpty(t *testing.T) {
	blocks, _ := collect(t, nil, 100, 0)
	assert.Empty(t, blocks)
}

func TestChunkStreamIncompleteRow(t *testing.T) {
	_, _, err := chunkStream(t.Context(), 10, false, func([]byte, uint32) error { return nil },
		func(_ context.Context, w io.Writer) error {
			_, err := w.Write([]byte("a\nb"))
			return err
		})
	assert.ErrorContains(t, err, "complete row")
}

func TestChunkStreamSinkError(t *testing.T) {
	boom := errors.New("boom")
	_, _, err := chunkStream(t.Context(), 10, false, func([]byte, uint32) error { return boom },
		func(ctx context.Context, w io.Writer) error {
			// An endless source: must be stopped by the sink's failure.
			for {
				if _, err := w.Write([]byte("0123456789\n")); err != nil {
					return err
				}
				if err := ctx.Err(); err != nil {
					return err
				}
			}
		})
	assert.ErrorIs(t, err, boom)
}

func TestErrCopyLostConnection(t *testing.T) {
	require.ErrorContains(t, errCopy(`"s"."t"`, io.ErrUnexpectedEOF), `dump: copy "s"."t": the server closed the connection unexpectedly`)
	require.Equal(t, `dump: copy "s"."t": boom`, errCopy(`"s"."t"`, errors.New("boom")).Error())
}
