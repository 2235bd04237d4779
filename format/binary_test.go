package format

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// tuple appends one COPY binary tuple of fields to dst; a nil field is NULL.
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

// binaryRows makes n tuples of an int8, a text that is sometimes NULL or
// empty, and 16 random bytes.
func binaryRows(rng *rand.Rand, n int) []byte {
	var b []byte
	for i := range n {
		var text []byte
		switch i % 5 {
		case 0:
		case 1:
			text = []byte{}
		default:
			text = []byte("row " + string(rune('a'+i%26)))
		}
		id := binary.BigEndian.AppendUint64(nil, uint64(i))
		u := make([]byte, 16)
		for k := range u {
			u[k] = byte(rng.UintN(256))
		}
		b = tuple(b, id, text, u)
	}
	return b
}

func binaryEntry(id uint32) Entry {
	return Entry{ID: id, Section: SectionData, Kind: "TABLE DATA", Name: "t", Copy: `COPY "t" (id, t, u) FROM stdin;`, Types: []uint32{20, 25, 2950}}
}

func TestTuples(t *testing.T) {
	good := tuple(tuple(nil, []byte{1}, nil), []byte{}, []byte("ab"))
	fields, rows, err := tuples(good)
	require.NoError(t, err)
	require.Equal(t, [2]int{2, 2}, [2]int{fields, rows})
	fields, rows, err = tuples(nil)
	require.NoError(t, err)
	require.Equal(t, [2]int{0, 0}, [2]int{fields, rows})
	for name, p := range map[string][]byte{
		"cut in a field":        good[:len(good)-1],
		"cut in a length":       good[:len(good)-3],
		"cut in a count":        append(bytes.Clone(good), 0),
		"another field count":   tuple(bytes.Clone(good), []byte{1}),
		"negative field count":  {0xff, 0xff},
		"length below -1":       {0, 1, 0xff, 0xff, 0xff, 0xfe},
		"length past the block": {0, 1, 0, 0, 0, 9, 1},
	} {
		_, _, err := tuples(p)
		require.Error(t, err, name)
	}
}

// TestBinaryBlocks writes binary blocks, stored as they are, by zstd and by
// columns, next to text blocks of the same entry, and reads them back both
// ways with their form.
func TestBinaryBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	c := content{info: testInfo(), entries: []Entry{binaryEntry(1)}}
	c.blocks = []testBlock{
		{entry: 1, data: binaryRows(rng, 2000), rows: 2000, binary: true},
		{entry: 1, data: []byte("1\ta\t00000000-0000-0000-0000-000000000000\n"), rows: 1},
		{entry: 1, data: tuple(nil, nil, nil, nil), rows: 1, binary: true},
	}
	for _, opts := range []WriterOptions{{Codec: CodecNone}, {Codec: CodecZstd}} {
		b := writeArchive(t, c, opts)
		require.Equal(t, expected(c).data, readRandom(t, b).data)
		require.Equal(t, expected(c).data, readStream(t, b).data)
		r, err := NewReader(bytes.NewReader(b), int64(len(b)))
		require.NoError(t, err)
		var forms []bool
		var codecs []Codec
		for _, blk := range r.Blocks() {
			forms = append(forms, blk.Binary)
			codecs = append(codecs, blk.Codec)
		}
		r.Close()
		require.Equal(t, []bool{true, false, true}, forms)
		if opts.Codec == CodecZstd {
			require.Equal(t, CodecZstdColumns, codecs[0], "binary tuples are stored by columns")
		}
		s := NewScanner(bytes.NewReader(b))
		forms = forms[:0]
		for s.Next() {
			if rec := s.Record(); rec.Kind == RecordData {
				forms = append(forms, rec.Block.Binary)
			}
		}
		require.NoError(t, s.Err())
		require.Equal(t, []bool{true, false, true}, forms)
	}
}

