package main

import (
	"context"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/internal/testcluster"
)

func TestBasebackupUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no dir", []string{"-F", "plain"}, exitUsage, "no target directory"},
		{"mapping with pgark format", []string{"-D", "x", "-T", "/a=/b"}, exitUsage, "-T applies to -F plain"},
		{"compression with plain", []string{"-D", "x", "-Fp", "-Z", "zstd"}, exitUsage, "-Z applies to -F pgark"},
		{"bad compression", []string{"-D", "x", "-Z", "gzip"}, exitUsage, "unsupported compression"},
		{"tar format", []string{"-D", "x", "-Ft"}, exitUsage, "unsupported format"},
		{"bad format", []string{"-D", "x", "-F", "zip"}, exitUsage, "invalid output format"},
		{"bad wal method", []string{"-D", "x", "-Fp", "-X", "carrier-pigeon"}, exitUsage, "invalid wal-method"},
		{"bad checkpoint", []string{"-D", "x", "-Fp", "-c", "slow"}, exitUsage, "invalid checkpoint"},
		{"bad rate", []string{"-D", "x", "-Fp", "-r", "1"}, exitUsage, "out of range"},
		{"bad mapping", []string{"-D", "x", "-Fp", "-T", "rel=/abs"}, exitUsage, "absolute"},
		{"manifest flags", []string{"-D", "x", "-Fp", "--no-manifest", "--manifest-checksums", "SHA256"}, exitUsage, "incompatible"},
		{"bad checksums", []string{"-D", "x", "-Fp", "--manifest-checksums", "MD5"}, exitUsage, "invalid manifest checksum"},
		{"argument", []string{"-D", "x", "-Fp", "extra"}, exitUsage, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := pgark(t, nil, append([]string{"basebackup"}, tt.args...)...)
			assert.Equal(t, tt.code, r.code, r.stderr)
			assert.Contains(t, r.stderr, tt.want)
		})
	}
}

// verifyBackupBin returns pg_verifybackup if the machine has one of
// major, else "" (pg_verifybackup reads only its own major's manifests
// and WAL).
func verifyBackupBin(t *testing.T, c *testcluster.Cluster) string {
	t.Helper()
	bin, err := c.ClientBin("pg_verifybackup")
	if err != nil {
		return ""
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		return ""
	}
	m := regexp.MustCompile(`\(PostgreSQL\) (\d+)`).FindSubmatch(out)
	if m == nil || string(m[1]) != strconv.Itoa(c.Major()) {
		return ""
	}
	return bin
}

// TestBasebackupPlain is the judge: a plain backup of a cluster with data
// passes pg_verifybackup (where one of the server's major is installed),
// and a second server started on the copy has the data.
func TestBasebackupPlain(t *testing.T) {
	testcluster.EachMajor(t, func(t *testing.T, c *testcluster.Cluster) {
		dir := filepath.Join(t.TempDir(), "backup")
		if c.Major() < 15 {
			r := pgark(t, nil, append([]string{"basebackup", "-D", dir, "-F", "plain"}, connArgs(c)...)...)
			assert.Equal(t, exitFailure, r.code, r.stderr)
			assert.Contains(t, r.stderr, "not supported")
			assert.Contains(t, r.stderr, "needs PostgreSQL 15")
			assert.NoDirExists(t, dir)
			return
		}
		c.Exec(t, "postgres", `CREATE TABLE items (id int PRIMARY KEY, name text);
			INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 20000) g`)

		r := pgark(t, nil, append([]string{"basebackup", "-D", dir, "-F", "plain", "-c", "fast",
			"-l", "judge", "-v", "-P"}, connArgs(c)...)...)
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Contains(t, r.stderr, "base backup completed")
		assert.Regexp(t, `\d+/\d+ kB \(\d+%\)`, r.stderr, "progress line")

		// Complete: pg_control in place, no leftovers, WAL streamed in.
		assert.FileExists(t, filepath.Join(dir, "global", "pg_control"))
		assert.NoFileExists(t, filepath.Join(dir, "global", "pg_control.pgark-incomplete"))
		assert.FileExists(t, filepath.Join(dir, "backup_manifest"))
		label, err := os.ReadFile(filepath.Join(dir, "backup_label"))
		require.NoError(t, err)
		assert.Contains(t, string(label), "LABEL: judge")
		segs, err := filepath.Glob(filepath.Join(dir, "pg_wal", "0*"))
		require.NoError(t, err)
		require.NotEmpty(t, segs)
		for _, s := range segs {
			assert.NotContains(t, s, ".partial")
		}
		fi, err := os.Stat(dir)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())

		if bin := verifyBackupBin(t, c); bin != "" {
			out, err := exec.Command(bin, dir).CombinedOutput()
			require.NoError(t, err, "%s", out)
			assert.Contains(t, string(out), "backup successfully verified")
			t.Logf("%s: %s", bin, strings.TrimSpace(string(out)))
		} else {
			t.Logf("no pg_verifybackup %d on this machine: not verified with it", c.Major())
		}

		copy := testcluster.Start(t, testcluster.WithMajor(c.Major()), testcluster.WithDataDir(dir))
		assert.Equal(t, "20000", copy.QueryValue(t, "postgres", "SELECT count(*) FROM items"))
		assert.Equal(t, "item 12345", copy.QueryValue(t, "postgres", "SELECT name FROM items WHERE id = 12345"))
		assert.Equal(t, "f", copy.QueryValue(t, "postgres", "SELECT pg_is_in_recovery()"))
	})
}

