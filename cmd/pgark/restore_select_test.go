package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Restore-side selection by name, judged by pg_restore 15: the select
// corpus is dumped once by pg_dump 15 -Fc and once by pgark; for each set
// of flags, pg_restore restores pg_dump's archive and pgark restore
// pgark's, each into a fresh database, and the two databases must be
// identical (pg_dump --schema-only and every table's rows, sequence
// values and large objects). --whole-table, which pg_restore lacks, is
// judged by pg_dump -t of the same table restored whole, and --filter by
// the flags it stands for.

// selectExtra adds to the select corpus what the restore tests name: a
// function with arguments, with a comment and a privilege.
const selectExtra = `CREATE FUNCTION plain.g(a integer, b text) RETURNS text LANGUAGE sql AS 'SELECT b || a';
COMMENT ON FUNCTION plain.g(integer, text) IS 'g';
REVOKE ALL ON FUNCTION plain.g(integer, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION plain.g(integer, text) TO "sel reader";`

// restoreSelectCase is one selection: the same flags for pg_restore and
// pgark restore unless pgRestore says otherwise.
type restoreSelectCase struct {
	name      string
	pgark     []string
	pgRestore []string // nil: pgark's
	// filter, if set, is given to pgark restore as a --filter file after
	// the pgark flags.
	filter string
	// setup runs in both databases first: what the selection needs and
	// does not restore.
	setup string
	// tables are the tables and materialized views the target has after
	// the restore (nil: not checked).
	tables []string
	stdin  bool // pgark restore reads the archive from stdin
}

