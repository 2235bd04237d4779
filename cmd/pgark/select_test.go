package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/internal/testcluster"
)

// Object selection by name, judged by pg_dump 15: for each combination of
// -t, -T, -n, -N, --exclude-table-data... pg_dump -Fc's archive restored by
// pg_restore and pgark's restored by pgark must give identical databases
// (pg_dump --schema-only of both, and every table's rows). Flags pg_dump 15
// lacks (--table-and-children...) are compared with the pg_dump flags that
// name the children one by one.

func newSelectCluster(t *testing.T) *roundTrip {
	t.Helper()
	c := testcluster.Start(t, testcluster.WithMajor(15))
	rt := &roundTrip{t: t, c: c}
	var err error
	rt.pgDump, err = c.ClientBin("pg_dump")
	require.NoError(t, err)
	rt.psql, err = c.ClientBin("psql")
	require.NoError(t, err)
	c.Exec(t, "postgres", `CREATE ROLE "sel reader"`)
	c.CreateDB(t, "src")
	rt.runPsql("src", "-f", filepath.Join("testdata", "select", "corpus.sql"))
	return rt
}

// pgarkCode runs the CLI in-process and returns its exit code and stderr.
func (rt *roundTrip) pgarkCode(args ...string) (int, string) {
	rt.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r := pgarkCtx(rt.t, ctx, nil, args...)
	return r.code, r.stderr
}

// relations lists a database's tables and materialized views, sorted.
func (rt *roundTrip) relations(db string) []string {
	rt.t.Helper()
	var out []string
	for rel := range rt.rows(db) {
		if !strings.HasPrefix(rel, "sequence ") && rel != "large objects" {
			out = append(out, rel)
		}
	}
	slices.Sort(out)
	return out
}

// skeleton is what the corpus's tables need that -t does not dump.
const skeleton = `CREATE SCHEMA plain; CREATE SCHEMA "Mixed"; CREATE SCHEMA "with space";
CREATE SCHEMA "dot.ted"; CREATE SCHEMA "quo""te";
CREATE TYPE "Mixed".mood AS ENUM ('sad', 'ok', 'happy');
CREATE FUNCTION "Mixed"."Touch"() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.note := upper(NEW.note); RETURN NEW; END$$;`

// partsSkeleton is the partitioned table that a partition selected alone is
// attached to (its TABLE ATTACH goes with it, as pg_dump's).
const partsSkeleton = `
CREATE SCHEMA parts; CREATE TABLE parts.log (at date, what text) PARTITION BY RANGE (at);`

