package format

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// content is what a test puts into an archive and expects back.
type content struct {
	info    Info
	entries []Entry
	blocks  []testBlock // in the order they are written
}

type testBlock struct {
	entry  uint32
	data   []byte
	rows   uint32
	binary bool // data is COPY binary tuples (WriteBinaryBlock)
}

func (b testBlock) write(w *Writer) error {
	if b.binary {
		return w.WriteBinaryBlock(b.entry, b.data, b.rows)
	}
	return w.WriteBlock(b.entry, b.data, b.rows)
}

func testInfo() Info {
	return Info{Tool: "pgark", ToolVersion: "test", Created: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC),
		Database: "db", ServerVersion: "15.18", Encoding: "UTF8", Attrs: map[string]string{"k": "v"}}
}

// copyRows makes n COPY text rows with awkward content.
func copyRows(rng *rand.Rand, n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "%d\t%08x-%04x\t\\N\ttab\\there\\nnewline \\\\ back\t2026-01-%02d 10:00:00+00\t{\"k\": %d}\n",
			i, rng.Uint32(), rng.Uint32()&0xffff, 1+i%28, rng.IntN(1000))
	}
	return b.Bytes()
}

func writeArchive(t testing.TB, c content, opts WriterOptions) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := NewWriter(&out, c.info, opts)
	require.NoError(t, err)
	bi := 0
	for _, e := range c.entries {
		require.NoError(t, w.AddEntry(e))
		// write the blocks of this entry that are queued right after it
		for bi < len(c.blocks) && c.blocks[bi].entry == e.ID {
			require.NoError(t, c.blocks[bi].write(w))
			bi++
		}
	}
	for ; bi < len(c.blocks); bi++ {
		require.NoError(t, c.blocks[bi].write(w))
	}
	require.NoError(t, w.Close())
	require.ErrorIs(t, w.Close(), ErrClosed)
	return out.Bytes()
}

// readBack reads an archive both ways and returns, per entry, the
// concatenated data (blocks in file order) and row count.
type readResult struct {
	info    Info
	entries []Entry
	data    map[uint32][]byte
	rows    map[uint32]uint32
}

func readRandom(t testing.TB, b []byte) readResult {
	t.Helper()
	r, err := NewReader(bytes.NewReader(b), int64(len(b)))
	require.NoError(t, err)
	defer r.Close()
	want := Version
	if r.Info().Cluster {
		want = VersionCluster
	}
	require.Equal(t, want, r.Version())
	require.NoError(t, r.Verify(context.Background()))
	res := readResult{info: r.Info(), entries: r.Entries(), data: map[uint32][]byte{}, rows: map[uint32]uint32{}}
	for _, blk := range r.Blocks() {
		p, err := r.ReadBlock(blk, nil)
		require.NoError(t, err)
		res.data[blk.Entry] = append(res.data[blk.Entry], p...)
		res.rows[blk.Entry] += blk.Rows
	}
	return res
}

func readStream(t testing.TB, b []byte) readResult {
	t.Helper()
	s := NewScanner(bytes.NewReader(b))
	res := readResult{data: map[uint32][]byte{}, rows: map[uint32]uint32{}}
	for s.Next() {
		rec := s.Record()
		switch rec.Kind {
		case RecordInfo:
			res.info = *rec.Info
		case RecordEntry:
			res.entries = append(res.entries, *rec.Entry)
		case RecordData:
			res.data[rec.Block.Entry] = append(res.data[rec.Block.Entry], rec.Data...)
			res.rows[rec.Block.Entry] += rec.Block.Rows
		}
	}
	require.NoError(t, s.Err())
	require.Equal(t, int64(len(b)), s.Offset())
	return res
}

func expected(c content) readResult {
	res := readResult{info: c.info, entries: c.entries, data: map[uint32][]byte{}, rows: map[uint32]uint32{}}
	for _, b := range c.blocks {
		res.data[b.entry] = append(res.data[b.entry], b.data...)
		res.rows[b.entry] += b.rows
	}
	return res
}

func sampleContent(rng *rand.Rand) content { return sampleContentRows(rng, 300) }

