package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgark/pgark/internal/testcluster"
)

// DefaultPGBinDir is where Run finds PostgreSQL 15, server and client
// tools: pg_dump and pg_restore 15 read archives and servers up to 15 only.
const DefaultPGBinDir = "/usr/lib/postgresql/15/bin"

// DefaultRuns is how many times each variant runs by default: with three,
// one slow run of this 2-core machine moved a median by 10-20%.
const DefaultRuns = 5

// sourceDB is the database the dataset is generated in.
const sourceDB = "bench"

// Config says what Run measures, and with what.
type Config struct {
	// Dataset is the database to generate.
	Dataset Dataset
	// Runs is how many times each variant runs (default DefaultRuns); the
	// report gives medians.
	Runs int
	// PGBinDir holds the server (initdb, postgres) and the client tools
	// (pg_dump, pg_restore) to compare with; default DefaultPGBinDir.
	PGBinDir string
	// Pgark is a pgark binary to measure. When empty, Run builds one from
	// SourceDir (CGO_ENABLED=0 go build ./cmd/pgark), which is then the
	// module's root directory.
	Pgark     string
	SourceDir string
	// WorkDir holds the binary and the archives; empty means a temporary
	// directory, removed at the end.
	WorkDir string
	// Log receives a line per step; nil discards them.
	Log io.Writer
}

// Run builds pgark, starts one throwaway PostgreSQL server with fsync off
// (for both tools alike), generates the dataset and measures every variant
// Runs times, interleaved: in each round every dump variant runs once, then
// every restore variant restores into a new database, which is checked
// against the source and dropped. It returns the report, or the first
// error.
func Run(ctx context.Context, cfg Config) (_ *Report, err error) {
	start := time.Now()
	cfg.Dataset = cfg.Dataset.WithDefaults()
	if cfg.Runs <= 0 {
		cfg.Runs = DefaultRuns
	}
	if cfg.PGBinDir == "" {
		cfg.PGBinDir = DefaultPGBinDir
	}
	logf := func(format string, args ...any) {
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, "bench: "+format+"\n", args...)
		}
	}

	work := cfg.WorkDir
	if work == "" {
		work, err = os.MkdirTemp("", "pgark-bench-")
		if err != nil {
			return nil, fmt.Errorf("bench: work dir: %w", err)
		}
		defer func() { err = errors.Join(err, os.RemoveAll(work)) }()
	}

	b := &bencher{cfg: cfg, work: work, logf: logf}
	b.pgark = cfg.Pgark
	if b.pgark == "" {
		logf("building pgark from %s", cfg.SourceDir)
		if b.pgark, err = buildPgark(ctx, cfg.SourceDir, work); err != nil {
			return nil, err
		}
	}

	logf("starting PostgreSQL from %s", cfg.PGBinDir)
	b.cluster, err = testcluster.New(ctx, testcluster.Config{
		Search: testcluster.Search{BinDir: cfg.PGBinDir},
	})
	if err != nil {
		return nil, fmt.Errorf("bench: start server: %w", err)
	}
	defer func() { err = errors.Join(err, b.cluster.Close()) }()

	rep := &Report{
		Started: start,
		Host:    Host{OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(), GoVersion: runtime.Version()},
		Server:  "PostgreSQL " + b.cluster.Version(),
		Dataset: cfg.Dataset,
		Runs:    cfg.Runs,
	}
	if err := b.describe(ctx, rep); err != nil {
		return nil, err
	}

	logf("generating %d rows in %s and %d small tables", cfg.Dataset.Rows, DominantTable, cfg.Dataset.SmallTables)
	loadStart := time.Now()
	if err := b.generate(ctx, rep); err != nil {
		return nil, err
	}
	rep.LoadSeconds = time.Since(loadStart).Seconds()
	logf("generated in %.1fs: database %s", rep.LoadSeconds, megabytes(rep.DatabaseBytes))

	rep.Host.LoadAvg = loadAvg()
	if err := b.measure(ctx, rep); err != nil {
		return nil, err
	}
	rep.evaluate()
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}

// bencher is one Run's state.
type bencher struct {
	cfg     Config
	work    string
	logf    func(string, ...any)
	pgark   string
	cluster *testcluster.Cluster
	pgDump  string
	pgRest  string
	nextDB  int
}

