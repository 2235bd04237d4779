package format

import (
	"bytes"
	"flag"
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

// TestGolden compares the writer's output with archives kept in testdata.
// Regenerate with: go test ./format -run TestGolden -update
//
// The uncompressed archive must match byte for byte: any change is a change
// of the format. The zstd archive must decode to the golden content; its
// bytes are not compared, since a new zstd encoder may compress differently
// without any change to the format.
func TestGolden(t *testing.T) {
	c := goldenContent()
	for _, tc := range []struct {
		file  string
		opts  WriterOptions
		exact bool
	}{
		{"golden-v1-none.pgark", WriterOptions{Codec: CodecNone}, true},
		{"golden-v1-zstd.pgark", WriterOptions{Codec: CodecZstd}, false},
	} {
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
			exp := expected(c)
			for name, res := range map[string]readResult{"reader": readRandom(t, want), "scanner": readStream(t, want)} {
				require.Equal(t, exp.entries, res.entries, name)
				require.True(t, exp.info.Created.Equal(res.info.Created), name)
				for id, d := range exp.data {
					require.Equal(t, string(d), string(res.data[id]), "%s: entry %d", name, id)
					require.Equal(t, exp.rows[id], res.rows[id], name)
				}
			}
		})
	}
}