func TestSelectMatchesPgDump(t *testing.T) {
	rt := newSelectCluster(t)
	pgRestore, err := rt.c.ClientBin("pg_restore")
	require.NoError(t, err)
	dir := t.TempDir()

	require.Len(t, rt.relations("src"), 25)

	tests := []struct {
		name   string
		pgark  []string
		pgDump []string // nil: the same as pgark
		// tables are the tables and materialized views the selection
		// restores (nil: check only against pg_dump).
		tables []string
		// restoreErrors are the errors pg_restore may report on pg_dump's
		// archive (pg_dump -n public writes CREATE SCHEMA public).
		restoreErrors []string
		// setup runs in both databases before the restore: what a -t
		// selection needs and does not dump (its schema, types...).
		setup string
		// largeObjects is how many large objects the restore has ("":
		// only the same as pg_dump's).
		largeObjects string
	}{
		{name: "unqualified table", setup: skeleton, pgark: []string{"-t", "t1"}, tables: []string{"public.t1"}},
		{name: "quoted table", setup: skeleton, pgark: []string{"-t", `"T1"`}, tables: []string{`public."T1"`}},
		{name: "folded schema", setup: skeleton, pgark: []string{"-t", `"Mixed".ORDERS`}, tables: []string{`"Mixed".orders`}},
		{name: "regexp passes through", setup: skeleton, pgark: []string{"-t", "a+b"}, tables: []string{"public.aab", "public.ab"}},
		{name: "quoted regexp, dollar, underscore", setup: skeleton, pgark: []string{"-t", `"a+b"`, "-t", "a$b", "-t", "t_1"},
			tables: []string{`public."a$b"`, `public."a+b"`, "public.t_1"}},
		{name: "wildcard schema", setup: skeleton, pgark: []string{"-t", "plain.*"},
			tables: []string{"plain.child", "plain.grandchild", "plain.items", "plain.mv", "plain.parent", "plain.t1"}},
		{name: "question mark", setup: skeleton, pgark: []string{"-t", "plain.t?", "-t", "*.?1"},
			tables: []string{"plain.t1", `public."T1"`, "public.t1"}},
		{name: "dots, spaces and quotes", setup: skeleton, pgark: []string{"-t", `"dot.ted"."x.y"`, "-t", `"quo""te".*`, "-t", `"with space"."a table"`},
			tables: []string{`"dot.ted"."x.y"`, `"quo""te"."it""s"`, `"with space"."a table"`}},
		{name: "three-part name", setup: skeleton, pgark: []string{"-t", "src.public.t1", "-t", `SRC."Mixed"."Orders"`, "-t", "src.*.v_t1"},
			tables: []string{`"Mixed"."Orders"`, "public.t1"}},
		{name: "sequences alone", setup: skeleton, pgark: []string{"-t", "t1_id_seq", "-t", "plain.items_id_seq", "-t", "plain.s"}, tables: []string{}},
		{name: "schema", pgark: []string{"-n", "plain"},
			tables: []string{"plain.child", "plain.grandchild", "plain.items", "plain.mv", "plain.parent", "plain.t1"}},
		{name: "schemas with public", pgark: []string{"-n", `"Mixed"`, "-n", "PUBLIC"},
			restoreErrors: []string{`schema "public" already exists`}},
		{name: "schema wildcard, quoted", pgark: []string{"-n", `"with space"`, "-n", `"dot.ted"`, "-n", `quo"""te`},
			tables: []string{`"dot.ted"."x.y"`, `"quo""te"."it""s"`, `"with space"."a table"`, `"with space"."a:b"`}},
		{name: "exclude schemas", pgark: []string{"-N", "plain", "-N", `"dot.ted"`, "-N", "nosuch"}},
		{name: "exclude public", pgark: []string{"-N", "public", "-N", `"Mixed"`}},
		{name: "schema minus tables", pgark: []string{"-n", "plain", "-T", "plain.t1", "-T", "plain.s", "-T", "nosuch"},
			tables: []string{"plain.child", "plain.grandchild", "plain.items", "plain.mv", "plain.parent"}},
		{name: "exclude tables everywhere", pgark: []string{"-T", "t1", "-T", "*.*rders", "-T", "public.v_t1"}},
		{name: "-t wins over -n and -N", setup: skeleton, pgark: []string{"-t", "plain.items", "-n", "public", "-N", "plain"},
			tables: []string{"plain.items"}},
		{name: "exclude table data", pgark: []string{"--exclude-table-data", "t*", "--exclude-table-data", "plain.mv",
			"--exclude-table-data", "plain.s", "--exclude-table-data", `"Mixed"."Orders"`}},
		{name: "exclude data and tables", pgark: []string{"-n", "plain", "--exclude-table-data", "plain.items", "-T", "plain.grandchild"}},
		{name: "schema only", pgark: []string{"-s", "-n", `"Mixed"`, "-n", "public"},
			restoreErrors: []string{`schema "public" already exists`}},
		{name: "table and children", setup: skeleton, pgark: []string{"--table-and-children", "plain.parent", "-t", "t1"},
			pgDump: []string{"-t", "plain.parent", "-t", "plain.child", "-t", "plain.grandchild", "-t", "t1"},
			tables: []string{"plain.child", "plain.grandchild", "plain.parent", "public.t1"}},
		{name: "exclude table and children", pgark: []string{"-n", "plain", "--exclude-table-and-children", "plain.parent"},
			pgDump: []string{"-n", "plain", "-T", "plain.parent", "-T", "plain.child", "-T", "plain.grandchild"},
			tables: []string{"plain.items", "plain.mv", "plain.t1"}},
		{name: "exclude table data and children", pgark: []string{"-n", "plain", "--exclude-table-data-and-children", "plain.parent"},
			pgDump: []string{"-n", "plain", "--exclude-table-data", "plain.parent", "--exclude-table-data", "plain.child",
				"--exclude-table-data", "plain.grandchild"}},
		{name: "partitioned table alone", setup: skeleton + "CREATE SCHEMA parts;", pgark: []string{"-t", "parts.measure"}, tables: []string{}},
		{name: "partitioned table and children", setup: skeleton + "CREATE SCHEMA parts;", pgark: []string{"--table-and-children", "parts.measure"},
			pgDump: []string{"-t", "parts.measure", "-t", "parts.m2025", "-t", "parts.m2026", "-t", "parts.m2026_1", "-t", "parts.m2026_rest"},
			tables: []string{"parts.m2025", "parts.m2026_1", "parts.m2026_rest"}},
		{name: "partition alone", setup: skeleton + partsSkeleton, pgark: []string{"-t", "parts.log_2"},
			tables: []string{"parts.log_2"}},
		{name: "exclude partitioned table and children", pgark: []string{"-n", "parts", "--exclude-table-and-children", "parts.measure"},
			pgDump: []string{"-n", "parts", "-T", "parts.measure", "-T", "parts.m2025", "-T", "parts.m2026", "-T", "parts.m2026_1", "-T", "parts.m2026_rest"},
			tables: []string{"parts.log_1", "parts.log_2"}},
		{name: "exclude partition data and children", pgark: []string{"-n", "parts", "--exclude-table-data-and-children", "parts.measure"},
			pgDump: []string{"-n", "parts", "--exclude-table-data", "parts.measure", "--exclude-table-data", "parts.m2025",
				"--exclude-table-data", "parts.m2026", "--exclude-table-data", "parts.m2026_1", "--exclude-table-data", "parts.m2026_rest"}},
		{name: "exclude partitioned table data only", pgark: []string{"-n", "parts", "--exclude-table-data", "parts.measure"}},
		{name: "strict names that match", pgark: []string{"--strict-names", "-n", "plain", "-T", "nosuch", "-N", "nosuch",
			"--exclude-table-data", "nosuch"}},
		{name: "large objects with a selection", pgark: []string{"-n", "plain", "-b"}, largeObjects: "1"},
		{name: "no large objects", pgark: []string{"-B"}, largeObjects: "0"},
		{name: "-b wins over -B", pgark: []string{"-t", "t1", "-B", "--blobs"}, largeObjects: "1"},
		{name: "large objects follow everything", pgark: []string{"-n", "plain"}, largeObjects: "0"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pgDumpArgs := tc.pgDump
			if pgDumpArgs == nil {
				pgDumpArgs = tc.pgark
			}
			oracleDB, arkDB := fmt.Sprintf("oracle_%d", i), fmt.Sprintf("ark_%d", i)

			archive := filepath.Join(dir, fmt.Sprintf("pg_dump_%d.dump", i))
			out, err := exec.Command(rt.pgDump, append([]string{"-Fc", "-f", archive, "-d", rt.c.ConnString("src")}, pgDumpArgs...)...).CombinedOutput()
			require.NoError(t, err, "pg_dump %v: %s", pgDumpArgs, out)
			rt.c.CreateDB(t, oracleDB)
			rt.c.CreateDB(t, arkDB)
			if tc.setup != "" {
				rt.c.Exec(t, oracleDB, tc.setup)
				rt.c.Exec(t, arkDB, tc.setup)
			}
			out, err = exec.Command(pgRestore, "-d", rt.c.ConnString(oracleDB), archive).CombinedOutput()
			if len(tc.restoreErrors) == 0 {
				require.NoError(t, err, "pg_restore: %s", out)
			} else {
				for _, l := range strings.Split(string(out), "\n") {
					if strings.Contains(l, "ERROR:") && !slices.ContainsFunc(tc.restoreErrors, func(e string) bool { return strings.Contains(l, e) }) {
						t.Fatalf("pg_restore: unexpected error: %s", out)
					}
				}
			}

			mine := filepath.Join(dir, fmt.Sprintf("pgark_%d.pgark", i))
			rt.pgark(nil, append(append(rt.connFlags(), "dump", "-j", "2", "-f", mine), append(tc.pgark, "src")...)...)
			rt.pgark(nil, append(rt.connFlags(), "restore", "-d", arkDB, mine)...)

			require.Empty(t, rt.differences(oracleDB, arkDB), "pgark %v against pg_dump %v", tc.pgark, pgDumpArgs)
			if tc.tables != nil {
				require.ElementsMatch(t, tc.tables, rt.relations(arkDB))
			}
			// Large objects, which the schema comparison does not see.
			los := func(db string) string {
				return rt.c.QueryValue(t, db, "SELECT count(*) FROM pg_catalog.pg_largeobject_metadata")
			}
			require.Equal(t, los(oracleDB), los(arkDB), "large objects")
			if tc.largeObjects != "" {
				require.Equal(t, tc.largeObjects, los(arkDB), "large objects")
			}
		})
	}

	// The search path decides what an unqualified -t pattern matches.
	t.Run("default search_path", func(t *testing.T) {
		rt.c.Exec(t, "src", `ALTER DATABASE src SET search_path = plain, public`)
		defer rt.c.Exec(t, "src", `ALTER DATABASE src RESET search_path`)
		archive := filepath.Join(dir, "path.pgark")
		rt.pgark(nil, append(rt.connFlags(), "dump", "-f", archive, "-t", "t1", "-t", "ab", "src")...)
		rt.c.CreateDB(t, "path")
		rt.c.Exec(t, "path", skeleton)
		rt.pgark(nil, append(rt.connFlags(), "restore", "-d", "path", archive)...)
		require.Equal(t, []string{"plain.t1", "public.ab"}, rt.relations("path"))
	})
}