// buildPgark builds a static pgark into dir.
func buildPgark(ctx context.Context, sourceDir, dir string) (string, error) {
	if sourceDir == "" {
		return "", errors.New("bench: Config.SourceDir (the module root) is needed to build pgark")
	}
	out := filepath.Join(dir, "pgark")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", out, "./cmd/pgark")
	cmd.Dir = sourceDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("bench: build pgark in %s: %w\n%s", sourceDir, err, msg)
	}
	return out, nil
}

// describe fills in the tools' versions and the server settings.
func (b *bencher) describe(ctx context.Context, rep *Report) error {
	var err error
	if b.pgDump, err = b.cluster.ClientBin("pg_dump"); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if b.pgRest, err = b.cluster.ClientBin("pg_restore"); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	for _, v := range []struct {
		dst  *string
		name string
		args []string
	}{
		{&rep.PgDump, b.pgDump, []string{"--version"}},
		{&rep.Pgark, b.pgark, []string{"version"}},
	} {
		out, err := exec.CommandContext(ctx, v.name, v.args...).Output()
		if err != nil {
			return fmt.Errorf("bench: %s %s: %w", v.name, strings.Join(v.args, " "), err)
		}
		*v.dst = strings.TrimSpace(string(out))
	}
	rep.Pgark = strings.TrimPrefix(rep.Pgark, "pgark ")

	conn, err := b.connect(ctx, "postgres")
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	res, err := conn.Exec(ctx, `SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ' ' ORDER BY name)
		FROM pg_settings WHERE name IN ('fsync', 'shared_buffers', 'max_wal_size', 'maintenance_work_mem',
			'wal_level', 'synchronous_commit', 'full_page_writes')`).ReadAll()
	if err != nil {
		return fmt.Errorf("bench: read server settings: %w", err)
	}
	if len(res) == 1 && len(res[0].Rows) == 1 {
		rep.Settings = strings.Fields(string(res[0].Rows[0][0]))
	}
	return nil
}

func (b *bencher) connect(ctx context.Context, db string) (*pgconn.PgConn, error) {
	conn, err := pgconn.Connect(ctx, b.cluster.ConnString(db))
	if err != nil {
		return nil, fmt.Errorf("bench: connect to %s: %w", db, err)
	}
	return conn, nil
}

// exec runs statements in db on a connection of their own.
func (b *bencher) exec(ctx context.Context, db string, stmts ...string) error {
	conn, err := b.connect(ctx, db)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s).ReadAll(); err != nil {
			return fmt.Errorf("bench: %s: %w", s, err)
		}
	}
	return nil
}

// query returns the first column of the first row of sql in db.
func (b *bencher) query(ctx context.Context, db, sql string) (string, error) {
	conn, err := b.connect(ctx, db)
	if err != nil {
		return "", err
	}
	defer conn.Close(context.Background())
	res, err := conn.Exec(ctx, sql).ReadAll()
	if err != nil {
		return "", fmt.Errorf("bench: query %s: %w", db, err)
	}
	if len(res) == 0 || len(res[0].Rows) == 0 {
		return "", fmt.Errorf("bench: query %s: no row", db)
	}
	return string(res[0].Rows[0][0]), nil
}

func (b *bencher) generate(ctx context.Context, rep *Report) error {
	if err := b.exec(ctx, "postgres", "CREATE DATABASE "+sourceDB+" TEMPLATE template0"); err != nil {
		return err
	}
	conn, err := b.connect(ctx, sourceDB)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if err := b.cfg.Dataset.Generate(ctx, conn); err != nil {
		return err
	}
	sizes, err := b.query(ctx, sourceDB, fmt.Sprintf(
		"SELECT pg_database_size(current_database()) || ' ' || pg_table_size('public.%s')", DominantTable))
	if err != nil {
		return err
	}
	db, table, _ := strings.Cut(sizes, " ")
	rep.DatabaseBytes, _ = strconv.ParseInt(db, 10, 64)
	rep.DominantBytes, _ = strconv.ParseInt(table, 10, 64)
	rep.Check, err = b.query(ctx, sourceDB, b.cfg.Dataset.checkQuery())
	return err
}

