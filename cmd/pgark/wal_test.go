package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/internal/testcluster"
)

const testSeg = "000000010000000000000001"

func writeSegment(t *testing.T, dir, name string, fill byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, bytes.Repeat([]byte{fill}, 1<<20), 0o600))
	return p
}

func TestArchiveRestoreWAL(t *testing.T) {
	src, archive, pgwal := t.TempDir(), t.TempDir(), t.TempDir()
	p := writeSegment(t, src, testSeg, 'a')

	r := pgark(t, nil, "archive-wal", p, archive)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Empty(t, r.stdout+r.stderr)
	assert.FileExists(t, filepath.Join(archive, testSeg+".zst"))

	r = pgark(t, nil, "archive-wal", p, archive)
	assert.Equal(t, exitOK, r.code, "identical file again: %s", r.stderr)

	other := writeSegment(t, t.TempDir(), testSeg, 'b')
	r = pgark(t, nil, "archive-wal", other, archive)
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "different file of the same name")

	target := filepath.Join(pgwal, "RECOVERYXLOG")
	r = pgark(t, nil, "restore-wal", testSeg, target, archive)
	require.Equal(t, exitOK, r.code, r.stderr)
	got, err := os.ReadFile(target)
	require.NoError(t, err)
	want, _ := os.ReadFile(p)
	assert.True(t, bytes.Equal(want, got))

	r = pgark(t, nil, "restore-wal", "00000002.history", target, archive)
	assert.Equal(t, exitFailure, r.code, "missing: %s", r.stderr)
	assert.Contains(t, r.stderr, "not in archive")

	require.NoError(t, os.WriteFile(filepath.Join(archive, testSeg+".zst"), []byte("garbage"), 0o600))
	r = pgark(t, nil, "restore-wal", testSeg, target, archive)
	assert.Equal(t, exitRestoreFailed, r.code, "corrupt: %s", r.stderr)
	assert.Contains(t, r.stderr, "corrupt")

	for _, args := range [][]string{
		{"restore-wal"},
		{"restore-wal", testSeg, target},
		{"restore-wal", testSeg, target, archive, "extra"},
		{"restore-wal", "--bogus", testSeg, target, archive},
		{"restore-wal", "-h", "x", testSeg, target, archive},
	} {
		r = pgark(t, nil, args...)
		assert.Equal(t, exitRestoreFailed, r.code, "a usage error must not end recovery: %v", args)
		assert.Contains(t, r.stderr, "Run 'pgark restore-wal --help' for usage.")
	}
	r = pgark(t, nil, "restore-wal", "not-a-wal-name", target, archive)
	assert.Equal(t, exitRestoreFailed, r.code)

	r = pgark(t, nil, "archive-wal", p)
	assert.Equal(t, exitUsage, r.code)
	r = pgark(t, nil, "archive-wal", filepath.Join(src, "RECOVERYXLOG"), archive)
	assert.Equal(t, exitFailure, r.code)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r = pgarkCtx(t, ctx, nil, "restore-wal", testSeg, target, archive)
	assert.Equal(t, exitInterrupted, r.code)
}

func TestExitCodeOfExitError(t *testing.T) {
	bg := context.Background()
	assert.Equal(t, 126, exitCode(bg, &exitError{code: 126, err: &usageError{cmd: "pgark restore-wal", err: errors.New("x")}}))
	assert.Equal(t, 1, exitCode(bg, &exitError{code: 1, err: errors.New("missing")}))
	canceled, cancel := context.WithCancel(bg)
	cancel()
	assert.Equal(t, exitInterrupted, exitCode(canceled, &exitError{code: 1, err: errors.New("x")}))
}

func TestWALHelpDocumentsExitCodes(t *testing.T) {
	r := pgark(t, nil, "restore-wal", "--help")
	require.Equal(t, exitOK, r.code)
	for _, s := range []string{"restore_command", "0    restored", "1    NAME is not in the archive", "126  any other failure"} {
		assert.Contains(t, r.stdout, s)
	}
	r = pgark(t, nil, "archive-wal", "--help")
	require.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, "archive_command")
	assert.Contains(t, r.stdout, "Exit codes:")
}

// buildPgarkInto builds the pgark binary into dir, reachable by the server's
// OS user.
func buildPgarkInto(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "pgark")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	require.NoError(t, os.Chmod(dir, 0o755))
	return bin
}