// sampleContentRows is sampleContent with n rows per full block.
func sampleContentRows(rng *rand.Rand, n int) content {
	c := content{info: testInfo()}
	c.entries = []Entry{
		{ID: 1, Section: SectionPreData, Kind: "SCHEMA", Name: "Ünïcode \"schema\"", Owner: "alice", Create: `CREATE SCHEMA "Ünïcode ""schema""";`, Drop: `DROP SCHEMA "Ünïcode ""schema""";`},
		{ID: 2, Section: SectionPreData, Kind: "TABLE", Schema: "public", Name: "t", Owner: "alice", Create: "CREATE TABLE public.t (a int);", Deps: []uint32{1}},
		{ID: 3, Section: SectionData, Kind: "TABLE DATA", Schema: "public", Name: "t", Owner: "alice", Copy: "COPY public.t (a) FROM stdin;", Deps: []uint32{2}},
		{ID: 7, Section: SectionData, Kind: "TABLE DATA", Schema: "public", Name: "empty", Copy: "COPY public.empty FROM stdin;"},
		{ID: 9, Section: SectionPostData, Kind: "INDEX", Schema: "public", Name: "t_a", Create: "CREATE INDEX t_a ON public.t (a);", Deps: []uint32{2}, Tablespace: "fast"},
	}
	for range 5 {
		c.blocks = append(c.blocks, testBlock{entry: 3, data: copyRows(rng, n), rows: uint32(n)})
	}
	c.blocks = append(c.blocks, testBlock{entry: 3, data: bytes.Repeat([]byte{0xff, 0x00, '\n'}, 10), rows: 10})
	return c
}

func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	big := make([]byte, MaxPayload*2+12345) // one row larger than a block: a continuation chain
	for i := range big {
		big[i] = byte('a' + rng.IntN(26))
	}
	big[len(big)-1] = '\n'
	cases := []struct {
		name string
		c    content
	}{
		{"empty", content{info: testInfo()}},
		{"entries only", content{info: testInfo(), entries: sampleContent(rng).entries}},
		{"sample", sampleContent(rng)},
		{"interleaved", func() content {
			c := sampleContent(rng)
			c.entries = append(c.entries, Entry{ID: 10, Section: SectionData, Kind: "TABLE DATA", Name: "u", Copy: "COPY u FROM stdin;"})
			var bl []testBlock
			for i := range 10 {
				bl = append(bl, testBlock{entry: []uint32{3, 10}[i%2], data: copyRows(rng, 50+i), rows: uint32(50 + i)})
			}
			c.blocks = bl
			return c
		}()},
		{"continued row", content{info: testInfo(),
			entries: []Entry{{ID: 5, Section: SectionData, Kind: "TABLE DATA", Name: "big"}, {ID: 6, Section: SectionData, Kind: "TABLE DATA", Name: "small"}},
			blocks:  []testBlock{{entry: 6, data: []byte("1\n"), rows: 1}, {entry: 5, data: big, rows: 1}, {entry: 6, data: []byte("2\n"), rows: 1}}}},
	}
	for _, tc := range cases {
		for _, opts := range []WriterOptions{{Codec: CodecNone}, {Codec: CodecZstd}, {Codec: CodecZstd, Level: 19}} {
			t.Run(fmt.Sprintf("%s/%s-%d", tc.name, opts.Codec, opts.Level), func(t *testing.T) {
				if tc.name == "continued row" && opts.Level == 19 {
					t.Skip("level 19 on 32 MiB is slow and adds nothing here")
				}
				b := writeArchive(t, tc.c, opts)
				want := expected(tc.c)
				for name, got := range map[string]readResult{"reader": readRandom(t, b), "scanner": readStream(t, b)} {
					require.Equal(t, want.info.Created.UTC(), got.info.Created.UTC(), name)
					got.info.Created = want.info.Created
					require.Equal(t, want.info, got.info, name)
					if len(want.entries) == 0 {
						require.Empty(t, got.entries, name)
					} else {
						require.Equal(t, want.entries, got.entries, name)
					}
					require.Equal(t, len(want.data), len(got.data), name)
					for id, d := range want.data {
						require.True(t, bytes.Equal(d, got.data[id]), "%s: data of entry %d differs", name, id)
						require.Equal(t, want.rows[id], got.rows[id], name)
					}
				}
			})
		}
	}
}

