package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/internal/testcluster"
)

// The logical round trip, judged by real pg_dump: a corpus of every object
// kind is loaded, dumped by pgark, restored by pgark into fresh databases
// (from a file, from stdin, and as a SQL script run by psql), and each
// restored database must give the same pg_dump --schema-only output and
// the same rows as the source.

type roundTrip struct {
	t       *testing.T
	c       *testcluster.Cluster
	pgDump  string
	psql    string
	archive string
}

func newRoundTrip(t *testing.T) *roundTrip {
	t.Helper()
	// PostgreSQL 15: the machine's pg_dump, the oracle, is 15 and reads no newer server.
	c := testcluster.Start(t, testcluster.WithMajor(15))
	rt := &roundTrip{t: t, c: c}
	var err error
	rt.pgDump, err = c.ClientBin("pg_dump")
	require.NoError(t, err)
	rt.psql, err = c.ClientBin("psql")
	require.NoError(t, err)
	c.Exec(t, "postgres", `CREATE ROLE alice; CREATE ROLE "Bob Smith";`)
	c.CreateDB(t, "src")
	// corpus.sql, then further corpus-*.sql files in name order.
	more, err := filepath.Glob(filepath.Join("testdata", "roundtrip", "corpus-*.sql"))
	require.NoError(t, err)
	for _, f := range append([]string{filepath.Join("testdata", "roundtrip", "corpus.sql")}, more...) {
		rt.runPsql("src", "-f", f)
	}
	return rt
}

func (rt *roundTrip) runPsql(db string, args ...string) {
	rt.t.Helper()
	cmd := exec.Command(rt.psql, append([]string{"-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", rt.c.ConnString(db)}, args...)...)
	out, err := cmd.CombinedOutput()
	require.NoError(rt.t, err, "psql %v: %s", args, out)
}

