package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/format"
)

// result is one in-process run of pgark.
type result struct {
	code           int
	stdout, stderr string
}

func pgark(t *testing.T, stdin io.Reader, args ...string) result {
	t.Helper()
	return pgarkCtx(t, context.Background(), stdin, args...)
}

func pgarkCtx(t *testing.T, ctx context.Context, stdin io.Reader, args ...string) result {
	t.Helper()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var stdout, stderr bytes.Buffer
	code := execute(ctx, args, stdin, &stdout, &stderr)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

var verbs = []string{"dump", "dumpall", "restore", "list", "verify", "basebackup", "receivewal", "archive-wal", "restore-wal", "recover", "version"}

func TestHelpListsEveryVerb(t *testing.T) {
	for _, flag := range []string{"--help", "-?"} {
		t.Run(flag, func(t *testing.T) {
			r := pgark(t, nil, flag)
			require.Equal(t, 0, r.code, r.stderr)
			assert.Empty(t, r.stderr)
			for _, v := range verbs {
				assert.Regexp(t, `(?m)^  `+v+` +\S`, r.stdout, "verb %s missing from help", v)
			}
			assert.Contains(t, r.stdout, "Exit codes:")
			assert.Contains(t, r.stdout, "130")
			assert.NotContains(t, r.stdout, "completion", "completion is disabled")
		})
	}
}

func TestHelpOnEveryVerb(t *testing.T) {
	for _, v := range verbs {
		for _, flag := range []string{"--help", "-?"} {
			t.Run(v+" "+flag, func(t *testing.T) {
				r := pgark(t, nil, v, flag)
				require.Equal(t, 0, r.code, r.stderr)
				assert.Contains(t, r.stdout, "Usage:\n  pgark "+v)
				assert.Contains(t, r.stdout, "-?, --help")
				assert.NotContains(t, r.stdout, "-h, --help")
			})
		}
	}
}

// -h is pg_dump's --host; it must never show help.
func TestDashHIsNotHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"list", "-h"}, {"verify", "-h", "x"}, {"version", "-h"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := pgark(t, nil, args...)
			assert.Equal(t, exitUsage, r.code)
			assert.Empty(t, r.stdout)
			assert.Contains(t, r.stderr, "pgark: ")
			assert.Contains(t, r.stderr, "'h'")
		})
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string // in stderr
	}{
		{nil, "pgark: missing command\nRun 'pgark --help' for usage.\n"},
		{[]string{"--bogus"}, "pgark: unknown flag: --bogus\n"},
		{[]string{"lsit"}, `pgark: unknown command "lsit" (did you mean "list"?)`},
		{[]string{"list"}, "pgark: list: accepts 1 arg(s), received 0\nRun 'pgark list --help' for usage.\n"},
		{[]string{"list", "a", "b"}, "pgark: list: accepts 1 arg(s), received 2\n"},
		{[]string{"verify"}, "pgark: verify: accepts 1 arg(s), received 0\n"},
		{[]string{"verify", "--jobs=4", "x"}, "pgark: verify: unknown flag: --jobs\n"},
		{[]string{"version", "extra"}, "pgark: version: "},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := pgark(t, nil, tt.args...)
			assert.Equal(t, exitUsage, r.code)
			assert.Empty(t, r.stdout)
			assert.Contains(t, r.stderr, tt.want)
			assert.Equal(t, 1, strings.Count(r.stderr, "pgark: "), "the error is printed once: %q", r.stderr)
			assert.NotContains(t, r.stderr, "Usage:", "usage is not dumped on errors")
		})
	}
}

func TestVersion(t *testing.T) {
	want := "pgark dev (commit unknown, " + runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH + ")\n"
	for _, args := range [][]string{{"version"}, {"--version"}, {"-V"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := pgark(t, nil, args...)
			require.Equal(t, 0, r.code, r.stderr)
			assert.Equal(t, want, r.stdout)
		})
	}
}

func TestResolveBuildInfo(t *testing.T) {
	vcs := func(rev, modified string) *debug.BuildInfo {
		return &debug.BuildInfo{
			Main:     debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}},
		}
	}
	tests := []struct {
		name            string
		version, commit string
		bi              *debug.BuildInfo
		wantV, wantC    string
	}{
		{"stamped", "v1.2.3", "abc1234", vcs("fff", "true"), "v1.2.3", "abc1234"},
		{"no build info", "dev", "unknown", nil, "dev", "unknown"},
		{"vcs revision", "dev", "unknown", vcs("0123abcd", "false"), "dev", "0123abcd"},
		{"dirty tree", "dev", "unknown", vcs("0123abcd", "true"), "dev", "0123abcd-dirty"},
		{"go install", "dev", "unknown", &debug.BuildInfo{Main: debug.Module{Version: "v0.4.0"}}, "v0.4.0", "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := resolveBuildInfo(tt.version, tt.commit, tt.bi)
			assert.Equal(t, tt.wantV, got.Version)
			assert.Equal(t, tt.wantC, got.Commit)
			assert.Equal(t, runtime.Version(), got.GoVersion)
		})
	}
}

