package testcluster_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/internal/testcluster"
)

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestStartDefault(t *testing.T) {
	t.Parallel()
	c := testcluster.Start(t)

	majors := testcluster.Majors()
	require.NotEmpty(t, majors)
	assert.Equal(t, majors[len(majors)-1], c.Major(), "default is the newest major")

	num, err := strconv.Atoi(c.QueryValue(t, "postgres", "SHOW server_version_num"))
	require.NoError(t, err)
	assert.Equal(t, c.Major(), num/10000)
	assert.True(t, strings.HasPrefix(c.QueryValue(t, "postgres", "SHOW server_version"), c.Version()))

	for setting, want := range map[string]string{
		"data_checksums":   "on",
		"fsync":            "off",
		"wal_level":        "replica",
		"listen_addresses": "",
		"server_encoding":  "UTF8",
		"port":             strconv.Itoa(c.Port()),
		"data_directory":   c.DataDir(),
	} {
		assert.Equal(t, want, c.QueryValue(t, "postgres", "SHOW "+setting), setting)
	}
	assert.Equal(t, "C", c.QueryValue(t, "postgres", "SELECT datcollate FROM pg_database WHERE datname = 'postgres'"))
	assert.Equal(t, "postgres", c.QueryValue(t, "postgres", "SELECT current_user"))
	assert.Equal(t, "postgres", c.User())
	assert.Equal(t, c.SocketDir(), c.Host())
	assert.FileExists(t, filepath.Join(c.Host(), ".s.PGSQL."+strconv.Itoa(c.Port())))
	assert.FileExists(t, c.LogPath())
	assert.FileExists(t, filepath.Join(c.BinDir(), "postgres"))

	ctx := testContext(t)
	conn, err := c.Connect(ctx, "postgres")
	require.NoError(t, err)
	defer conn.Close(ctx)
	var n int
	require.NoError(t, conn.QueryRow(ctx, "SELECT 40 + $1::int", 2).Scan(&n))
	assert.Equal(t, 42, n)

	// A database name that needs quoting in connection strings.
	const name = `my "odd" db's name`
	c.CreateDB(t, name)
	assert.Equal(t, name, c.QueryValue(t, name, "SELECT current_database()"))
	c.Exec(t, name, "CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2)")
	assert.Equal(t, "2", c.QueryValue(t, name, "SELECT count(*) FROM t"))

	psql, err := c.ClientBin("psql")
	require.NoError(t, err)
	cmd := exec.CommandContext(ctx, psql, "-XAt", "-d", c.ConnString(name), "-c", "SELECT count(*) FROM t")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, "2", strings.TrimSpace(string(out)))

	_, err = c.ClientBin("no_such_tool_xyz")
	require.Error(t, err)
}

func TestTCPAndReplication(t *testing.T) {
	t.Parallel()
	c := testcluster.Start(t, testcluster.WithTCP())
	assert.Equal(t, "127.0.0.1", c.Host())
	assert.Equal(t, "127.0.0.1", c.QueryValue(t, "postgres", "SHOW listen_addresses"))
	// inet_server_addr is NULL over a unix socket.
	assert.Equal(t, "127.0.0.1", c.QueryValue(t, "postgres", "SELECT host(inet_server_addr())"))
	assert.Equal(t, strconv.Itoa(c.Port()), c.QueryValue(t, "postgres", "SELECT inet_server_port()"))
	// The socket is there too.
	assert.FileExists(t, filepath.Join(c.SocketDir(), ".s.PGSQL."+strconv.Itoa(c.Port())))

	sysid := c.QueryValue(t, "postgres", "SELECT system_identifier FROM pg_control_system()")
	socket := "host=" + c.SocketDir() + " port=" + strconv.Itoa(c.Port()) + " user=postgres dbname=postgres"
	for name, connString := range map[string]string{
		"tcp physical":    c.ConnString("postgres") + " replication=true",
		"tcp logical":     c.ConnString("postgres") + " replication=database",
		"socket physical": socket + " replication=true",
		"socket logical":  socket + " replication=database",
	} {
		t.Run(name, func(t *testing.T) {
			cols := identifySystem(t, connString)
			assert.Equal(t, sysid, cols["systemid"])
			assert.Equal(t, "1", cols["timeline"])
			assert.NotEmpty(t, cols["xlogpos"])
			if strings.HasSuffix(name, "logical") {
				assert.Equal(t, "postgres", cols["dbname"])
			} else {
				assert.Empty(t, cols["dbname"])
			}
		})
	}
}

