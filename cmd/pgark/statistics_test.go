package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/internal/testcluster"
)

// dump --statistics, as pg_dump 18's: planner statistics of tables,
// materialized views and indexes go into STATISTICS DATA entries, and a
// restore into PostgreSQL 18 gives the target the source's pg_class and
// pg_stats values exactly. Autovacuum is off on the clusters, so that
// nothing but the restore writes statistics.

// statsCorpus has columns of every kind pg_stats describes: plain values
// (most common values, histogram, correlation), arrays (element
// statistics), ranges (range histograms, 17+), an expression index, a
// constraint's index, an inheritance parent (inherited statistics) and a
// populated materialized view, whose refresh resets its statistics.
const statsCorpus = `
CREATE SCHEMA "Stats";
CREATE TABLE "Stats".items (id integer PRIMARY KEY, kind text, tags text[], span int4range, price numeric);
INSERT INTO "Stats".items SELECT g, 'kind ' || (g % 7), ARRAY['t' || (g % 5), 't' || (g % 3)],
	int4range(g, g + g % 10 + 1), (g % 100) * 1.5 FROM generate_series(1, 5000) g;
UPDATE "Stats".items SET kind = NULL WHERE id % 11 = 0;
CREATE INDEX items_lower_kind ON "Stats".items (lower(kind));
CREATE TABLE "Stats".parent (a integer, b text);
CREATE TABLE "Stats".child (c integer) INHERITS ("Stats".parent);
INSERT INTO "Stats".parent SELECT g, 'p' || g FROM generate_series(1, 300) g;
INSERT INTO "Stats".child SELECT g, 'c' || (g % 20), g FROM generate_series(1, 700) g;
CREATE MATERIALIZED VIEW "Stats".kinds AS SELECT kind, count(*) AS n FROM "Stats".items GROUP BY kind;
ANALYZE;`

func TestDumpStatistics(t *testing.T) {
	requireAllMajors(t)
	if !slices.Contains(testcluster.Majors(), 18) {
		t.Skip("restoring statistics needs PostgreSQL 18: make test-all-versions installs it")
	}
	off := testcluster.WithConfig("autovacuum = off")
	target := testcluster.Start(t, testcluster.WithMajor(18), off)

	t.Run("from 18", func(t *testing.T) { testDumpStatistics(t, target, target) })
	// pg_dump 18 dumps statistics from older servers too: the oldest
	// installed major's pg_stats (no relallfrozen, no range histograms
	// before 17) restore into 18 all the same.
	if oldest := testcluster.Majors()[0]; oldest < 18 {
		t.Run(fmt.Sprintf("from %d", oldest), func(t *testing.T) {
			testDumpStatistics(t, testcluster.Start(t, testcluster.WithMajor(oldest), off), target)
		})
	}
}

