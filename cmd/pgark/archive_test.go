package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/format"
)

// archiveSpec is an archive for format.NewWriter to write.
type archiveSpec struct {
	info    format.Info
	codec   format.Codec
	entries []format.Entry
	blocks  []blockSpec
}

type blockSpec struct {
	entry uint32
	data  []byte
	rows  uint32
}

// rows returns n fixed-width COPY rows of 12 bytes each.
func rows(first, n int) []byte {
	var b bytes.Buffer
	for i := first; i < first+n; i++ {
		fmt.Fprintf(&b, "%06d\tnote\n", i)
	}
	return b.Bytes()
}

func sampleArchive() archiveSpec {
	return archiveSpec{
		info: format.Info{
			Tool: "pgark", ToolVersion: "test",
			Created:  time.Date(2025, 11, 24, 1, 2, 3, 0, time.UTC),
			Database: "shop", ServerVersion: "17.2", Encoding: "UTF8",
			Attrs: map[string]string{"snapshot": "00000003-0000001B-1"},
		},
		codec: format.CodecZstd,
		entries: []format.Entry{
			{ID: 1, Section: format.SectionPreData, Kind: "SCHEMA", Name: "sales", Owner: "alice", Create: "CREATE SCHEMA sales;"},
			{ID: 2, Section: format.SectionPreData, Kind: "TABLE", Schema: "sales", Name: "orders", Owner: "alice", Deps: []uint32{1}},
			{ID: 3, Section: format.SectionData, Kind: "TABLE DATA", Schema: "sales", Name: "orders", Owner: "alice", Copy: "COPY sales.orders (id, note) FROM stdin;", Deps: []uint32{2}},
			{ID: 4, Section: format.SectionData, Kind: "TABLE DATA", Schema: "sales", Name: "my table", Owner: "bob", Copy: `COPY sales."my table" (a, b) FROM stdin;`},
			{ID: 5, Section: format.SectionData, Kind: "TABLE DATA", Schema: "public", Name: "empty", Owner: "alice", Copy: "COPY public.empty (x) FROM stdin;"},
			{ID: 6, Section: format.SectionPostData, Kind: "INDEX", Schema: "sales", Name: "orders_pkey", Owner: "alice", Deps: []uint32{2}},
		},
		blocks: []blockSpec{
			{entry: 3, data: rows(0, 1000), rows: 1000},
			{entry: 4, data: []byte(strings.Repeat("x\ty\n", 10)), rows: 10},
			{entry: 3, data: rows(1000, 1000), rows: 1000},
		},
	}
}

func writeArchive(t *testing.T, spec archiveSpec) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := format.NewWriter(&buf, spec.info, format.WriterOptions{Codec: spec.codec})
	require.NoError(t, err)
	for _, e := range spec.entries {
		require.NoError(t, w.AddEntry(e))
	}
	for _, b := range spec.blocks {
		require.NoError(t, w.WriteBlock(b.entry, b.data, b.rows))
	}
	require.NoError(t, w.Close())
	return buf.Bytes()
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, data, 0o644))
	return path
}

// blockAt finds a data block of the archive through the format's own Reader.
func blockAt(t *testing.T, archive []byte, entry, seq uint32) format.Block {
	t.Helper()
	r, err := format.NewReader(bytes.NewReader(archive), int64(len(archive)))
	require.NoError(t, err)
	defer r.Close()
	for _, b := range r.Blocks() {
		if b.Entry == entry && b.Seq == seq {
			return b
		}
	}
	t.Fatalf("no block %d of entry %d", seq, entry)
	return format.Block{}
}

// damage returns a copy of archive with one byte flipped in the middle of
// each block's payload.
func damage(archive []byte, blocks ...format.Block) []byte {
	bad := bytes.Clone(archive)
	for _, b := range blocks {
		bad[b.Offset+format.RecordHeaderSize+int64(b.Stored)/2] ^= 0xff
	}
	return bad
}

const sampleHeader = `;
; Archive created at 2025-11-24 01:02:03 UTC
;     Tool: pgark test
;     Database: shop
;     Server version: 17.2
;     Encoding: UTF8
;     Format version: 1
`