func TestWriteBinaryBlockRefuses(t *testing.T) {
	var out bytes.Buffer
	w, err := NewWriter(&out, testInfo(), WriterOptions{Codec: CodecZstd})
	require.NoError(t, err)
	require.ErrorContains(t, w.AddEntry(Entry{ID: 9, Section: SectionData, Kind: "TABLE DATA", Name: "x", Types: []uint32{23}}), "without a COPY")
	require.NoError(t, w.AddEntry(binaryEntry(1)))
	text := Entry{ID: 2, Section: SectionData, Kind: "TABLE DATA", Name: "u", Copy: `COPY "u" (a) FROM stdin;`}
	require.NoError(t, w.AddEntry(text))
	one := tuple(nil, []byte{0, 0, 0, 0, 0, 0, 0, 1}, []byte("x"), make([]byte, 16))
	require.ErrorContains(t, w.WriteBinaryBlock(2, one, 1), "entry 2 has 0 column types")
	require.ErrorContains(t, w.WriteBinaryBlock(1, tuple(nil, []byte{1}), 1), "the tuples 1 fields")
	require.ErrorContains(t, w.WriteBinaryBlock(1, one, 2), "1 tuples, not 2 rows")
	require.ErrorContains(t, w.WriteBinaryBlock(1, one[:len(one)-1], 1), "tuple 0 has a field of length 16")
	require.ErrorContains(t, w.WriteBinaryBlock(1, make([]byte, MaxPayload+1), 1), "over the")
	require.NoError(t, w.WriteBinaryBlock(1, one, 1))
	require.NoError(t, w.Close())
}

// writeRaw writes a data record of header h (its entry, flags and rows)
// and raw payload p past the Writer's checks, as a damaged or foreign
// writer could.
func writeRaw(t *testing.T, aw *Writer, h recordHeader, p []byte) {
	t.Helper()
	h.kind = RecordData
	rec, h := aw.record(nil, h, p)
	h.seq = aw.nextSeq[h.entry]
	h.encode(rec)
	off := aw.off
	require.NoError(t, aw.write(rec))
	aw.nextSeq[h.entry]++
	aw.idx.blocks = append(aw.idx.blocks, h.dataBlock(off))
}

// TestBinaryBlockDamage: a binary block of an entry without types, and one
// whose tuples do not match its row count, are refused by both readers,
// named; a binary block marked continued by its header and its index row.
func TestBinaryBlockDamage(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	rows := binaryRows(rng, 50)
	plain := binaryEntry(1)
	plain.Types = nil
	for name, tc := range map[string]struct {
		entry Entry
		h     recordHeader
		want  string
	}{
		"no types":   {plain, recordHeader{entry: 1, flags: flagBinary, rows: 50}, "binary block of an entry without column types"},
		"rows":       {binaryEntry(1), recordHeader{entry: 1, flags: flagBinary, rows: 49}, "50 tuples, header says 49 rows"},
		"in a chain": {binaryEntry(1), recordHeader{entry: 1, flags: flagBinary, rows: 50}, "continued block is "},
	} {
		for _, codec := range []Codec{CodecNone, CodecZstd} {
			var out bytes.Buffer
			w, err := NewWriter(&out, testInfo(), WriterOptions{Codec: codec})
			require.NoError(t, err)
			require.NoError(t, w.AddEntry(tc.entry))
			if name == "in a chain" {
				writeRaw(t, w, recordHeader{entry: 1, flags: flagContinues}, []byte("1\tab"))
			}
			writeRaw(t, w, tc.h, rows)
			if name == "in a chain" {
				// The writer's own check of its index refuses it.
				require.ErrorContains(t, w.Close(), tc.want+"followed by a binary block")
				require.ErrorContains(t, scanAll(out.Bytes()), "continued block is not followed by the next block of its entry")
				continue
			}
			require.NoError(t, w.Close())
			b := out.Bytes()
			err = openAndVerify(b)
			require.ErrorIs(t, err, ErrCorrupt, name)
			require.ErrorContains(t, err, tc.want, name)
			require.ErrorContains(t, err, "entry 1", name)
			err = scanAll(b)
			require.ErrorIs(t, err, ErrCorrupt, name)
			require.ErrorContains(t, err, tc.want, name)
		}
	}
}

func TestBinaryNeverContinues(t *testing.T) {
	var b [RecordHeaderSize]byte
	h := recordHeader{kind: RecordData, entry: 1, flags: flagBinary | flagContinues}
	h.encode(b[:])
	_, err := decodeRecordHeader(b[:], 100)
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorContains(t, err, "binary data block marked as continued")
	x := index{blocks: []Block{{Entry: 1, Binary: true, Continues: true}}}
	raw := x.encode()
	_, err = decodeIndex(raw, footer{blocks: 1, indexOffset: 16})
	require.ErrorIs(t, err, ErrCorrupt)
}