func TestContinuationChain(t *testing.T) {
	big := bytes.Repeat([]byte("x"), MaxPayload+10)
	c := content{info: testInfo(), entries: []Entry{{ID: 1, Kind: "TABLE DATA", Name: "t"}},
		blocks: []testBlock{{entry: 1, data: big, rows: 1}}}
	b := writeArchive(t, c, WriterOptions{Codec: CodecZstd})
	r, err := NewReader(bytes.NewReader(b), int64(len(b)))
	require.NoError(t, err)
	defer r.Close()
	bl := r.Blocks()
	require.Len(t, bl, 2)
	require.True(t, bl[0].Continues)
	require.False(t, bl[1].Continues)
	require.Equal(t, uint32(0), bl[0].Rows)
	require.Equal(t, uint32(1), bl[1].Rows)
	require.Equal(t, uint32(MaxPayload), bl[0].Raw)
	require.Equal(t, bl[0].End(), bl[1].Offset)
}

// TestConcurrentProducers has several goroutines feed one writer, as
// parallel dump workers do, and checks that every block arrives once.
func TestConcurrentProducers(t *testing.T) {
	const workers, perWorker = 8, 40
	var out bytes.Buffer
	w, err := NewWriter(&out, testInfo(), WriterOptions{Codec: CodecZstd, Concurrency: 4})
	require.NoError(t, err)
	for id := uint32(1); id <= 4; id++ {
		require.NoError(t, w.AddEntry(Entry{ID: id, Section: SectionData, Kind: "TABLE DATA", Name: fmt.Sprint("t", id)}))
	}
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			for i := range perWorker {
				id := uint32(1 + (g+i)%4)
				row := fmt.Sprintf("%d\t%d\t%s\n", g, i, strings.Repeat("p", (g*31+i*17)%2000))
				if err := w.WriteBlock(id, []byte(row), 1); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	require.NoError(t, w.Close())

	r, err := NewReader(bytes.NewReader(out.Bytes()), int64(out.Len()))
	require.NoError(t, err)
	defer r.Close()
	var got []string
	seq := map[uint32]uint32{}
	for _, b := range r.Blocks() {
		require.Equal(t, seq[b.Entry], b.Seq, "sequences count up per entry in file order")
		seq[b.Entry]++
		p, err := r.ReadBlock(b, nil)
		require.NoError(t, err)
		got = append(got, fmt.Sprintf("%d:%s", b.Entry, p))
	}
	var want []string
	for g := range workers {
		for i := range perWorker {
			want = append(want, fmt.Sprintf("%d:%d\t%d\t%s\n", 1+(g+i)%4, g, i, strings.Repeat("p", (g*31+i*17)%2000)))
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	require.Equal(t, want, got)
	readStream(t, out.Bytes())
}

func TestWriterRejects(t *testing.T) {
	w, err := NewWriter(io.Discard, testInfo(), WriterOptions{})
	require.NoError(t, err)
	require.Error(t, w.AddEntry(Entry{ID: 0, Name: "zero"}))
	require.NoError(t, w.AddEntry(Entry{ID: 1, Name: "a"}))
	require.ErrorContains(t, w.AddEntry(Entry{ID: 1, Name: "again"}), "duplicate")
	require.ErrorContains(t, w.AddEntry(Entry{ID: 2, Name: "b", Deps: []uint32{3}}), "dependency 3")
	require.ErrorContains(t, w.WriteBlock(4, []byte("x\n"), 1), "entry 4 has not been added")
	require.Error(t, w.WriteBlock(1, nil, 3))
	require.NoError(t, w.WriteBlock(1, nil, 0))
	require.Error(t, w.AddEntry(Entry{ID: 5, Section: Section(9)}))
	_, err = NewWriter(io.Discard, testInfo(), WriterOptions{Codec: CodecZstd, Level: 23})
	require.Error(t, err)
	_, err = NewWriter(io.Discard, testInfo(), WriterOptions{Codec: Codec(7)})
	require.Error(t, err)
	require.NoError(t, w.Close())
	require.ErrorIs(t, w.AddEntry(Entry{ID: 9}), ErrClosed)
	require.ErrorIs(t, w.WriteBlock(1, []byte("x\n"), 1), ErrClosed)
}

// failingWriter accepts n bytes, then fails.
type failingWriter struct{ n int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) <= f.n {
		f.n -= len(p)
		return len(p), nil
	}
	n := f.n
	f.n = 0
	return n, errors.New("disk full")
}

func TestWriterStickyError(t *testing.T) {
	w, err := NewWriter(&failingWriter{n: 400}, testInfo(), WriterOptions{})
	require.NoError(t, err)
	require.NoError(t, w.AddEntry(Entry{ID: 1, Name: "t"}))
	var first error
	for i := 0; first == nil && i < 100; i++ {
		first = w.WriteBlock(1, []byte("some row data\n"), 1)
	}
	require.ErrorContains(t, first, "disk full")
	require.Equal(t, first, w.WriteBlock(1, []byte("x\n"), 1))
	require.Equal(t, first, w.AddEntry(Entry{ID: 2}))
	require.Equal(t, first, w.Close())

	_, err = NewWriter(&failingWriter{n: 3}, testInfo(), WriterOptions{})
	require.ErrorContains(t, err, "disk full")
}

func TestWriterAbort(t *testing.T) {
	var out bytes.Buffer
	w, err := NewWriter(&out, testInfo(), WriterOptions{Codec: CodecZstd})
	require.NoError(t, err)
	require.NoError(t, w.AddEntry(Entry{ID: 1, Name: "t"}))
	require.NoError(t, w.WriteBlock(1, []byte("1\n"), 1))
	n := out.Len()
	w.Abort()
	w.Abort()
	require.Equal(t, n, out.Len(), "abort writes nothing")
	require.ErrorIs(t, w.Close(), ErrClosed)
	require.ErrorIs(t, w.WriteBlock(1, []byte("2\n"), 1), ErrClosed)
	require.ErrorIs(t, openAndVerify(out.Bytes()), ErrTruncated)
	require.ErrorIs(t, scanAll(out.Bytes()), ErrTruncated)
}

func TestNotAnArchive(t *testing.T) {
	noise := make([]byte, 4096)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	inputs := map[string][]byte{
		"empty":          nil,
		"noise":          noise,
		"pg_dump custom": append([]byte("PGDMP\x01\x0f\x00\x04\x08\x01\x01"), noise[:200]...),
		"sql text":       []byte("--\n-- PostgreSQL database dump\n--\n"),
		"short":          []byte("PG"),
	}
	says := map[string]string{
		"pg_dump custom": "format: not a pgark archive: it is a pg_dump custom-format archive; restore it with pg_restore",
		"sql text":       "format: not a pgark archive: it is a plain SQL dump; run it with psql",
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			_, err := NewReader(bytes.NewReader(in), int64(len(in)))
			require.ErrorIs(t, err, ErrNotArchive)
			want := "format: not a pgark archive"
			if s, ok := says[name]; ok {
				want = s
			}
			require.EqualError(t, err, want)
			s := NewScanner(bytes.NewReader(in))
			require.False(t, s.Next())
			require.ErrorIs(t, s.Err(), ErrNotArchive)
			require.EqualError(t, s.Err(), want)
		})
	}
}

