package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/internal/testcluster"
)

// kindsOfTOC are the archive entry kinds of the objects that are no
// relation, type or function, longest first (so that "PUBLICATION TABLE"
// is not read as "PUBLICATION").
var kindsOfTOC = []string{
	"PUBLICATION TABLES IN SCHEMA", "TEXT SEARCH CONFIGURATION", "TEXT SEARCH DICTIONARY", "TEXT SEARCH TEMPLATE",
	"FOREIGN DATA WRAPPER", "TEXT SEARCH PARSER", "PROCEDURAL LANGUAGE", "PUBLICATION TABLE", "OPERATOR FAMILY",
	"OPERATOR CLASS", "FOREIGN TABLE", "ACCESS METHOD", "EVENT TRIGGER", "USER MAPPING", "SUBSCRIPTION",
	"DEFAULT ACL", "PUBLICATION", "CONVERSION", "AGGREGATE", "COLLATION", "EXTENSION", "TRANSFORM", "OPERATOR",
	"SERVER", "CAST",
}

// countKinds counts the entries of each of kindsOfTOC in a listing
// (pgark list, or pg_restore -l), by the kind that follows the section
// or the catalog OIDs.
func countKinds(listing string) map[string]int {
	n := map[string]int{}
	for _, l := range strings.Split(listing, "\n") {
		if l == "" || strings.HasPrefix(l, ";") {
			continue
		}
		f := strings.Fields(l)
		if len(f) < 3 {
			continue
		}
		rest := strings.Join(f[3:], " ") + " " // pg_restore -l: ID; class oid KIND ...
		if slices.Contains([]string{"pre-data", "data", "post-data", "none"}, f[1]) {
			rest = strings.Join(f[2:], " ") + " " // pgark list: ID; section KIND ...
		}
		for _, k := range kindsOfTOC {
			if strings.HasPrefix(rest, k+" ") {
				n[k]++
				break
			}
		}
	}
	return n
}

// TestDumpKindSelection judges -e, -n, --no-publications and
// --no-subscriptions on the kinds of corpus-kinds.sql by pg_dump 15: for
// each, pgark's archive must hold as many entries of each kind as pg_dump's.
func TestDumpKindSelection(t *testing.T) {
	c := testcluster.Start(t, testcluster.WithMajor(15))
	rt := newRoundTrip(t, c)
	pgRestore, err := c.ClientBin("pg_restore")
	require.NoError(t, err)
	if rt.pgDump == "" {
		t.Skip("no pg_dump that reads PostgreSQL 15")
	}
	dir := t.TempDir()
	for i, flags := range [][]string{
		nil,
		{"-e", "hstore"},
		{"-e", "pg_*", "-e", "plpgsql"},
		{"-n", "kinds"},
		{"-n", "kinds", "-e", "hstore"},
		{"--no-publications", "--no-subscriptions", "--no-security-labels"},
	} {
		t.Run(strings.Join(append([]string{"flags"}, flags...), " "), func(t *testing.T) {
			rt := rt.in(t)
			theirs := filepath.Join(dir, fmt.Sprintf("pg_dump%d", i))
			out, err := exec.Command(rt.pgDump, append([]string{"-Fc", "-f", theirs, "-d", rt.c.ConnString("src")}, flags...)...).CombinedOutput()
			require.NoError(t, err, "pg_dump: %s", out)
			list, err := exec.Command(pgRestore, "-l", theirs).CombinedOutput()
			require.NoError(t, err, "pg_restore -l: %s", list)
			want := countKinds(string(list))

			ours := filepath.Join(dir, fmt.Sprintf("pgark%d", i))
			rt.pgark(nil, append(append(rt.connFlags(), "dump", "-f", ours), append(flags, "src")...)...)
			got := countKinds(rt.pgark(nil, "list", ours))
			for _, k := range kindsOfTOC {
				if got[k] != want[k] {
					t.Errorf("%s: pgark dumps %d, pg_dump %d", k, got[k], want[k])
				}
			}
			if len(flags) == 0 {
				// The corpus has every kind but those PostgreSQL 15 lacks.
				for _, k := range kindsOfTOC {
					if want[k] == 0 {
						t.Errorf("the corpus has no %s", k)
					}
				}
			}
		})
	}
}
