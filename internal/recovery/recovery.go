// Package recovery prepares point-in-time recovery: it lays a pgark base
// backup out as a data directory (internal/basebackup.Unpack: tablespaces,
// the backup's own WAL, every file checked against the manifest) and
// writes recovery.signal and the recovery settings into
// postgresql.auto.conf, so that starting PostgreSQL on the directory
// replays WAL from the archive (restore_command = pgark restore-wal) to
// the chosen target.
//
// What PostgreSQL then does, and pgark relies on:
//   - restore-wal exits 1 only for a file the archive lacks, so recovery
//     ends only at the real end of the archived WAL, never on an
//     infrastructure error (those exit 126 and stop the server);
//   - a target that the archived WAL never reaches makes the server stop
//     with "recovery ended before configured recovery target was reached"
//     (PostgreSQL 13 and later) instead of promoting early;
//   - without --target-action, the server pauses at the target (hot
//     standby, read-only), PostgreSQL's default: inspect, then promote with
//     pg_promote(), or restart with another target.
package recovery

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pgark/pgark/internal/basebackup"
	"github.com/pgark/pgark/internal/wal"
)

// Target is where recovery stops; at most one field is set. The zero
// Target recovers to the end of the archived WAL.
type Target struct {
	Time      string // a timestamp with time zone, as PostgreSQL reads it
	LSN       string
	XID       string
	Name      string // a restore point (pg_create_restore_point)
	Immediate bool   // as soon as the backup is consistent
}

func (t Target) count() int {
	n := 0
	for _, s := range []string{t.Time, t.LSN, t.XID, t.Name} {
		if s != "" {
			n++
		}
	}
	if t.Immediate {
		n++
	}
	return n
}

// Options describe a recovery to prepare.
type Options struct {
	// From is the pgark backup directory (pgark basebackup -F pgark).
	From string
	// Dir is the data directory to create; it must not exist or be empty.
	Dir string
	// WALArchive is the archive pgark archive-wal fills; "" means the
	// backup's own WAL only (recovery can then reach the backup's end).
	WALArchive string
	// TablespaceMapping relocates tablespaces (server location -> dir).
	TablespaceMapping map[string]string
	Target            Target
	// Exclusive stops just before the target (time, LSN, xid) instead of
	// just after it.
	Exclusive bool
	// Action is recovery_target_action: pause (PostgreSQL's default when
	// ""), promote or shutdown.
	Action string
	// Timeline is recovery_target_timeline: "" (PostgreSQL's default,
	// latest), latest, current or a timeline ID.
	Timeline string
	// Pgark is the pgark executable the server runs as restore_command,
	// an absolute path.
	Pgark string
}

// Result says what Prepare did.
type Result struct {
	Backup      *basebackup.Description
	Tablespaces []basebackup.Tablespace
	// Settings are the lines appended to postgresql.auto.conf.
	Settings []string
}

// timeLayouts are the timestamp forms Check accepts for a time target.
var timeLayouts = []string{
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z07",
	"2006-01-02 15:04:05.999999999 MST",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999-0700",
}

// Check validates the options that do not need the file system.
func (o *Options) Check() error {
	if o.From == "" {
		return errors.New("recovery: no backup given (--from)")
	}
	if o.Dir == "" {
		return errors.New("recovery: no target data directory given (-D)")
	}
	t := o.Target
	if t.count() > 1 {
		return errors.New("recovery: give at most one recovery target")
	}
	if t.LSN != "" {
		if _, err := wal.ParseLSN(t.LSN); err != nil {
			return fmt.Errorf("recovery: invalid target LSN %q: want the form 0/1A2B3C4D", t.LSN)
		}
	}
	if t.XID != "" {
		if _, err := strconv.ParseUint(t.XID, 10, 64); err != nil {
			return fmt.Errorf("recovery: invalid target transaction ID %q: want a number", t.XID)
		}
	}
	if t.Time != "" && !validTime(t.Time) {
		return fmt.Errorf("recovery: invalid target time %q: want e.g. \"2026-11-24 10:30:00+00\"", t.Time)
	}
	if o.Exclusive && t.Time == "" && t.LSN == "" && t.XID == "" {
		return errors.New("recovery: --exclusive applies to a time, LSN or xid target only")
	}
	switch o.Action {
	case "", "pause", "promote", "shutdown":
	default:
		return fmt.Errorf("recovery: invalid target action %q: want pause, promote or shutdown", o.Action)
	}
	if o.Action != "" && t.count() == 0 {
		return errors.New("recovery: a target action needs a recovery target")
	}
	switch o.Timeline {
	case "", "latest", "current":
	default:
		if n, err := strconv.ParseUint(o.Timeline, 10, 32); err != nil || n == 0 {
			return fmt.Errorf("recovery: invalid target timeline %q: want latest, current or a timeline ID", o.Timeline)
		}
	}
	if !filepath.IsAbs(o.Pgark) {
		return fmt.Errorf("recovery: the pgark executable for restore_command must be an absolute path, not %q", o.Pgark)
	}
	return nil
}