func TestRestoreSelectMatchesPgRestore(t *testing.T) {
	rt := newSelectCluster(t)
	rt.c.Exec(t, "src", selectExtra)
	pgRestore, err := rt.c.ClientBin("pg_restore")
	require.NoError(t, err)
	dir := t.TempDir()
	pgArchive := filepath.Join(dir, "src.dump")
	out, err := exec.Command(rt.pgDump, "-Fc", "-f", pgArchive, "-d", rt.c.ConnString("src")).CombinedOutput()
	require.NoError(t, err, "pg_dump: %s", out)
	arkArchive := filepath.Join(dir, "src.pgark")
	rt.pgark(nil, append(rt.connFlags(), "dump", "-f", arkArchive, "src")...)

	const plainSchema = `CREATE SCHEMA plain;`
	plainTables := []string{"plain.child", "plain.grandchild", "plain.items", "plain.mv", "plain.parent", "plain.t1"}
	tests := []restoreSelectCase{
		{name: "tables alone, by exact name", setup: skeleton,
			pgark:  []string{"-t", "T1", "-t", "ab", "-t", "a+b", "-t", "x.y", "-t", "Orders", "-t", "nosuch", "-t", "a*"},
			tables: []string{`public."T1"`, "public.ab", `public."a+b"`, `"dot.ted"."x.y"`, `"Mixed"."Orders"`}},
		{name: "serial tables alone, without their sequences' defaults", setup: plainSchema, pgark: []string{"-t", "t1"},
			tables: []string{"plain.t1", "public.t1"}},
		{name: "sequences with their values", setup: skeleton, pgark: []string{"-t", "Orders", "-t", "Orders_id_seq", "-t", "s"},
			tables: []string{`"Mixed"."Orders"`}},
		{name: "materialized view and its refresh", pgark: []string{"-t", "mv"},
			setup:  plainSchema + `CREATE TABLE plain.items (id int, name text); INSERT INTO plain.items VALUES (1, 'x'), (2, 'y');`,
			tables: []string{"plain.items", "plain.mv"}},
		{name: "schema", setup: plainSchema, pgark: []string{"-n", "plain"}, tables: plainTables},
		{name: "schema with a trigger, a type and a foreign key", pgark: []string{"-n", "Mixed"},
			setup:  `CREATE SCHEMA "Mixed"; CREATE TABLE public.t1 (id int PRIMARY KEY); INSERT INTO public.t1 VALUES (1), (2), (3), (4);`,
			tables: []string{`"Mixed"."Orders"`, `"Mixed".orders`, "public.t1"}},
		{name: "schema names are not patterns", pgark: []string{"-n", "MIXED", "-n", "plai*", "-n", `"plain"`}, tables: []string{}},
		{name: "exclude schemas", pgark: []string{"-N", "plain", "-N", "Mixed", "-N", "nosuch"}},
		{name: "schema restricts tables", setup: plainSchema, pgark: []string{"-t", "items", "-t", "Orders", "-n", "plain"},
			tables: []string{"plain.items"}},
		{name: "exclude schema from tables", setup: skeleton, pgark: []string{"-t", "items", "-t", "Orders", "-t", "ab", "-N", "plain", "-N", "public"},
			tables: []string{`"Mixed"."Orders"`}},
		{name: "index", pgark: []string{"-I", "items_name", "-I", "items_pkey"},
			setup:  plainSchema + `CREATE TABLE plain.items (id int, name text NOT NULL);`,
			tables: []string{"plain.items"}},
		{name: "trigger by its entry name", pgark: []string{"-T", "Orders Touch it"},
			setup:  skeleton + `CREATE TABLE "Mixed"."Orders" (id int, note text);`,
			tables: []string{`"Mixed"."Orders"`}},
		{name: "trigger by its bare name", pgark: []string{"-T", "Touch it"}, tables: []string{}},
		{name: "functions with comment and privileges", setup: plainSchema, pgark: []string{"-P", "f()", "-P", "g(integer, text)", "-P", "g(integer,text)"},
			tables: []string{}},
		{name: "kinds add up", setup: `CREATE SCHEMA "Mixed"; CREATE TYPE "Mixed".mood AS ENUM ('sad', 'ok', 'happy');`, pgark: []string{"-P", "Touch()", "-t", "Orders", "-T", "Orders Touch it"},
			tables: []string{`"Mixed"."Orders"`}},
		{name: "schema only", setup: skeleton, pgark: []string{"-s", "-t", "ab", "-t", "Orders"},
			tables: []string{"public.ab", `"Mixed"."Orders"`}},
		{name: "data only", setup: `CREATE TABLE public.ab (x int); CREATE TABLE public.aab (x int);`, pgark: []string{"-a", "-t", "ab", "-n", "public"},
			tables: []string{"public.ab", "public.aab"}},
		{name: "no privileges, no comments", setup: plainSchema, pgark: []string{"-n", "plain", "-x", "--no-comments"}, tables: plainTables},
		{name: "from stdin", setup: skeleton, pgark: []string{"-t", "Orders", "-n", "Mixed"}, stdin: true,
			tables: []string{`"Mixed"."Orders"`}},
		{name: "filter file", pgark: []string{}, pgRestore: []string{"-t", "ab", "-t", "T1", "-t", "a:b", "-N", "plain"},
			filter: "# tables\ninclude table ab\nINCLUDE TABLE T1 # the upper-case one\ninclude table a:b\ninclude table \"ab\" # quotes are kept: no such table\n\nexclude schema plain\n",
			setup:  `CREATE SCHEMA "with space";`, tables: []string{"public.ab", `public."T1"`, `"with space"."a:b"`}},
		{name: "filter file and flags", setup: plainSchema, pgark: []string{"-n", "plain"}, pgRestore: []string{"-n", "plain", "-P", "f()"},
			filter: "include function f ( )\n", tables: []string{}},
		{name: "strict names that all select something", setup: skeleton,
			pgark:  []string{"--strict-names", "-t", "Orders", "-n", "Mixed", "-T", "Orders Touch it"},
			tables: []string{`"Mixed"."Orders"`}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rt := rt.in(t)
			pgArgs := tc.pgRestore
			if pgArgs == nil {
				pgArgs = tc.pgark
			}
			args := slices.Clone(tc.pgark)
			if tc.filter != "" {
				f := filepath.Join(t.TempDir(), "filter")
				require.NoError(t, os.WriteFile(f, []byte(tc.filter), 0o600))
				args = append(args, "--filter", f)
			}
			rt.compareRestores(pgRestore, fmt.Sprintf("rsel_%d", i), pgArchive, pgArgs, arkArchive, args, tc.setup, tc.stdin)
			if tc.tables != nil {
				require.ElementsMatch(t, tc.tables, rt.relations(fmt.Sprintf("rsel_%d_ark", i)))
			}
		})
	}

	// A name that selects nothing: both fail before restoring anything,
	// with the same message.
	t.Run("strict names, one selects nothing", func(t *testing.T) {
		rt := rt.in(t)
		for i, args := range [][]string{
			{"-t", "Orders", "-t", "nosuch"},
			{"-t", "Orders", "-n", "nosuch"},
			{"-n", "plain", "-I", "items_name", "-I", "items_pkey"}, // a constraint's index is no INDEX entry
			{"-T", "Touch it"},
		} {
			oracle, ark := fmt.Sprintf("rstrict_%d_oracle", i), fmt.Sprintf("rstrict_%d_ark", i)
			rt.c.CreateDB(t, oracle)
			rt.c.CreateDB(t, ark)
			out, err := exec.Command(pgRestore, slices.Concat([]string{"--strict-names", "-d", rt.c.ConnString(oracle)}, args, []string{pgArchive})...).CombinedOutput()
			require.Error(t, err, "pg_restore %v: %s", args, out)
			want, ok := strings.CutPrefix(strings.TrimSpace(string(out)), "pg_restore: error: ")
			require.True(t, ok, "pg_restore %v: %s", args, out)
			code, stderr := rt.pgarkCode(slices.Concat(rt.connFlags(), []string{"restore", "--strict-names", "-j", "2", "-d", ark}, args, []string{arkArchive})...)
			require.Equal(t, exitFailure, code, "pgark restore %v: %s", args, stderr)
			require.Contains(t, stderr, want, "pgark restore %v", args)
			require.Empty(t, rt.relations(oracle))
			require.Empty(t, rt.relations(ark), "pgark restore %v restored something", args)
		}
	})
}

