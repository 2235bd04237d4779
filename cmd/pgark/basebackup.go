package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/pgark/pgark/format"
	"github.com/pgark/pgark/internal/basebackup"
	"github.com/pgark/pgark/internal/conn"
	"github.com/pgark/pgark/internal/replication"
)

// basebackupOptions are pg_basebackup's flags that pgark basebackup takes.
type basebackupOptions struct {
	conn              conn.Options
	dir               string
	format            string
	walMethod         string
	checkpoint        string
	label             string
	progress          bool
	maxRate           string
	tablespaceMapping []string
	manifestChecksums string
	noManifest        bool
	noClean           bool
	compress          string
	verbose           bool

	stderr io.Writer
}

const basebackupLong = `Take a physical base backup of a running cluster (PostgreSQL 15 or later)
over the replication protocol, as pg_basebackup does.

-D names the target directory; it must not exist or be empty.

-F pgark (the default) writes a backup directory: base.tar.zst and one
OID.tar.zst per tablespace (the server's tar streams, zstd-compressed; -Z
zstd:N sets the level, -Z none stores plain .tar), the WAL the backup needs
under wal/ (as archive-wal stores it), the server's backup_manifest byte for
byte, and pgark-backup.json (system, version, timeline, start and end LSN,
times, label, tablespaces, each file's SHA-256), written last: a directory
without it is an unfinished backup. pgark recover lays it out as a data
directory.

-F plain (-Fp) writes a data directory that a server can start on, as
pg_basebackup -Fp does; every tablespace's directory must not exist or be
empty (relocate tablespaces with -T). Its manifest is backup_manifest, which
pg_verifybackup checks.

Unless --no-manifest, every file received is checked against the server's
manifest as the backup streams (sizes, checksums, the manifest's own
checksum, the WAL range): a mismatch fails the backup.

-X stream (the default) streams the WAL the backup needs into pg_wal while
it runs, over a second connection that holds a temporary replication slot
created before the backup starts, so the server cannot recycle that WAL;
the backup is then self-contained. -X fetch has the server send the WAL at
the end (it fails if the server recycled it meanwhile); -X none includes no
WAL, so restoring needs a WAL archive.

Everything written is fsynced, and what marks the backup complete comes
last: pgark-backup.json, or in a plain directory global/pg_control (a
directory without it is an unfinished backup that no server starts on). On
failure or interruption what was written is removed, unless -n/--no-clean. A data checksum failure
reported by the server (SQLSTATE XX001) fails the backup.`

func newBasebackupCmd() *cobra.Command {
	o := &basebackupOptions{}
	cmd := &cobra.Command{
		Use:   "basebackup -D DIR [-F pgark|plain] [connection-option...] [option...]",
		Short: "Take a physical base backup of a cluster",
		Long:  basebackupLong,
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.stderr = cmd.ErrOrStderr()
			return runBasebackup(cmd.Context(), o)
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	o.conn.AddFlags(fs)
	fs.StringVarP(&o.dir, "pgdata", "D", "", "receive the base backup into `DIR`")
	fs.StringVarP(&o.format, "format", "F", "pgark", "output format: pgark (a compressed backup directory) or p/plain")
	fs.StringVarP(&o.walMethod, "wal-method", "X", "stream", "include required WAL files with `METHOD`: none, fetch or stream")
	fs.StringVarP(&o.compress, "compress", "Z", "", "-F pgark compression: zstd[:LEVEL] (default zstd:1) or none")
	fs.StringVarP(&o.checkpoint, "checkpoint", "c", "", "set fast or spread (the default) checkpointing")
	fs.StringVarP(&o.label, "label", "l", "", "set backup `LABEL`")
	fs.BoolVarP(&o.progress, "progress", "P", false, "show progress information on stderr")
	fs.StringVarP(&o.maxRate, "max-rate", "r", "", "maximum transfer `RATE` (kB/s, or with suffix k or M)")
	fs.StringArrayVarP(&o.tablespaceMapping, "tablespace-mapping", "T", nil, "relocate tablespace in `OLDDIR=NEWDIR`")
	fs.StringVar(&o.manifestChecksums, "manifest-checksums", "", "use `ALGORITHM` for manifest checksums (NONE, CRC32C, SHA224, SHA256, SHA384, SHA512)")
	fs.BoolVar(&o.noManifest, "no-manifest", false, "suppress generation of a backup manifest")
	fs.BoolVarP(&o.noClean, "no-clean", "n", false, "do not clean up after errors")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "output verbose messages")
	return cmd
}