func TestConfigAndHBA(t *testing.T) {
	t.Parallel()
	c := testcluster.Start(t,
		testcluster.WithConfig("archive_mode = on", "archive_command = '/bin/true %p'"),
		testcluster.WithConfig("wal_level = logical"), // overrides the default
		testcluster.WithFsync(),
		testcluster.WithHBA("local nope all reject"),
	)
	assert.Equal(t, "on", c.QueryValue(t, "postgres", "SHOW archive_mode"))
	assert.Equal(t, "/bin/true %p", c.QueryValue(t, "postgres", "SHOW archive_command"))
	assert.Equal(t, "logical", c.QueryValue(t, "postgres", "SHOW wal_level"))
	assert.Equal(t, "on", c.QueryValue(t, "postgres", "SHOW fsync"))

	c.CreateDB(t, "nope")
	ctx := testContext(t)
	_, err := c.Connect(ctx, "nope")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pg_hba.conf rejects connection")
}

// identifySystem opens a replication connection and runs IDENTIFY_SYSTEM,
// returning its columns by name.
func identifySystem(t *testing.T, connString string) map[string]string {
	t.Helper()
	ctx := testContext(t)
	cfg, err := pgconn.ParseConfig(connString)
	require.NoError(t, err)
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	require.NoError(t, err)
	defer conn.Close(ctx)
	results, err := conn.Exec(ctx, "IDENTIFY_SYSTEM").ReadAll()
	require.NoError(t, err)
	require.Len(t, results, 1)
	require.Len(t, results[0].Rows, 1)
	cols := map[string]string{}
	for i, fd := range results[0].FieldDescriptions {
		cols[fd.Name] = string(results[0].Rows[0][i])
	}
	return cols
}

func TestParallelClusters(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	clusters := make([]*testcluster.Cluster, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range clusters {
		wg.Go(func() {
			clusters[i], errs[i] = testcluster.New(ctx, testcluster.Config{TCP: i == 1})
		})
	}
	wg.Wait()
	for i, c := range clusters {
		if c != nil {
			t.Cleanup(func() { assert.NoError(t, c.Close()) })
		}
		require.NoError(t, errs[i])
	}
	a, b := clusters[0], clusters[1]
	assert.NotEqual(t, a.Port(), b.Port())
	assert.NotEqual(t, a.DataDir(), b.DataDir())

	a.Exec(t, "postgres", "CREATE TABLE only_in_a (id int)")
	assert.Equal(t, "1", a.QueryValue(t, "postgres", "SELECT count(*) FROM pg_class WHERE relname = 'only_in_a'"))
	assert.Equal(t, "0", b.QueryValue(t, "postgres", "SELECT count(*) FROM pg_class WHERE relname = 'only_in_a'"))
	const sysid = "SELECT system_identifier FROM pg_control_system()"
	assert.NotEqual(t, a.QueryValue(t, "postgres", sysid), b.QueryValue(t, "postgres", sysid))
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c, err := testcluster.New(ctx, testcluster.Config{})
	require.NoError(t, err)
	dir := c.SocketDir()
	t.Cleanup(func() { _ = c.Close() })

	c.Exec(t, "postgres", "CREATE TABLE t (id int); INSERT INTO t VALUES (1)")
	port := c.Port()

	// Immediate shutdown, then crash recovery keeps committed data.
	require.NoError(t, c.Kill(ctx))
	assert.False(t, c.Running())
	_, err = c.Connect(ctx, "postgres")
	require.Error(t, err)
	require.NoError(t, c.Restart(ctx))
	assert.True(t, c.Running())
	assert.Equal(t, port, c.Port())
	assert.Equal(t, "1", c.QueryValue(t, "postgres", "SELECT count(*) FROM t"))
	log, err := os.ReadFile(c.LogPath())
	require.NoError(t, err)
	assert.Contains(t, string(log), "database system was not properly shut down")

	// A server stopped behind our back is just started again.
	pidFile, err := os.ReadFile(filepath.Join(c.DataDir(), "postmaster.pid"))
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.SplitN(string(pidFile), "\n", 2)[0])
	require.NoError(t, err)
	require.NoError(t, syscall.Kill(pid, syscall.SIGQUIT))
	require.Eventually(t, func() bool { return !c.Running() }, time.Minute, 10*time.Millisecond)
	require.NoError(t, c.Restart(ctx))
	assert.Equal(t, "1", c.QueryValue(t, "postgres", "SELECT count(*) FROM t"))

	// Fast shutdown, stop twice, restart.
	c.Exec(t, "postgres", "INSERT INTO t VALUES (2)")
	require.NoError(t, c.Stop(ctx))
	require.NoError(t, c.Stop(ctx))
	assert.False(t, c.Running())
	require.NoError(t, c.Restart(ctx))
	require.NoError(t, c.Restart(ctx)) // restart of a running server
	assert.Equal(t, "2", c.QueryValue(t, "postgres", "SELECT count(*) FROM t"))

	require.NoError(t, c.Close())
	require.NoError(t, c.Close())
	assert.NoDirExists(t, dir)
	require.Error(t, c.Restart(ctx))
}