// compareRestores restores pg_dump's archive with pg_restore pgArgs and
// pgark's with pgark restore args into two new databases (setup run in
// both first) and requires them to be identical.
func (rt *roundTrip) compareRestores(pgRestore, db, pgArchive string, pgArgs []string, arkArchive string, args []string, setup string, stdin bool) {
	t := rt.t
	t.Helper()
	oracle, ark := db+"_oracle", db+"_ark"
	rt.c.CreateDB(t, oracle)
	rt.c.CreateDB(t, ark)
	if setup != "" {
		rt.c.Exec(t, oracle, setup)
		rt.c.Exec(t, ark, setup)
	}
	out, err := exec.Command(pgRestore, append(append([]string{"-d", rt.c.ConnString(oracle)}, pgArgs...), pgArchive)...).CombinedOutput()
	require.NoError(t, err, "pg_restore %v: %s", pgArgs, out)
	cmd := append(append(rt.connFlags(), "restore", "-j", "2", "-d", ark), args...)
	if stdin {
		f, err := os.Open(arkArchive)
		require.NoError(t, err)
		defer f.Close()
		rt.pgark(f, append(cmd, "-")...)
	} else {
		rt.pgark(nil, append(cmd, arkArchive)...)
	}
	require.Empty(t, rt.differences(oracle, ark), "pgark restore %v against pg_restore %v", args, pgArgs)
}

