package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/internal/testcluster"
)

// TestBench runs the whole harness at a tiny size against a real
// PostgreSQL 15: build, dataset, every variant once, restores checked
// against the source, report. Outside CI a missing server skips it; in CI
// (CI=true) it fails. PGARK_BENCH_PGARK names a prebuilt pgark to use
// instead of building one.
func TestBench(t *testing.T) {
	if testing.Short() {
		t.Skip("builds pgark and starts a server")
	}
	if _, err := os.Stat(filepath.Join(DefaultPGBinDir, "pg_dump")); err != nil && !inCI() {
		t.Skipf("no PostgreSQL 15 client tools in %s: %v", DefaultPGBinDir, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()

	var log bytes.Buffer
	cfg := Config{
		Dataset: Dataset{Rows: 20_000},
		Runs:    1,
		Pgark:   os.Getenv("PGARK_BENCH_PGARK"),
		WorkDir: t.TempDir(),
		Log:     &log,
	}
	if cfg.Pgark == "" {
		root, err := filepath.Abs("..")
		require.NoError(t, err)
		cfg.SourceDir = root
	}
	rep, err := Run(ctx, cfg)
	if errors.Is(err, testcluster.ErrNoBinaries) && !inCI() {
		t.Skip(err)
	}
	require.NoError(t, err, "log:\n%s", log.String())

	assert.Equal(t, 20_000, rep.Dataset.Rows)
	assert.Equal(t, DefaultSmallTables, rep.Dataset.SmallTables)
	assert.Contains(t, rep.Server, "PostgreSQL 15")
	assert.Contains(t, rep.Settings, "fsync=off")
	assert.Contains(t, rep.PgDump, "pg_dump (PostgreSQL) 15")
	assert.NotEmpty(t, rep.Pgark)
	assert.Positive(t, rep.DatabaseBytes)
	assert.Positive(t, rep.DominantBytes)
	rows := 20_000
	for i := range DefaultSmallTables {
		rows += smallRows(i)
	}
	assert.True(t, strings.HasPrefix(rep.Check, fmt.Sprint(rows)+" rows, "), "want %d rows: %s", rows, rep.Check)

	var names []string
	for _, r := range rep.Results {
		names = append(names, r.Name)
		assert.Len(t, r.Seconds, 1, r.Name)
		assert.Positive(t, r.Median, r.Name)
		if runtime.GOOS == "linux" {
			assert.Positive(t, r.MachineCPUSeconds, r.Name)
		}
		if r.Op != "copy" {
			assert.Positive(t, r.PeakRSS, r.Name)
			assert.Positive(t, r.CPUSeconds, r.Name)
		}
		if r.Op == "dump" {
			assert.Positive(t, r.Bytes, r.Name)
		}
	}
	assert.Equal(t, []string{NameCopy, NamePgarkDump1, NamePgarkDump2, NamePgDumpFc, NamePgDumpFd2,
		NamePgarkRestore1, NamePgarkRestore2, NamePgarkRestore2Text, NamePgRestore2}, names)
	require.Len(t, rep.Targets, 8)
	for _, tg := range rep.Targets {
		assert.Positive(t, tg.Measured, tg.Name)
	}

	var text bytes.Buffer
	require.NoError(t, rep.WriteText(&text))
	for _, want := range []string{"pg_dump -Fc", "pgark restore -j2", "issue 6 target", ">= 2.5x"} {
		assert.Contains(t, text.String(), want)
	}
	assert.True(t, strings.Contains(text.String(), "PASS") || strings.Contains(text.String(), "MISS"))
	t.Logf("\n%s", text.String())

	var js bytes.Buffer
	require.NoError(t, rep.WriteJSON(&js))
	var back Report
	require.NoError(t, json.Unmarshal(js.Bytes(), &back))
	assert.Equal(t, rep.Results, back.Results)
	assert.Equal(t, rep.Targets, back.Targets)
}

func inCI() bool {
	v := os.Getenv("CI")
	return v != "" && v != "false" && v != "0"
}

func TestStatementsDeterministic(t *testing.T) {
	d := Dataset{Rows: 1000, SmallTables: 5}
	a, b := d.Statements(), d.Statements()
	assert.Equal(t, a, b)
	assert.NotEqual(t, a, Dataset{Rows: 1000, SmallTables: 5, Seed: 0.1}.Statements(), "the seed matters")

	all := strings.Join(a, ";\n")
	assert.Contains(t, all, "setseed(0.42)")
	assert.Contains(t, all, "generate_series(1, 1000)")
	for _, want := range []string{"dim_000", "dim_004", "dim_004_parent_id_fkey", "REFERENCES public.dim_001 (id)",
		"dim_000_event_id_fkey", "events_created_at_idx", "events_status_created_at_idx"} {
		assert.Contains(t, all, want)
	}
	assert.NotContains(t, all, "dim_005")
	assert.NotContains(t, all, "dim_000_parent_id_fkey", "the root has no parent")

	def := Dataset{}.WithDefaults()
	assert.Equal(t, Dataset{Rows: DefaultRows, SmallTables: DefaultSmallTables, Seed: DefaultSeed}, def)
}

func TestSmallTables(t *testing.T) {
	for i := range 200 {
		n := smallRows(i)
		assert.True(t, n >= 200 && n < 2000, "table %d: %d rows", i, n)
		if p := smallParent(i); p >= 0 {
			assert.Less(t, p, i, "parents are created first")
		}
	}
}

func TestMedian(t *testing.T) {
	s := time.Second
	for _, tc := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{[]time.Duration{3 * s}, 3 * s},
		{[]time.Duration{5 * s, 1 * s, 3 * s}, 3 * s},
		{[]time.Duration{4 * s, 1 * s, 2 * s, 3 * s}, 2500 * time.Millisecond},
	} {
		in := slices.Clone(tc.in)
		assert.Equal(t, tc.want, median(tc.in))
		assert.Equal(t, in, tc.in, "median does not reorder its input")
	}
}

func TestTargets(t *testing.T) {
	res := func(name string, secs float64, rss, bytes int64) Result {
		return Result{Name: name, Median: secs, PeakRSS: rss, Bytes: bytes}
	}
	rep := &Report{Results: []Result{
		res(NameCopy, 10, 0, 0),
		res(NamePgarkDump1, 12, 100e6, 900),
		res(NamePgarkDump2, 8, 120e6, 880),
		res(NamePgDumpFc, 30, 20e6, 1000),
		res(NamePgDumpFd2, 16, 20e6, 1000),
		res(NamePgarkRestore1, 40, 150e6, 0),
		res(NamePgarkRestore2, 25, 310e6, 0),
		res(NamePgarkRestore2Text, 30, 100e6, 0),
		res(NamePgRestore2, 30, 30e6, 0),
	}}
	rep.evaluate()
	got := map[string]Target{}
	for _, tg := range rep.Targets {
		got[tg.Name] = tg
	}
	for _, tc := range []struct {
		name     string
		measured float64
		pass     bool
	}{
		{"dump speed: pg_dump -Fc / pgark dump -j2", 3.75, true},
		{"archive size: pgark -j2 / pg_dump -Fc", 0.88, true},
		{"restore speed: pg_restore -j2 / pgark restore -j2", 1.2, false},
		{"single stream: pgark dump -j1 / COPY limit", 1.2, true},
		{"peak RSS of pgark (dump and restore)", 310, false},
		{"dump speed: pg_dump -Fd -j2 / pgark dump -j2", 2, false},
		{"COPY binary: pgark restore -j2 --text-copy / pgark restore -j2", 1.2, false},
	} {
		tg, ok := got[tc.name]
		require.True(t, ok, tc.name)
		assert.InDelta(t, tc.measured, tg.Measured, 1e-9, tc.name)
		assert.Equal(t, tc.pass, tg.Pass, tc.name)
	}

	var text bytes.Buffer
	require.NoError(t, rep.WriteText(&text))
	assert.Contains(t, text.String(), "3.75x")
	assert.Contains(t, text.String(), "310 MB")
	assert.Contains(t, text.String(), "MISS")
	assert.Contains(t, text.String(), "(info)")
}

func TestThousands(t *testing.T) {
	for in, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 20000: "20,000", 2000000: "2,000,000"} {
		assert.Equal(t, want, thousands(in))
	}
}
