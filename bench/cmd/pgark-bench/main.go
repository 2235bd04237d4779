// Command pgark-bench runs the side-by-side benchmark of pgark against
// pg_dump and pg_restore (package bench), prints the report and writes it
// as JSON. `make bench` runs it from the module root.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/pgark/pgark/bench"
)

func main() { os.Exit(run()) }

func run() int {
	var (
		cfg bench.Config
		out string
	)
	fs := flag.NewFlagSet("pgark-bench", flag.ContinueOnError)
	fs.IntVar(&cfg.Dataset.Rows, "rows", bench.DefaultRows, "rows of the dominant table")
	fs.IntVar(&cfg.Dataset.SmallTables, "small-tables", bench.DefaultSmallTables, "number of small tables")
	fs.Float64Var(&cfg.Dataset.Seed, "seed", bench.DefaultSeed, "setseed() value in [-1, 1], not 0")
	fs.IntVar(&cfg.Runs, "runs", bench.DefaultRuns, "runs of each variant (the report gives medians)")
	fs.StringVar(&cfg.PGBinDir, "pg-bin", bench.DefaultPGBinDir, "PostgreSQL bin directory: server, pg_dump, pg_restore")
	fs.StringVar(&cfg.Pgark, "pgark", "", "pgark binary to measure (default: build ./cmd/pgark of this module)")
	fs.StringVar(&cfg.WorkDir, "work", "", "directory for the binary and the archives (default: a temporary one)")
	fs.StringVar(&out, "out", "bin/bench-report.json", "write the report as JSON here (- for none)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "pgark-bench: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if cfg.Pgark == "" {
		root, err := moduleRoot()
		if err != nil {
			fmt.Fprintf(os.Stderr, "pgark-bench: %v (or pass -pgark BINARY)\n", err)
			return 1
		}
		cfg.SourceDir = root
	}
	cfg.Log = os.Stderr

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := bench.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgark-bench: %v\n", err)
		if errors.Is(err, context.Canceled) {
			return 130
		}
		return 1
	}
	fmt.Println()
	if err := rep.WriteText(os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "pgark-bench: %v\n", err)
		return 1
	}
	if out != "-" {
		if err := writeJSON(out, rep); err != nil {
			fmt.Fprintf(os.Stderr, "pgark-bench: %v\n", err)
			return 1
		}
		fmt.Printf("\nreport written to %s\n", out)
	}
	return 0
}

func writeJSON(path string, rep *bench.Report) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := rep.WriteJSON(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// moduleRoot is the nearest parent of the working directory with a go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