// TestRestoreWholeTable checks --whole-table against pg_dump -t, which
// dumps a table with what belongs to it, restored by pg_restore; and that
// what belongs to the table is there.
func TestRestoreWholeTable(t *testing.T) {
	rt := newSelectCluster(t)
	pgRestore, err := rt.c.ClientBin("pg_restore")
	require.NoError(t, err)
	dir := t.TempDir()
	arkArchive := filepath.Join(dir, "src.pgark")
	rt.pgark(nil, append(rt.connFlags(), "dump", "-f", arkArchive, "src")...)

	// pg_dump -t's foreign key of "Mixed"."Orders" needs the table it
	// references, with the keys it holds.
	const t1 = `CREATE TABLE public.t1 (id int PRIMARY KEY, v text); INSERT INTO public.t1 VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd');`
	tests := []struct {
		name   string
		pgark  []string
		pgDump []string
		setup  string
		tables []string
	}{
		{name: "identity, check, foreign key, trigger, comment", pgark: []string{"--whole-table", "Orders"},
			pgDump: []string{"-t", `"Mixed"."Orders"`}, setup: skeleton + t1,
			tables: []string{`"Mixed"."Orders"`, "public.t1"}},
		{name: "serial, column comment and privilege, two schemas", pgark: []string{"--whole-table", "t1"},
			pgDump: []string{"-t", "public.t1", "-t", "plain.t1"}, setup: `CREATE SCHEMA plain;`,
			tables: []string{"public.t1", "plain.t1"}},
		{name: "index with a comment, materialized view", pgark: []string{"--whole-table", "items", "--whole-table", "mv", "-n", "plain"},
			pgDump: []string{"-t", "plain.items", "-t", "plain.mv"}, setup: `CREATE SCHEMA plain;`,
			tables: []string{"plain.items", "plain.mv"}},
		{name: "bigserial and column privilege, with a bare table", pgark: []string{"--whole-table", "a table", "-t", "a:b"},
			pgDump: []string{"-t", `"with space"."a table"`, "-t", `"with space"."a:b"`}, setup: `CREATE SCHEMA "with space";`,
			tables: []string{`"with space"."a table"`, `"with space"."a:b"`}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rt := rt.in(t)
			pgArchive := filepath.Join(dir, fmt.Sprintf("whole_%d.dump", i))
			out, err := exec.Command(rt.pgDump, append([]string{"-Fc", "-f", pgArchive, "-d", rt.c.ConnString("src")}, tc.pgDump...)...).CombinedOutput()
			require.NoError(t, err, "pg_dump %v: %s", tc.pgDump, out)
			db := fmt.Sprintf("whole_%d", i)
			rt.compareRestores(pgRestore, db, pgArchive, nil, arkArchive, tc.pgark, tc.setup, false)
			require.ElementsMatch(t, tc.tables, rt.relations(db+"_ark"))
		})
	}

	// What belongs to "Mixed"."Orders" arrived: its constraints, trigger,
	// identity sequence with its value, comment and rows.
	db := "whole_0_ark"
	q := func(sql string) string {
		t.Helper()
		return rt.c.QueryValue(t, db, sql)
	}
	require.Equal(t, "Orders_customer_fkey FOREIGN KEY (customer) REFERENCES t1(id), Orders_note_check CHECK ((note <> ''::text)), Orders_pkey PRIMARY KEY (id)",
		q(`SELECT string_agg(conname || ' ' || pg_get_constraintdef(oid), ', ' ORDER BY conname) FROM pg_constraint WHERE conrelid = '"Mixed"."Orders"'::regclass`))
	require.Equal(t, "Touch it", q(`SELECT tgname FROM pg_trigger WHERE tgrelid = '"Mixed"."Orders"'::regclass AND NOT tgisinternal`))
	require.Equal(t, "2", q(`SELECT last_value FROM "Mixed"."Orders_id_seq"`))
	require.Equal(t, "orders", q(`SELECT obj_description('"Mixed"."Orders"'::regclass, 'pg_class')`))
	require.Equal(t, "2", q(`SELECT count(*) FROM "Mixed"."Orders"`))
	// public.t1 and plain.t1: sequences owned, defaults, values, keys.
	db = "whole_1_ark"
	require.Equal(t, "public.t1_id_seq 4", q(`SELECT pg_get_serial_sequence('public.t1', 'id') || ' ' || last_value FROM public.t1_id_seq`))
	require.Equal(t, "plain.t1_id_seq 2", q(`SELECT pg_get_serial_sequence('plain.t1', 'id') || ' ' || last_value FROM plain.t1_id_seq`))
	require.Equal(t, "2", q(`SELECT count(*) FROM pg_index WHERE indisprimary AND indrelid IN ('public.t1'::regclass, 'plain.t1'::regclass)`))
	require.Equal(t, "t", q(`SELECT has_table_privilege('sel reader', 'public.t1', 'SELECT')`))
	require.Equal(t, "5", q(`INSERT INTO public.t1 (v) VALUES ('e') RETURNING id`))

	// On a stream the table's owned sequences would come before anything
	// says they are owned: --whole-table is refused there.
	f, err := os.Open(arkArchive)
	require.NoError(t, err)
	defer f.Close()
	rt.c.CreateDB(t, "whole_stream")
	r := pgarkCtx(t, t.Context(), f, append(rt.connFlags(), "restore", "-d", "whole_stream", "--whole-table", "t1", "-")...)
	require.Equal(t, 1, r.code, r.stderr)
	require.Contains(t, r.stderr, "--whole-table needs the whole table of contents first: restore from a file, not a stream")
}