func TestStartTimeout(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(testContext(t))
	cancel()
	_, err := testcluster.New(ctx, testcluster.Config{})
	require.Error(t, err)
}

func TestBadConfigReportsServerLog(t *testing.T) {
	t.Parallel()
	_, err := testcluster.New(testContext(t), testcluster.Config{PostgresqlConf: []string{"no_such_setting = 1"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unrecognized configuration parameter "no_such_setting"`)
	assert.Contains(t, err.Error(), "server log")
}

// TestEveryMajor starts, uses and stops a cluster of every major available.
// Run scripts/install-postgres.sh 13 14 16 17 18 to have more of them.
func TestEveryMajor(t *testing.T) {
	t.Parallel()
	t.Logf("majors available: %v", testcluster.Majors())
	testcluster.EachMajor(t, func(t *testing.T, c *testcluster.Cluster) {
		major := c.Major()
		require.Equal(t, "pg"+strconv.Itoa(major), t.Name()[strings.LastIndex(t.Name(), "/")+1:])
		num, err := strconv.Atoi(c.QueryValue(t, "postgres", "SHOW server_version_num"))
		require.NoError(t, err)
		assert.Equal(t, major, num/10000)
		assert.Equal(t, "on", c.QueryValue(t, "postgres", "SHOW data_checksums"))
		cols := identifySystem(t, c.ConnString("postgres")+" replication=true")
		assert.NotEmpty(t, cols["systemid"])

		// A client tool from whichever installation has it.
		psql, err := c.ClientBin("psql")
		require.NoError(t, err)
		cmd := exec.CommandContext(testContext(t), psql, "-XAtc", "SELECT current_setting('server_version_num')")
		cmd.Env = append(os.Environ(), c.Env("postgres")...)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		assert.Equal(t, strconv.Itoa(num), strings.TrimSpace(string(out)))

		// pg_dump, the oracle of later tests, when it is not older
		// than the server (it refuses those).
		pgDump, err := c.ClientBin("pg_dump")
		require.NoError(t, err)
		out, err = exec.CommandContext(testContext(t), pgDump, "--version").Output()
		require.NoError(t, err)
		if dumpMajor(t, string(out)) >= major {
			c.Exec(t, "postgres", "CREATE TABLE items (id int PRIMARY KEY, name text)")
			cmd := exec.CommandContext(testContext(t), pgDump, "-d", c.ConnString("postgres"), "--table=items")
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
			assert.Contains(t, string(out), "CREATE TABLE public.items")
		}

		ctx := testContext(t)
		require.NoError(t, c.Restart(ctx))
		require.NoError(t, c.Stop(ctx))
	})
}

// dumpMajor reads "pg_dump (PostgreSQL) 15.18 (Debian ...)".
func dumpMajor(t *testing.T, version string) int {
	t.Helper()
	fields := strings.Fields(version)
	require.GreaterOrEqual(t, len(fields), 3, version)
	major, _, _ := strings.Cut(fields[2], ".")
	n, err := strconv.Atoi(major)
	require.NoError(t, err, version)
	return n
}

func TestStartFromDataDir(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	src := testcluster.Start(t)
	src.Exec(t, "postgres", "CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2)")
	require.NoError(t, src.Stop(ctx))

	c := testcluster.Start(t, testcluster.WithMajor(src.Major()), testcluster.WithDataDir(src.DataDir()))
	assert.NotEqual(t, src.DataDir(), c.DataDir())
	assert.Equal(t, "2", c.QueryValue(t, "postgres", "SELECT count(*) FROM t"))
	fi, err := os.Stat(c.DataDir())
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())

	// The original is untouched: its server starts again on it.
	require.NoError(t, src.Restart(ctx))
	c.Exec(t, "postgres", "INSERT INTO t VALUES (3)")
	assert.Equal(t, "2", src.QueryValue(t, "postgres", "SELECT count(*) FROM t"))

	// A directory that is not there fails New.
	_, err = testcluster.New(ctx, testcluster.Config{Major: src.Major(), FromDataDir: filepath.Join(t.TempDir(), "nope")})
	require.Error(t, err)
}
