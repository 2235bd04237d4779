package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/internal/testcluster"
)

// One pgark binary for PostgreSQL 13 to 18: TestLogicalRoundTrip runs the
// round trip on every installed major, and TestCrossVersion restores the
// archive of each installed major into the next newer one, and the oldest's
// into the newest, judged by the catalog signature (signature_test.go) and
// the rows. What is installed is the matrix: `make test` on a fresh machine
// has only the machine's PostgreSQL, `make test-all-versions` installs 13 to
// 18 and sets PGARK_ALL_VERSIONS=1, which makes these tests fail, not
// shrink, when one of those majors is missing.

// supportedMajors are the majors pgark supports (README, Status).
var supportedMajors = []int{13, 14, 15, 16, 17, 18}

// envAllVersions, when set (and not 0 or false), requires every supported
// major to be installed.
const envAllVersions = "PGARK_ALL_VERSIONS"

func requireAllMajors(t *testing.T) {
	t.Helper()
	if v := os.Getenv(envAllVersions); v == "" || v == "0" || v == "false" {
		return
	}
	installed := testcluster.Majors()
	var missing []string
	for _, m := range supportedMajors {
		if !slices.Contains(installed, m) {
			missing = append(missing, fmt.Sprint(m))
		}
	}
	if len(missing) > 0 {
		t.Fatalf("%s is set but PostgreSQL %s missing (installed: %v); run scripts/install-postgres.sh %s",
			envAllVersions, strings.Join(missing, ", "), installed, strings.Join(missing, " "))
	}
}

// crossPairs lists the (source, target) majors to restore across: each
// major into the next, and the oldest into the newest.
func crossPairs(majors []int) [][2]int {
	var pairs [][2]int
	for i := 0; i+1 < len(majors); i++ {
		pairs = append(pairs, [2]int{majors[i], majors[i+1]})
	}
	if len(majors) > 2 {
		pairs = append(pairs, [2]int{majors[0], majors[len(majors)-1]})
	}
	return pairs
}

func TestCrossVersion(t *testing.T) {
	requireAllMajors(t)
	majors := testcluster.Majors()
	if len(majors) < 2 {
		t.Skipf("one PostgreSQL major installed (%v): nothing to restore across; make test-all-versions installs 13 to 18", majors)
	}
	t.Parallel()

	// One cluster per major, each with the corpus for its major in database
	// src and pgark's archive of it.
	type source struct {
		c       *testcluster.Cluster
		archive string
	}
	dir := t.TempDir()
	sources := map[int]source{}
	for _, major := range majors {
		c := testcluster.Start(t, testcluster.WithMajor(major))
		rt := newRoundTrip(t, c)
		archive := filepath.Join(dir, fmt.Sprintf("pg%d.pgark", major))
		rt.pgark(nil, append(rt.connFlags(), "dump", "-j", "2", "-f", archive, "src")...)
		sources[major] = source{c: c, archive: archive}
	}

	for _, pair := range crossPairs(majors) {
		from, to := sources[pair[0]], sources[pair[1]]
		t.Run(fmt.Sprintf("pg%d_to_pg%d", pair[0], pair[1]), func(t *testing.T) {
			t.Parallel()
			rt := &roundTrip{t: t, c: to.c}
			db := fmt.Sprintf("from_pg%d", pair[0])
			to.c.CreateDB(t, db)
			rt.pgark(nil, append(rt.connFlags(), "restore", "-j", "2", "-d", db, from.archive)...)
			want := portableSignature(signature(t, from.c, "src"), pair[0], pair[1])
			got := portableSignature(signature(t, to.c, db), pair[0], pair[1])
			require.Empty(t, signatureDiff(want, got), "PostgreSQL %d's archive restored into %d", pair[0], pair[1])
			require.Empty(t, rowDifferences(tableRows(t, from.c, "src"), tableRows(t, to.c, db)))
		})
	}
}

// versionRule is a difference between two majors in how the server itself
// records or prints the same objects: it applies when the source is older
// than major since and the target is not. rewrite returns the line to
// compare in place of line, or false to leave the line out.
type versionRule struct {
	since   int
	why     string
	rewrite func(line string) (string, bool)
}

var (
	// A qualifier before a name: `"Orders".` or `base_types.`.
	qualifierRE = regexp.MustCompile(`(?:"(?:[^"]|"")+"|[a-z_][a-z0-9_$]*)\.`)
	// An ACL item's privileges: `alice=arwdDxtm/alice` (grant options as `*`).
	aclPrivsRE = regexp.MustCompile(`=([A-Za-z*]*)/`)
	// A transform's identity before 16: `transform for T on language L`.
	transformOnRE = regexp.MustCompile(`(transform for \S+) on language `)
	// A foreign key constraint the server made for a referenced partition
	// before 18: `hashed_ref_k_fkey1 on`.
	fkeyCloneRE = regexp.MustCompile(`(\S+)_fkey(\d+)( on )`)
)

