package bench

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// sample is one measured run of one variant.
type sample struct {
	wall    time.Duration
	cpu     time.Duration // user + system of the client process (and its reaped children)
	machine time.Duration // CPU time the whole machine spent meanwhile (server and client); 0 when unknown
	peakRSS int64         // bytes; 0 when not measured (the in-process COPY)
}

// machineCPU returns the CPU time the machine has spent working since
// boot, all CPUs together: user, nice, system, irq and softirq from the
// first line of /proc/stat (not idle, iowait or steal). ok is false where
// there is no /proc/stat. Linux counts it in USER_HZ, 100 per second on
// every architecture Go supports.
func machineCPU() (d time.Duration, ok bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	line, _, _ := bytes.Cut(b, []byte{'\n'})
	f := strings.Fields(string(line))
	if len(f) < 8 || f[0] != "cpu" {
		return 0, false
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7} { // user nice system _ _ irq softirq
		n, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return 0, false
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / 100, true
}

// measureMachine runs f and adds to its sample the machine's CPU time
// meanwhile.
func measureMachine(f func() (sample, error)) (sample, error) {
	before, ok := machineCPU()
	s, err := f()
	after, ok2 := machineCPU()
	if err == nil && ok && ok2 {
		s.machine = after - before
	}
	return s, err
}

// runTool runs a client program with env added to ours and returns its
// wall time, CPU time and peak RSS. Its output is kept only to explain a
// failure.
func runTool(ctx context.Context, env []string, name string, args ...string) (sample, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var out tailBuffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	return measureMachine(func() (sample, error) {
		start := time.Now()
		err := cmd.Run()
		wall := time.Since(start)
		if err != nil {
			if ctx.Err() != nil {
				return sample{}, ctx.Err()
			}
			return sample{}, fmt.Errorf("%s %q: %w\n%s", filepath.Base(name), args, err, out.String())
		}
		ps := cmd.ProcessState
		return sample{wall: wall, cpu: ps.UserTime() + ps.SystemTime(), peakRSS: maxRSS(ps)}, nil
	})
}

// maxRSS is the peak resident set of a finished process in bytes. wait4's
// rusage on Linux covers the process and the children it reaped, so for a
// program that forks workers (pg_dump -j) it is the largest single process,
// not their sum.
func maxRSS(ps *os.ProcessState) int64 {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0
	}
	if runtime.GOOS == "darwin" {
		return int64(ru.Maxrss) // bytes there
	}
	return int64(ru.Maxrss) * 1024 // KiB on Linux
}

// tailBuffer keeps the last 8 KiB written to it.
type tailBuffer struct{ b []byte }

const tailLimit = 8 << 10

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > tailLimit {
		t.b = slices.Clone(t.b[len(t.b)-tailLimit:])
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(bytes.TrimSpace(t.b)) }

// pathSize is the size of a file, or of every file under a directory.
func pathSize(path string) (int64, error) {
	var total int64
	err := filepath.WalkDir(path, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			total += fi.Size()
		}
		return nil
	})
	return total, err
}

// median of durations (the mean of the middle two for an even count).
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