// sampleTOC is pgark list's output for sampleArchive stored uncompressed,
// where the stored sizes equal the raw ones: 2000 rows of 12 bytes and 10
// rows of 4 bytes.
const sampleTOC = `;     Entries: 6
;     Data blocks: 3
;     Rows: 2010
;     Compression: none
;     Data stored: 23.5KiB (24040 bytes)
;     Data raw: 23.5KiB (24040 bytes)
;     Attribute snapshot: 00000003-0000001B-1
;
1; pre-data SCHEMA - sales alice
2; pre-data TABLE sales orders alice
3; data TABLE DATA sales orders alice  rows=2000 size=23.4KiB stored=23.4KiB
4; data TABLE DATA sales "my table" bob  rows=10 size=40B stored=40B
5; data TABLE DATA public empty alice
6; post-data INDEX sales orders_pkey alice
`

func TestList(t *testing.T) {
	spec := sampleArchive()
	spec.codec = format.CodecNone
	archive := writeArchive(t, spec)
	path := writeFile(t, "shop.pgark", archive)

	t.Run("file", func(t *testing.T) {
		r := pgark(t, nil, "list", path)
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Empty(t, r.stderr)
		assert.Equal(t, sampleHeader+sampleTOC, r.stdout)
	})
	// A stream does not report its format version; the rest is the same.
	t.Run("stdin", func(t *testing.T) {
		r := pgark(t, bytes.NewReader(archive), "list", "-")
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Equal(t, sampleHeader+sampleTOC, r.stdout)
	})
	t.Run("named pipe", func(t *testing.T) {
		fifo := filepath.Join(t.TempDir(), "fifo")
		require.NoError(t, syscall.Mkfifo(fifo, 0o600))
		go func() {
			f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
			if err != nil {
				return
			}
			defer f.Close()
			_, _ = f.Write(archive)
		}()
		r := pgark(t, nil, "list", fifo)
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Equal(t, sampleHeader+sampleTOC, r.stdout)
	})
	t.Run("compressed", func(t *testing.T) {
		r := pgark(t, nil, "list", writeFile(t, "z.pgark", writeArchive(t, sampleArchive())))
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Contains(t, r.stdout, ";     Compression: zstd-columns\n")
		assert.Regexp(t, `(?m)^3; data TABLE DATA sales orders alice  rows=2000 size=23.4KiB stored=\d+(\.\d)?(B|KiB)$`, r.stdout)
	})
}

