package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/format"
	"github.com/pgark/pgark/internal/testcluster"
)

// Helpers of faults_test.go.

// faultTimeout bounds every pgark run of the fault tests: a fault must end
// a run with an error, never hang it.
const faultTimeout = 60 * time.Second

// faultRun is one pgark run, in-process or as a process.
type faultRun struct {
	code           int
	stdout, stderr string
}

func (r faultRun) String() string {
	return fmt.Sprintf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
}

// runFault runs pgark in-process with stdin (nil: empty). A run still
// going after faultTimeout fails the test: pgark hung.
func runFault(t *testing.T, stdin io.Reader, args ...string) faultRun {
	t.Helper()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	ctx, cancel := context.WithTimeout(t.Context(), faultTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := execute(ctx, args, stdin, &stdout, &stderr)
	require.NoError(t, ctx.Err(), "pgark %s did not end within %s (hung after the fault?)\nstderr: %s",
		strings.Join(args, " "), faultTimeout, stderr.String())
	t.Logf("pgark %s: exit %d in %s\n%s", strings.Join(args, " "), code, time.Since(start).Round(time.Millisecond), stderr.String())
	return faultRun{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// lockedBuffer is a bytes.Buffer safe for concurrent writers (the restore
// and dump workers report from several goroutines).
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// trigger is an io.Writer that closes fired the first time what it has been
// written contains a line with want; the fault is then injected while pgark
// goes on.
type trigger struct {
	want  string
	fired chan struct{}

	mu   sync.Mutex
	seen bytes.Buffer
	once sync.Once
}

func newTrigger(want string) *trigger {
	return &trigger{want: want, fired: make(chan struct{})}
}

func (w *trigger) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.seen.Write(p)
	hit := bytes.Contains(w.seen.Bytes(), []byte(w.want))
	w.mu.Unlock()
	if hit {
		w.once.Do(func() { close(w.fired) })
	}
	return len(p), nil
}

// inject runs a pgark command line in-process in the background, calls
// fault once stderr shows want, and returns the run. It fails the test if
// want never shows, or the run does not end within faultTimeout.
func inject(t *testing.T, want string, fault func(), args ...string) faultRun {
	t.Helper()
	trig := newTrigger(want)
	done := make(chan faultRun, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), faultTimeout)
		defer cancel()
		var stdout bytes.Buffer
		stderr := &lockedBuffer{}
		code := execute(ctx, args, strings.NewReader(""), &stdout, io.MultiWriter(stderr, trig))
		if ctx.Err() != nil {
			code = -1
		}
		done <- faultRun{code: code, stdout: stdout.String(), stderr: stderr.String()}
	}()
	select {
	case <-trig.fired:
	case r := <-done:
		t.Fatalf("pgark %s ended before %q showed: %v", strings.Join(args, " "), want, r)
	}
	fault()
	r := <-done
	require.NotEqual(t, -1, r.code, "pgark %s did not end within %s after the fault (hung?)\nstderr: %s",
		strings.Join(args, " "), faultTimeout, r.stderr)
	t.Logf("pgark %s: %v", strings.Join(args, " "), r)
	return r
}

// connArgs are the connection flags for c as the superuser.
func connArgs(c *testcluster.Cluster) []string {
	return []string{"-h", c.Host(), "-p", strconv.Itoa(c.Port()), "-U", c.User(), "-w"}
}

// buildInBackground starts building pgark into a directory of t's, for
// the tests that need a real process (signals); the returned function
// waits for the build and returns the binary's path.
func buildInBackground(t *testing.T) func() string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pgark")
	done := make(chan error, 1)
	go func() {
		cmd := exec.Command("go", "build", "-o", bin, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := cmd.CombinedOutput()
		if err != nil {
			err = fmt.Errorf("go build: %v: %s", err, out)
		}
		done <- err
	}()
	var once sync.Once
	var err error
	return func() string {
		once.Do(func() { err = <-done })
		require.NoError(t, err)
		return bin
	}
}

// process is pgark running as a child process, its stderr read line by line.
type process struct {
	cmd    *exec.Cmd
	lines  chan string
	stderr *lockedBuffer
	done   chan struct{}
	err    error
}

func startProcess(t *testing.T, bin string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(bin, args...), lines: make(chan string, 1024), stderr: &lockedBuffer{}, done: make(chan struct{})}
	pipe, err := p.cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			p.stderr.Write([]byte(sc.Text() + "\n"))
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		close(p.lines)
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p
}