// versionRules, by the major that brought each difference.
var versionRules = []versionRule{
	{14, "operator classes: 14+ records a class's operators and support functions as depending on the family (a), 13 on the class (i) and on the operator or function (n)", func(l string) (string, bool) {
		return l, !strings.HasPrefix(l, "depend operator of access method ") && !strings.HasPrefix(l, "depend function of access method ")
	}},
	{14, "aggregates: 14+ no longer records an aggregate's dependency on its support functions as a normal dependency of the aggregate", func(l string) (string, bool) {
		return l, !(strings.HasPrefix(l, "depend aggregate ") && strings.Contains(l, " -> function ") && strings.HasSuffix(l, " (n)"))
	}},
	{15, "generated columns: 15+ records the expression's dependencies on the default (attrdef), not on the column", func(l string) (string, bool) {
		return l, !strings.HasPrefix(l, "depend default value for ") &&
			!(strings.HasPrefix(l, "depend table column ") && strings.HasSuffix(l, " (a)"))
	}},
	{15, "triggers: 15+ shows the triggers it clones onto partitions (marked clone here); 14 and older mark them internal", func(l string) (string, bool) {
		return l, !(strings.HasPrefix(l, "trigger ") && strings.HasSuffix(l, " clone"))
	}},
	{15, "views: 15+ records a view's dependencies on the columns of the views it reads through functions (for a view that reads itself so, in place of its rule's dependency on the view)", func(l string) (string, bool) {
		return l, !(strings.HasPrefix(l, `depend rule "_RETURN" on `) && strings.Contains(l, " -> view column ")) && !viewSelfEdge(l)
	}},
	{15, "sequences: 15+ gives an unlogged table's identity and serial sequences its persistence; older majors have no unlogged sequences", func(l string) (string, bool) {
		if strings.HasPrefix(l, "relation ") && strings.Contains(l, " kind=S ") {
			return strings.Replace(l, " persistence=u ", " persistence=p ", 1), true
		}
		return l, true
	}},
	{16, "transforms: 16+ names a transform \"transform for T language L\", older majors \"transform for T on language L\"", func(l string) (string, bool) {
		return transformOnRE.ReplaceAllString(l, "${1} language "), true
	}},
	{16, "views: 16+ no longer records a view's rule depending on its own view", func(l string) (string, bool) {
		return l, !viewSelfEdge(l)
	}},
	{16, "views: 16+ pg_get_viewdef leaves out qualifiers a name does not need", func(l string) (string, bool) {
		if strings.HasPrefix(l, "view ") {
			name, def, _ := strings.Cut(l, " def=")
			return name + " def=" + qualifierRE.ReplaceAllString(def, ""), true
		}
		return l, true
	}},
	{17, "privileges: 17+ has MAINTAIN (m), which a table owner holds by default", func(l string) (string, bool) {
		if !strings.HasPrefix(l, "relation ") {
			return l, true
		}
		return aclPrivsRE.ReplaceAllStringFunc(l, func(item string) string {
			return strings.NewReplacer("m*", "", "m", "").Replace(item)
		}), true
	}},
	{17, "domains: 17+ records NOT NULL of a domain as a constraint (typnotnull says it either way)", func(l string) (string, bool) {
		return l, !(strings.HasPrefix(l, "constraint ") && strings.Contains(l, " on domain ") && strings.Contains(l, " type=n "))
	}},
	{18, "foreign keys: 18+ names the constraints it makes for each partition of a referenced partitioned table NAME_fkey_1, NAME_fkey_2..., older majors NAME_fkey1...", func(l string) (string, bool) {
		return fkeyCloneRE.ReplaceAllString(l, "${1}_fkey_${2}${3}"), true
	}},
	{18, "tables: 18+ records NOT NULL of a column as a constraint (attnotnull says it either way)", func(l string) (string, bool) {
		return l, !(strings.HasPrefix(l, "constraint ") && !strings.Contains(l, " on domain ") && strings.Contains(l, " type=n "))
	}},
}

// viewSelfEdge reports whether a signature line is the dependency of a
// view's rule on its own view.
func viewSelfEdge(l string) bool {
	rest, ok := strings.CutPrefix(l, `depend rule "_RETURN" on `)
	if !ok {
		return false
	}
	view, ref, _ := strings.Cut(rest, " -> ")
	return ref == "view "+view+" (n)" || ref == "materialized view "+view+" (n)"
}

// portableSignature applies to a signature the rules of every difference
// between majors from and to: what differs between a database on major from
// and its restore on major to because of the servers alone, not of the
// restore.
func portableSignature(lines []string, from, to int) []string {
	var out []string
	for _, l := range lines {
		keep := true
		for _, r := range versionRules {
			if keep && from < r.since && r.since <= to {
				l, keep = r.rewrite(l)
			}
		}
		if keep {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return out
}
