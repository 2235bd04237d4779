package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/internal/basebackup"
	"github.com/pgark/pgark/internal/testcluster"
)

func TestRecoverUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-D", "x"}, "no backup given"},
		{[]string{"--from", "b"}, "no target data directory"},
		{[]string{"--from", "b", "-D", "x", "--target-lsn", "0/1", "--target-name", "n"}, "at most one recovery target"},
		{[]string{"--from", "b", "-D", "x", "--target-lsn", "12"}, "invalid target LSN"},
		{[]string{"--from", "b", "-D", "x", "--target-xid", "abc"}, "invalid target transaction ID"},
		{[]string{"--from", "b", "-D", "x", "--target-time", "yesterday"}, "invalid target time"},
		{[]string{"--from", "b", "-D", "x", "--target-name", "n", "--exclusive"}, "--exclusive applies to"},
		{[]string{"--from", "b", "-D", "x", "--target-action", "promote"}, "needs a recovery target"},
		{[]string{"--from", "b", "-D", "x", "--target-lsn", "0/1", "--target-action", "explode"}, "invalid target action"},
		{[]string{"--from", "b", "-D", "x", "--target-timeline", "two"}, "invalid target timeline"},
		{[]string{"--from", "b", "-D", "x", "-T", "a=b"}, "absolute"},
		{[]string{"--from", "b", "-D", "x", "--pgark", "pgark"}, "absolute path"},
	}
	for _, tt := range tests {
		r := pgark(t, nil, append([]string{"recover"}, tt.args...)...)
		assert.Equal(t, exitUsage, r.code, "%v: %s", tt.args, r.stderr)
		assert.Contains(t, r.stderr, tt.want, tt.args)
	}
	// Not a backup, an unfinished one, and a non-empty target.
	dir := t.TempDir()
	r := pgark(t, nil, "recover", "--from", dir, "-D", filepath.Join(t.TempDir(), "new"))
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "not a complete pgark backup")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "global"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "global", "pg_control"), nil, 0o600))
	r = pgark(t, nil, "recover", "--from", dir, "-D", filepath.Join(t.TempDir(), "new"))
	assert.Contains(t, r.stderr, "it is a plain data directory")
}

// pitr is a primary archiving with pgark archive-wal, a pgark base backup
// of it, and what happened after the backup, PostgreSQL's
// recovery-target tests (src/test/recovery/t/003_recovery_targets.pl)
// over.
type pitr struct {
	c             *testcluster.Cluster
	bin, archive  string
	backup, tsDir string
	uid, gid      int
	// targets after the backup's 1000 rows: each adds 1000 rows, then is
	// recorded.
	xid, time, name, lsn string
}