// run runs the built binary and returns its exit code and stderr.
func runBin(t *testing.T, bin string, args ...string) (int, string) {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(t.Context(), bin, args...)
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), stderr.String()
	}
	require.NoError(t, err)
	return 0, stderr.String()
}

// TestArchiveCommandLive runs pgark archive-wal as a real server's
// archive_command and restores each archived segment with restore-wal.
func TestArchiveCommandLive(t *testing.T) {
	if testing.Short() {
		t.Skip("builds pgark and runs PostgreSQL")
	}
	c := testcluster.Start(t, testcluster.WithConfig("archive_mode = on", "archive_command = ''"))
	// The cluster directory is reachable by the server's OS user.
	binDir := filepath.Join(c.SocketDir(), "bin")
	archive := filepath.Join(c.SocketDir(), "archive")
	require.NoError(t, os.Mkdir(binDir, 0o755))
	require.NoError(t, os.Mkdir(archive, 0o777))
	require.NoError(t, os.Chmod(archive, 0o777)) // whatever the umask
	bin := buildPgarkInto(t, binDir)

	c.Exec(t, "postgres", "ALTER SYSTEM SET archive_command = '"+bin+" archive-wal %p "+archive+"'")
	c.Exec(t, "postgres", "SELECT pg_reload_conf()")
	c.Exec(t, "postgres", "CREATE TABLE t (id int, pad text)")
	var names []string
	for i := range 3 {
		c.Exec(t, "postgres", "INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(1, 5000) g")
		names = append(names, c.QueryValue(t, "postgres", "SELECT pg_walfile_name(pg_current_wal_lsn())"))
		c.Exec(t, "postgres", "SELECT pg_switch_wal()")
		_ = i
	}
	last := names[len(names)-1]
	require.Eventually(t, func() bool {
		return c.QueryValue(t, "postgres", "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver") >= last
	}, 60*time.Second, 200*time.Millisecond, "archiver did not reach %s; failed: %s", last,
		c.QueryValue(t, "postgres", "SELECT failed_count || ' ' || coalesce(last_failed_wal, '') FROM pg_stat_archiver"))
	n, _ := strconv.Atoi(c.QueryValue(t, "postgres", "SELECT archived_count FROM pg_stat_archiver"))
	assert.GreaterOrEqual(t, n, len(names))
	assert.Equal(t, "0", c.QueryValue(t, "postgres", "SELECT failed_count FROM pg_stat_archiver"))

	restoreDir := t.TempDir()
	for _, name := range names {
		target := filepath.Join(restoreDir, "RECOVERYXLOG")
		code, stderr := runBin(t, bin, "restore-wal", name, target, archive)
		require.Equal(t, 0, code, stderr)
		got, err := os.ReadFile(target)
		require.NoError(t, err)
		orig := filepath.Join(c.DataDir(), "pg_wal", name)
		want, err := os.ReadFile(orig)
		require.NoError(t, err, "segment %s still in pg_wal", name)
		assert.True(t, bytes.Equal(want, got), "%s restored differs from pg_wal", name)

		// Archiving the same segment again succeeds; a different file of
		// the same name is refused and the archive keeps the original.
		code, stderr = runBin(t, bin, "archive-wal", orig, archive)
		assert.Equal(t, 0, code, stderr)
		changed := bytes.Clone(want)
		changed[len(changed)-1] ^= 0xFF
		other := filepath.Join(t.TempDir(), name)
		require.NoError(t, os.WriteFile(other, changed, 0o600))
		code, stderr = runBin(t, bin, "archive-wal", other, archive)
		assert.Equal(t, 1, code)
		assert.Contains(t, stderr, "different file of the same name")
		code, _ = runBin(t, bin, "restore-wal", name, target, archive)
		require.Equal(t, 0, code)
		got, _ = os.ReadFile(target)
		assert.True(t, bytes.Equal(want, got), "the archive kept the original")
	}

	code, stderr := runBin(t, bin, "restore-wal", "00000005.history", filepath.Join(restoreDir, "x"), archive)
	assert.Equal(t, 1, code, stderr)
	code, _ = runBin(t, bin, "restore-wal", "000000010000000000000001", filepath.Join(restoreDir, "x"), filepath.Join(archive, "nope"))
	assert.Equal(t, 1, code, "a missing archive directory holds nothing")
	entries, err := os.ReadDir(restoreDir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.False(t, strings.HasPrefix(e.Name(), "."), "temporary file left: %s", e.Name())
	}
}
