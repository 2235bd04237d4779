// Command pgark backs up and restores PostgreSQL: logical dumps into a
// checksummed archive, parallel restores, base backups and WAL archiving, in
// one static binary that needs no PostgreSQL client programs.
//
// This package is the thin command layer: one file per verb, each with an
// options struct, its flags and a runX(ctx, opts, args) function that calls
// an engine package. Signal handling, the mapping of errors to exit codes and
// printing the final error happen here in main.go, and only here.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// version and commit are stamped at link time, for example by make build:
//
//	go build -ldflags "-X main.version=v0.1.0 -X main.commit=1a2b3c4" ./cmd/pgark
//
// They are the package's only variables and are never written at run time.
var (
	version = "dev"
	commit  = "unknown"
)

// Exit codes, documented in the root command's help.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitInterrupted = 130
)

const rootLong = `pgark backs up and restores PostgreSQL in one static binary, without the
PostgreSQL client programs: logical dumps into a checksummed archive with its
index at the end, parallel restores, base backups and WAL archiving.

Flags follow pg_dump's where they overlap, so -h is kept for --host: help is
--help or -? on every command.

Exit codes:
  0    success
  1    failure (I/O, connection, corrupt archive, ...)
  2    usage error (unknown command or flag, wrong arguments)
  126  restore-wal: any failure other than a missing file (see its help)
  130  interrupted by SIGINT or SIGTERM; a second signal ends pgark at once`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes pgark with args and returns the process exit code. The first
// SIGINT or SIGTERM cancels the context every verb runs under; it also
// restores the default signal behaviour, so a second signal ends the process
// even if a verb is stuck in a read that the context cannot interrupt, and
// says so on stderr.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	noticed := make(chan struct{})
	context.AfterFunc(ctx, func() {
		defer close(noticed)
		stop()
		// stop also cancels ctx, and then the cause is context.Canceled
		// itself; after a signal it is an error naming the signal (which
		// errors.Is treats as context.Canceled, hence the comparison).
		if cause := context.Cause(ctx); cause != context.Canceled {
			fmt.Fprintf(stderr, "pgark: %v: stopping; a second signal ends pgark at once\n", cause)
		}
	})
	code := execute(ctx, args, stdin, stdout, stderr)
	if ctx.Err() != nil {
		// A signal came: its notice is written before the process exits,
		// even when the verb stopped at once.
		<-noticed
	}
	return code
}

// execute runs the command tree under ctx, prints the error (if any) once to
// stderr and maps it to an exit code.
func execute(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd(readBuildInfo(version, commit))
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	code := exitCode(ctx, err)
	if err != nil {
		if code == exitInterrupted {
			fmt.Fprintf(stderr, "pgark: interrupted: %v\n", err)
		} else {
			fmt.Fprintf(stderr, "pgark: %v\n", err)
		}
		if ue := (*usageError)(nil); errors.As(err, &ue) {
			fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", ue.cmd)
		}
	}
	return code
}

// exitCode is the one place where errors become exit codes.
func exitCode(ctx context.Context, err error) int {
	var (
		ue *usageError
		ee *exitError
	)
	switch {
	case err == nil:
		return exitOK
	case ctx.Err() != nil, errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ue):
		return exitUsage
	default:
		return exitFailure
	}
}

// usageError is a command line the command tree cannot run: an unknown
// command or flag, or the wrong number of arguments.
type usageError struct {
	cmd string // command path, such as "pgark list"
	err error
}

// Error names the verb, if any: "list: accepts 1 arg(s), received 0".
func (e *usageError) Error() string {
	if _, verb, ok := strings.Cut(e.cmd, " "); ok {
		return verb + ": " + e.err.Error()
	}
	return e.err.Error()
}
func (e *usageError) Unwrap() error { return e.err }

// usageArgs makes an argument validator's errors usage errors.
func usageArgs(validate cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := validate(cmd, args); err != nil {
			return &usageError{cmd: cmd.CommandPath(), err: err}
		}
		return nil
	}
}

// flagError makes flag parsing errors usage errors. pflag reports an
// undefined -h as a request for help; pgark keeps -h for --host, so that
// becomes an unknown flag like any other.
func flagError(cmd *cobra.Command, err error) error {
	if errors.Is(err, pflag.ErrHelp) {
		err = errors.New("unknown shorthand flag: 'h' (help is --help or -?; -h is kept for --host, as in pg_dump)")
	}
	return &usageError{cmd: cmd.CommandPath(), err: err}
}

func newRootCmd(info buildInfo) *cobra.Command {
	root := &cobra.Command{
		Use:   "pgark",
		Short: "PostgreSQL backup and restore in one static binary",
		Long:  rootLong,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil
			}
			err := fmt.Errorf("unknown command %q", args[0])
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				err = fmt.Errorf("unknown command %q (did you mean %q?)", args[0], s[0])
			}
			return &usageError{cmd: cmd.CommandPath(), err: err}
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return &usageError{cmd: cmd.CommandPath(), err: errors.New("missing command")}
		},
		Version:                    info.String(),
		SuggestionsMinimumDistance: 2,
		SilenceErrors:              true,
		SilenceUsage:               true,
		CompletionOptions:          cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	// Defining help (and version) before cobra does keeps cobra from
	// claiming -h (and -v, pg_dump's --verbose) for them.
	root.PersistentFlags().BoolP("help", "?", false, "show help for a command")
	root.Flags().BoolP("version", "V", false, "print the version and exit")
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(flagError)
	root.AddCommand(
		newDumpCmd(),
		newDumpallCmd(),
		newRestoreCmd(),
		newListCmd(),
		newVerifyCmd(),
		newBasebackupCmd(),
		newReceivewalCmd(),
		newArchiveWALCmd(),
		newRestoreWALCmd(),
		newRecoverCmd(),
		newVersionCmd(info),
	)
	return root
}