// TestBasebackupFailures: a non-empty target is refused and left alone; a
// data checksum failure (SQLSTATE XX001, provoked by damaging a page on
// disk) fails the backup and removes what it wrote.
func TestBasebackupFailures(t *testing.T) {
	c := testcluster.Start(t, testcluster.WithMajor(15))

	t.Run("not empty", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "keep"), []byte("x"), 0o600))
		r := pgark(t, nil, append([]string{"basebackup", "-D", dir, "-Fp"}, connArgs(c)...)...)
		assert.Equal(t, exitFailure, r.code)
		assert.Contains(t, r.stderr, "not empty")
		assert.FileExists(t, filepath.Join(dir, "keep"))
	})

	t.Run("interrupted", func(t *testing.T) {
		// 32 kB/s makes the backup last minutes; cancel it after a while.
		dir := filepath.Join(t.TempDir(), "backup")
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		r := pgarkCtx(t, ctx, nil, append([]string{"basebackup", "-D", dir, "-Fp", "-c", "fast", "-r", "32"}, connArgs(c)...)...)
		assert.Equal(t, exitInterrupted, r.code, r.stderr)
		assert.NoDirExists(t, dir)
		// The temporary slot died with its connection.
		assert.Eventually(t, func() bool {
			return c.QueryValue(t, "postgres", "SELECT count(*) FROM pg_replication_slots") == "0"
		}, 10*time.Second, 100*time.Millisecond)
	})

	t.Run("checksum failure", func(t *testing.T) {
		c.Exec(t, "postgres", `CREATE TABLE damaged (id int, pad text);
			INSERT INTO damaged SELECT g, repeat('x', 100) FROM generate_series(1, 1000) g;
			CHECKPOINT`)
		rel := c.QueryValue(t, "postgres", "SELECT pg_relation_filepath('damaged')")
		f, err := os.OpenFile(filepath.Join(c.DataDir(), rel), os.O_WRONLY, 0)
		require.NoError(t, err)
		_, err = f.WriteAt([]byte("damaged by pgark's test"), 4000) // block 0, past the header
		require.NoError(t, err)
		require.NoError(t, f.Close())

		dir := filepath.Join(t.TempDir(), "backup")
		r := pgark(t, nil, append([]string{"basebackup", "-D", dir, "-Fp", "-c", "fast"}, connArgs(c)...)...)
		assert.Equal(t, exitFailure, r.code, r.stderr)
		assert.Contains(t, r.stderr, "XX001")
		assert.Contains(t, r.stderr, "checksum verification failed in file") // the server's warning, passed on
		assert.Contains(t, r.stderr, "basebackup: replication: base backup: ERROR: checksum verification failure")
		assert.NoDirExists(t, dir)
	})
}

// TestBasebackupTablespace: -T relocates a tablespace, pg_tblspc's link
// points at the new place, and pg_verifybackup accepts the result.
func TestBasebackupTablespace(t *testing.T) {
	c := testcluster.Start(t, testcluster.WithMajor(15))
	loc := filepath.Join(c.SocketDir(), "ts1")
	require.NoError(t, os.Mkdir(loc, 0o700))
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		require.NoError(t, err)
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		require.NoError(t, os.Chown(loc, uid, gid))
	}
	c.Exec(t, "postgres", "CREATE TABLESPACE ts1 LOCATION '"+loc+"'")
	c.Exec(t, "postgres", "CREATE TABLE far (id int) TABLESPACE ts1; INSERT INTO far SELECT generate_series(1, 100)")
	oid := c.QueryValue(t, "postgres", "SELECT oid FROM pg_tablespace WHERE spcname = 'ts1'")

	base := t.TempDir()
	dir, newLoc := filepath.Join(base, "backup"), filepath.Join(base, "ts1")
	r := pgark(t, nil, append([]string{"basebackup", "-D", dir, "-Fp", "-c", "fast", "-T", loc + "=" + newLoc}, connArgs(c)...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	link, err := os.Readlink(filepath.Join(dir, "pg_tblspc", oid))
	require.NoError(t, err)
	assert.Equal(t, newLoc, link)
	entries, err := os.ReadDir(newLoc)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.True(t, strings.HasPrefix(entries[0].Name(), "PG_15_"), entries[0].Name())
	if bin := verifyBackupBin(t, c); bin != "" {
		out, err := exec.Command(bin, dir).CombinedOutput()
		require.NoError(t, err, "%s", out)
	}

	// Without -T the tablespace's own directory is not empty: refused.
	dir2 := filepath.Join(base, "backup2")
	r = pgark(t, nil, append([]string{"basebackup", "-D", dir2, "-Fp", "-c", "fast"}, connArgs(c)...)...)
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "relocate it with -T")
	assert.NoDirExists(t, dir2)
}
