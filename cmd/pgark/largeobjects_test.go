package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/format"
	"github.com/pgark/pgark/internal/testcluster"
)

// largeObjects lists every large object of the database conn is on, by
// OID: owner, ACL, comment and the MD5 of its contents.
func largeObjects(t testing.TB, conn *pgx.Conn) []string {
	t.Helper()
	ctx := context.Background()
	rows, err := conn.Query(ctx, `SELECT format('%s owner=%s acl=%s comment=%s md5=%s', oid, lomowner::regrole, lomacl,
			obj_description(oid, 'pg_largeobject'), md5(lo_get(oid)))
		FROM pg_largeobject_metadata ORDER BY oid`)
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return out
}

// TestLargeObjects dumps thousands of large objects of two owners, with
// privileges and comments, plus a 5 MiB one and an empty one, and restores
// them from a file (two workers, then again over themselves with -c), from
// stdin, as a psql script, in a single transaction and with -O -x.
func TestLargeObjects(t *testing.T) {
	c := testcluster.Start(t, testcluster.WithMajor(15))
	psql, err := c.ClientBin("psql")
	require.NoError(t, err)
	rt := &roundTrip{t: t, c: c, psql: psql}
	c.Exec(t, "postgres", `CREATE ROLE alice; CREATE ROLE "Bob Smith";`)
	c.CreateDB(t, "lo_src")
	c.Exec(t, "lo_src", `
		SELECT lo_from_bytea(0, convert_to('large object ' || g, 'UTF8')) FROM generate_series(1, 2000) g;
		DO $$
		DECLARE o oid; i int := 0;
		BEGIN
			FOR o IN SELECT oid FROM pg_largeobject_metadata ORDER BY oid LOOP
				i := i + 1;
				IF i % 2 = 0 THEN EXECUTE format('ALTER LARGE OBJECT %s OWNER TO alice', o); END IF;
				IF i % 3 = 0 THEN EXECUTE format('GRANT SELECT ON LARGE OBJECT %s TO "Bob Smith"', o); END IF;
				IF i % 5 = 0 THEN EXECUTE format('GRANT UPDATE ON LARGE OBJECT %s TO PUBLIC', o); END IF;
				IF i % 7 = 0 THEN EXECUTE format('COMMENT ON LARGE OBJECT %s IS %L', o, 'comment ''' || i || ''''); END IF;
			END LOOP;
		END $$;
		SELECT lo_from_bytea(0, decode(string_agg(md5(g::text), '' ORDER BY g), 'hex'))
			FROM generate_series(1, 5 * 1024 * 1024 / 16) g;
		SELECT lo_create(0);`)
	list := func(db string) []string {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := c.Connect(ctx, db)
		require.NoError(t, err)
		defer conn.Close(ctx)
		return largeObjects(t, conn)
	}
	src := list("lo_src")
	require.Len(t, src, 2002)

	dir := t.TempDir()
	archive := filepath.Join(dir, "lo.pgark")
	rt.pgark(nil, append(rt.connFlags(), "dump", "-j", "2", "-f", archive, "lo_src")...)

	// Grouped: a few entries per owner and ACL, not one per large object.
	f, err := os.Open(archive)
	require.NoError(t, err)
	st, err := f.Stat()
	require.NoError(t, err)
	ar, err := format.NewReader(f, st.Size())
	require.NoError(t, err)
	kinds := map[string]int{}
	for _, e := range ar.Entries() {
		kinds[e.Kind]++
	}
	f.Close()
	require.LessOrEqual(t, kinds["BLOB METADATA"], 12, "entries by kind: %v", kinds)
	require.Equal(t, kinds["BLOB METADATA"], kinds["BLOBS"])

	t.Run("file", func(t *testing.T) {
		c.CreateDB(t, "lo_file")
		rt.pgark(nil, append(rt.connFlags(), "restore", "-j", "2", "-d", "lo_file", archive)...)
		require.Equal(t, src, list("lo_file"))
		// Again over itself: -c unlinks them first.
		rt.pgark(nil, append(rt.connFlags(), "restore", "-c", "--if-exists", "-j", "2", "-d", "lo_file", archive)...)
		require.Equal(t, src, list("lo_file"))
		// The comparison can fail.
		c.Exec(t, "lo_file", `SELECT lo_put((SELECT max(oid) FROM pg_largeobject_metadata WHERE oid < (SELECT max(oid) FROM pg_largeobject_metadata)), 4096, 'x')`)
		require.NotEqual(t, src, list("lo_file"))
	})

	t.Run("stdin", func(t *testing.T) {
		c.CreateDB(t, "lo_stdin")
		f, err := os.Open(archive)
		require.NoError(t, err)
		defer f.Close()
		rt.pgark(f, append(rt.connFlags(), "restore", "-j", "2", "-d", "lo_stdin", "-")...)
		require.Equal(t, src, list("lo_stdin"))
	})

	t.Run("sql script", func(t *testing.T) {
		script := filepath.Join(dir, "lo.sql")
		rt.pgark(nil, "restore", "-f", script, archive)
		c.CreateDB(t, "lo_script")
		rt.runPsql("lo_script", "-o", os.DevNull, "-f", script)
		require.Equal(t, src, list("lo_script"))
	})

	t.Run("single transaction", func(t *testing.T) {
		c.CreateDB(t, "lo_single")
		rt.pgark(nil, append(rt.connFlags(), "restore", "-1", "-d", "lo_single", archive)...)
		require.Equal(t, src, list("lo_single"))
	})

	t.Run("no owner", func(t *testing.T) {
		c.CreateDB(t, "lo_noowner")
		rt.pgark(nil, append(rt.connFlags(), "restore", "-O", "-x", "-d", "lo_noowner", archive)...)
		got := list("lo_noowner")
		require.Len(t, got, len(src))
		for i, l := range got {
			require.Contains(t, l, " owner="+c.User()+" acl= ", l)
			require.Equal(t, md5Of(src[i]), md5Of(l))
		}
	})
}

func md5Of(line string) string {
	_, after, _ := strings.Cut(line, " md5=")
	return fmt.Sprint(after)
}
