package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/pgark/pgark/internal/basebackup"
	"github.com/pgark/pgark/internal/recovery"
)

type recoverOptions struct {
	from              string
	dir               string
	walArchive        string
	target            recovery.Target
	exclusive         bool
	action            string
	timeline          string
	tablespaceMapping []string
	pgark             string
	verbose           bool

	stderr io.Writer
}

const recoverLong = `Lay a pgark base backup (pgark basebackup -F pgark) out as a data directory
ready for point-in-time recovery: starting PostgreSQL on it replays the
archived WAL up to the chosen target.

--from names the backup, -D the new data directory, which must not exist or
be empty; so must each tablespace's directory (relocate them with -T
OLDDIR=NEWDIR). Every archive's SHA-256 and every file's checksum in the
backup's manifest are checked on the way; pg_control is put in place last,
so a directory left by a failed recover is never started by mistake.

recover writes recovery.signal and appends to postgresql.auto.conf:
  restore_command = '/path/to/pgark restore-wal %f %p ARCHIVE'
  recovery_target_... and the other settings given below.
ARCHIVE is --wal-archive (the directory archive_command = 'pgark
archive-wal %p ARCHIVE' fills) or, without it, the backup's own WAL, which
recovers to the end of the backup only. The server runs this pgark binary
(or --pgark PATH) from the data directory; both must be reachable by the
server's OS user.

At most one target: --target-time, --target-lsn, --target-xid,
--target-name (a pg_create_restore_point name) or --target-immediate (the
end of the backup). None recovers to the end of the archived WAL.
--exclusive stops just before a time, LSN or xid target. Without
--target-action the server pauses at the target (PostgreSQL's default):
look, then SELECT pg_promote(). A target the archived WAL never reaches
makes the server stop with "recovery ended before configured recovery
target was reached" rather than promote early.

Then start the server:  pg_ctl -D NEWPGDATA start`

func newRecoverCmd() *cobra.Command {
	o := &recoverOptions{}
	cmd := &cobra.Command{
		Use:   "recover --from BACKUP -D NEWPGDATA [--wal-archive DIR] [target] [option...]",
		Short: "Prepare a base backup for point-in-time recovery",
		Long:  recoverLong,
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.stderr = cmd.ErrOrStderr()
			return runRecover(cmd.Context(), o)
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	fs.StringVar(&o.from, "from", "", "the pgark backup `DIR` to recover from")
	fs.StringVarP(&o.dir, "pgdata", "D", "", "the new data `DIR`ectory")
	fs.StringVar(&o.walArchive, "wal-archive", "", "the WAL archive `DIR` (filled by pgark archive-wal)")
	fs.StringVar(&o.target.Time, "target-time", "", "recover up to `TIME` (e.g. \"2026-11-24 10:30:00+00\")")
	fs.StringVar(&o.target.LSN, "target-lsn", "", "recover up to `LSN`")
	fs.StringVar(&o.target.XID, "target-xid", "", "recover up to transaction `XID`")
	fs.StringVar(&o.target.Name, "target-name", "", "recover up to the restore point `NAME`")
	fs.BoolVar(&o.target.Immediate, "target-immediate", false, "recover only until the backup is consistent")
	fs.StringVar(&o.action, "target-action", "", "at the target: pause (the default), promote or shutdown")
	fs.StringVar(&o.timeline, "target-timeline", "", "latest (the default), current or a timeline `ID`")
	fs.BoolVar(&o.exclusive, "exclusive", false, "stop just before the target instead of just after it")
	fs.StringArrayVarP(&o.tablespaceMapping, "tablespace-mapping", "T", nil, "relocate tablespace in `OLDDIR=NEWDIR`")
	fs.StringVar(&o.pgark, "pgark", "", "the pgark `PATH` restore_command runs (default: this executable)")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "output verbose messages")
	return cmd
}

func runRecover(ctx context.Context, o *recoverOptions) error {
	usage := func(err error) error { return &usageError{cmd: "pgark recover", err: err} }
	opts := recovery.Options{From: o.from, Dir: o.dir, WALArchive: o.walArchive, Target: o.target,
		Exclusive: o.exclusive, Action: o.action, Timeline: o.timeline, Pgark: o.pgark}
	if opts.Pgark == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("recover: find this executable for restore_command (give --pgark): %w", err)
		}
		if exe, err = filepath.EvalSymlinks(exe); err != nil {
			return fmt.Errorf("recover: find this executable for restore_command (give --pgark): %w", err)
		}
		opts.Pgark = exe
	}
	for _, m := range o.tablespaceMapping {
		old, dir, err := basebackup.ParseTablespaceMapping(m)
		if err != nil {
			return usage(err)
		}
		if opts.TablespaceMapping == nil {
			opts.TablespaceMapping = make(map[string]string)
		}
		opts.TablespaceMapping[old] = dir
	}
	if err := opts.Check(); err != nil {
		return usage(err)
	}
	res, err := recovery.Prepare(ctx, opts)
	if err != nil {
		return err
	}
	if o.verbose {
		d := res.Backup
		fmt.Fprintf(o.stderr, "pgark: recover: backup %q of system %s (PostgreSQL %d), timeline %s, WAL %s to %s\n",
			d.Label, d.SystemID, d.ServerVersion, d.Timeline, d.StartLSN, d.EndLSN)
		for _, ts := range res.Tablespaces {
			fmt.Fprintf(o.stderr, "pgark: recover: tablespace %d in %s\n", ts.OID, ts.Dir)
		}
		for _, l := range res.Settings {
			fmt.Fprintf(o.stderr, "pgark: recover: %s\n", l)
		}
		fmt.Fprintf(o.stderr, "pgark: recover: %s is ready: start the server on it to recover\n", o.dir)
	}
	return nil
}
