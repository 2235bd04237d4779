package format

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestColumnize(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		cols string // "" when columnize must refuse
		nf   int
	}{
		{"rows", "1\ta\tx\n2\tbb\ty\n", "1\n2\na\nbb\nx\ny\n", 3},
		{"one row", "1\t\\N\n", "1\n\\N\n", 2},
		{"empty fields", "\t\n\t\n\t\n", "\n\n\n\n\n\n", 2},
		{"escaped separators stay", "a\\tb\tc\\nd\n", "a\\tb\nc\\nd\n", 2},
		{"one column", "1\n2\n", "", 0},
		{"no final newline", "1\t2\n3\t4", "", 0},
		{"ragged", "1\t2\n3\t4\t5\n", "", 0},
		{"fewer fields", "1\t2\t3\n4\t5\n", "", 0},
		{"empty", "", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdr, cols, ok := columnize([]byte("h"), []byte("c"), []byte(tc.in))
			require.Equal(t, tc.nf > 0, ok)
			if !ok {
				require.Equal(t, "h", string(hdr), "a refused block leaves hdr as it was")
				require.Equal(t, "c", string(cols), "a refused block leaves cols as it was")
				return
			}
			require.Equal(t, "c"+tc.cols, string(cols))
			lens, n, err := columnsHeader(hdr[1:], uint32(len(tc.in)))
			require.NoError(t, err)
			require.Len(t, lens, tc.nf)
			require.Equal(t, len(hdr)-1, n)
			back, err := uncolumnize([]byte("x"), cols[1:], lens)
			require.NoError(t, err)
			require.Equal(t, "x"+tc.in, string(back))
		})
	}
}

func TestUncolumnizeRefuses(t *testing.T) {
	for _, tc := range []struct {
		cols string
		lens []uint32
	}{
		{"1\n2\na\n", []uint32{4, 2}},     // 3 values, not rows of 2
		{"1\n2\na\nb", []uint32{4, 3}},    // no final newline
		{"1\n2\na\nb\n", nil},             // no columns
		{"1\n2\na\nb\n", []uint32{4, 3}},  // lengths that do not add up
		{"1\n2\na\nb\n", []uint32{2, 6}},  // one value in one column, three in the other
		{"1\n2\na\nbb\n", []uint32{5, 4}}, // a column ending inside a value
		{"1\n2\n\n\n", []uint32{4, 0, 2}}, // an empty column
	} {
		_, err := uncolumnize(nil, []byte(tc.cols), tc.lens)
		require.Error(t, err, "%q as columns %v", tc.cols, tc.lens)
	}
	for _, tc := range []struct {
		p   []byte
		raw uint32
	}{
		{[]byte{1, 0, 0}, 0},                       // short count
		{[]byte{0, 0, 0, 0}, 0},                    // no columns
		{[]byte{2, 0, 0, 0, 1, 0, 0, 0}, 1},        // count larger than the header
		{[]byte{1, 0, 0, 0, 5, 0, 0, 0}, 4},        // lengths not adding up to raw
		{[]byte{0xff, 0xff, 0xff, 0xff, 0, 0}, 10}, // huge count
	} {
		_, _, err := columnsHeader(tc.p, tc.raw)
		require.Error(t, err, "%v", tc.p)
	}
}

// TestColumnsCodec shows that data blocks of COPY text are stored column by
// column, that other data falls back to zstd, and that both read back.
func TestColumnsCodec(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	c := content{info: testInfo(), entries: []Entry{{ID: 1, Section: SectionData, Kind: "TABLE DATA", Name: "t"}}}
	c.blocks = []testBlock{
		{entry: 1, data: copyRows(rng, 2000), rows: 2000},
		{entry: 1, data: bytes.Repeat([]byte("one column of text\n"), 1000), rows: 1000},
	}
	b := writeArchive(t, c, WriterOptions{Codec: CodecZstd})
	r, err := NewReader(bytes.NewReader(b), int64(len(b)))
	require.NoError(t, err)
	defer r.Close()
	var codecs []Codec
	for _, blk := range r.Blocks() {
		codecs = append(codecs, blk.Codec)
	}
	require.Equal(t, []Codec{CodecZstdColumns, CodecZstd}, codecs)
	require.Equal(t, expected(c).data, readRandom(t, b).data)
	require.Equal(t, expected(c).data, readStream(t, b).data)

	// The column header is covered by the record's CRC like the rest.
	blk := r.Blocks()[0]
	bad := bytes.Clone(b)
	binary.LittleEndian.PutUint32(bad[blk.Offset+RecordHeaderSize:], 5)
	err = openAndVerify(bad)
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorContains(t, err, "entry 1 data block 0")
}