func TestSelectErrorsMatchPgDump(t *testing.T) {
	rt := newSelectCluster(t)
	tests := []struct {
		args []string
		want string
		code int // pgark's exit code
	}{
		{[]string{"--strict-names", "-t", "t1", "-t", "nosuch"}, `no matching tables were found for pattern "nosuch"`, 1},
		{[]string{"--strict-names", "-n", "plain", "-n", "Nosuch*"}, `no matching schemas were found for pattern "Nosuch*"`, 1},
		{[]string{"--strict-names", "-n", "plain", "-t", "nosuch"}, `no matching tables were found for pattern "nosuch"`, 1},
		{[]string{"-t", "nosuch", "-t", "plain"}, `no matching tables were found`, 1},
		{[]string{"-n", "nosuch"}, `no matching schemas were found`, 1},
		{[]string{"-t", "other.public.t1"}, `cross-database references are not implemented: other.public.t1`, 1},
		{[]string{"-T", "other.public.t1"}, `cross-database references are not implemented: other.public.t1`, 1},
		{[]string{"-t", "a.b.c.d"}, `improper relation name (too many dotted names): a.b.c.d`, 2},
		{[]string{"-n", "src.plain"}, `cross-database references are not implemented: src.plain`, 2},
		{[]string{"-N", "a.b.c"}, `improper qualified name (too many dotted names): a.b.c`, 2},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, err := exec.Command(rt.pgDump, append([]string{"-s", "-d", rt.c.ConnString("src")}, tc.args...)...).CombinedOutput()
			require.Error(t, err)
			require.Contains(t, string(out), "pg_dump: error: "+tc.want+"\n")

			archive := filepath.Join(t.TempDir(), "x.pgark")
			code, stderr := rt.pgarkCode(append(append(rt.connFlags(), "dump", "-f", archive), append(tc.args, "src")...)...)
			require.Equal(t, tc.code, code, stderr)
			require.Contains(t, stderr, tc.want)
			require.NoFileExists(t, archive)
		})
	}
}