func TestUnknownVersion(t *testing.T) {
	b := writeArchive(t, sampleContent(rand.New(rand.NewPCG(1, 1))), WriterOptions{})
	hdr := encodeFileHeader(3)
	copy(b, hdr[:])
	_, err := NewReader(bytes.NewReader(b), int64(len(b)))
	var ve *VersionError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, uint16(3), ve.Version)
	require.ErrorContains(t, err, "version 3 is not supported")
	s := NewScanner(bytes.NewReader(b))
	require.False(t, s.Next())
	require.ErrorAs(t, s.Err(), &ve)
}

// scanAll runs a scanner to the end and returns its error.
func scanAll(b []byte) error {
	s := NewScanner(bytes.NewReader(b))
	for s.Next() {
	}
	return s.Err()
}

// openAndVerify opens an archive at random and verifies every block.
func openAndVerify(b []byte) error {
	r, err := NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return err
	}
	defer r.Close()
	return r.Verify(context.Background())
}

// TestTruncation cuts an archive at every length: both readers must fail,
// with a truncation or corruption error, never succeed or panic.
func TestTruncation(t *testing.T) {
	b := writeArchive(t, sampleContentRows(rand.New(rand.NewPCG(5, 6)), 4), WriterOptions{Codec: CodecZstd})
	for n := 0; n < len(b); n++ {
		cut := b[:n]
		errR := openAndVerify(cut)
		errS := scanAll(cut)
		if n < len(magic) && n > 0 {
			require.ErrorIs(t, errR, ErrCorrupt, "reader at %d", n)
		}
		if n == 0 {
			require.ErrorIs(t, errR, ErrNotArchive)
			require.ErrorIs(t, errS, ErrNotArchive)
			continue
		}
		require.ErrorIs(t, errR, ErrCorrupt, "reader, cut at %d", n)
		require.ErrorIs(t, errS, ErrTruncated, "scanner, cut at %d: %v", n, errS)
	}
	require.NoError(t, openAndVerify(b))
	require.NoError(t, scanAll(b))
}