// variant is one way to dump or restore.
type variant struct {
	name, op string
	// run performs one measured run; dir is a fresh directory for its
	// output. It returns the sample and the archive's size (dumps).
	run func(ctx context.Context, dir string) (sample, int64, error)
	// command describes what runs.
	command string
	samples []sample
	bytes   int64
}

func (b *bencher) measure(ctx context.Context, rep *Report) error {
	env := b.cluster.Env(sourceDB)
	// The archives the restores read: those of the last round.
	pgarkArchive := filepath.Join(b.work, "restore-from.pgark")
	pgDumpDir := filepath.Join(b.work, "restore-from.d")

	pgarkDump := func(jobs int) func(context.Context, string) (sample, int64, error) {
		return func(ctx context.Context, dir string) (sample, int64, error) {
			out := filepath.Join(dir, "dump.pgark")
			s, err := runTool(ctx, env, b.pgark, "dump", "-j", strconv.Itoa(jobs), "-f", out, sourceDB)
			if err != nil {
				return s, 0, err
			}
			size, err := pathSize(out)
			if err != nil {
				return s, 0, err
			}
			if jobs == 2 {
				err = replace(out, pgarkArchive)
			}
			return s, size, err
		}
	}
	dumps := []*variant{
		{name: NameCopy, op: "copy", command: fmt.Sprintf("pgconn CopyTo(io.Discard, COPY public.%s TO STDOUT)", DominantTable),
			run: func(ctx context.Context, _ string) (sample, int64, error) {
				s, err := b.copyLimit(ctx)
				return s, 0, err
			}},
		{name: NamePgarkDump1, op: "dump", command: "pgark dump -j 1 -f FILE " + sourceDB, run: pgarkDump(1)},
		{name: NamePgarkDump2, op: "dump", command: "pgark dump -j 2 -f FILE " + sourceDB, run: pgarkDump(2)},
		{name: NamePgDumpFc, op: "dump", command: "pg_dump -Fc -f FILE " + sourceDB,
			run: func(ctx context.Context, dir string) (sample, int64, error) {
				out := filepath.Join(dir, "dump.custom")
				s, err := runTool(ctx, env, b.pgDump, "-Fc", "-f", out, sourceDB)
				if err != nil {
					return s, 0, err
				}
				size, err := pathSize(out)
				return s, size, err
			}},
		{name: NamePgDumpFd2, op: "dump", command: "pg_dump -Fd -j 2 -f DIR " + sourceDB,
			run: func(ctx context.Context, dir string) (sample, int64, error) {
				out := filepath.Join(dir, "dump.dir")
				s, err := runTool(ctx, env, b.pgDump, "-Fd", "-j", "2", "-f", out, sourceDB)
				if err != nil {
					return s, 0, err
				}
				size, err := pathSize(out)
				if err != nil {
					return s, 0, err
				}
				return s, size, replace(out, pgDumpDir)
			}},
	}
	pgarkRestore := func(jobs int, flags ...string) func(context.Context, string) (sample, int64, error) {
		return func(ctx context.Context, _ string) (sample, int64, error) {
			return b.restoreInto(ctx, func(ctx context.Context, db string) (sample, error) {
				args := append([]string{"restore", "-j", strconv.Itoa(jobs)}, flags...)
				return runTool(ctx, b.cluster.Env(db), b.pgark, append(args, "-d", db, pgarkArchive)...)
			}, rep.Check)
		}
	}
	restores := []*variant{
		{name: NamePgarkRestore1, op: "restore", command: "pgark restore -j 1 -d DB FILE (of pgark dump -j 2)", run: pgarkRestore(1)},
		{name: NamePgarkRestore2, op: "restore", command: "pgark restore -j 2 -d DB FILE (of pgark dump -j 2)", run: pgarkRestore(2)},
		{name: NamePgarkRestore2Text, op: "restore", command: "pgark restore -j 2 --text-copy -d DB FILE (of pgark dump -j 2)",
			run: pgarkRestore(2, "--text-copy")},
		{name: NamePgRestore2, op: "restore", command: "pg_restore -j 2 -d DB DIR (of pg_dump -Fd -j 2)",
			run: func(ctx context.Context, _ string) (sample, int64, error) {
				return b.restoreInto(ctx, func(ctx context.Context, db string) (sample, error) {
					return runTool(ctx, b.cluster.Env(db), b.pgRest, "-j", "2", "-d", db, pgDumpDir)
				}, rep.Check)
			}},
	}

	for _, phase := range [][]*variant{dumps, restores} {
		for round := 1; round <= b.cfg.Runs; round++ {
			for _, v := range phase {
				if err := b.settle(ctx); err != nil {
					return err
				}
				dir, err := os.MkdirTemp(b.work, "run-")
				if err != nil {
					return fmt.Errorf("bench: %w", err)
				}
				s, size, err := v.run(ctx, dir)
				if rmErr := os.RemoveAll(dir); err == nil {
					err = rmErr
				}
				if err != nil {
					return fmt.Errorf("bench: %s (run %d): %w", v.name, round, err)
				}
				v.samples = append(v.samples, s)
				if round == 1 {
					v.bytes = size
				}
				b.logf("%-29s run %d/%d: %6.2fs %s", v.name, round, b.cfg.Runs, s.wall.Seconds(), describeSample(s, size))
			}
		}
	}
	for _, v := range append(dumps, restores...) {
		res := newResult(v.name, v.op, v.command, v.samples)
		res.Bytes = v.bytes
		rep.Results = append(rep.Results, res)
	}
	return nil
}