func TestExitCode(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	bg := context.Background()
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want int
	}{
		{"ok", bg, nil, exitOK},
		{"ok after a signal", canceled, nil, exitOK},
		{"failure", bg, errors.New("boom"), exitFailure},
		{"usage", bg, &usageError{cmd: "pgark list", err: errors.New("bad")}, exitUsage},
		{"canceled", bg, &damageError{name: "x", err: context.Canceled}, exitInterrupted},
		{"any error after a signal", canceled, errors.New("read: EOF"), exitInterrupted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, exitCode(tt.ctx, tt.err))
		})
	}
}

// buildPgark builds the binary once per test that needs a real process,
// stamped as make build stamps it.
func buildPgark(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "pgark")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-X main.version=v9.9.9-test -X main.commit=c0ffee", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

func exitStatus(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	return ee.ExitCode()
}

// TestBinary checks what only a real process shows: link-time stamping,
// os.Exit codes, and SIGINT.
func TestBinary(t *testing.T) {
	bin := buildPgark(t)

	t.Run("stamped version", func(t *testing.T) {
		out, err := exec.Command(bin, "version").Output()
		require.NoError(t, err)
		assert.Equal(t, "pgark v9.9.9-test (commit c0ffee, "+runtime.Version()+", "+runtime.GOOS+"/"+runtime.GOARCH+")\n", string(out))
	})

	t.Run("exit codes", func(t *testing.T) {
		for args, want := range map[string]int{"--help": 0, "--bogus": 2, "basebackup": 2, "list /nonexistent": 1} {
			err := exec.Command(bin, strings.Fields(args)...).Run()
			assert.Equal(t, want, exitStatus(t, err), args)
		}
	})

	t.Run("SIGINT while reading stdin", func(t *testing.T) {
		p := startVerifyStdin(t, bin)
		require.NoError(t, p.cmd.Process.Signal(syscall.SIGINT))
		p.waitNotice(t)
		// The blocked read returns; verify sees the cancelled context.
		require.NoError(t, p.stdin.Close())
		assert.Equal(t, exitInterrupted, exitStatus(t, p.cmd.Wait()))
	})

	t.Run("second SIGINT ends a stuck read", func(t *testing.T) {
		for attempt := 1; ; attempt++ {
			p := startVerifyStdin(t, bin)
			require.NoError(t, p.cmd.Process.Signal(syscall.SIGINT))
			p.waitNotice(t)
			done := make(chan error, 1)
			go func() { done <- p.cmd.Wait() }()
			select {
			case err := <-done:
				// pgark was still working through input it had buffered, and
				// stopped at its next read: it never got stuck. Try again.
				require.Equal(t, exitInterrupted, exitStatus(t, err))
				require.Less(t, attempt, 5, "pgark never got stuck reading stdin")
				continue
			case <-time.After(300 * time.Millisecond):
			}
			require.NoError(t, p.cmd.Process.Signal(syscall.SIGINT))
			var err error
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				_ = p.stdin.Close()
				t.Fatalf("pgark still running 10s after the second SIGINT; exited with %v after stdin closed", <-done)
			}
			var ee *exec.ExitError
			require.ErrorAs(t, err, &ee)
			ws, ok := ee.Sys().(syscall.WaitStatus)
			require.True(t, ok)
			assert.True(t, ws.Signaled() && ws.Signal() == syscall.SIGINT, "want death by SIGINT, got %v", ws)
			return
		}
	})
}

// stuckVerify is pgark verify - reading an archive from stdin that stops
// in the middle.
type stuckVerify struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr chan string // lines
}

// startVerifyStdin starts pgark verify - and feeds it the first half of an
// archive far larger than a pipe's buffer and the scanner's, so that Write
// returns only once pgark has read most of it: by then pgark's signal
// handling is in place, and it soon blocks reading the rest.
func startVerifyStdin(t *testing.T, bin string) *stuckVerify {
	t.Helper()
	spec := sampleArchive()
	spec.codec = format.CodecNone
	for i := range 4 {
		spec.blocks = append(spec.blocks, blockSpec{entry: 3, data: rows(2000+i*50000, 50000), rows: 50000})
	}
	archive := writeArchive(t, spec)

	p := &stuckVerify{cmd: exec.Command(bin, "verify", "-"), stderr: make(chan string, 16)}
	var err error
	p.stdin, err = p.cmd.StdinPipe()
	require.NoError(t, err)
	stderr, err := p.cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	t.Cleanup(func() { _ = p.cmd.Process.Kill() })
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.stderr <- sc.Text()
		}
		close(p.stderr)
	}()
	_, err = p.stdin.Write(archive[:len(archive)/2])
	require.NoError(t, err)
	return p
}

// waitNotice waits for pgark to say it got the first signal; it has then
// cancelled its work and restored the default signal behaviour.
func (p *stuckVerify) waitNotice(t *testing.T) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case line, ok := <-p.stderr:
			require.True(t, ok, "stderr closed before the signal notice")
			if strings.Contains(line, "interrupt signal received: stopping; a second signal ends pgark at once") {
				return
			}
		case <-timeout:
			t.Fatal("no signal notice on stderr within 10s")
		}
	}
}