// TestBinaryColumnsCorrupt gives the binary column decoder columns that do
// not fit (a payload whose CRC was made to match): a named error, never a
// panic or wrong tuples.
func TestBinaryColumnsCorrupt(t *testing.T) {
	enc, err := newEncoder(CodecZstd, 0, 1)
	require.NoError(t, err)
	defer enc.close()
	dec, err := newDecoder()
	require.NoError(t, err)
	defer dec.close()
	raw := binaryRows(rand.New(rand.NewPCG(1, 2)), 100)
	h := recordHeader{kind: RecordData, flags: flagBinary, entry: 1, rows: 100, raw: uint32(len(raw))}
	stored, codec := enc.encode(nil, raw, payloadBinary)
	require.Equal(t, CodecZstdColumns, codec)
	h.codec = codec
	got, err := dec.decode(nil, stored, h, 0)
	require.NoError(t, err)
	require.Equal(t, raw, got)
	for name, change := range map[string]func([]byte){
		"count 1":                 func(b []byte) { binary.LittleEndian.PutUint32(b, 1) },
		"count 5":                 func(b []byte) { binary.LittleEndian.PutUint32(b, 5) },
		"framing one byte longer": func(b []byte) { b[4]++; b[8]-- },
		"lengths swapped":         func(b []byte) { b[8], b[12] = b[12], b[8] },
	} {
		bad := bytes.Clone(stored)
		change(bad)
		_, err := dec.decode(nil, bad, h, 0)
		require.ErrorIs(t, err, ErrCorrupt, name)
		require.ErrorContains(t, err, "zstd-columns", name)
	}
}

func TestColumnizeBinary(t *testing.T) {
	p := tuple(tuple(nil, []byte("ab"), nil), []byte{}, []byte("c"))
	hdr, cols, ok := columnizeBinary([]byte("h"), []byte("c"), p)
	require.True(t, ok)
	framing := []byte{0, 2, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1}
	require.Equal(t, "c"+string(framing)+"abc", string(cols))
	lens, n, err := columnsHeader(hdr[1:], uint32(len(p)))
	require.NoError(t, err)
	require.Equal(t, []uint32{20, 2, 1}, lens)
	require.Equal(t, len(hdr)-1, n)
	back, rows, err := uncolumnizeBinary([]byte("x"), cols[1:], lens)
	require.NoError(t, err)
	require.Equal(t, 2, rows)
	require.Equal(t, "x"+string(p), string(back))
}

// FuzzColumnsBinary: whatever tuples accepts, columnizeBinary and
// uncolumnizeBinary give back exactly; whatever uncolumnizeBinary is
// given, it returns an error or tuples that columnize back to its input,
// never panics.
func FuzzColumnsBinary(f *testing.F) {
	f.Add(tuple(tuple(nil, []byte("ab"), nil), []byte{}, []byte("c")), uint8(3))
	f.Add(binaryRows(rand.New(rand.NewPCG(1, 1)), 3), uint8(4))
	f.Add([]byte{0, 1, 0, 0, 0, 1, 'x', 'y'}, uint8(2))
	f.Fuzz(func(t *testing.T, p []byte, n uint8) {
		fields, rows, err := tuples(p)
		hdr, cols, ok := columnizeBinary([]byte("h"), []byte("c"), p)
		require.Equal(t, err == nil && fields > 0, ok, "columnizeBinary takes what tuples accepts, with a field")
		if !ok {
			require.Equal(t, "h", string(hdr))
			require.Equal(t, "c", string(cols))
		} else {
			hdr, cols = hdr[1:], cols[1:]
			require.Len(t, cols, len(p))
			lens, size, err := columnsHeader(hdr, uint32(len(p)))
			require.NoError(t, err)
			require.Equal(t, len(hdr), size)
			back, got, err := uncolumnizeBinary(nil, cols, lens)
			require.NoError(t, err)
			require.Equal(t, rows, got)
			require.Equal(t, p, back)
		}
		// Cut p into n columns, the first of 2+4(n-1) bytes per tuple.
		if n == 0 {
			return
		}
		lens := make([]uint32, n)
		for c := range lens {
			lens[c] = uint32(len(p) / int(n))
		}
		lens[n-1] += uint32(len(p) % int(n))
		if out, rows, err := uncolumnizeBinary(nil, p, lens); err == nil {
			require.Len(t, out, len(p))
			fields, got, err := tuples(out)
			require.NoError(t, err)
			require.Equal(t, rows, got)
			if rows > 0 {
				require.Equal(t, int(n)-1, fields)
			}
		}
	})
}
