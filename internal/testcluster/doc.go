// Package testcluster runs throwaway PostgreSQL clusters for tests and
// benchmarks: real servers, never mocks, of any major version available.
//
// # Use
//
// In a test:
//
//	c := testcluster.Start(t, testcluster.WithMajor(16), testcluster.WithTCP())
//	c.CreateDB(t, "shop")
//	c.Exec(t, "shop", "CREATE TABLE t (id int)")
//	conn, err := c.Connect(ctx, "shop")          // pgx
//	cmd.Env = append(os.Environ(), c.Env("shop")...) // psql, pg_dump...
//
// Start registers a cleanup that prints the tail of the server log when the
// test failed, stops the server and removes every file. Benchmarks and
// programs use New with a Config and Close instead.
//
// # What a cluster is
//
// initdb (superuser "postgres", trust authentication, UTF8, locale C, data
// checksums on, --no-sync) into a fresh directory under $TMPDIR or /tmp that
// holds the data directory, the server log (beside the data directory, so
// base backups do not copy it) and the unix socket. The server listens on
// that socket only, or also on 127.0.0.1 with WithTCP; its port is always a
// free one, and names the socket. It allows replication (wal_level=replica,
// max_wal_senders and max_replication_slots 10, pg_hba trust lines for
// replication over the socket and loopback) and runs with fsync=off unless
// WithFsync. WithConfig appends postgresql.conf lines, WithHBA prepends
// pg_hba.conf lines.
//
// The postmaster is a direct child of the test process (no pg_ctl) in its
// own process group, so a terminal's ^C does not reach it; it is told to
// shut down immediately if the test binary dies without cleaning up (a
// go test timeout, say), though its pgark-tc-* directory then stays behind.
// Readiness is checked by connecting, within Config.StartTimeout; start
// errors carry the tail of the server log.
//
// When the tests run as root, initdb and postgres run as the "postgres" OS
// user (exec credentials, not su), which must exist and be able to reach the
// binaries; the cluster directory is given to that user.
//
// # Where the binaries come from
//
// See DefaultSearch: $PGARK_PG_BIN names one bin directory; otherwise
// /usr/lib/postgresql/<major>/bin and the cache filled by
// scripts/install-postgres.sh (<repo root>/.cache/pg/<major>/bin, or
// $PGARK_PG_CACHE). Without a major, the newest one found is used. Majors
// lists what is available. Symlinks are resolved, so a cache entry that
// links to a world-readable directory is run from there. Cluster.ClientBin
// finds client tools (psql, pg_dump, pg_verifybackup), which the npm-built
// majors lack, in the machine's newest PostgreSQL.
//
// When nothing matches, New's error wraps ErrNoBinaries and Start skips the
// test, except in CI (CI=true), where it fails.
//
// # Concurrency
//
// Clusters share nothing: each has its own directory, port and processes,
// and the package has no global state, so parallel tests may each start
// their own. A Cluster's accessors, ConnString, Env, Connect, ClientBin and
// the testing helpers may be called from any goroutine. The lifecycle
// methods (Stop, Kill, Restart, Close) are serialized by the Cluster and
// may race with the others only in the obvious way: a connection opened
// while the server stops fails.
package testcluster
