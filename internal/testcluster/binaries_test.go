package testcluster

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		out     string
		major   int
		version string
	}{
		{"postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n", 15, "15.18"},
		{"postgres (PostgreSQL) 13.23\n", 13, "13.23"},
		{"postgres (PostgreSQL) 18beta1\n", 18, "18beta1"},
		{"postgres (PostgreSQL) 9.6.24\n", 9, "9.6.24"},
	} {
		major, version, err := parseVersion(tc.out)
		require.NoError(t, err, tc.out)
		assert.Equal(t, tc.major, major, tc.out)
		assert.Equal(t, tc.version, version, tc.out)
	}
	_, _, err := parseVersion("mysqld  Ver 8.0")
	require.Error(t, err)
}

func TestQuoteConnValue(t *testing.T) {
	for _, db := range []string{"postgres", "my db", `it's`, `back\slash`, "", `all ' \ "`} {
		cfg, err := pgconn.ParseConfig("host=/tmp port=5 dbname=" + quoteConnValue(db))
		require.NoError(t, err, db)
		assert.Equal(t, db, cfg.Database)
	}
}

func TestReachable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make files owned by others")
	}
	dir, err := os.MkdirTemp("", "reachable-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	private := filepath.Join(dir, "private")
	require.NoError(t, os.Mkdir(private, 0o700))
	file := filepath.Join(private, "bin")
	require.NoError(t, os.WriteFile(file, nil, 0o755))
	require.NoError(t, os.Chmod(dir, 0o755))

	const uid = 54321
	err = reachable(file, uid, []int{54321}, 5)
	require.Error(t, err)
	assert.Contains(t, err.Error(), private)

	require.NoError(t, os.Chmod(private, 0o711))
	require.NoError(t, reachable(file, uid, nil, 5))
	require.Error(t, reachable(file, uid, nil, 2), "not writable by others")

	// Group permissions count for members only.
	require.NoError(t, os.Chmod(private, 0o710))
	require.NoError(t, os.Chown(private, 0, 777))
	require.NoError(t, reachable(file, uid, []int{777}, 5))
	require.Error(t, reachable(file, uid, []int{778}, 5))
	require.NoError(t, reachable(file, 0, nil, 7), "root reaches everything")
}

// fakeInstall makes root/<major>/bin with a postgres that reports version.
func fakeInstall(t *testing.T, root string, major int, version string) string {
	t.Helper()
	bin := filepath.Join(root, strconv.Itoa(major), "bin")
	require.NoError(t, os.MkdirAll(bin, 0o755))
	script := "#!/bin/sh\necho 'postgres (PostgreSQL) " + version + "'\n"
	require.NoError(t, os.WriteFile(filepath.Join(bin, "postgres"), []byte(script), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(bin, "initdb"), []byte("#!/bin/sh\n"), 0o755))
	return bin
}

