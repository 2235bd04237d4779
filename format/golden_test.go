package format

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden archives in testdata/")

// goldenContent is fixed, literal content: awkward names and COPY text
// (NULL, empty string, escaped tab/newline/backslash, the text \N, unicode,
// bytea, arrays, jsonb) spread over interleaved blocks of two tables.
func goldenContent() content {
	return content{
		info: Info{Tool: "pgark", ToolVersion: "golden", Created: testInfo().Created, Database: "Sälj \"db\"",
			ServerVersion: "15.18", Encoding: "UTF8"},
		entries: []Entry{
			{ID: 1, Section: SectionPreData, Kind: "SCHEMA", Name: "Mixed Case", Owner: "o w n e r",
				Create: `CREATE SCHEMA "Mixed Case";`, Drop: `DROP SCHEMA "Mixed Case";`},
			{ID: 2, Section: SectionPreData, Kind: "TABLE", Schema: "Mixed Case", Name: "select", Owner: "o w n e r",
				Create: `CREATE TABLE "Mixed Case"."select" (id integer NOT NULL, t text, b bytea, a integer[], j jsonb);`,
				Drop:   `DROP TABLE "Mixed Case"."select";`, Deps: []uint32{1}},
			{ID: 3, Section: SectionPreData, Kind: "TABLE", Schema: "public", Name: "ünï", Owner: "postgres",
				Create: `CREATE TABLE public."ünï" (x numeric);`, Drop: `DROP TABLE public."ünï";`},
			{ID: 4, Section: SectionData, Kind: "TABLE DATA", Schema: "Mixed Case", Name: "select", Owner: "o w n e r",
				Copy: `COPY "Mixed Case"."select" (id, t, b, a, j) FROM stdin;`, Deps: []uint32{2}},
			{ID: 5, Section: SectionData, Kind: "TABLE DATA", Schema: "public", Name: "ünï", Owner: "postgres",
				Copy: `COPY public."ünï" (x) FROM stdin;`, Deps: []uint32{3}},
			{ID: 6, Section: SectionPostData, Kind: "CONSTRAINT", Schema: "Mixed Case", Name: "select_pkey", Owner: "o w n e r",
				Create: `ALTER TABLE ONLY "Mixed Case"."select" ADD CONSTRAINT select_pkey PRIMARY KEY (id);`, Deps: []uint32{2, 4}},
		},
		blocks: []testBlock{
			{entry: 4, rows: 3, data: []byte("1\t\\N\t\\N\t\\N\t\\N\n2\t\t\\\\x\t{}\t{}\n3\t\\\\N\t\\\\x00ff\t{1,NULL,3}\t{\"a\": [1, \"b\"]}\n")},
			{entry: 5, rows: 2, data: []byte("3.14159265358979323846264338327950288\nNaN\n")},
			{entry: 4, rows: 2, data: []byte("4\ttab\\there\\nnew line\\rcr\\\\back\t\\\\x\t{\"x y\"}\t\"str\"\n5\tünïcödé ✓ 𝄞\t\\\\xdeadbeef\t{-1}\tnull\n")},
			{entry: 5, rows: 1, data: []byte("-0.000000000000000000001\n")},
		},
	}
}

// goldenColumnsContent is goldenContent with a block of 64 rows more, which
// zstd stores column by column (codec zstd-columns).
func goldenColumnsContent() content {
	c := goldenContent()
	var b bytes.Buffer
	for i := range 64 {
		fmt.Fprintf(&b, "%d\trow %d\t\\N\t{%d,%d}\t{\"n\": %d}\n", 100+i, i%7, i, i*i, i%3)
	}
	c.blocks = append(c.blocks, testBlock{entry: 4, rows: 64, data: b.Bytes()})
	return c
}