// engineOptions checks the flags and maps them onto the engine's options.
func (o *basebackupOptions) engineOptions() (basebackup.Options, error) {
	usage := func(format string, args ...any) (basebackup.Options, error) {
		return basebackup.Options{}, &usageError{cmd: "pgark basebackup", err: fmt.Errorf(format, args...)}
	}
	switch strings.ToLower(o.format) {
	case "p", "plain":
		o.format = "plain"
		if o.compress != "" {
			return usage("-Z applies to -F pgark: a plain backup is not compressed")
		}
	case "pgark":
		o.format = "pgark"
		if len(o.tablespaceMapping) > 0 {
			return usage("-T applies to -F plain: pgark recover -T relocates tablespaces of a pgark backup")
		}
	case "t", "tar":
		return usage("unsupported format %q: use -F pgark (compressed tar files and more) or -F plain", o.format)
	default:
		return usage("invalid output format %q, must be \"plain\" or \"pgark\"", o.format)
	}
	if o.dir == "" {
		return usage("no target directory specified (-D DIR)")
	}
	opts := basebackup.Options{
		Dir:               o.dir,
		Label:             o.label,
		NoManifest:        o.noManifest,
		ManifestChecksums: o.manifestChecksums,
		NoClean:           o.noClean,
	}
	switch m := strings.ToLower(o.walMethod); m {
	case "n", "none":
		opts.WAL = basebackup.WALNone
	case "f", "fetch":
		opts.WAL = basebackup.WALFetch
	case "s", "stream":
		opts.WAL = basebackup.WALStream
	default:
		return usage("invalid wal-method option %q, must be \"fetch\", \"stream\", or \"none\"", o.walMethod)
	}
	switch o.checkpoint {
	case "", replication.CheckpointFast, replication.CheckpointSpread:
		opts.Checkpoint = o.checkpoint
	default:
		return usage("invalid checkpoint argument %q, must be \"fast\" or \"spread\"", o.checkpoint)
	}
	if o.noManifest && o.manifestChecksums != "" {
		return usage("--no-manifest and --manifest-checksums are incompatible")
	}
	switch strings.ToUpper(o.manifestChecksums) {
	case "", "NONE", "CRC32C", "SHA224", "SHA256", "SHA384", "SHA512":
	default:
		return usage("invalid manifest checksum algorithm %q", o.manifestChecksums)
	}
	codec, level, err := parseCompress(o.compress)
	if err != nil {
		return usage("%v", err)
	}
	opts.NoCompress, opts.CompressLevel = codec == format.CodecNone, level
	if o.maxRate != "" {
		r, err := basebackup.ParseMaxRate(o.maxRate)
		if err != nil {
			return usage("%v", err)
		}
		opts.MaxRate = r
	}
	for _, m := range o.tablespaceMapping {
		old, dir, err := basebackup.ParseTablespaceMapping(m)
		if err != nil {
			return usage("%v", err)
		}
		if opts.TablespaceMapping == nil {
			opts.TablespaceMapping = make(map[string]string)
		}
		opts.TablespaceMapping[old] = dir
	}
	return opts, nil
}

func runBasebackup(ctx context.Context, o *basebackupOptions) error {
	opts, err := o.engineOptions()
	if err != nil {
		return err
	}
	o.conn.Prompt = promptPassword
	connector, err := o.conn.Connector(ctx)
	if err != nil {
		return fmt.Errorf("basebackup: %w", err)
	}
	opts.Connect = connector.Replication(conn.ReplicationPhysical).Connect
	opts.Warn = func(msg string) { fmt.Fprintf(o.stderr, "pgark: basebackup: %s\n", msg) }
	var bar *progressLine
	if o.progress {
		bar = newProgressLine(o.stderr)
		opts.Progress = bar.update
	}
	take := basebackup.Backup
	if o.format == "plain" {
		take = basebackup.Plain
	}
	res, err := take(ctx, opts)
	if bar != nil {
		bar.finish()
	}
	if err != nil {
		var pgErr interface{ SQLState() string }
		if errors.As(err, &pgErr) && pgErr.SQLState() == "XX001" {
			return fmt.Errorf("%w (data checksum failure: the backup is not usable)", err)
		}
		return err
	}
	if o.verbose {
		fmt.Fprintf(o.stderr, "pgark: basebackup: system %s, PostgreSQL %d, timeline %s, WAL %s to %s, %d tablespace(s), %s\n",
			res.SystemID, res.ServerVersion, res.Timeline, res.Start, res.End, len(res.Tablespaces),
			res.EndTime.Sub(res.StartTime).Round(time.Millisecond))
		fmt.Fprintf(o.stderr, "pgark: basebackup: base backup completed in %s\n", o.dir)
	}
	return nil
}

// progressLine shows -P progress: a line rewritten in place on a terminal
// (at most a few times a second), or only the final line otherwise.
type progressLine struct {
	w     io.Writer
	tty   bool
	last  time.Time
	p     basebackup.Progress
	shown bool
}

func newProgressLine(w io.Writer) *progressLine {
	f, ok := w.(*os.File)
	return &progressLine{w: w, tty: ok && term.IsTerminal(int(f.Fd()))}
}

func (b *progressLine) update(p basebackup.Progress) {
	b.p = p
	if !b.tty || time.Since(b.last) < 200*time.Millisecond {
		return
	}
	b.last = time.Now()
	fmt.Fprintf(b.w, "\r%s", b.text())
	b.shown = true
}

func (b *progressLine) text() string {
	done, total := b.p.Done/1024, max(b.p.Total/1024, b.p.Done/1024)
	pct := 100
	if total > 0 {
		pct = int(done * 100 / total)
	}
	return fmt.Sprintf("%d/%d kB (%d%%), %d/%d tablespaces", done, total, pct, b.p.Archive, b.p.Archives)
}

func (b *progressLine) finish() {
	if b.tty && b.shown {
		fmt.Fprintf(b.w, "\r%s\n", b.text())
		return
	}
	fmt.Fprintln(b.w, b.text())
}