func TestSearch(t *testing.T) {
	ctx := context.Background()
	sys, cache := t.TempDir(), t.TempDir()
	sys14 := fakeInstall(t, sys, 14, "14.9")
	fakeInstall(t, cache, 14, "14.1")
	fakeInstall(t, cache, 17, "17.2")
	require.NoError(t, os.MkdirAll(filepath.Join(cache, "junk", "bin"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(cache, "12"), 0o755)) // no bin
	require.NoError(t, os.WriteFile(filepath.Join(sys14, "pg_dump"), []byte("#!/bin/sh\n"), 0o755))

	// A cache entry that is a symlink (as install-postgres.sh makes under
	// a private checkout) is resolved.
	shared := t.TempDir()
	real16 := fakeInstall(t, shared, 16, "16.3")
	require.NoError(t, os.Symlink(filepath.Dir(real16), filepath.Join(cache, "16")))

	s := Search{Roots: []string{sys, cache}}
	assert.Equal(t, []int{14, 16, 17}, s.Majors())

	b, err := s.Find(ctx, 0)
	require.NoError(t, err)
	assert.Equal(t, Binaries{Major: 17, Version: "17.2", BinDir: filepath.Join(cache, "17", "bin")}, b)

	b, err = s.Find(ctx, 14)
	require.NoError(t, err)
	assert.Equal(t, "14.9", b.Version, "the first root wins")

	b, err = s.Find(ctx, 16)
	require.NoError(t, err)
	assert.Equal(t, real16, b.BinDir)

	_, err = s.Find(ctx, 15)
	require.ErrorIs(t, err, ErrNoBinaries)

	p, err := s.ClientBin("pg_dump")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(sys14, "pg_dump"), p)

	// Client tools of a major without a server are found, newest first.
	client20 := filepath.Join(cache, "20", "bin")
	require.NoError(t, os.MkdirAll(client20, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(client20, "pg_dump"), []byte("#!/bin/sh\n"), 0o755))
	p, err = s.ClientBin("pg_dump")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(client20, "pg_dump"), p)
	assert.Equal(t, []int{14, 16, 17}, s.Majors(), "no server, no major")

	// A bin dir reporting another major than its name is not used.
	fakeInstall(t, cache, 19, "18.0")
	_, err = s.Find(ctx, 19)
	require.ErrorIs(t, err, ErrNoBinaries)
	assert.Contains(t, err.Error(), "not 19")

	// BinDir alone.
	s = Search{BinDir: filepath.Join(cache, "17", "bin")}
	assert.Equal(t, []int{17}, s.Majors())
	b, err = s.Find(ctx, 0)
	require.NoError(t, err)
	assert.Equal(t, 17, b.Major)
	_, err = s.Find(ctx, 16)
	require.ErrorIs(t, err, ErrNoBinaries)

	assert.Empty(t, Search{}.Majors())
	_, err = Search{}.Find(ctx, 0)
	require.ErrorIs(t, err, ErrNoBinaries)
}

func TestDefaultSearch(t *testing.T) {
	t.Setenv(EnvBinDir, "/some/bin")
	assert.Equal(t, Search{BinDir: "/some/bin"}, DefaultSearch())

	t.Setenv(EnvBinDir, "")
	t.Setenv(EnvCacheDir, "/some/cache")
	assert.Equal(t, Search{Roots: []string{SystemRoot, "/some/cache"}}, DefaultSearch())

	t.Setenv(EnvCacheDir, "")
	root, err := repoRoot()
	require.NoError(t, err)
	assert.FileExists(t, filepath.Join(root, "go.mod"))
	assert.FileExists(t, filepath.Join(root, "internal", "testcluster", "doc.go"))
	assert.Equal(t, Search{Roots: []string{SystemRoot, filepath.Join(root, ".cache", "pg")}}, DefaultSearch())
}

// recordingTB stands in for a test to see whether Start skips or fails.
type recordingTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Skipf(format string, args ...any) {
	r.skipped, r.msg = true, format
	runtime.Goexit()
}
func (r *recordingTB) Fatalf(format string, args ...any) {
	r.failed, r.msg = true, format
	runtime.Goexit()
}
func (r *recordingTB) Fatal(args ...any) {
	r.failed = true
	runtime.Goexit()
}

// TestStartMissingBinaries checks the CI contract: skip outside CI, fail in.
func TestStartMissingBinaries(t *testing.T) {
	empty := WithSearch(Search{Roots: []string{t.TempDir()}})
	for _, tc := range []struct {
		ci         string
		wantFailed bool
	}{
		{"", false},
		{"false", false},
		{"true", true},
		{"1", true},
	} {
		t.Run("CI="+tc.ci, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			r := &recordingTB{TB: t}
			var wg sync.WaitGroup
			wg.Go(func() { Start(r, empty) })
			wg.Wait()
			assert.Equal(t, tc.wantFailed, r.failed, "failed")
			assert.Equal(t, !tc.wantFailed, r.skipped, "skipped")
			assert.Contains(t, r.msg, "install-postgres.sh")
		})
	}
}

func TestNoBinariesIsSentinel(t *testing.T) {
	_, err := New(context.Background(), Config{Search: Search{Roots: []string{t.TempDir()}}, Major: 16})
	require.True(t, errors.Is(err, ErrNoBinaries), "%v", err)
}