func newPITR(t *testing.T, c *testcluster.Cluster) *pitr {
	p := &pitr{c: c}
	st, err := os.Stat(c.DataDir())
	require.NoError(t, err)
	p.uid, p.gid = int(st.Sys().(*syscall.Stat_t).Uid), int(st.Sys().(*syscall.Stat_t).Gid)
	// The cluster's directory is reachable by the server's OS user: the
	// binary, the archive and the backup go there.
	binDir := filepath.Join(c.SocketDir(), "bin")
	require.NoError(t, os.Mkdir(binDir, 0o755))
	p.bin = buildPgarkInto(t, binDir)
	p.archive = filepath.Join(c.SocketDir(), "archive")
	require.NoError(t, os.Mkdir(p.archive, 0o777))
	require.NoError(t, os.Chmod(p.archive, 0o777))
	p.tsDir = filepath.Join(c.SocketDir(), "ts")
	require.NoError(t, os.Mkdir(p.tsDir, 0o700))
	require.NoError(t, os.Chown(p.tsDir, p.uid, p.gid))

	c.Exec(t, "postgres", "ALTER SYSTEM SET archive_command = '"+p.bin+" archive-wal %p "+p.archive+"'")
	c.Exec(t, "postgres", "SELECT pg_reload_conf()")
	c.Exec(t, "postgres", "CREATE TABLESPACE ts LOCATION '"+p.tsDir+"'")
	c.Exec(t, "postgres", `CREATE TABLE t (id int); CREATE TABLE t2 (id int, pad text) TABLESPACE ts;
		INSERT INTO t SELECT generate_series(1, 1000);
		INSERT INTO t2 SELECT g, repeat('p', 100) FROM generate_series(1, 100) g`)

	p.backup = filepath.Join(c.SocketDir(), "backup")
	r := pgark(t, nil, append([]string{"basebackup", "-D", p.backup, "-c", "fast", "-l", "pitr"}, connArgs(c)...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	p.chown(t, p.backup)

	add := func(from int) string {
		return "INSERT INTO t SELECT generate_series(" + strconv.Itoa(from) + ", " + strconv.Itoa(from+999) + ")"
	}
	p.xid = c.QueryValue(t, "postgres", "WITH i AS ("+add(1001)+" RETURNING 1) SELECT pg_current_xact_id()::text")
	c.Exec(t, "postgres", add(2001))
	p.time = c.QueryValue(t, "postgres", "SELECT clock_timestamp()::text")
	c.Exec(t, "postgres", add(3001))
	p.name = "pgark_rp"
	c.Exec(t, "postgres", "SELECT pg_create_restore_point('pgark_rp')")
	c.Exec(t, "postgres", add(4001))
	p.lsn = c.QueryValue(t, "postgres", "SELECT pg_current_wal_lsn()::text")
	c.Exec(t, "postgres", add(5001))
	c.Exec(t, "postgres", "DROP TABLE t")
	p.switchAndArchive(t, c)
	return p
}

// switchAndArchive ends the current segment and waits until it is archived.
func (p *pitr) switchAndArchive(t *testing.T, c *testcluster.Cluster) {
	last := c.QueryValue(t, "postgres", "SELECT pg_walfile_name(pg_current_wal_lsn())")
	c.Exec(t, "postgres", "SELECT pg_switch_wal()")
	require.Eventually(t, func() bool {
		return c.QueryValue(t, "postgres", "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver") >= last
	}, 60*time.Second, 100*time.Millisecond, "archiver did not reach %s", last)
}

// recover runs pgark recover (the built binary, which restore_command
// names) into a new directory with args, relocating the tablespace.
func (p *pitr) recover(t *testing.T, args ...string) string {
	t.Helper()
	base, err := os.MkdirTemp(p.c.SocketDir(), "recover-")
	require.NoError(t, err)
	dir, ts := filepath.Join(base, "data"), filepath.Join(base, "ts")
	code, stderr := runBin(t, p.bin, append([]string{"recover", "--from", p.backup, "-D", dir,
		"-T", p.tsDir + "=" + ts, "-v"}, args...)...)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stderr, "is ready")
	// The server's OS user owns the relocated tablespace (testcluster
	// gives it the data directory it copies).
	p.chown(t, base)
	return dir
}

// chown gives the tree at root to the server's OS user, as if pgark had
// run as that user.
func (p *pitr) chown(t *testing.T, root string) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(root, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, p.uid, p.gid)
	}))
}

// start starts a server on a recovered directory and, unless it is to
// promote, waits until replay pauses at the target.
func (p *pitr) start(t *testing.T, dir string, paused bool) *testcluster.Cluster {
	t.Helper()
	rc := testcluster.Start(t, testcluster.WithMajor(p.c.Major()), testcluster.WithDataDir(dir))
	if paused {
		require.Eventually(t, func() bool {
			return rc.QueryValue(t, "postgres", "SELECT pg_get_wal_replay_pause_state()") == "paused"
		}, 60*time.Second, 100*time.Millisecond, "replay did not pause at the target")
	} else {
		require.Eventually(t, func() bool {
			return rc.QueryValue(t, "postgres", "SELECT pg_is_in_recovery()") == "f"
		}, 60*time.Second, 100*time.Millisecond, "the server did not promote")
	}
	assert.Equal(t, "100", rc.QueryValue(t, "postgres", "SELECT count(*) FROM t2"), "the tablespace's table")
	return rc
}