// goldenBinaryContent is goldenContent with a table of binary blocks: an
// int8, text and uuid column, a block of 64 tuples (stored by columns with
// zstd), a text block (as a row larger than a record would go) and a
// block of one tuple of NULLs.
func goldenBinaryContent() content {
	c := goldenContent()
	c.entries = append(c.entries,
		Entry{ID: 7, Section: SectionPreData, Kind: "TABLE", Schema: "public", Name: "b", Owner: "postgres",
			Create: `CREATE TABLE public.b (id bigint, t text, u uuid);`, Drop: `DROP TABLE public.b;`},
		Entry{ID: 8, Section: SectionData, Kind: "TABLE DATA", Schema: "public", Name: "b", Owner: "postgres",
			Copy: `COPY public.b (id, t, u) FROM stdin;`, Types: []uint32{20, 25, 2950}, Deps: []uint32{7}})
	var rows []byte
	for i := range 64 {
		u := make([]byte, 16)
		u[i%16] = byte(i)
		rows = tuple(rows, binary.BigEndian.AppendUint64(nil, uint64(1000+i)), []byte(fmt.Sprintf("ünï %d\t", i%5)), u)
	}
	c.blocks = append(c.blocks,
		testBlock{entry: 8, rows: 64, data: rows, binary: true},
		testBlock{entry: 8, rows: 1, data: []byte("-1\ttext\\n\t00000000-0000-0000-0000-000000000001\n")},
		testBlock{entry: 8, rows: 1, data: tuple(nil, nil, nil, nil), binary: true})
	return c
}

// goldenClusterContent is a cluster archive (version 2): a global entry,
// then two databases of different encodings, each with its entries before
// its blocks.
func goldenClusterContent() content {
	return content{
		info: Info{Tool: "pgark", ToolVersion: "golden", Created: testInfo().Created, ServerVersion: "15.18",
			Cluster: true, Databases: []DatabaseInfo{{Name: "Sälj", Encoding: "UTF8"}, {Name: "latin", Encoding: "LATIN1"}}},
		entries: []Entry{
			{ID: 1, Section: SectionPreData, Kind: "ROLE", Name: "o w n e r",
				Create: "CREATE ROLE \"o w n e r\";\nALTER ROLE \"o w n e r\" WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS;",
				Drop:   `DROP ROLE "o w n e r";`},
			{ID: 2, Section: SectionPreData, Kind: "DATABASE", Name: "Sälj", Owner: "o w n e r", Ident: `DATABASE "Sälj"`,
				Create: `CREATE DATABASE "Sälj" WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE = 'C';`,
				Drop:   `DROP DATABASE "Sälj";`, Database: "Sälj"},
			{ID: 3, Section: SectionPreData, Kind: "TABLE", Schema: "public", Name: "t", Owner: "o w n e r",
				Create: `CREATE TABLE "public"."t" (x text);`, Drop: `DROP TABLE "public"."t";`, Database: "Sälj"},
			{ID: 4, Section: SectionData, Kind: "TABLE DATA", Schema: "public", Name: "t", Owner: "o w n e r",
				Copy: `COPY "public"."t" ("x") FROM stdin;`, Deps: []uint32{3}, Database: "Sälj"},
			{ID: 5, Section: SectionPreData, Kind: "TABLE", Schema: "public", Name: "t", Owner: "postgres",
				Create: `CREATE TABLE "public"."t" (x text);`, Drop: `DROP TABLE "public"."t";`, Database: "latin"},
			{ID: 6, Section: SectionData, Kind: "TABLE DATA", Schema: "public", Name: "t", Owner: "postgres",
				Copy: `COPY "public"."t" ("x") FROM stdin;`, Deps: []uint32{5}, Database: "latin"},
		},
		blocks: []testBlock{
			{entry: 4, rows: 2, data: []byte("ünï\n\\N\n")},
			{entry: 6, rows: 1, data: []byte("caf\xe9\n")},
		},
	}
}