func validTime(s string) bool {
	for _, l := range timeLayouts {
		if _, err := time.Parse(l, s); err == nil {
			return true
		}
	}
	return false
}

// Prepare unpacks the backup into opts.Dir and configures recovery. On
// failure nothing of opts.Dir's contents is left.
func Prepare(ctx context.Context, opts Options) (_ *Result, err error) {
	if err := opts.Check(); err != nil {
		return nil, err
	}
	from, err := filepath.Abs(opts.From)
	if err != nil {
		return nil, fmt.Errorf("recovery: %w", err)
	}
	archive := filepath.Join(from, basebackup.WALDir)
	if opts.WALArchive != "" {
		if archive, err = filepath.Abs(opts.WALArchive); err != nil {
			return nil, fmt.Errorf("recovery: %w", err)
		}
		if fi, err := os.Stat(archive); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("recovery: WAL archive %s is not a directory", archive)
		}
	}
	d, ts, err := basebackup.Unpack(ctx, from, basebackup.UnpackOptions{Dir: opts.Dir, TablespaceMapping: opts.TablespaceMapping})
	if err != nil {
		return nil, fmt.Errorf("recovery: %w", err)
	}
	defer func() {
		if err != nil {
			removeContents(opts.Dir)
			for _, t := range ts {
				removeContents(t.Dir)
			}
		}
	}()
	res := &Result{Backup: d, Tablespaces: ts, Settings: settings(opts, archive)}
	if err := configure(opts.Dir, from, res.Settings); err != nil {
		return nil, err
	}
	return res, nil
}

// settings are the recovery parameters for postgresql.auto.conf.
func settings(o Options, archive string) []string {
	cmd := shellQuote(o.Pgark) + " restore-wal %f %p " + shellQuote(archive)
	lines := []string{"restore_command = " + confQuote(cmd)}
	t := o.Target
	switch {
	case t.Immediate:
		lines = append(lines, "recovery_target = 'immediate'")
	case t.Time != "":
		lines = append(lines, "recovery_target_time = "+confQuote(t.Time))
	case t.LSN != "":
		lines = append(lines, "recovery_target_lsn = "+confQuote(t.LSN))
	case t.XID != "":
		lines = append(lines, "recovery_target_xid = "+confQuote(t.XID))
	case t.Name != "":
		lines = append(lines, "recovery_target_name = "+confQuote(t.Name))
	}
	if o.Exclusive {
		lines = append(lines, "recovery_target_inclusive = off")
	}
	if o.Action != "" {
		lines = append(lines, "recovery_target_action = "+confQuote(o.Action))
	}
	if o.Timeline != "" {
		lines = append(lines, "recovery_target_timeline = "+confQuote(o.Timeline))
	}
	return lines
}

// configure appends the settings to postgresql.auto.conf (later lines win
// over the backup's own), removes a standby.signal the backup may carry,
// and creates recovery.signal; all durable.
func configure(dir, from string, lines []string) error {
	auto := filepath.Join(dir, "postgresql.auto.conf")
	old, err := os.ReadFile(auto)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("recovery: %w", err)
	}
	var b strings.Builder
	b.Write(old)
	if len(old) > 0 && old[len(old)-1] != '\n' {
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "# Recovery settings added by pgark recover from %s.\n", strings.ReplaceAll(from, "\n", " "))
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	if err := writeSynced(auto, []byte(b.String())); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(dir, "standby.signal")); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("recovery: %w", err)
	}
	if err := writeSynced(filepath.Join(dir, "recovery.signal"), nil); err != nil {
		return err
	}
	return syncDir(dir)
}

func writeSynced(path string, data []byte) error {
	tmp := path + ".pgark-tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("recovery: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("recovery: write %s: %w", path, err)
	}
	return nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("recovery: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("recovery: fsync %s: %w", dir, err)
	}
	return nil
}

// removeContents empties dir, which Unpack made or found empty.
func removeContents(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		_ = os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}

// shellQuote quotes s for /bin/sh, and doubles % for restore_command,
// where %f, %p and %r are replaced and %% stands for %.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, "%", "%%"), "'", `'\''`) + "'"
}

// confQuote quotes s as a postgresql.conf string value.
func confQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
