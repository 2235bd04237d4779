package testcluster

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrNoBinaries is returned (wrapped) when no PostgreSQL server binaries
// match a request. Start turns it into a skip outside CI and a failure in CI.
var ErrNoBinaries = errors.New("testcluster: no PostgreSQL server binaries")

// SystemRoot is where Debian-style packages install PostgreSQL, one
// <major>/bin directory per installed major.
const SystemRoot = "/usr/lib/postgresql"

// Environment variables read by DefaultSearch.
const (
	// EnvBinDir names one bin directory to use for every cluster.
	EnvBinDir = "PGARK_PG_BIN"
	// EnvCacheDir overrides the cache of npm-provisioned majors
	// (default <repo root>/.cache/pg), as scripts/install-postgres.sh does.
	EnvCacheDir = "PGARK_PG_CACHE"
)

// Search says where to look for PostgreSQL server binaries (initdb,
// postgres). The zero value finds nothing; DefaultSearch reads the
// environment.
type Search struct {
	// BinDir, when set, is the only place searched: it must hold initdb and
	// postgres, and its major is whatever postgres --version reports.
	BinDir string
	// Roots are directories holding one <major>/bin per major, in order of
	// preference when two roots have the same major.
	Roots []string
}

// DefaultSearch is the search used when a Config does not name one:
// $PGARK_PG_BIN alone when set, else /usr/lib/postgresql then the cache
// ($PGARK_PG_CACHE, else <repo root>/.cache/pg, the repo root being the
// nearest parent of the working directory that holds go.mod).
func DefaultSearch() Search {
	if dir := os.Getenv(EnvBinDir); dir != "" {
		return Search{BinDir: dir}
	}
	s := Search{Roots: []string{SystemRoot}}
	if dir := os.Getenv(EnvCacheDir); dir != "" {
		s.Roots = append(s.Roots, dir)
	} else if root, err := repoRoot(); err == nil {
		s.Roots = append(s.Roots, filepath.Join(root, ".cache", "pg"))
	}
	return s
}

func (s Search) isZero() bool { return s.BinDir == "" && len(s.Roots) == 0 }

func (s Search) String() string {
	if s.BinDir != "" {
		return fmt.Sprintf("%s=%s", EnvBinDir, s.BinDir)
	}
	return strings.Join(s.Roots, ", ")
}

// Binaries is one located PostgreSQL server installation.
type Binaries struct {
	Major   int    // e.g. 16
	Version string // what postgres --version reports, e.g. "16.14"
	BinDir  string // absolute, symlinks resolved
}

// Majors lists the majors DefaultSearch finds, ascending.
func Majors() []int { return DefaultSearch().Majors() }

// Majors lists the majors available, ascending. With BinDir set it is the
// major of that directory, or none if it cannot be run.
func (s Search) Majors() []int {
	if s.BinDir != "" {
		b, err := probe(context.Background(), s.BinDir)
		if err != nil {
			return nil
		}
		return []int{b.Major}
	}
	var majors []int
	for _, root := range s.Roots {
		for major := range rootMajors(root) {
			if !slices.Contains(majors, major) {
				majors = append(majors, major)
			}
		}
	}
	slices.Sort(majors)
	return majors
}

// Find locates the server binaries of a major, or of the newest major
// available when major is 0. The error wraps ErrNoBinaries when nothing
// matches.
func (s Search) Find(ctx context.Context, major int) (Binaries, error) {
	if s.BinDir != "" {
		b, err := probe(ctx, s.BinDir)
		if err != nil {
			return Binaries{}, fmt.Errorf("%w: %s: %w", ErrNoBinaries, EnvBinDir, err)
		}
		if major != 0 && b.Major != major {
			return Binaries{}, fmt.Errorf("%w: PostgreSQL %d wanted, but %s=%s is %d",
				ErrNoBinaries, major, EnvBinDir, s.BinDir, b.Major)
		}
		return b, nil
	}
	want := major
	if want == 0 {
		majors := s.Majors()
		if len(majors) == 0 {
			return Binaries{}, fmt.Errorf("%w in %s", ErrNoBinaries, s)
		}
		want = majors[len(majors)-1]
	}
	var errs []error
	for _, root := range s.Roots {
		dir := filepath.Join(root, strconv.Itoa(want), "bin")
		if !isFile(filepath.Join(dir, "postgres")) {
			continue
		}
		b, err := probe(ctx, dir)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if b.Major != want {
			errs = append(errs, fmt.Errorf("%s holds PostgreSQL %d, not %d", dir, b.Major, want))
			continue
		}
		return b, nil
	}
	if len(errs) > 0 {
		return Binaries{}, fmt.Errorf("%w: PostgreSQL %d: %w", ErrNoBinaries, want, errors.Join(errs...))
	}
	return Binaries{}, fmt.Errorf("%w: PostgreSQL %d not in %s", ErrNoBinaries, want, s)
}

