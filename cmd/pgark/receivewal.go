package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/spf13/cobra"

	"github.com/pgark/pgark/internal/conn"
	"github.com/pgark/pgark/internal/receivewal"
	"github.com/pgark/pgark/internal/wal"
)

// receivewalOptions are pg_receivewal's flags that pgark receivewal takes.
type receivewalOptions struct {
	conn           conn.Options
	dir            string
	slot           string
	createSlot     bool
	dropSlot       bool
	ifNotExists    bool
	synchronous    bool
	statusInterval int
	endPos         string
	noLoop         bool
	verbose        bool

	stderr io.Writer
}

const receivewalLong = `Stream write-ahead log from a running cluster (PostgreSQL 15 or later) over
the replication protocol into a directory, as pg_receivewal does.

Each segment is written as NAME.partial, zero-filled to the segment size
first, and renamed to NAME once it is complete and fsynced (the directory
fsynced too). A timeline switch on the server is followed: the new
timeline's .history file is written, the old timeline's last segment stays
.partial, and streaming goes on on the new timeline.

Streaming resumes from what -D already holds: just after the newest
complete segment, or from the start of the newest .partial one. An empty
directory starts at the slot's restart position (with -S), else at the
start of the server's current segment.

The server is told WAL is flushed only once it has been fsynced: at the end
of each segment, before each status update (-s) and when the server asks;
with --synchronous after every message, and at once. With a slot the
server keeps the WAL until then, so nothing is lost while pgark receivewal
is stopped. --create-slot makes a physical slot that keeps WAL from its
creation on (pg_receivewal's only from its first use) and exits;
--drop-slot drops it and exits.

-E LSN stops, with status 0, once WAL past LSN has been received and
fsynced; the segment it stops in stays .partial (an LSN just before a
segment's end, such as 0/2FFFFFF, ends with that segment complete once the
server has it all). A lost connection is retried every 5 seconds unless
-n. SIGINT or SIGTERM stops at once: what was received is fsynced and the
current segment stays .partial for the next run, which resumes from it.`

func newReceivewalCmd() *cobra.Command {
	o := &receivewalOptions{}
	cmd := &cobra.Command{
		Use:   "receivewal -D DIR [connection-option...] [option...]",
		Short: "Stream WAL from a server into a directory",
		Long:  receivewalLong,
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.stderr = cmd.ErrOrStderr()
			return runReceivewal(cmd.Context(), o)
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	o.conn.AddFlags(fs)
	fs.StringVarP(&o.dir, "directory", "D", "", "receive write-ahead log files into `DIR`")
	fs.StringVarP(&o.endPos, "endpos", "E", "", "exit once WAL past `LSN` is received and fsynced")
	fs.BoolVar(&o.ifNotExists, "if-not-exists", false, "do not error if slot already exists when creating a slot")
	fs.BoolVarP(&o.noLoop, "no-loop", "n", false, "do not loop on connection lost")
	fs.IntVarP(&o.statusInterval, "status-interval", "s", 10, "send a status packet to the server every `SECS` seconds (0: only when asked)")
	fs.StringVarP(&o.slot, "slot", "S", "", "use replication slot `SLOTNAME`")
	fs.BoolVar(&o.synchronous, "synchronous", false, "flush write-ahead log immediately after writing")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "output verbose messages")
	fs.BoolVar(&o.createSlot, "create-slot", false, "create a new replication slot (for the slot's name see --slot)")
	fs.BoolVar(&o.dropSlot, "drop-slot", false, "drop the replication slot (for the slot's name see --slot)")
	return cmd
}

// engineOptions checks the flags as pg_receivewal does and maps them onto
// the engine's options.
func (o *receivewalOptions) engineOptions() (receivewal.Options, error) {
	usage := func(format string, args ...any) (receivewal.Options, error) {
		return receivewal.Options{}, &usageError{cmd: "pgark receivewal", err: fmt.Errorf(format, args...)}
	}
	if o.slot == "" && (o.createSlot || o.dropSlot) {
		flag := "--create-slot"
		if o.dropSlot {
			flag = "--drop-slot"
		}
		return usage("%s needs a slot to be specified using --slot", flag)
	}
	if o.createSlot && o.dropSlot {
		return usage("cannot use --create-slot together with --drop-slot")
	}
	if o.dir == "" && !o.createSlot && !o.dropSlot {
		return usage("no target directory specified (-D DIR)")
	}
	const maxInterval = math.MaxInt32 / 1000 // pg_receivewal's bound
	if o.statusInterval < 0 || o.statusInterval > maxInterval {
		return usage("-s/--status-interval must be in range 0..%d", maxInterval)
	}
	opts := receivewal.Options{
		Dir:            o.dir,
		Slot:           o.slot,
		Synchronous:    o.synchronous,
		StatusInterval: time.Duration(o.statusInterval) * time.Second,
		NoLoop:         o.noLoop,
		Warn:           func(msg string) { fmt.Fprintf(o.stderr, "pgark: receivewal: %s\n", msg) },
	}
	if o.endPos != "" {
		lsn, err := wal.ParseLSN(o.endPos)
		if err != nil {
			return usage("could not parse end position %q", o.endPos)
		}
		opts.EndPos = lsn
	}
	if o.verbose {
		opts.Info = opts.Warn
	}
	return opts, nil
}

func runReceivewal(ctx context.Context, o *receivewalOptions) error {
	opts, err := o.engineOptions()
	if err != nil {
		return err
	}
	o.conn.Prompt = promptPassword
	connector, err := o.conn.Connector(ctx)
	if err != nil {
		return fmt.Errorf("receivewal: %w", err)
	}
	opts.Connect = connector.Replication(conn.ReplicationPhysical).Connect
	switch {
	case o.dropSlot:
		if o.verbose {
			opts.Info(fmt.Sprintf("dropping replication slot %q", o.slot))
		}
		return receivewal.DropSlot(ctx, opts.Connect, o.slot)
	case o.createSlot:
		if o.verbose {
			opts.Info(fmt.Sprintf("creating replication slot %q", o.slot))
		}
		created, err := receivewal.CreateSlot(ctx, opts.Connect, o.slot, o.ifNotExists)
		if err == nil && !created && o.verbose {
			opts.Info(fmt.Sprintf("replication slot %q already exists", o.slot))
		}
		return err
	}
	return receivewal.Run(ctx, opts)
}