// TestRecoverTargets is the judge of point-in-time recovery: recover to
// each target kind, start PostgreSQL, and the rows of that moment are
// back; a target never reached fails recovery; a second recovery after a
// promotion follows timeline 2 and ends on timeline 3.
func TestRecoverTargets(t *testing.T) {
	if testing.Short() {
		t.Skip("builds pgark and runs PostgreSQL")
	}
	testcluster.EachMajor(t, func(t *testing.T, c *testcluster.Cluster) {
		if c.Major() < 15 {
			t.Skipf("physical backups need PostgreSQL 15 or later, this is %d", c.Major())
		}
		p := newPITR(t, c)

		var desc basebackup.Description
		data, err := os.ReadFile(filepath.Join(p.backup, basebackup.DescriptionFile))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(data, &desc))
		assert.Equal(t, "pitr", desc.Label)
		require.Len(t, desc.Archives, 2, "base and one tablespace")
		assert.Equal(t, p.tsDir, desc.Archives[1].Location)
		assert.NotEmpty(t, desc.WAL)
		assert.FileExists(t, filepath.Join(p.backup, "base.tar.zst"))
		assert.FileExists(t, filepath.Join(p.backup, basebackup.ManifestFile))

		count := func(rc *testcluster.Cluster) string {
			return rc.QueryValue(t, "postgres", "SELECT count(*) || ' ' || max(id) FROM t")
		}
		// Each target kind; immediate uses the backup's own WAL alone,
		// without the archive.
		for _, tt := range []struct {
			name string
			args []string
			want string
		}{
			{"immediate", []string{"--target-immediate"}, "1000 1000"},
			{"xid", []string{"--wal-archive", p.archive, "--target-xid", p.xid}, "2000 2000"},
			{"xid exclusive", []string{"--wal-archive", p.archive, "--target-xid", p.xid, "--exclusive"}, "1000 1000"},
			{"time", []string{"--wal-archive", p.archive, "--target-time", p.time}, "3000 3000"},
			{"name", []string{"--wal-archive", p.archive, "--target-name", p.name}, "4000 4000"},
			{"lsn", []string{"--wal-archive", p.archive, "--target-lsn", p.lsn}, "5000 5000"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				rc := p.start(t, p.recover(t, tt.args...), true)
				assert.Equal(t, tt.want, count(rc))
				require.NoError(t, rc.Close())
			})
		}

		t.Run("never reached", func(t *testing.T) {
			dir := p.recover(t, "--wal-archive", p.archive, "--target-lsn", "FF/0")
			// No hot standby: the server accepts no connection before it
			// gives up, so New reports the failure and the log.
			_, err := testcluster.New(t.Context(), testcluster.Config{Major: c.Major(), FromDataDir: dir,
				PostgresqlConf: []string{"hot_standby = off"}})
			require.Error(t, err, "recovery must not end before its target")
			assert.Contains(t, err.Error(), "recovery ended before configured recovery target was reached")
		})

		// Promote at the restore point: timeline 2, archived (the
		// archive_command came with the backup); write on it.
		dir := p.recover(t, "--wal-archive", p.archive, "--target-name", p.name, "--target-action", "promote")
		rc := p.start(t, dir, false)
		assert.Equal(t, "4000 4000", count(rc))
		assert.Equal(t, "00000002", rc.QueryValue(t, "postgres", "SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)"))
		rc.Exec(t, "postgres", "INSERT INTO t SELECT generate_series(90001, 90100)")
		lsn2 := rc.QueryValue(t, "postgres", "SELECT pg_current_wal_lsn()::text")
		rc.Exec(t, "postgres", "INSERT INTO t SELECT generate_series(90101, 90200)")
		p.switchAndArchive(t, rc)
		require.NoError(t, rc.Close())
		assert.FileExists(t, filepath.Join(p.archive, "00000002.history.zst"))

		// Recover the same backup again to a point on timeline 2: replay
		// follows the history from timeline 1, then promotes to 3.
		dir = p.recover(t, "--wal-archive", p.archive, "--target-lsn", lsn2, "--target-timeline", "latest",
			"--target-action", "promote")
		rc = p.start(t, dir, false)
		assert.Equal(t, "4100 90100", count(rc))
		assert.Equal(t, "00000003", rc.QueryValue(t, "postgres", "SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)"))
		conf, err := os.ReadFile(filepath.Join(dir, "postgresql.auto.conf"))
		require.NoError(t, err)
		assert.Contains(t, string(conf), "restore_command = '''"+p.bin+"'' restore-wal %f %p ''"+p.archive+"'''")
		assert.True(t, strings.Contains(string(conf), "recovery_target_timeline = 'latest'"))
	}, testcluster.WithConfig("archive_mode = on", "archive_command = ''"))
}

