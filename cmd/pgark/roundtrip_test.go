package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/internal/testcluster"
)

// The logical round trip, on every PostgreSQL major installed: a corpus of
// every object kind is loaded, dumped by pgark, restored by pgark into fresh
// databases (from a file, from stdin, and as a SQL script run by psql), and
// each restored database must match the source by two oracles: real pg_dump
// --schema-only, where the machine's pg_dump can read the server (it refuses
// newer majors), and the server-side catalog signature of signature_test.go,
// on every major; plus the same rows, sequence values and large objects.

type roundTrip struct {
	t       *testing.T
	c       *testcluster.Cluster
	pgDump  string // empty when pg_dump cannot read this server
	psql    string
	archive string
}

// newRoundTrip creates the corpus roles in cluster c and loads the corpus
// files for c's major into its database src.
func newRoundTrip(t *testing.T, c *testcluster.Cluster) *roundTrip {
	t.Helper()
	rt := &roundTrip{t: t, c: c}
	var err error
	rt.psql, err = c.ClientBin("psql")
	require.NoError(t, err)
	rt.pgDump, err = c.ClientBin("pg_dump")
	require.NoError(t, err)
	if m := clientMajor(t, rt.pgDump); m < c.Major() {
		t.Logf("pg_dump %d cannot read PostgreSQL %d: the catalog signature is the only schema oracle", m, c.Major())
		rt.pgDump = ""
	}
	c.Exec(t, "postgres", `CREATE ROLE alice; CREATE ROLE "Bob Smith";`)
	c.CreateDB(t, "src")
	for _, f := range corpusFiles(t, filepath.Join("testdata", "roundtrip"), c.Major()) {
		rt.runPsql("src", "-f", f)
	}
	return rt
}

// corpusPlus names the corpus files loaded only on newer servers:
// corpus-15plus.sql and corpus-kinds-15plus.sql are loaded on PostgreSQL 15
// and newer.
var corpusPlus = regexp.MustCompile(`^corpus-(?:[a-z]+-)?(\d+)plus\.sql$`)

// corpusFiles lists the corpus files of dir for a server major, in load
// order: corpus.sql, then every corpus-*.sql in name order, leaving out the
// corpus-<N>plus.sql files of majors newer than the server's.
func corpusFiles(t testing.TB, dir string, major int) []string {
	t.Helper()
	more, err := filepath.Glob(filepath.Join(dir, "corpus-*.sql"))
	require.NoError(t, err)
	slices.Sort(more)
	files := []string{filepath.Join(dir, "corpus.sql")}
	for _, f := range more {
		if m := corpusPlus.FindStringSubmatch(filepath.Base(f)); m != nil {
			if min, _ := strconv.Atoi(m[1]); major < min {
				continue
			}
		}
		files = append(files, f)
	}
	return files
}

// clientMajor is the major version of a client tool (pg_dump --version).
func clientMajor(t testing.TB, path string) int {
	t.Helper()
	out, err := exec.Command(path, "--version").Output()
	require.NoError(t, err, "%s --version", path)
	m := regexp.MustCompile(`\) (\d+)`).FindSubmatch(out)
	require.NotNil(t, m, "%s --version: %s", path, out)
	major, err := strconv.Atoi(string(m[1]))
	require.NoError(t, err)
	return major
}

// in returns a copy of rt that reports to t, for use in t's test function.
func (rt *roundTrip) in(t *testing.T) *roundTrip {
	cp := *rt
	cp.t = t
	return &cp
}

func (rt *roundTrip) runPsql(db string, args ...string) {
	rt.t.Helper()
	cmd := exec.Command(rt.psql, append([]string{"-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", rt.c.ConnString(db)}, args...)...)
	out, err := cmd.CombinedOutput()
	require.NoError(rt.t, err, "psql %v: %s", args, out)
}

