package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/format"
	"github.com/pgark/pgark/internal/testcluster"
)

// restoreArchive is a small archive: a schema, a table with two data
// blocks, a primary key and an index.
func restoreArchive(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := format.NewWriter(&buf, format.Info{Tool: "pgark-test", Created: time.Now(), Database: "shop", Encoding: "UTF8"},
		format.WriterOptions{Codec: format.CodecZstd})
	require.NoError(t, err)
	pre, data, post := format.SectionPreData, format.SectionData, format.SectionPostData
	for _, e := range []format.Entry{
		{ID: 1, Section: pre, Kind: "SCHEMA", Name: "shop", Create: `CREATE SCHEMA "shop";`, Drop: `DROP SCHEMA "shop";`},
		{ID: 2, Section: pre, Kind: "TABLE", Schema: "shop", Name: "item", Deps: []uint32{1},
			Create: `CREATE TABLE "shop"."item" ("id" integer NOT NULL, "label" text);`, Drop: `DROP TABLE "shop"."item";`},
		{ID: 3, Section: data, Kind: "TABLE DATA", Schema: "shop", Name: "item", Deps: []uint32{2},
			Copy: `COPY "shop"."item" ("id", "label") FROM stdin;`},
	} {
		require.NoError(t, w.AddEntry(e))
	}
	require.NoError(t, w.WriteBlock(3, []byte("1\tone\n2\t\\N\n3\ttab\\there\n"), 3))
	require.NoError(t, w.WriteBlock(3, []byte("4\tfour\n5\tfive\n"), 2))
	for _, e := range []format.Entry{
		{ID: 4, Section: post, Kind: "CONSTRAINT", Schema: "shop", Name: "item item_pkey", Deps: []uint32{2},
			Create: `ALTER TABLE ONLY "shop"."item" ADD CONSTRAINT "item_pkey" PRIMARY KEY ("id");`,
			Drop:   `ALTER TABLE ONLY "shop"."item" DROP CONSTRAINT "item_pkey";`},
		{ID: 5, Section: post, Kind: "INDEX", Schema: "shop", Name: "item_label_idx", Deps: []uint32{2},
			Create: `CREATE INDEX "item_label_idx" ON "shop"."item" ("label");`, Drop: `DROP INDEX "shop"."item_label_idx";`},
	} {
		require.NoError(t, w.AddEntry(e))
	}
	require.NoError(t, w.Close())
	return buf.Bytes()
}

func TestRestoreUsage(t *testing.T) {
	for _, args := range [][]string{
		{"restore", "x.pgark"},
		{"restore", "-d", "db", "-f", "out.sql", "x.pgark"},
		{"restore", "-d", "db", "-1", "-j", "2", "x.pgark"},
		{"restore", "-d", "db", "-s", "-a", "x.pgark"},
		{"restore", "-d", "db", "-a", "-c", "x.pgark"},
		{"restore", "-d", "db", "--if-exists", "x.pgark"},
		{"restore", "-d", "db", "--section", "nope", "x.pgark"},
		{"restore", "-d", "db", "a", "b"},
	} {
		r := pgark(t, nil, args...)
		assert.Equal(t, exitUsage, r.code, "%v: %s", args, r.stderr)
		assert.Contains(t, r.stderr, "pgark: restore: ", args)
	}
}

func TestRestoreLive(t *testing.T) {
	c := testcluster.Start(t)
	archive := restoreArchive(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "shop.pgark")
	require.NoError(t, os.WriteFile(path, archive, 0o600))
	rows := func(db string) string {
		return c.QueryValue(t, db, `SELECT string_agg(t::text, ' ' ORDER BY t::text) FROM shop.item t`)
	}
	const want = `(1,one) (2,) (3,"tab	here") (4,four) (5,five)`

	t.Run("-l", func(t *testing.T) {
		for _, in := range []string{path, "-"} {
			r := pgark(t, bytes.NewReader(archive), "restore", "-l", in)
			require.Equal(t, exitOK, r.code, r.stderr)
			assert.Contains(t, r.stdout, "Database: shop\n")
			assert.Contains(t, r.stdout, "\n3; data TABLE DATA shop item -  rows=5")
		}
	})

	t.Run("file -j 2, again gives errors", func(t *testing.T) {
		c.CreateDB(t, "a")
		r := pgark(t, nil, "restore", "-d", c.ConnString("a"), "-j", "2", "-v", path)
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Contains(t, r.stderr, "pgark: creating TABLE shop.item")
		assert.Equal(t, want, rows("a"))

		r = pgark(t, nil, "restore", "-d", c.ConnString("a"), path)
		assert.Equal(t, exitFailure, r.code)
		assert.Contains(t, r.stderr, "pgark: error: entry 1 SCHEMA shop: ERROR: schema \"shop\" already exists")
		assert.Contains(t, r.stderr, "statement: CREATE SCHEMA \"shop\";")
		assert.Contains(t, r.stderr, "entry 3 TABLE DATA shop.item data blocks 0-1: ERROR: duplicate key value", "the table's two blocks go as one COPY")
		assert.Contains(t, r.stderr, "errors ignored on restore: 5\n")

		r = pgark(t, nil, "restore", "-d", c.ConnString("a"), "-e", path)
		assert.Equal(t, exitFailure, r.code)
		assert.Contains(t, r.stderr, "pgark: restore: stopped at the first error")
		assert.Contains(t, r.stderr, "not done:")

		r = pgark(t, nil, "restore", "-d", c.ConnString("a"), "-c", "--if-exists", "-j", "2", path)
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Equal(t, want, rows("a"))
	})

	t.Run("stdin", func(t *testing.T) {
		c.CreateDB(t, "b")
		r := pgark(t, bytes.NewReader(archive), "restore", "-d", c.ConnString("b"), "-j", "4")
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Equal(t, want, rows("b"))
		assert.Equal(t, "t", c.QueryValue(t, "b", `SELECT to_regclass('shop.item_label_idx') IS NOT NULL`))

		c.CreateDB(t, "c")
		r = pgark(t, bytes.NewReader(archive[:len(archive)-100]), "restore", "-d", c.ConnString("c"), "-")
		assert.Equal(t, exitFailure, r.code)
		assert.Contains(t, r.stderr, "ends early")
		assert.Contains(t, r.stderr, "never arrived")
		assert.Contains(t, r.stderr, "item_pkey")
	})

	t.Run("-L and -f", func(t *testing.T) {
		list := filepath.Join(dir, "list")
		require.NoError(t, os.WriteFile(list, []byte("; only the schema and the table\n1; SCHEMA\n2; TABLE\n"), 0o600))
		out := filepath.Join(dir, "out.sql")
		r := pgark(t, nil, "restore", "-f", out, "-L", list, path)
		require.Equal(t, exitOK, r.code, r.stderr)
		b, err := os.ReadFile(out)
		require.NoError(t, err)
		assert.Contains(t, string(b), `CREATE TABLE "shop"."item"`)
		assert.NotContains(t, string(b), "COPY")

		r = pgark(t, nil, "restore", "-f", "-", path)
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Contains(t, r.stdout, "COPY \"shop\".\"item\" (\"id\", \"label\") FROM stdin;\n1\tone\n2\t\\N\n3\ttab\\there\n4\tfour\n5\tfive\n\\.\n",
			"the table's blocks as one COPY")
		assert.Contains(t, r.stdout, "SET standard_conforming_strings = on;")
	})
}