// TestGolden compares the writer's output with archives kept in testdata.
// Regenerate with: go test ./format -run TestGolden -update
//
// The uncompressed archive must match byte for byte: any change is a change
// of the format. The zstd archive must decode to the golden content; its
// bytes are not compared, since a new zstd encoder may compress differently
// without any change to the format.
func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		file  string
		c     content
		opts  WriterOptions
		exact bool
	}{
		{"golden-v1-none.pgark", goldenContent(), WriterOptions{Codec: CodecNone}, true},
		{"golden-v1-zstd.pgark", goldenContent(), WriterOptions{Codec: CodecZstd}, false},
		{"golden-v2-cluster-none.pgark", goldenClusterContent(), WriterOptions{Codec: CodecNone}, true},
		{"golden-v1-zstd-columns.pgark", goldenColumnsContent(), WriterOptions{Codec: CodecZstd}, false},
		{"golden-v1-binary-none.pgark", goldenBinaryContent(), WriterOptions{Codec: CodecNone}, true},
		{"golden-v1-binary-zstd.pgark", goldenBinaryContent(), WriterOptions{Codec: CodecZstd}, false},
	} {
		c := tc.c
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", tc.file)
			got := writeArchive(t, c, tc.opts)
			if *update {
				require.NoError(t, os.WriteFile(path, got, 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err)
			if tc.exact {
				require.True(t, bytes.Equal(want, got), "writer output differs from %s; if the format changed on purpose, bump Version and regenerate", path)
			}
			r, err := NewReader(bytes.NewReader(want), int64(len(want)))
			require.NoError(t, err)
			var forms []string
			for _, b := range r.Blocks() {
				forms = append(forms, fmt.Sprintf("%s binary=%t", b.Codec, b.Binary))
			}
			r.Close()
			switch tc.file {
			case "golden-v1-zstd-columns.pgark":
				require.Equal(t, "zstd-columns binary=false", forms[len(forms)-1])
			case "golden-v1-binary-zstd.pgark":
				require.Equal(t, []string{"zstd-columns binary=true", "none binary=false", "none binary=true"}, forms[len(forms)-3:])
			}
			exp := expected(c)
			for name, res := range map[string]readResult{"reader": readRandom(t, want), "scanner": readStream(t, want)} {
				require.Equal(t, exp.entries, res.entries, name)
				require.Equal(t, exp.info.Databases, res.info.Databases, name)
				require.True(t, exp.info.Created.Equal(res.info.Created), name)
				for id, d := range exp.data {
					require.Equal(t, string(d), string(res.data[id]), "%s: entry %d", name, id)
					require.Equal(t, exp.rows[id], res.rows[id], name)
				}
			}
		})
	}
}

// TestClusterRules: a version 1 archive names no database, an entry of a
// cluster archive names only a database its info lists, and a reader
// refuses archives that break either rule.
func TestClusterRules(t *testing.T) {
	var out bytes.Buffer
	w, err := NewWriter(&out, testInfo(), WriterOptions{})
	require.NoError(t, err)
	require.ErrorContains(t, w.AddEntry(Entry{ID: 1, Kind: "TABLE", Name: "t", Database: "db"}), `database "db"`)
	w.Abort()

	c := goldenClusterContent()
	w, err = NewWriter(&out, c.info, WriterOptions{})
	require.NoError(t, err)
	require.ErrorContains(t, w.AddEntry(Entry{ID: 1, Kind: "TABLE", Name: "t", Database: "other"}), `database "other"`)
	w.Abort()

	_, err = NewWriter(&out, Info{Databases: []DatabaseInfo{{Name: "a"}}}, WriterOptions{})
	require.Error(t, err, "databases listed in a version 1 archive")

	// A version 1 header on a cluster archive's records: the info says
	// cluster, which version 1 has not.
	b := writeArchive(t, c, WriterOptions{})
	hdr := encodeFileHeader(Version)
	copy(b, hdr[:])
	_, err = NewReader(bytes.NewReader(b), int64(len(b)))
	require.ErrorIs(t, err, ErrCorrupt)
	s := NewScanner(bytes.NewReader(b))
	for s.Next() {
	}
	require.ErrorIs(t, s.Err(), ErrCorrupt)
}
