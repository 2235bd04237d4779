package testcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EachMajor runs fn in a parallel subtest per PostgreSQL major installed on
// the machine (Majors), named pg13, pg15..., each with its own cluster
// started with opts. With none installed it runs once on whatever Start
// finds, so that Start skips, or fails in CI.
func EachMajor(t *testing.T, fn func(t *testing.T, c *Cluster), opts ...Option) {
	t.Helper()
	majors := Majors()
	if len(majors) == 0 {
		t.Run("default", func(t *testing.T) { fn(t, Start(t, opts...)) })
		return
	}
	for _, major := range majors {
		t.Run(fmt.Sprintf("pg%d", major), func(t *testing.T) {
			t.Parallel()
			fn(t, Start(t, append(slices.Clone(opts), WithMajor(major))...))
		})
	}
}

// helperTimeout bounds Exec, QueryValue and CreateDB.
const helperTimeout = 2 * time.Minute

// Start creates and starts a cluster for the test, and registers a cleanup
// that prints the tail of the server log if the test failed, stops the
// server and removes its files.
//
// When no server binaries match (no PostgreSQL installed, or not the major
// asked for), the test is skipped, except in CI (CI set in the environment,
// and not "false" or "0"), where it fails: CI must never silently test
// nothing. Any other error fails the test.
func Start(t testing.TB, opts ...Option) *Cluster {
	t.Helper()
	var cfg Config
	for _, opt := range opts {
		opt(&cfg)
	}
	c, err := New(t.Context(), cfg)
	if err != nil {
		if errors.Is(err, ErrNoBinaries) && !inCI() {
			t.Skipf("%v\nInstall server binaries with scripts/install-postgres.sh [MAJOR ...], or set %s to a bin directory.",
				err, EnvBinDir)
		}
		if errors.Is(err, ErrNoBinaries) {
			t.Fatalf("%v\nCI must provide them: run scripts/install-postgres.sh [MAJOR ...] first.", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("PostgreSQL %s server log %s (tail):\n%s", c.Version(), c.LogPath(), c.logTail(64<<10))
		}
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	})
	return c
}

// inCI reports whether the environment says this is a CI run.
func inCI() bool {
	v := os.Getenv("CI")
	return v != "" && v != "false" && v != "0"
}

// Exec runs sql (one or more statements, simple protocol) in database db
// and fails the test on error.
func (c *Cluster) Exec(t testing.TB, db, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), helperTimeout)
	defer cancel()
	conn, err := c.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.PgConn().Exec(ctx, sql).ReadAll(); err != nil {
		t.Fatalf("testcluster: exec in database %q: %v\n%s", db, err, sql)
	}
}

// QueryValue runs sql in database db and returns the first column of the
// first row as text ("" for NULL); it fails the test on error or when there
// is no row.
func (c *Cluster) QueryValue(t testing.TB, db, sql string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), helperTimeout)
	defer cancel()
	conn, err := c.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	results, err := conn.PgConn().Exec(ctx, sql).ReadAll()
	if err != nil {
		t.Fatalf("testcluster: query in database %q: %v\n%s", db, err, sql)
	}
	for _, r := range results {
		if len(r.Rows) > 0 && len(r.Rows[0]) > 0 {
			return string(r.Rows[0][0])
		}
	}
	t.Fatalf("testcluster: query in database %q returned no value\n%s", db, sql)
	return ""
}

// CreateDB creates database name and fails the test on error.
func (c *Cluster) CreateDB(t testing.TB, name string) {
	t.Helper()
	c.Exec(t, "postgres", "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
}