// waitLine waits for a stderr line containing want.
func (p *process) waitLine(t *testing.T, want string) {
	t.Helper()
	timeout := time.After(faultTimeout)
	for {
		select {
		case line, ok := <-p.lines:
			require.True(t, ok, "pgark ended before %q showed on stderr:\n%s", want, p.stderr.String())
			if strings.Contains(line, want) {
				return
			}
		case <-timeout:
			t.Fatalf("%q did not show on stderr within %s:\n%s", want, faultTimeout, p.stderr.String())
		}
	}
}

// wait waits for the process to end and returns its exit status (-1 with
// the signal when a signal ended it).
func (p *process) wait(t *testing.T) (code int, sig syscall.Signal) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(faultTimeout):
		t.Fatalf("pgark still running %s after the fault:\n%s", faultTimeout, p.stderr.String())
	}
	t.Logf("pgark %s: %v\n%s", strings.Join(p.cmd.Args[1:], " "), p.cmd.ProcessState, p.stderr.String())
	if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -1, ws.Signal()
	}
	return p.cmd.ProcessState.ExitCode(), 0
}

// archiveLayout is where the records of an archive lie, from a Scanner
// (entries, blocks) and the footer (index).
type archiveLayout struct {
	size     int64
	entries  map[string]int64 // "KIND schema.name" -> offset of the entry record
	entryEnd map[string]int64 // -> end of the entry record
	blocks   []format.Block   // in file order
	byID     map[uint32]format.Entry
	indexAt  int64
	data     map[uint32][][]byte // raw payload of each block, by entry and seq
}

func readLayout(t *testing.T, archive []byte) *archiveLayout {
	t.Helper()
	l := &archiveLayout{size: int64(len(archive)), entries: map[string]int64{}, entryEnd: map[string]int64{},
		byID: map[uint32]format.Entry{}, data: map[uint32][][]byte{}}
	sc := format.NewScanner(bytes.NewReader(archive))
	defer sc.Close()
	var lastEntry string
	for sc.Next() {
		rec := sc.Record()
		if lastEntry != "" {
			l.entryEnd[lastEntry] = rec.Offset
			lastEntry = ""
		}
		switch rec.Kind {
		case format.RecordEntry:
			key := rec.Entry.Kind + " " + describeEntry(*rec.Entry)
			l.entries[key] = rec.Offset
			l.byID[rec.Entry.ID] = *rec.Entry
			lastEntry = key
		case format.RecordData:
			l.blocks = append(l.blocks, rec.Block)
			l.data[rec.Block.Entry] = append(l.data[rec.Block.Entry], bytes.Clone(rec.Data))
		}
	}
	require.NoError(t, sc.Err())
	footer := archive[len(archive)-format.FooterSize:]
	l.indexAt = int64(binary.LittleEndian.Uint64(footer[format.RecordHeaderSize:]))
	return l
}

func describeEntry(e format.Entry) string {
	if e.Schema == "" {
		return e.Name
	}
	return e.Schema + "." + e.Name
}

// blockIDs returns the first column of every row of a block as integers
// (an int4 or int8 in a binary block).
func (l *archiveLayout) blockIDs(t *testing.T, b format.Block) []int64 {
	t.Helper()
	var ids []int64
	if b.Binary {
		for p := l.data[b.Entry][b.Seq]; len(p) > 0; {
			nf := int(binary.BigEndian.Uint16(p))
			p = p[2:]
			for f := range nf {
				n := int(int32(binary.BigEndian.Uint32(p)))
				p = p[4:]
				if f == 0 {
					switch n {
					case 4:
						ids = append(ids, int64(int32(binary.BigEndian.Uint32(p))))
					case 8:
						ids = append(ids, int64(binary.BigEndian.Uint64(p)))
					default:
						require.Fail(t, "binary id of length", "%d", n)
					}
				}
				p = p[max(n, 0):]
			}
		}
		return ids
	}
	for line := range strings.Lines(string(l.data[b.Entry][b.Seq])) {
		id, _, _ := strings.Cut(line, "\t")
		n, err := strconv.ParseInt(id, 10, 64)
		require.NoError(t, err, "row %q", line)
		ids = append(ids, n)
	}
	return ids
}

// flip returns a copy of archive with the byte at off inverted.
func flip(archive []byte, off int64) []byte {
	out := bytes.Clone(archive)
	out[off] ^= 0xff
	return out
}

// filesIn lists the names in dir.
func filesIn(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

// waitNonEmpty waits until a file in dir has some bytes.
func waitNonEmpty(t *testing.T, dir string) {
	t.Helper()
	deadline := time.Now().Add(faultTimeout)
	for time.Now().Before(deadline) {
		des, err := os.ReadDir(dir)
		require.NoError(t, err)
		for _, de := range des {
			if fi, err := de.Info(); err == nil && fi.Size() > 0 {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no file in %s got any bytes within %s", dir, faultTimeout)
}