// pgark runs the CLI in-process and fails the test on a non-zero exit.
func (rt *roundTrip) pgark(stdin *os.File, args ...string) string {
	rt.t.Helper()
	var out, errb bytes.Buffer
	var in *os.File = stdin
	if in == nil {
		in, _ = os.Open(os.DevNull)
		defer in.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	code := execute(ctx, args, in, &out, &errb)
	require.Equal(rt.t, 0, code, "pgark %s\nstdout: %s\nstderr: %s", strings.Join(args, " "), out.String(), errb.String())
	return out.String()
}

// schemaDump is pg_dump --schema-only with its comment lines and random
// \restrict lines removed.
var dumpNoise = regexp.MustCompile(`(?m)^(--.*|\\(un)?restrict .*)\n`)

func (rt *roundTrip) schemaDump(db string) string {
	rt.t.Helper()
	out, err := exec.Command(rt.pgDump, "--schema-only", "-d", rt.c.ConnString(db)).CombinedOutput()
	require.NoError(rt.t, err, "pg_dump %s: %s", db, out)
	return dumpNoise.ReplaceAllString(string(out), "")
}

// rows returns every user table's and materialized view's rows as sorted text.
func (rt *roundTrip) rows(db string) map[string][]string {
	rt.t.Helper()
	ctx := context.Background()
	conn, err := rt.c.Connect(ctx, db)
	require.NoError(rt.t, err)
	defer conn.Close(ctx)
	var rels []string
	r, err := conn.Query(ctx, `SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
		  AND (c.relkind <> 'm' OR c.relispopulated)`)
	require.NoError(rt.t, err)
	for r.Next() {
		var s string
		require.NoError(rt.t, r.Scan(&s))
		rels = append(rels, s)
	}
	require.NoError(rt.t, r.Err())
	out := map[string][]string{}
	for _, rel := range rels {
		q, err := conn.Query(ctx, fmt.Sprintf("SELECT t::text FROM %s t", rel))
		require.NoError(rt.t, err)
		var lines []string
		for q.Next() {
			var s string
			require.NoError(rt.t, q.Scan(&s))
			lines = append(lines, s)
		}
		require.NoError(rt.t, q.Err())
		slices.Sort(lines)
		out[rel] = lines
	}
	seqs, err := conn.Query(ctx, `SELECT format('%I.%I', schemaname, sequencename), coalesce(last_value, 0) FROM pg_sequences`)
	require.NoError(rt.t, err)
	for seqs.Next() {
		var s string
		var v int64
		require.NoError(rt.t, seqs.Scan(&s, &v))
		out["sequence "+s] = []string{fmt.Sprint(v)}
	}
	require.NoError(rt.t, seqs.Err())
	out["large objects"] = largeObjects(rt.t, conn)
	return out
}

// differences says how db differs from src, or "" when it does not.
func (rt *roundTrip) differences(src, db string) string {
	rt.t.Helper()
	var b strings.Builder
	if a, z := rt.schemaDump(src), rt.schemaDump(db); a != z {
		fmt.Fprintf(&b, "pg_dump --schema-only differs:\n%s", lineDiff(a, z))
	}
	ra, rz := rt.rows(src), rt.rows(db)
	for rel, lines := range ra {
		if !slices.Equal(lines, rz[rel]) {
			fmt.Fprintf(&b, "rows of %s differ: source has %d, restored has %d\n", rel, len(lines), len(rz[rel]))
		}
	}
	for rel := range rz {
		if _, ok := ra[rel]; !ok {
			fmt.Fprintf(&b, "restored database has %s, the source has not\n", rel)
		}
	}
	return b.String()
}

// lineDiff lists the lines only one side has (enough to find the cause).
func lineDiff(a, z string) string {
	count := func(s string) map[string]int {
		m := map[string]int{}
		for _, l := range strings.Split(s, "\n") {
			m[l]++
		}
		return m
	}
	ca, cz := count(a), count(z)
	var b strings.Builder
	for l, n := range ca {
		if cz[l] < n {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	for l, n := range cz {
		if ca[l] < n {
			fmt.Fprintf(&b, "+ %s\n", l)
		}
	}
	return b.String()
}

func (rt *roundTrip) connFlags() []string {
	return []string{"-h", rt.c.Host(), "-p", fmt.Sprint(rt.c.Port()), "-U", rt.c.User()}
}

func TestLogicalRoundTrip(t *testing.T) {
	rt := newRoundTrip(t)
	dir := t.TempDir()
	archive := filepath.Join(dir, "src.pgark")
	rt.pgark(nil, append(rt.connFlags(), "dump", "-j", "2", "-f", archive, "src")...)
	rt.pgark(nil, "verify", archive)

	t.Run("file", func(t *testing.T) {
		rt.c.CreateDB(t, "from_file")
		rt.pgark(nil, append(rt.connFlags(), "restore", "-j", "2", "-d", "from_file", archive)...)
		require.Empty(t, rt.differences("src", "from_file"))

		// The oracle must be able to fail: change one comment and one row.
		rt.c.Exec(t, "from_file", `COMMENT ON TABLE "Mixed Case"."Orders" IS 'changed'`)
		require.Contains(t, rt.differences("src", "from_file"), "changed")
		rt.c.Exec(t, "from_file", `DELETE FROM public.customers WHERE email = 'c@d'`)
		require.Contains(t, rt.differences("src", "from_file"), `rows of public.customers differ`)
		rt.c.Exec(t, "from_file", `SELECT lo_put(424242, 0, 'J')`)
		require.Contains(t, rt.differences("src", "from_file"), `rows of large objects differ`)
	})

	t.Run("stdin", func(t *testing.T) {
		rt.c.CreateDB(t, "from_stdin")
		f, err := os.Open(archive)
		require.NoError(t, err)
		defer f.Close()
		rt.pgark(f, append(rt.connFlags(), "restore", "-j", "2", "-d", "from_stdin", "-")...)
		require.Empty(t, rt.differences("src", "from_stdin"))
	})

	t.Run("sql script", func(t *testing.T) {
		script := filepath.Join(dir, "src.sql")
		rt.pgark(nil, "restore", "-f", script, archive)
		rt.c.CreateDB(t, "from_script")
		rt.runPsql("from_script", "-f", script)
		require.Empty(t, rt.differences("src", "from_script"))
	})

	t.Run("schema then data", func(t *testing.T) {
		schemaOnly := filepath.Join(dir, "schema.pgark")
		dataOnly := filepath.Join(dir, "data.pgark")
		rt.pgark(nil, append(rt.connFlags(), "dump", "-s", "-f", schemaOnly, "src")...)
		rt.pgark(nil, append(rt.connFlags(), "dump", "-a", "-f", dataOnly, "src")...)
		rt.c.CreateDB(t, "split")
		rt.pgark(nil, append(rt.connFlags(), "restore", "-d", "split", schemaOnly)...)
		rt.pgark(nil, append(rt.connFlags(), "restore", "-j", "2", "--disable-triggers", "-d", "split", dataOnly)...)
		require.Empty(t, rt.differences("src", "split"))
	})
}
