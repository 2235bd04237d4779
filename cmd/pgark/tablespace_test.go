package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/internal/testcluster"
)

// Tablespaces: tables (partitioned ones and partitions), indexes (of
// constraints too) and materialized views in a tablespace of their own are
// restored into it, by a database restore and by a SQL script, as
// pg_restore restores them (SET default_tablespace before each); with
// --no-tablespaces, on the dump or on the restore, into the database's
// default one. Judged by the relations' tablespaces in the catalog, and by
// pg_dump --schema-only where the machine's pg_dump can read the server.

const tablespaceCorpus = `
CREATE TABLE public.plain (id integer PRIMARY KEY, v text);
CREATE TABLE public.placed (id integer, v text,
    CONSTRAINT placed_pkey PRIMARY KEY (id) USING INDEX TABLESPACE "t s") TABLESPACE "t s";
CREATE INDEX placed_v ON public.placed (v) TABLESPACE "t s";
CREATE INDEX placed_v_default ON public.placed (lower(v)) TABLESPACE pg_default;
CREATE INDEX plain_v ON public.plain (v) TABLESPACE "t s";
CREATE MATERIALIZED VIEW public.mv TABLESPACE "t s" AS SELECT id, v FROM public.placed;
CREATE TABLE public.parted (k integer, v text, PRIMARY KEY (k)) PARTITION BY RANGE (k) TABLESPACE "t s";
CREATE TABLE public.parted_1 PARTITION OF public.parted FOR VALUES FROM (0) TO (10);
CREATE TABLE public.parted_2 PARTITION OF public.parted FOR VALUES FROM (10) TO (20) TABLESPACE pg_default;
CREATE INDEX parted_v ON public.parted (v) TABLESPACE "t s";
INSERT INTO public.plain SELECT g, 'p' || g FROM generate_series(1, 50) g;
INSERT INTO public.placed SELECT g, 'q' || g FROM generate_series(1, 50) g;
INSERT INTO public.parted SELECT g, 'r' || g FROM generate_series(0, 19) g;
REFRESH MATERIALIZED VIEW public.mv;
`

// relationTablespaces lists each user relation with its tablespace ("" for
// the database's default), as "name|tablespace".
func relationTablespaces(t *testing.T, c *testcluster.Cluster, db string) []string {
	t.Helper()
	conn, err := c.Connect(t.Context(), db)
	require.NoError(t, err)
	defer conn.Close(t.Context())
	rows, err := conn.Query(t.Context(), `SELECT format('%s|%s', c.oid::regclass, COALESCE(ts.spcname, ''))
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_tablespace ts ON ts.oid = c.reltablespace
		WHERE n.nspname = 'public' ORDER BY 1`)
	require.NoError(t, err)
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	return out
}

func TestTablespaceRoundTrip(t *testing.T) {
	c := testcluster.Start(t)
	rt := &roundTrip{t: t, c: c}
	var err error
	rt.psql, err = c.ClientBin("psql")
	require.NoError(t, err)
	rt.pgDump, err = c.ClientBin("pg_dump")
	require.NoError(t, err)
	if m := clientMajor(t, rt.pgDump); m < c.Major() {
		t.Logf("pg_dump %d cannot read PostgreSQL %d: the catalog is the only oracle", m, c.Major())
		rt.pgDump = ""
	}

	// A directory the server's OS user owns, for the tablespace.
	dir := filepath.Join(c.SocketDir(), "tblspc")
	require.NoError(t, os.Mkdir(dir, 0o700))
	fi, err := os.Stat(c.DataDir())
	require.NoError(t, err)
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && os.Geteuid() == 0 {
		require.NoError(t, os.Chown(dir, int(st.Uid), int(st.Gid)))
	}
	c.Exec(t, "postgres", `CREATE TABLESPACE "t s" LOCATION '`+dir+`'`)
	c.CreateDB(t, "src")
	c.Exec(t, "src", tablespaceCorpus)

	want := relationTablespaces(t, c, "src")
	for _, rel := range []string{"placed", "placed_pkey", "placed_v", "plain_v", "mv", "parted", "parted_1", "parted_v"} {
		require.Contains(t, want, rel+"|t s")
	}
	for _, rel := range []string{"plain", "plain_pkey", "placed_v_default", "parted_2", "parted_pkey", "parted_2_pkey"} {
		require.Contains(t, want, rel+"|")
	}
	var inDefault []string
	for _, l := range want {
		rel, _, _ := strings.Cut(l, "|")
		inDefault = append(inDefault, rel+"|")
	}

	work := t.TempDir()
	archive := filepath.Join(work, "src.pgark")
	rt.pgark(nil, append(rt.connFlags(), "dump", "-j", "2", "-f", archive, "src")...)

	same := func(t *testing.T, db string) {
		t.Helper()
		require.Equal(t, want, relationTablespaces(t, c, db))
		if rt.pgDump != "" {
			require.Equal(t, rt.schemaDump("src"), rt.schemaDump(db))
		}
		require.Empty(t, rowDifferences(rt.rows("src"), rt.rows(db)))
	}
	defaults := func(t *testing.T, db string) {
		t.Helper()
		require.Equal(t, inDefault, relationTablespaces(t, c, db))
		require.Empty(t, rowDifferences(rt.rows("src"), rt.rows(db)))
	}

	t.Run("database", func(t *testing.T) {
		rt := rt.in(t)
		c.CreateDB(t, "restored")
		rt.pgark(nil, append(rt.connFlags(), "restore", "-j", "2", "-d", "restored", archive)...)
		same(t, "restored")
	})
	t.Run("script", func(t *testing.T) {
		rt := rt.in(t)
		script := filepath.Join(work, "src.sql")
		rt.pgark(nil, "restore", "-f", script, archive)
		c.CreateDB(t, "scripted")
		rt.runPsql("scripted", "-f", script)
		same(t, "scripted")
	})
	t.Run("no tablespaces on restore", func(t *testing.T) {
		rt := rt.in(t)
		c.CreateDB(t, "flat_restore")
		rt.pgark(nil, append(rt.connFlags(), "restore", "-j", "2", "--no-tablespaces", "-d", "flat_restore", archive)...)
		defaults(t, "flat_restore")
	})
	t.Run("no tablespaces on dump", func(t *testing.T) {
		rt := rt.in(t)
		flat := filepath.Join(work, "flat.pgark")
		rt.pgark(nil, append(rt.connFlags(), "dump", "--no-tablespaces", "-f", flat, "src")...)
		c.CreateDB(t, "flat_dump")
		rt.pgark(nil, append(rt.connFlags(), "restore", "-j", "2", "-d", "flat_dump", flat)...)
		defaults(t, "flat_dump")
	})
}