// TestEveryByteFlipped flips each byte of an archive in turn: every flip
// must be detected by both readers, as every byte is under a checksum.
func TestEveryByteFlipped(t *testing.T) {
	b := writeArchive(t, sampleContentRows(rand.New(rand.NewPCG(7, 8)), 4), WriterOptions{Codec: CodecZstd})
	c := make([]byte, len(b))
	for i := range b {
		copy(c, b)
		c[i] ^= 0x20
		errR := openAndVerify(c)
		errS := scanAll(c)
		require.Error(t, errR, "reader missed a flip at offset %d", i)
		require.Error(t, errS, "scanner missed a flip at offset %d", i)
		if i >= len(magic) {
			require.True(t, errors.Is(errR, ErrCorrupt) || errors.As(errR, new(*VersionError)), "reader at %d: %v", i, errR)
			require.True(t, errors.Is(errS, ErrCorrupt) || errors.As(errS, new(*VersionError)), "scanner at %d: %v", i, errS)
		}
	}
}

// TestCorruptBlockNamed checks that a damaged data block is named by entry,
// block and offset, and that the reader never returns its content.
func TestCorruptBlockNamed(t *testing.T) {
	b := writeArchive(t, sampleContent(rand.New(rand.NewPCG(9, 9))), WriterOptions{Codec: CodecZstd})
	r, err := NewReader(bytes.NewReader(b), int64(len(b)))
	require.NoError(t, err)
	target := r.Blocks()[2]
	r.Close()
	c := bytes.Clone(b)
	c[target.Offset+RecordHeaderSize+int64(target.Stored)/2] ^= 1

	r, err = NewReader(bytes.NewReader(c), int64(len(c)))
	require.NoError(t, err, "a damaged block does not stop the archive from opening")
	defer r.Close()
	_, err = r.ReadBlock(target, nil)
	var ce *CorruptError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, target.Entry, ce.Entry)
	require.Equal(t, target.Seq, ce.Seq)
	require.Equal(t, target.Offset, ce.Offset)
	msg := fmt.Sprintf("entry %d data block %d at offset %d: payload checksum mismatch", target.Entry, target.Seq, target.Offset)
	require.ErrorContains(t, err, msg)
	require.ErrorContains(t, r.Verify(context.Background()), msg)

	s := NewScanner(bytes.NewReader(c))
	var blocks int
	for s.Next() {
		if s.Record().Kind == RecordData {
			blocks++
		}
	}
	require.Equal(t, 2, blocks, "the scanner stops before the damaged block")
	require.ErrorContains(t, s.Err(), msg)
}

func TestTrailingGarbage(t *testing.T) {
	b := writeArchive(t, sampleContent(rand.New(rand.NewPCG(1, 3))), WriterOptions{})
	b = append(b, 'x')
	require.ErrorIs(t, scanAll(b), ErrCorrupt)
	require.ErrorIs(t, openAndVerify(b), ErrCorrupt)
}

func TestSectionText(t *testing.T) {
	for _, s := range []Section{SectionNone, SectionPreData, SectionData, SectionPostData} {
		got, err := ParseSection(s.String())
		require.NoError(t, err)
		require.Equal(t, s, got)
	}
	_, err := ParseSection("middle")
	require.Error(t, err)
}