// pgark runs the CLI in-process (stdin nil: empty) and fails the test on a
// non-zero exit.
func (rt *roundTrip) pgark(stdin *os.File, args ...string) string {
	rt.t.Helper()
	var in io.Reader
	if stdin != nil {
		in = stdin
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r := pgarkCtx(rt.t, ctx, in, args...)
	require.Equal(rt.t, 0, r.code, "pgark %s\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.stdout, r.stderr)
	return r.stdout
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
	return tableRows(rt.t, rt.c, db)
}

// tableRows returns every user table's and materialized view's rows as
// sorted text, every sequence's last value and the large objects.
func tableRows(t testing.TB, c *testcluster.Cluster, db string) map[string][]string {
	t.Helper()
	ctx := context.Background()
	conn, err := c.Connect(ctx, db)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var rels []string
	r, err := conn.Query(ctx, `SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
		  AND (c.relkind <> 'm' OR c.relispopulated)`)
	require.NoError(t, err)
	for r.Next() {
		var s string
		require.NoError(t, r.Scan(&s))
		rels = append(rels, s)
	}
	require.NoError(t, r.Err())
	out := map[string][]string{}
	for _, rel := range rels {
		q, err := conn.Query(ctx, fmt.Sprintf("SELECT t::text FROM %s t", rel))
		require.NoError(t, err)
		var lines []string
		for q.Next() {
			var s string
			require.NoError(t, q.Scan(&s))
			lines = append(lines, s)
		}
		require.NoError(t, q.Err())
		slices.Sort(lines)
		out[rel] = lines
	}
	seqs, err := conn.Query(ctx, `SELECT format('%I.%I', schemaname, sequencename), coalesce(last_value, 0) FROM pg_sequences`)
	require.NoError(t, err)
	for seqs.Next() {
		var s string
		var v int64
		require.NoError(t, seqs.Scan(&s, &v))
		out["sequence "+s] = []string{fmt.Sprint(v)}
	}
	require.NoError(t, seqs.Err())
	out["large objects"] = largeObjects(t, conn)
	return out
}

// differences says how db differs from src by pg_dump --schema-only and
// rows, or "" when it does not.
func (rt *roundTrip) differences(src, db string) string {
	rt.t.Helper()
	var b strings.Builder
	if a, z := rt.schemaDump(src), rt.schemaDump(db); a != z {
		fmt.Fprintf(&b, "pg_dump --schema-only differs:\n%s", lineDiff(a, z))
	}
	b.WriteString(rowDifferences(rt.rows(src), rt.rows(db)))
	return b.String()
}

// compare says how db differs from src by every oracle this server allows:
// pg_dump --schema-only when pg_dump can read it, the catalog signature, and
// rows; "" when they agree.
func (rt *roundTrip) compare(src, db string) string {
	rt.t.Helper()
	var b strings.Builder
	if rt.pgDump != "" {
		if a, z := rt.schemaDump(src), rt.schemaDump(db); a != z {
			fmt.Fprintf(&b, "pg_dump --schema-only differs:\n%s", lineDiff(a, z))
		}
	}
	if d := signatureDiff(signature(rt.t, rt.c, src), signature(rt.t, rt.c, db)); d != "" {
		fmt.Fprintf(&b, "catalog signature differs:\n%s", d)
	}
	b.WriteString(rowDifferences(rt.rows(src), rt.rows(db)))
	return b.String()
}

// rowDifferences says which tables' rows (as tableRows reads them) differ.
func rowDifferences(ra, rz map[string][]string) string {
	var b strings.Builder
	for _, rel := range slices.Sorted(maps.Keys(ra)) {
		if lines := ra[rel]; !slices.Equal(lines, rz[rel]) {
			fmt.Fprintf(&b, "rows of %s differ: source has %d, restored has %d\n", rel, len(lines), len(rz[rel]))
		}
	}
	for _, rel := range slices.Sorted(maps.Keys(rz)) {
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
	requireAllMajors(t)
	testcluster.EachMajor(t, testLogicalRoundTrip)
}

func testLogicalRoundTrip(t *testing.T, c *testcluster.Cluster) {
	rt := newRoundTrip(t, c)
	dir := t.TempDir()
	archive := filepath.Join(dir, "src.pgark")
	rt.pgark(nil, append(rt.connFlags(), "dump", "-j", "2", "-f", archive, "src")...)
	rt.pgark(nil, "verify", archive)

	t.Run("file", func(t *testing.T) {
		rt := rt.in(t)
		rt.c.CreateDB(t, "from_file")
		rt.pgark(nil, append(rt.connFlags(), "restore", "-j", "2", "-d", "from_file", archive)...)
		require.Empty(t, rt.compare("src", "from_file"))

		// Every oracle must be able to fail: change one comment, one row and
		// one large object.
		rt.c.Exec(t, "from_file", `COMMENT ON TABLE "Mixed Case"."Orders" IS 'changed'`)
		if rt.pgDump != "" {
			require.Contains(t, rt.differences("src", "from_file"), "changed")
		}
		require.Contains(t, signatureDiff(signature(t, rt.c, "src"), signature(t, rt.c, "from_file")), "changed")
		rt.c.Exec(t, "from_file", `DELETE FROM public.customers WHERE email = 'c@d'`)
		require.Contains(t, rt.compare("src", "from_file"), `rows of public.customers differ`)
		rt.c.Exec(t, "from_file", `SELECT lo_put(424242, 0, 'J')`)
		require.Contains(t, rt.compare("src", "from_file"), `rows of large objects differ`)
	})

	t.Run("signature can fail", func(t *testing.T) {
		rt := rt.in(t)
		rt.c.CreateDB(t, "altered")
		rt.pgark(nil, append(rt.connFlags(), "restore", "-j", "2", "-d", "altered", archive)...)
		testSignatureCanFail(t, rt, "src", "altered")
	})

	t.Run("stdin", func(t *testing.T) {
		rt := rt.in(t)
		rt.c.CreateDB(t, "from_stdin")
		f, err := os.Open(archive)
		require.NoError(t, err)
		defer f.Close()
		rt.pgark(f, append(rt.connFlags(), "restore", "-j", "2", "-d", "from_stdin", "-")...)
		require.Empty(t, rt.compare("src", "from_stdin"))
	})

	t.Run("sql script", func(t *testing.T) {
		rt := rt.in(t)
		script := filepath.Join(dir, "src.sql")
		rt.pgark(nil, "restore", "-f", script, archive)
		rt.c.CreateDB(t, "from_script")
		rt.runPsql("from_script", "-f", script)
		require.Empty(t, rt.compare("src", "from_script"))
	})

	t.Run("schema then data", func(t *testing.T) {
		rt := rt.in(t)
		schemaOnly := filepath.Join(dir, "schema.pgark")
		dataOnly := filepath.Join(dir, "data.pgark")
		rt.pgark(nil, append(rt.connFlags(), "dump", "-s", "-f", schemaOnly, "src")...)
		rt.pgark(nil, append(rt.connFlags(), "dump", "-a", "-f", dataOnly, "src")...)
		rt.c.CreateDB(t, "split")
		rt.pgark(nil, append(rt.connFlags(), "restore", "-d", "split", schemaOnly)...)
		rt.pgark(nil, append(rt.connFlags(), "restore", "-j", "2", "--disable-triggers", "-d", "split", dataOnly)...)
		require.Empty(t, rt.compare("src", "split"))
	})
}