func testDumpStatistics(t *testing.T, src, target *testcluster.Cluster) {
	db := fmt.Sprintf("stats%d", src.Major())
	src.CreateDB(t, db)
	src.Exec(t, db, statsCorpus)
	dir := t.TempDir()
	// run runs pgark connected to c (nil: no connection).
	run := func(c *testcluster.Cluster, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
		defer cancel()
		if c != nil {
			args = append([]string{"-h", c.Host(), "-p", fmt.Sprint(c.Port()), "-U", c.User()}, args...)
		}
		r := pgarkCtx(t, ctx, nil, args...)
		require.Equal(t, 0, r.code, "pgark %s\nstderr: %s", strings.Join(args, " "), r.stderr)
		return r.stdout
	}
	kinds := func(archive string) map[string]int {
		t.Helper()
		m := map[string]int{}
		for _, e := range listEntries(t, run(nil, "list", archive)) {
			m[e.kind]++
		}
		return m
	}

	// Without the flag, no statistics.
	plain := filepath.Join(dir, "plain.pgark")
	run(src, "dump", "-f", plain, db)
	require.Zero(t, kinds(plain)["STATISTICS DATA"], "dump without --statistics")

	archive := filepath.Join(dir, "stats.pgark")
	run(src, "dump", "--statistics", "-j", "2", "-f", archive, db)
	entries := listEntries(t, run(nil, "list", archive))
	sections := map[string]string{}
	for _, e := range entries {
		if e.kind == "STATISTICS DATA" {
			sections[e.name] = e.section
		}
	}
	// Tables' in data, indexes' and materialized views' in post-data.
	require.Equal(t, map[string]string{
		"items": "data", "parent": "data", "child": "data",
		"items_pkey": "post-data", "items_lower_kind": "post-data", "kinds": "post-data",
	}, sections)

	restored := db + "_restored"
	target.CreateDB(t, restored)
	run(target, "restore", "-j", "2", "-d", restored, archive)
	// What both majors have: relallfrozen from 18, range histograms from 17.
	major := min(src.Major(), target.Major())
	srcStats, gotStats := relationStats(t, src, db, major), relationStats(t, target, restored, major)
	require.NotEmpty(t, srcStats.columns, "the source has no pg_stats rows: ANALYZE did not run")
	require.Equal(t, srcStats.relations, gotStats.relations, "pg_class statistics")
	require.Equal(t, srcStats.columns, gotStats.columns, "pg_stats")

	// The comparison can fail: a restore without the statistics differs.
	bare := db + "_bare"
	target.CreateDB(t, bare)
	run(target, "restore", "--no-statistics", "-d", bare, archive)
	bareStats := relationStats(t, target, bare, major)
	require.NotEqual(t, srcStats.relations, bareStats.relations)
	require.Empty(t, bareStats.columns)

	// --statistics-only dumps nothing else; -s --statistics keeps them.
	only := filepath.Join(dir, "only.pgark")
	run(src, "dump", "--statistics-only", "-f", only, db)
	require.Equal(t, map[string]int{"STATISTICS DATA": len(sections)}, kinds(only))
	schemaOnly := filepath.Join(dir, "schema.pgark")
	run(src, "dump", "-s", "--statistics", "-f", schemaOnly, db)
	k := kinds(schemaOnly)
	require.Equal(t, len(sections), k["STATISTICS DATA"])
	require.Zero(t, k["TABLE DATA"])
}

// listEntry is a line of pgark list, "<id>; <section> <kind> <schema>
// <name> <owner>...", with the kinds this test names ("other" for the
// rest).
type listEntry struct{ kind, name, section string }

func listEntries(t *testing.T, out string) []listEntry {
	t.Helper()
	var es []listEntry
	for _, line := range strings.Split(out, "\n") {
		if line == "" || strings.HasPrefix(line, ";") {
			continue
		}
		_, rest, ok := strings.Cut(line, "; ")
		require.True(t, ok, "list line %q", line)
		e := listEntry{kind: "other"}
		e.section, rest, _ = strings.Cut(rest, " ")
		for _, kind := range []string{"STATISTICS DATA", "TABLE DATA"} {
			if after, ok := strings.CutPrefix(rest, kind+" "); ok {
				f := strings.Fields(after)
				require.GreaterOrEqual(t, len(f), 2, "list line %q", line)
				e.kind, e.name = kind, f[1]
			}
		}
		es = append(es, e)
	}
	return es
}

// statsRows are a database's statistics as text lines.
type statsRows struct{ relations, columns []string }

// relationStats reads the statistics of schema "Stats" in database db,
// those columns that PostgreSQL major has.
func relationStats(t *testing.T, c *testcluster.Cluster, db string, major int) statsRows {
	t.Helper()
	ctx := t.Context()
	conn, err := c.Connect(ctx, db)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, "SET extra_float_digits = 3")
	require.NoError(t, err)
	frozen, ranges := "''", ""
	if major >= 18 {
		frozen = "c.relallfrozen::text"
	}
	if major >= 17 {
		ranges = ", s.range_length_histogram, s.range_empty_frac, s.range_bounds_histogram"
	}
	lines := func(sql string) []string {
		rows, err := conn.Query(ctx, sql)
		require.NoError(t, err)
		out, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		return out
	}
	var s statsRows
	s.relations = lines(`SELECT concat_ws(' ', c.relname, c.relkind, c.relpages, c.reltuples, c.relallvisible, ` + frozen + `)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'Stats' ORDER BY c.relname`)
	s.columns = lines(`SELECT concat_ws(' | ', s.tablename, s.attname, s.inherited, s.null_frac, s.avg_width, s.n_distinct,
			s.most_common_vals, s.most_common_freqs, s.histogram_bounds, s.correlation,
			s.most_common_elems, s.most_common_elem_freqs, s.elem_count_histogram` + ranges + `)
		FROM pg_stats s WHERE s.schemaname = 'Stats' ORDER BY s.tablename, s.attname, s.inherited`)
	return s
}
