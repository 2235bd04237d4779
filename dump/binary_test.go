package dump

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/format"
)

// tuple appends one COPY binary tuple of fields; a nil field is NULL.
func tuple(dst []byte, fields ...[]byte) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(fields)))
	for _, f := range fields {
		if f == nil {
			dst = binary.BigEndian.AppendUint32(dst, 0xffffffff)
			continue
		}
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(f)))
		dst = append(dst, f...)
	}
	return dst
}

// binaryStream is a COPY binary stream of tuples: the header (with an
// extension of ext bytes), the tuples, the trailer.
func binaryStream(tuples []byte, ext int) []byte {
	b := []byte(copySignature)
	b = binary.BigEndian.AppendUint32(b, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(ext))
	b = append(b, make([]byte, ext)...)
	b = append(b, tuples...)
	return append(b, 0xff, 0xff)
}

func TestChunkStreamBinary(t *testing.T) {
	const size = 1000
	r := rand.New(rand.NewPCG(3, 4))
	var tuples []byte
	var starts []int // where each tuple begins in tuples
	for i := range 3000 {
		starts = append(starts, len(tuples))
		id := binary.BigEndian.AppendUint64(nil, uint64(i))
		switch i % 500 {
		case 7:
			tuples = tuple(tuples, id, bytes.Repeat([]byte("x"), 5*size)) // longer than a block
		case 8:
			tuples = tuple(tuples, nil, nil)
		default:
			tuples = tuple(tuples, id, []byte(strings.Repeat("ab\n\t", r.IntN(40))))
		}
	}
	for seed := range uint64(5) {
		blocks, rows, gotRows, gotBytes, err := collectForm(t, binaryStream(tuples, int(seed)*7), size, seed, true)
		require.NoError(t, err)
		assert.Equal(t, int64(3000), gotRows)
		assert.Equal(t, int64(len(tuples)), gotBytes)
		require.Equal(t, tuples, bytes.Join(blocks, nil), "the blocks are the tuples, without header or trailer")
		at, first := 0, 0 // first: the block's first tuple
		for i, b := range blocks {
			n := first
			for n < len(starts) && starts[n] < at+len(b) {
				n++
			}
			assert.Equal(t, uint32(n-first), rows[i], "block %d: rows", i)
			first = n
			end := len(tuples)
			if n < len(starts) {
				end = starts[n]
			}
			assert.Equal(t, at+len(b), end, "block %d ends inside a tuple", i)
			if i < len(blocks)-1 {
				assert.GreaterOrEqual(t, len(b), size, "block %d is short", i)
			}
			// A block exceeds the size only by the tuple that crossed it.
			assert.Less(t, starts[n-1]-at, size, "block %d holds more than one tuple past the size", i)
			at += len(b)
		}
	}
}

func TestChunkStreamBinaryRefuses(t *testing.T) {
	good := binaryStream(tuple(nil, []byte("a")), 0)
	for name, tc := range map[string]struct {
		in   []byte
		want string
	}{
		"no signature":     {append([]byte("PGCOPY\nX\r\n\x00"), good[11:]...), "signature"},
		"oids":             {append(append([]byte(copySignature), 0, 1, 0, 0), good[15:]...), "flags"},
		"no trailer":       {good[:len(good)-2], "without its trailer"},
		"cut inside":       {good[:len(good)-3], "without its trailer"},
		"after trailer":    {append(bytes.Clone(good), 0, 1), "after its trailer"},
		"negative fields":  {binaryStream([]byte{0xff, 0xf0}, 0), "fields"},
		"negative length":  {binaryStream([]byte{0, 1, 0xff, 0xff, 0xff, 0xf0}, 0), "length"},
		"empty, no header": {nil, "without its trailer"},
	} {
		_, _, _, _, err := collectForm(t, tc.in, 10, 1, true)
		require.ErrorContains(t, err, tc.want, name)
	}
}

// TestBinarySink: a block larger than a record goes as binary blocks of
// the tuples that fit, and a tuple larger than a record as a text chain.
func TestBinarySink(t *testing.T) {
	types := []uint32{20, 25} // int8, text
	big := bytes.Repeat([]byte("a\tb"), format.MaxPayload/3+100)
	var block []byte
	for i := range 3 {
		block = tuple(block, binary.BigEndian.AppendUint64(nil, uint64(i)), []byte("small"))
	}
	block = tuple(block, binary.BigEndian.AppendUint64(nil, 7), big)
	block = tuple(block, binary.BigEndian.AppendUint64(nil, 8), nil)

	var out bytes.Buffer
	aw, err := format.NewWriter(&out, format.Info{Tool: "pgark", Encoding: "UTF8"}, format.WriterOptions{Codec: format.CodecZstd})
	require.NoError(t, err)
	require.NoError(t, aw.AddEntry(format.Entry{ID: 1, Section: format.SectionData, Kind: "TABLE DATA", Name: "t",
		Copy: `COPY "t" (a, b) FROM stdin;`, Types: types}))
	sink := binarySink(aw, 1, types)
	require.NoError(t, sink(tuple(nil, binary.BigEndian.AppendUint64(nil, 9), nil), 1))
	require.NoError(t, sink(block, 5))
	require.NoError(t, aw.Close())

	ar, err := format.NewReader(bytes.NewReader(out.Bytes()), int64(out.Len()))
	require.NoError(t, err)
	defer ar.Close()
	var forms []string
	var text []byte
	var rows uint32
	for _, b := range ar.Blocks() {
		form := "text"
		if b.Binary {
			form = "binary"
		} else if b.Continues {
			form = "text continues"
		}
		forms = append(forms, form)
		rows += b.Rows
		if !b.Binary {
			p, err := ar.ReadBlock(b, nil)
			require.NoError(t, err)
			text = append(text, p...)
		}
	}
	assert.Equal(t, []string{"binary", "binary", "text continues", "text", "binary"}, forms)
	assert.Equal(t, uint32(6), rows)
	assert.Equal(t, "7\t"+strings.Repeat(`a\tb`, format.MaxPayload/3+100)+"\n", string(text))
}
