package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pgark/pgark/internal/wal"
)

// exitRestoreFailed is restore-wal's exit code for every failure other
// than "not in the archive". The server treats an exit code above 125 from
// restore_command as fatal (it stops rather than ending recovery as if the
// archive were exhausted); 126 is the smallest such code and no signal
// death looks like it (those are 128+N).
const exitRestoreFailed = 126

// exitError makes a verb exit with a code of its own; exitCode in main.go
// honours it.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// archiveWALOptions are what pgark archive-wal works with; it has no flags.
type archiveWALOptions struct{}

func newArchiveWALCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "archive-wal PATH ARCHIVE_DIR",
		Short: "Copy a completed WAL file into a WAL archive (archive_command)",
		Long: `Copy one WAL file into the WAL archive directory ARCHIVE_DIR, for use as the
server's archive_command:

  archive_mode = on
  archive_command = 'pgark archive-wal %p /path/to/archive'

PATH is the file the server names (%p, relative to its data directory, where
it runs the command): a segment, a .partial segment, a timeline .history
file or a .backup history file. It is stored as ARCHIVE_DIR/NAME.zst, zstd
compressed with a content checksum, written to a temporary file, fsynced,
read back and compared, then given its name and the directory fsynced: when
archive-wal succeeds the file survives a crash, and only then may the server
remove it.

A file is never overwritten. Archiving a file again with the same content
succeeds (the server may retry one whose archiving it did not see finish);
a different file of the same name is an error, which keeps the server
retrying and warning until someone looks.

Exit codes:
  0  archived, or already archived with the same content
  1  failure: a different file of that name is archived, I/O error, ...
     (the server keeps the file and retries)
  2  usage error`,
		Args: usageArgs(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runArchiveWAL(cmd.Context(), archiveWALOptions{}, args)
		},
	}
}

func runArchiveWAL(ctx context.Context, _ archiveWALOptions, args []string) error {
	if err := wal.Push(ctx, args[0], args[1]); err != nil {
		return fmt.Errorf("archive-wal: %w", err)
	}
	return nil
}

// restoreWALOptions are what pgark restore-wal works with; it has no flags.
type restoreWALOptions struct{}

func newRestoreWALCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "restore-wal NAME TARGET ARCHIVE_DIR",
		Short: "Fetch a WAL file from a WAL archive (restore_command)",
		Long: `Fetch one WAL file from the WAL archive directory ARCHIVE_DIR, for use as
the server's restore_command during recovery:

  restore_command = 'pgark restore-wal %f %p /path/to/archive'

NAME is the file the server asks for (%f), TARGET where to put it (%p,
relative to the data directory, where the server runs the command).
ARCHIVE_DIR/NAME.zst, as archive-wal wrote it, is decompressed into a
temporary file beside TARGET, its checksum checked, fsynced and renamed to
TARGET: the server never sees a partial or corrupt file.

The exit code tells the server whether to go on. Recovery ends (or a standby
switches to streaming) when restore_command exits with a code from 1 to 125,
which must therefore mean "the archive does not have this file" and nothing
else. Every other failure, a usage error included, exits with 126, which the
server treats as fatal, so that an unreadable disk or a corrupt file never
ends recovery early at the wrong point.

Exit codes:
  0    restored
  1    NAME is not in the archive
  126  any other failure: corrupt archived file, I/O error, bad arguments
  130  interrupted by SIGINT or SIGTERM (also fatal to the server)`,
		Args: func(cmd *cobra.Command, args []string) error {
			if err := usageArgs(cobra.ExactArgs(3))(cmd, args); err != nil {
				return &exitError{code: exitRestoreFailed, err: err}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRestoreWAL(cmd.Context(), restoreWALOptions{}, args)
		},
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitError{code: exitRestoreFailed, err: flagError(c, err)}
	})
	return cmd
}

func runRestoreWAL(ctx context.Context, _ restoreWALOptions, args []string) error {
	err := wal.Fetch(ctx, args[0], args[1], args[2])
	switch {
	case err == nil:
		return nil
	case errors.Is(err, wal.ErrNotFound):
		return &exitError{code: exitFailure, err: fmt.Errorf("restore-wal: %w", err)}
	default:
		return &exitError{code: exitRestoreFailed, err: fmt.Errorf("restore-wal: %w", err)}
	}
}