// TestRecoverDamagedBackup: an uncompressed backup recovers; a flipped
// byte in an archive or a missing description is refused by name, and the
// target is left empty.
func TestRecoverDamagedBackup(t *testing.T) {
	c := testcluster.Start(t, testcluster.WithMajor(15))
	c.Exec(t, "postgres", "CREATE TABLE t AS SELECT generate_series(1, 10000) AS id")
	backup := filepath.Join(t.TempDir(), "backup")
	r := pgark(t, nil, append([]string{"basebackup", "-D", backup, "-Z", "none", "-c", "fast"}, connArgs(c)...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.FileExists(t, filepath.Join(backup, "base.tar"))

	pgarkExe := "--pgark=/usr/bin/pgark" // recover runs in-process here: name a binary
	ok := filepath.Join(t.TempDir(), "ok")
	r = pgark(t, nil, "recover", "--from", backup, "-D", ok, pgarkExe)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.FileExists(t, filepath.Join(ok, "global", "pg_control"))
	assert.FileExists(t, filepath.Join(ok, "recovery.signal"))
	assert.FileExists(t, filepath.Join(ok, basebackup.ManifestFile))
	r = pgark(t, nil, "recover", "--from", backup, "-D", ok, pgarkExe)
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "not empty")

	// A byte of a relation file flipped in base.tar.
	tarPath := filepath.Join(backup, "base.tar")
	data, err := os.ReadFile(tarPath)
	require.NoError(t, err)
	orig := append([]byte(nil), data...)
	data[len(data)/2] ^= 0x55
	require.NoError(t, os.WriteFile(tarPath, data, 0o600))
	bad := filepath.Join(t.TempDir(), "bad")
	r = pgark(t, nil, "recover", "--from", backup, "-D", bad, pgarkExe)
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "corrupt")
	assert.Contains(t, r.stderr, "base.tar")
	entries, _ := os.ReadDir(bad)
	assert.Empty(t, entries, "nothing left of a refused recovery")
	require.NoError(t, os.WriteFile(tarPath, orig, 0o600))

	require.NoError(t, os.Remove(filepath.Join(backup, basebackup.DescriptionFile)))
	r = pgark(t, nil, "recover", "--from", backup, "-D", filepath.Join(t.TempDir(), "x"), pgarkExe)
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "not a complete pgark backup")
}

// TestBasebackupWALMethods: -X fetch puts the WAL in base.tar (SHA-256
// manifest checksums, checked while streaming), and the backup recovers on
// its own; -X none has no WAL at all, and says so.
func TestBasebackupWALMethods(t *testing.T) {
	c := testcluster.Start(t, testcluster.WithMajor(15))
	c.Exec(t, "postgres", "CREATE TABLE t AS SELECT generate_series(1, 5000) AS id")
	st, err := os.Stat(c.DataDir())
	require.NoError(t, err)
	p := &pitr{c: c, uid: int(st.Sys().(*syscall.Stat_t).Uid), gid: int(st.Sys().(*syscall.Stat_t).Gid)}

	fetch := filepath.Join(c.SocketDir(), "fetch")
	r := pgark(t, nil, append([]string{"basebackup", "-D", fetch, "-X", "fetch", "-c", "fast",
		"--manifest-checksums", "SHA256"}, connArgs(c)...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	d, err := basebackup.Open(fetch)
	require.NoError(t, err)
	assert.Equal(t, basebackup.WALFetch, d.WALMethod)
	assert.Empty(t, d.WAL, "the WAL is in base.tar")
	manifest, err := os.ReadFile(filepath.Join(fetch, basebackup.ManifestFile))
	require.NoError(t, err)
	assert.Contains(t, string(manifest), `"Checksum-Algorithm": "SHA256"`)

	binDir := filepath.Join(c.SocketDir(), "bin")
	require.NoError(t, os.Mkdir(binDir, 0o755))
	bin := buildPgarkInto(t, binDir)
	dir := filepath.Join(c.SocketDir(), "recovered")
	r = pgark(t, nil, "recover", "--from", fetch, "-D", dir, "--target-immediate", "--target-action", "promote",
		"--pgark", bin) // the backup has no wal/: restore-wal finds nothing, the WAL is in pg_wal
	require.Equal(t, exitOK, r.code, r.stderr)
	p.chown(t, dir)
	p.chown(t, fetch)
	rc := testcluster.Start(t, testcluster.WithMajor(15), testcluster.WithDataDir(dir))
	require.Eventually(t, func() bool {
		return rc.QueryValue(t, "postgres", "SELECT pg_is_in_recovery()") == "f"
	}, 60*time.Second, 100*time.Millisecond)
	assert.Equal(t, "5000", rc.QueryValue(t, "postgres", "SELECT count(*) FROM t"))

	none := filepath.Join(t.TempDir(), "none")
	r = pgark(t, nil, append([]string{"basebackup", "-D", none, "-X", "none", "-c", "fast"}, connArgs(c)...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	d, err = basebackup.Open(none)
	require.NoError(t, err)
	assert.Equal(t, basebackup.WALNone, d.WALMethod)
	assert.Empty(t, d.WAL)
	assert.NoDirExists(t, filepath.Join(none, basebackup.WALDir))
}