// ClientBin finds a client tool (pg_dump, psql, pg_verifybackup...): in
// BinDir when set, else in the newest <major>/bin of the roots that has it
// (a major with client tools only counts too), else on $PATH.
func (s Search) ClientBin(name string) (string, error) {
	if s.BinDir != "" {
		if p := filepath.Join(s.BinDir, name); isFile(p) {
			return p, nil
		}
	}
	var majors []int
	for _, root := range s.Roots {
		majors = append(majors, numericDirs(root)...)
	}
	slices.Sort(majors)
	for _, major := range slices.Backward(slices.Compact(majors)) {
		for _, root := range s.Roots {
			if p := filepath.Join(root, strconv.Itoa(major), "bin", name); isFile(p) {
				return p, nil
			}
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("testcluster: find client tool %s in %s or $PATH: %w", name, s, err)
	}
	return p, nil
}

// numericDirs lists the entries of root named like a major version.
func numericDirs(root string) []int {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil
	}
	var majors []int
	for _, e := range entries {
		if major, err := strconv.Atoi(e.Name()); err == nil && major > 0 {
			majors = append(majors, major)
		}
	}
	return majors
}

// rootMajors yields the majors that have a <major>/bin/postgres under root.
func rootMajors(root string) map[int]bool {
	found := map[int]bool{}
	for _, major := range numericDirs(root) {
		if isFile(filepath.Join(root, strconv.Itoa(major), "bin", "postgres")) {
			found[major] = true
		}
	}
	return found
}

// probe checks a bin dir and asks its postgres for the version.
func probe(ctx context.Context, dir string) (Binaries, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Binaries{}, fmt.Errorf("resolve %s: %w", dir, err)
	}
	// Resolve symlinks so the server runs from its real path: a cache dir
	// under a private checkout may link to a world-readable place.
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return Binaries{}, fmt.Errorf("resolve %s: %w", dir, err)
	}
	for _, name := range []string{"postgres", "initdb"} {
		if !isFile(filepath.Join(real, name)) {
			return Binaries{}, fmt.Errorf("%s: no %s", real, name)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, filepath.Join(real, "postgres"), "--version").Output()
	if err != nil {
		return Binaries{}, fmt.Errorf("%s --version: %w", filepath.Join(real, "postgres"), err)
	}
	major, version, err := parseVersion(string(out))
	if err != nil {
		return Binaries{}, fmt.Errorf("%s --version: %w", filepath.Join(real, "postgres"), err)
	}
	return Binaries{Major: major, Version: version, BinDir: real}, nil
}

var versionRE = regexp.MustCompile(`\(PostgreSQL\) ((\d+)[0-9A-Za-z.]*)`)

// parseVersion reads the output of postgres --version, for example
// "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)" or
// "postgres (PostgreSQL) 18beta1".
func parseVersion(out string) (major int, version string, err error) {
	m := versionRE.FindStringSubmatch(out)
	if m == nil {
		return 0, "", fmt.Errorf("unrecognized version %q", strings.TrimSpace(out))
	}
	major, err = strconv.Atoi(m[2])
	if err != nil {
		return 0, "", fmt.Errorf("unrecognized version %q: %w", strings.TrimSpace(out), err)
	}
	return major, m[1], nil
}

// repoRoot is the nearest parent of the working directory holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repo root: %w", err)
	}
	for {
		if isFile(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("find repo root: no go.mod above the working directory")
		}
		dir = parent
	}
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// reachable reports why user uid (with groups gids) cannot reach path: every
// directory on the way must grant it search permission, and path itself the
// permissions in want (a combination of 4 read, 2 write, 1 execute/search).
func reachable(path string, uid int, gids []int, want fs.FileMode) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	var dirs []string
	for d := filepath.Dir(abs); ; d = filepath.Dir(d) {
		dirs = append(dirs, d)
		if d == filepath.Dir(d) {
			break
		}
	}
	for _, d := range slices.Backward(dirs) {
		if err := permits(d, uid, gids, 1); err != nil {
			return err
		}
	}
	return permits(abs, uid, gids, want)
}

func permits(path string, uid int, gids []int, want fs.FileMode) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	perm := fi.Mode().Perm()
	var have fs.FileMode
	switch {
	case uid == 0:
		return nil
	case int(st.Uid) == uid:
		have = perm >> 6 & 7
	case slices.Contains(gids, int(st.Gid)):
		have = perm >> 3 & 7
	default:
		have = perm & 7
	}
	if have&want != want {
		return fmt.Errorf("%s (mode %v, owner %d:%d) does not grant uid %d %s access",
			path, perm, st.Uid, st.Gid, uid, rwx(want))
	}
	return nil
}

func rwx(m fs.FileMode) string {
	b := []byte("---")
	if m&4 != 0 {
		b[0] = 'r'
	}
	if m&2 != 0 {
		b[1] = 'w'
	}
	if m&1 != 0 {
		b[2] = 'x'
	}
	return string(b)
}
