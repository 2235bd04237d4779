package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/format"
	"github.com/pgark/pgark/internal/testcluster"
)

// binaryBlocksDB has a table of every kind of column that goes as COPY
// binary, with edge values, and one with a type that does not (interval).
const binaryBlocksDB = `
CREATE TABLE w (id int8 PRIMARY KEY, ts timestamptz, n numeric, f float8, r real, u uuid, j jsonb, a inet, c cidr,
	b bytea, t text, v varchar(20), d date, tm timestamp, ok boolean, s int2, i int4, o oid, nm name, js json);
INSERT INTO w SELECT g, '2026-11-24 12:00:00+01'::timestamptz + g * interval '1 second', g * 1.5 - 1000.125,
	g / 7.0, g / 3.0, md5(g::text)::uuid, jsonb_build_object('k', g, 'tab', E'a\tb'), ('10.0.0.' || (g % 256))::inet,
	'10.1.0.0/16', decode(md5(g::text), 'hex'), E'line\nbreak \\ ' || g, 'v' || g, date '2000-01-01' + g,
	timestamp '1999-12-31 23:59:59.999999' + g * interval '1 minute', g % 2 = 0, g % 1000, g, g, 'n' || g,
	'{"a": [1, 2]}'
FROM generate_series(1, 20000) g;
INSERT INTO w (id, ts, n, f, r, d, tm) VALUES
	(-1, 'infinity', 'NaN', 'NaN', '-Infinity', '-infinity', 'infinity'),
	(-2, '4714-11-24 00:00:00+00 BC', '-0.000000000000000000001', -0.0, 1e-45, '4713-01-01 BC', '294276-12-31 23:59:59.999999'),
	(-3, NULL, 1e100, 1.7976931348623157e308, 3.4028235e38, '5874897-12-31', NULL);
CREATE TABLE iv (id int, span interval);
INSERT INTO iv SELECT g, g * interval '1 hour' FROM generate_series(1, 100) g;
`

// rowsDigest is a digest of every row of w and iv, in the server's text.
const rowsDigest = `SELECT md5(string_agg(w::text, E'\n' ORDER BY id)) || md5(
	(SELECT string_agg(iv::text, E'\n' ORDER BY id) FROM iv)) FROM w`

// TestBinaryBlocksLive: tables whose columns all have built-in types
// pgark converts are dumped as COPY binary blocks (unless --text-copy);
// those blocks restore as they are, as text with --text-copy, into columns
// of other types, and into a script; each gives the source's rows.
func TestBinaryBlocksLive(t *testing.T) {
	c := testcluster.Start(t)
	c.CreateDB(t, "src")
	c.Exec(t, "src", binaryBlocksDB)
	rt := &roundTrip{t: t, c: c}
	dir := t.TempDir()
	archive := filepath.Join(dir, "bin.pgark")
	rt.pgark(nil, append(rt.connFlags(), "dump", "-j", "2", "-f", archive, "src")...)
	textArchive := filepath.Join(dir, "text.pgark")
	rt.pgark(nil, append(rt.connFlags(), "dump", "--text-copy", "-f", textArchive, "src")...)
	rt.pgark(nil, "verify", archive)

	forms := func(path string) map[string]string {
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		ar, err := format.NewReader(strings.NewReader(string(b)), int64(len(b)))
		require.NoError(t, err)
		defer ar.Close()
		names := map[uint32]string{}
		out := map[string]string{}
		for _, e := range ar.Entries() {
			if e.Kind == "TABLE DATA" {
				names[e.ID] = e.Name
				var types []string
				for _, oid := range e.Types {
					types = append(types, strconv.FormatUint(uint64(oid), 10))
				}
				out[e.Name] = "types=" + strings.Join(types, ",")
			}
		}
		for _, b := range ar.Blocks() {
			form := " text"
			if b.Binary {
				form = " binary"
			}
			if !strings.HasSuffix(out[names[b.Entry]], form) {
				out[names[b.Entry]] += form
			}
		}
		return out
	}
	assert.Equal(t, map[string]string{
		"w":  "types=20,1184,1700,701,700,2950,3802,869,650,17,25,1043,1082,1114,16,21,23,26,19,114 binary",
		"iv": "types= text",
	}, forms(archive))
	assert.Equal(t, map[string]string{"w": "types= text", "iv": "types= text"}, forms(textArchive))

	want := c.QueryValue(t, "src", rowsDigest)
	for name, args := range map[string][]string{
		"as they are":   {"-j", "2"},
		"text copy":     {"--text-copy"},
		"stream":        {"-j", "2", "-"},
		"text archive":  {"-j", "2", textArchive},
		"single worker": {},
	} {
		db := "to_" + strings.ReplaceAll(name, " ", "_")
		c.CreateDB(t, db)
		full := append(append(rt.connFlags(), "restore", "-d", db), args...)
		var stdin *os.File
		switch {
		case len(args) > 0 && args[len(args)-1] == "-":
			f, err := os.Open(archive)
			require.NoError(t, err)
			defer f.Close()
			stdin = f
		case !strings.HasSuffix(full[len(full)-1], ".pgark"):
			full = append(full, archive)
		}
		rt.pgark(stdin, full...)
		assert.Equal(t, want, c.QueryValue(t, db, rowsDigest), name)
	}

	// Columns of other types: the binary tuples turn into text rows, which
	// the server reads into the target's types.
	c.CreateDB(t, "other")
	c.Exec(t, "other", strings.NewReplacer("id int8", "id numeric", "t text", "t varchar", "d date", "d text",
		"o oid", "o int8").Replace(strings.Split(binaryBlocksDB, ";")[0])+`; CREATE TABLE iv (id int, span interval);`)
	rt.pgark(nil, append(rt.connFlags(), "restore", "-a", "-j", "2", "-d", "other", archive)...)
	assert.Equal(t, want, c.QueryValue(t, "other", rowsDigest), "into columns of other types")

	// A script has text rows, timestamptz in UTC.
	script := rt.pgark(nil, "restore", "-f", "-", archive)
	assert.Contains(t, script, `COPY "public"."w" ("id", "ts", "n", "f", "r", "u", "j", "a", "c", "b", "t", "v", "d", "tm", "ok", "s", "i", "o", "nm", "js") FROM stdin;`+"\n")
	assert.Contains(t, script, "\n1\t2026-11-24 11:00:01+00\t-998.625\t")
	assert.NotContains(t, script, "PGCOPY")
}