// TestDumpFilterMatchesFlags checks dump --filter FILE (pg_dump 17's)
// against the flags it stands for: pgark dump with those flags, and
// pg_dump 15 with them (pg_dump 15 has no --filter), restored alike.
func TestDumpFilterMatchesFlags(t *testing.T) {
	rt := newSelectCluster(t)
	pgRestore, err := rt.c.ClientBin("pg_restore")
	require.NoError(t, err)
	dir := t.TempDir()
	tests := []struct {
		name, filter  string
		pgark, pgDump []string // pgDump nil: pgark's
		setup         string
		stdin         bool // --filter -
	}{
		{name: "include", setup: skeleton,
			filter: "# the visible one:\ninclude TABLE t1\n  include table_and_children plain . parent   # and its children\n",
			pgark:  []string{"-t", "t1", "--table-and-children", "plain.parent"},
			pgDump: []string{"-t", "t1", "-t", "plain.parent", "-t", "plain.child", "-t", "plain.grandchild"}},
		{name: "exclude",
			filter: "exclude schema plain\nexclude table_data \"Mixed\".*\nexclude table tx?\nexclude table_and_children nosuch\n" +
				"exclude table_data_and_children \"with space\".\"a:b\"\n",
			pgark: []string{"-N", "plain", "--exclude-table-data", `"Mixed".*`, "-T", "tx?", "--exclude-table-and-children", "nosuch",
				"--exclude-table-data-and-children", `"with space"."a:b"`},
			pgDump: []string{"-N", "plain", "--exclude-table-data", `"Mixed".*`, "-T", "tx?", "-T", "nosuch", "--exclude-table-data", `"with space"."a:b"`}},
		{name: "extensions", filter: "include extension plpgsql\ninclude schema plain\n", pgark: []string{"-e", "plpgsql", "-n", "plain"}},
		{name: "schemas from stdin", stdin: true,
			filter: "include schema \"with space\"\ninclude schema \"dot.ted\"\nexclude table \"with space\".\"a:b\"\n",
			pgark:  []string{"-n", `"with space"`, "-n", `"dot.ted"`, "-T", `"with space"."a:b"`}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rt := rt.in(t)
			pgDumpArgs := tc.pgDump
			if pgDumpArgs == nil {
				pgDumpArgs = tc.pgark
			}
			filter := filepath.Join(dir, fmt.Sprintf("filter_%d", i))
			require.NoError(t, os.WriteFile(filter, []byte(tc.filter), 0o600))
			filtered := filepath.Join(dir, fmt.Sprintf("filtered_%d.pgark", i))
			if tc.stdin {
				f, err := os.Open(filter)
				require.NoError(t, err)
				defer f.Close()
				rt.pgark(f, append(rt.connFlags(), "dump", "-f", filtered, "--filter", "-", "src")...)
			} else {
				rt.pgark(nil, append(rt.connFlags(), "dump", "-f", filtered, "--filter", filter, "src")...)
			}
			flagged := filepath.Join(dir, fmt.Sprintf("flagged_%d.pgark", i))
			rt.pgark(nil, append(append(rt.connFlags(), "dump", "-f", flagged), append(tc.pgark, "src")...)...)
			pgArchive := filepath.Join(dir, fmt.Sprintf("pg_dump_%d.dump", i))
			out, err := exec.Command(rt.pgDump, append([]string{"-Fc", "-f", pgArchive, "-d", rt.c.ConnString("src")}, pgDumpArgs...)...).CombinedOutput()
			require.NoError(t, err, "pg_dump %v: %s", pgDumpArgs, out)

			db := fmt.Sprintf("dfilter_%d", i)
			rt.compareRestores(pgRestore, db, pgArchive, nil, filtered, nil, tc.setup, false)
			rt.c.CreateDB(t, db+"_flags")
			if tc.setup != "" {
				rt.c.Exec(t, db+"_flags", tc.setup)
			}
			rt.pgark(nil, append(rt.connFlags(), "restore", "-d", db+"_flags", flagged)...)
			require.Empty(t, rt.differences(db+"_flags", db+"_ark"), "--filter against %v", tc.pgark)
			require.NotEmpty(t, rt.relations(db+"_ark"))
		})
	}
}