func TestListAndVerifyDamage(t *testing.T) {
	archive := writeArchive(t, sampleArchive())
	b := blockAt(t, archive, 3, 1)
	bad := damage(archive, b)
	where := fmt.Sprintf("entry 3 data block 1 at offset %d", b.Offset)

	t.Run("verify file", func(t *testing.T) {
		r := pgark(t, nil, "verify", writeFile(t, "bad.pgark", bad))
		assert.Equal(t, exitFailure, r.code)
		assert.Empty(t, r.stdout)
		assert.Contains(t, r.stderr, "pgark: verify ")
		assert.Contains(t, r.stderr, where)
		assert.Contains(t, r.stderr, "checksum mismatch")
	})
	t.Run("verify stdin", func(t *testing.T) {
		r := pgark(t, bytes.NewReader(bad), "verify", "-")
		assert.Equal(t, exitFailure, r.code)
		assert.Contains(t, r.stderr, "pgark: verify: read stdin: ")
		assert.Contains(t, r.stderr, where)
	})
	// list reads only the index, which is intact; a stream is read whole.
	t.Run("list file", func(t *testing.T) {
		r := pgark(t, nil, "list", writeFile(t, "bad.pgark", bad))
		assert.Equal(t, exitOK, r.code, r.stderr)
	})
	t.Run("list stdin", func(t *testing.T) {
		r := pgark(t, bytes.NewReader(bad), "list", "-")
		assert.Equal(t, exitFailure, r.code)
		assert.Empty(t, r.stdout)
		assert.Contains(t, r.stderr, where)
	})
	t.Run("several damaged blocks", func(t *testing.T) {
		b0 := blockAt(t, archive, 4, 0)
		r := pgark(t, nil, "verify", writeFile(t, "bad2.pgark", damage(archive, b, b0)))
		assert.Equal(t, exitFailure, r.code)
		assert.Contains(t, r.stderr, ": 2 problems:\n  format: corrupt archive: entry 4 data block 0 at offset")
		assert.Contains(t, r.stderr, "\n  format: corrupt archive: "+where)
	})
	t.Run("truncated", func(t *testing.T) {
		cut := archive[:len(archive)-10]
		for _, r := range []result{
			pgark(t, nil, "verify", writeFile(t, "cut.pgark", cut)),
			pgark(t, bytes.NewReader(cut), "verify", "-"),
			pgark(t, nil, "list", writeFile(t, "cut.pgark", cut)),
		} {
			assert.Equal(t, exitFailure, r.code)
			assert.Regexp(t, `truncated|input ends`, r.stderr)
		}
	})
	t.Run("not an archive", func(t *testing.T) {
		r := pgark(t, strings.NewReader("CREATE TABLE t ();\n"), "verify", "-")
		assert.Equal(t, exitFailure, r.code)
		assert.Equal(t, "pgark: verify: read stdin: format: not a pgark archive\n", r.stderr)
	})
	t.Run("missing file", func(t *testing.T) {
		r := pgark(t, nil, "verify", filepath.Join(t.TempDir(), "nope.pgark"))
		assert.Equal(t, exitFailure, r.code)
		assert.Contains(t, r.stderr, "no such file or directory")
	})
}

func TestVerifyOK(t *testing.T) {
	spec := sampleArchive()
	spec.codec = format.CodecNone
	archive := writeArchive(t, spec)
	const summary = ": OK, 6 entries, 3 data blocks, 2010 rows, 23.5KiB raw, 23.5KiB stored\n"

	path := writeFile(t, "shop.pgark", archive)
	r := pgark(t, nil, "verify", path)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, path+summary, r.stdout)

	r = pgark(t, bytes.NewReader(archive), "verify", "-")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "stdin"+summary, r.stdout)
}

func TestVerifyInterrupted(t *testing.T) {
	archive := writeArchive(t, sampleArchive())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := pgarkCtx(t, ctx, bytes.NewReader(archive), "verify", "-")
	assert.Equal(t, exitInterrupted, r.code, r.stderr)
	assert.True(t, strings.HasPrefix(r.stderr, "pgark: interrupted: verify: read stdin: "), r.stderr)
	assert.True(t, strings.HasSuffix(r.stderr, "context canceled\n"), r.stderr)
	r = pgarkCtx(t, ctx, nil, "verify", writeFile(t, "shop.pgark", archive))
	assert.Equal(t, exitInterrupted, r.code, r.stderr)
}

func TestTOCFormatting(t *testing.T) {
	for in, want := range map[string]string{
		"":         "-",
		"-":        `"-"`,
		"orders":   "orders",
		"Orders_2": "Orders_2",
		"my table": `"my table"`,
		`a"b`:      `"a\"b"`,
		"a;b":      `"a;b"`,
		"rows=5":   `"rows=5"`,
		"a\nb":     `"a\nb"`,
		"zürich":   "zürich",
	} {
		assert.Equal(t, want, tocToken(in), "tocToken(%q)", in)
	}
	assert.Equal(t, "shop db", headerValue("shop db"))
	assert.Equal(t, `"shop\n1; data"`, headerValue("shop\n1; data"))
	for n, want := range map[uint64]string{
		0: "0B", 1023: "1023B", 1024: "1KiB", 1536: "1.5KiB", 24000: "23.4KiB",
		300 << 10: "300KiB", 1258291: "1.2MiB", 5 << 30: "5GiB", 1 << 62: "4EiB",
	} {
		assert.Equal(t, want, humanBytes(n), "humanBytes(%d)", n)
	}
}