// TestColumnsCodecCorruptColumns gives the decoder columns that do not fit
// the count it is told (a payload whose CRC was made to match): a named
// error, never a panic or wrong rows.
func TestColumnsCodecCorruptColumns(t *testing.T) {
	enc, err := newEncoder(CodecZstd, 0, 1)
	require.NoError(t, err)
	defer enc.close()
	dec, err := newDecoder()
	require.NoError(t, err)
	defer dec.close()
	raw := []byte("1\ta\tx\n2\tbb\ty\n")
	stored, codec := enc.encode(nil, bytes.Repeat(raw, 100), payloadText)
	require.Equal(t, CodecZstdColumns, codec)
	h := recordHeader{kind: RecordData, codec: codec, entry: 1, raw: uint32(len(raw) * 100)}
	got, err := dec.decode(nil, stored, h, 0)
	require.NoError(t, err)
	require.Equal(t, bytes.Repeat(raw, 100), got)
	for name, change := range map[string]func([]byte){
		"count 0":           func(b []byte) { binary.LittleEndian.PutUint32(b, 0) },
		"count 2":           func(b []byte) { binary.LittleEndian.PutUint32(b, 2) },
		"count 1<<31":       func(b []byte) { binary.LittleEndian.PutUint32(b, 1<<31) },
		"lengths swapped":   func(b []byte) { b[4], b[8] = b[8], b[4] },
		"one length longer": func(b []byte) { b[4]++; b[8]-- },
	} {
		bad := bytes.Clone(stored)
		change(bad)
		_, err := dec.decode(nil, bad, h, 0)
		require.ErrorIs(t, err, ErrCorrupt, name)
		require.ErrorContains(t, err, "zstd-columns", name)
	}
	_, err = dec.decode(nil, stored[:3], h, 0)
	require.ErrorIs(t, err, ErrCorrupt)
}

// FuzzColumns: whatever columnize accepts, uncolumnize gives back exactly;
// whatever uncolumnize is given, it returns an error or rows, never panics.
func FuzzColumns(f *testing.F) {
	f.Add([]byte("1\ta\tx\n2\tbb\ty\n"), uint8(3))
	f.Add([]byte("\t\n\t\n"), uint8(2))
	f.Add([]byte("a\nb\nc\nd\n"), uint8(2))
	f.Add([]byte("1\n2\nab\ncd\n"), uint8(2))
	f.Fuzz(func(t *testing.T, p []byte, n uint8) {
		if hdr, cols, ok := columnize(nil, nil, p); ok {
			require.Len(t, cols, len(p))
			lens, size, err := columnsHeader(hdr, uint32(len(p)))
			require.NoError(t, err)
			require.Equal(t, len(hdr), size)
			back, err := uncolumnize(nil, cols, lens)
			require.NoError(t, err)
			require.Equal(t, p, back)
		}
		// Cut p into n columns of equal length, the last one longer.
		if n == 0 {
			return
		}
		lens := make([]uint32, n)
		for c := range lens {
			lens[c] = uint32(len(p) / int(n))
		}
		lens[n-1] += uint32(len(p) % int(n))
		if out, err := uncolumnize(nil, p, lens); err == nil {
			require.Len(t, out, len(p))
			_, again, ok := columnize(nil, nil, out)
			if ok && n > 1 && bytes.Count(out[:bytes.IndexByte(out, '\n')], tab) == int(n)-1 {
				require.Equal(t, p, again)
			}
		}
	})
}