func describeSample(s sample, size int64) string {
	var parts []string
	if s.peakRSS > 0 {
		parts = append(parts, "peak RSS "+megabytes(s.peakRSS))
	}
	if size > 0 {
		parts = append(parts, "archive "+megabytes(size))
	}
	return strings.Join(parts, ", ")
}

// copyLimit times COPY of the dominant table into nothing, on one
// connection in this process: the most one stream can do.
func (b *bencher) copyLimit(ctx context.Context) (sample, error) {
	conn, err := b.connect(ctx, sourceDB)
	if err != nil {
		return sample{}, err
	}
	defer conn.Close(context.Background())
	return measureMachine(func() (sample, error) {
		start := time.Now()
		if _, err := conn.CopyTo(ctx, io.Discard, fmt.Sprintf("COPY public.%s TO STDOUT", DominantTable)); err != nil {
			return sample{}, fmt.Errorf("copy %s: %w", DominantTable, err)
		}
		return sample{wall: time.Since(start)}, nil
	})
}

// restoreInto creates a new empty database, times restore into it, checks
// it against the source's summary want and drops it.
func (b *bencher) restoreInto(ctx context.Context, restore func(context.Context, string) (sample, error), want string) (sample, int64, error) {
	b.nextDB++
	db := fmt.Sprintf("restore_%d", b.nextDB)
	if err := b.settle(ctx, "CREATE DATABASE "+db+" TEMPLATE template0"); err != nil {
		return sample{}, 0, err
	}
	s, err := restore(ctx, db)
	if err == nil {
		var got string
		got, err = b.query(ctx, db, b.cfg.Dataset.checkQuery())
		if err == nil && got != want {
			err = fmt.Errorf("restored database differs from the source:\n got: %s\nwant: %s", got, want)
		}
	}
	// Drop it even when ctx has ended, but not forever.
	dropCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	return s, 0, errors.Join(err, b.exec(dropCtx, "postgres", "DROP DATABASE "+db))
}

// settle runs stmts, then makes the next run start as every other does:
// with no dirty buffers in the server (CHECKPOINT) and none in the kernel
// (sync), which would otherwise be written out during that run, at its
// expense. Without sync, of two restores in a row on this 2-core machine
// the second took 1.0-1.6 s longer (4 pairs of 5.4-7.2 s restores, either
// order); with it, no order showed.
func (b *bencher) settle(ctx context.Context, stmts ...string) error {
	if err := b.exec(ctx, "postgres", append(stmts, "CHECKPOINT")...); err != nil {
		return err
	}
	syscall.Sync()
	return nil
}

// replace moves src to dst, removing whatever dst was.
func replace(src, dst string) error {
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	return os.Rename(src, dst)
}

// loadAvg is the 1, 5 and 15 minute load averages from /proc/loadavg, or
// "" where there is none.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