// TestFilterErrors checks what dump and restore say of a filter file they
// cannot take: pg_dump 17's and pg_restore 17's messages (filter.c,
// read_dump_filters, read_restore_filters), with the line, before any
// connection is made.
func TestFilterErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		verb, filter, want string
		code               int
	}{
		{"dump", "include table t\n\n  foo table x\n", `on line 3: invalid filter command (expected "include" or "exclude")`, 2},
		{"dump", "# c\n42 table x\n", `on line 2: no filter command found (expected "include" or "exclude")`, 2},
		{"dump", "include tables x\n", `on line 1: unsupported filter object type: "tables"`, 2},
		{"dump", "exclude\n", `on line 1: missing filter object type`, 2},
		{"dump", "include table \n", `on line 1: missing object name pattern`, 2},
		{"dump", "include table \"open\nstill\n", `on line 2: unexpected end of file`, 2},
		{"dump", "include function f()\n", `on line 1: include filter for "function" is not allowed`, 2},
		{"dump", "include table_data t\n", `on line 1: include filter for "table data" is not allowed`, 2},
		{"dump", "include table_data_and_children t\n", `on line 1: include filter for "table data and children" is not allowed`, 2},
		{"dump", "include index i\n", `on line 1: include filter for "index" is not allowed`, 2},
		{"dump", "exclude trigger x\n", `on line 1: exclude filter for "trigger" is not allowed`, 2},
		{"dump", "exclude foreign_data s\n", `on line 1: exclude filter for "foreign data" is not allowed`, 2},
		{"dump", "exclude database d\n", `on line 1: exclude filter for "database" is not allowed`, 2},
		{"dump", "exclude extension e\n", `on line 1: exclude filter for "extension" is not supported by pgark dump yet`, 2},
		{"dump", "include foreign_data s\n", `on line 1: include filter for "foreign data" is not supported by pgark dump yet`, 2},
		{"dump", "include table a.b.c.d\n", `improper relation name (too many dotted names): a.b.c.d`, 2},
		{"restore", "include table t\nexclude table t\n", `on line 2: exclude filter for "table" is not allowed`, 2},
		{"restore", "include table_and_children t\n", `on line 1: include filter for "table and children" is not allowed`, 2},
		{"restore", "include table_data t\n", `on line 1: include filter for "table data" is not allowed`, 2},
		{"restore", "include extension e\n", `on line 1: include filter for "extension" is not allowed`, 2},
		{"restore", "exclude function f()\n", `on line 1: exclude filter for "function" is not allowed`, 2},
		{"restore", "exclude index i\n", `on line 1: exclude filter for "index" is not allowed`, 2},
		{"restore", "include trigger t\ninclude schema\n", `on line 2: missing object name pattern`, 2},
	}
	for i, tc := range tests {
		t.Run(fmt.Sprintf("%s %d", tc.verb, i), func(t *testing.T) {
			filter := filepath.Join(dir, fmt.Sprintf("filter_%d", i))
			require.NoError(t, os.WriteFile(filter, []byte(tc.filter), 0o600))
			out := filepath.Join(dir, fmt.Sprintf("out_%d", i))
			args := []string{"dump", "-f", out, "--filter", filter, "nosuchdb"}
			if tc.verb == "restore" {
				args = []string{"restore", "-f", out, "--filter", filter, filepath.Join(dir, "nosuch.pgark")}
			}
			r := pgark(t, nil, args...)
			require.Equal(t, tc.code, r.code, r.stderr)
			want := tc.want
			if strings.HasPrefix(want, "on line") {
				want = fmt.Sprintf(`invalid format in filter read from file "%s" %s`, filter, want)
			}
			require.Contains(t, r.stderr, want)
			require.NoFileExists(t, out)
		})
	}

	r := pgark(t, strings.NewReader("exclude table t\n"), "restore", "-f", "-", "--filter", "-", filepath.Join(dir, "nosuch.pgark"))
	require.Equal(t, 2, r.code, r.stderr)
	require.Contains(t, r.stderr, `invalid format in filter read from standard input on line 1: exclude filter for "table" is not allowed`)
	r = pgark(t, nil, "restore", "-f", "-", "--filter", "-")
	require.Equal(t, 2, r.code, r.stderr)
	require.Contains(t, r.stderr, "--filter - and the archive cannot both be read from stdin")
	r = pgark(t, nil, "dump", "--filter", filepath.Join(dir, "nosuch"), "nosuchdb")
	require.Equal(t, 1, r.code, r.stderr)
	require.Contains(t, r.stderr, "could not open filter file")
}