// TestDumpWhere checks --where, which pg_dump lacks: only the matching
// rows of the tables it names are dumped; their definitions, and every
// other table, are whole.
func TestDumpWhere(t *testing.T) {
	rt := newSelectCluster(t)
	dir := t.TempDir()
	archive := filepath.Join(dir, "where.pgark")
	rt.pgark(nil, append(rt.connFlags(), "dump", "-j", "2", "-f", archive,
		"--where", "t1:id <= 2", // public.t1, the visible one
		"--where", `"with space"."a:b":v <> 'y'`,
		"--where", `"with space"."a:b":v <> 'z'`, // ANDed
		"--where", `"Mixed"."Orders":feeling = 'ok' AND id = 1`,
		"src")...)
	rt.c.CreateDB(t, "where")
	rt.pgark(nil, append(rt.connFlags(), "restore", "-d", "where", archive)...)

	require.Equal(t, rt.schemaDump("src"), rt.schemaDump("where"))
	src, got := rt.rows("src"), rt.rows("where")
	require.Equal(t, []string{"(1,a)", "(2,b)"}, got["public.t1"])
	require.Equal(t, []string{"(x)"}, got[`"with space"."a:b"`])
	require.Len(t, got[`"Mixed"."Orders"`], 1)
	for rel, rows := range src {
		switch rel {
		case "public.t1", `"with space"."a:b"`, `"Mixed"."Orders"`:
			continue
		}
		require.Equal(t, rows, got[rel], rel)
	}
}

func TestDumpWhereErrors(t *testing.T) {
	rt := newSelectCluster(t)
	tests := []struct {
		where, want string
		code        int
	}{
		{"nosuch:true", `no table matches the pattern "nosuch" of --where`, 1},
		{"v_t1:true", `no table matches the pattern "v_t1" of --where`, 1}, // a view has no rows to filter
		{`"Mixed".*:id = 1`, `column "id" does not exist`, 1},              // "Mixed".orders has none
		{"t1:id = ", `syntax error`, 1},
		{"t1", `invalid --where "t1": want TABLE:CONDITION`, 2},
		{":id = 1", `invalid --where ":id = 1": want TABLE:CONDITION`, 2},
		{"t1:  ", `invalid --where "t1:  ": want TABLE:CONDITION`, 2},
		{"a.b.c.d:true", `improper relation name (too many dotted names): a.b.c.d`, 2},
	}
	for _, tc := range tests {
		t.Run(tc.where, func(t *testing.T) {
			archive := filepath.Join(t.TempDir(), "x.pgark")
			code, stderr := rt.pgarkCode(append(rt.connFlags(), "dump", "-f", archive, "--where", tc.where, "src")...)
			require.Equal(t, tc.code, code, stderr)
			require.Contains(t, stderr, tc.want)
			require.NoFileExists(t, archive)
		})
	}
}
