package dump

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgark/pgark/format"
	"github.com/pgark/pgark/internal/conn"
	"github.com/pgark/pgark/schema"
)

// DefaultBlockSize is the raw size a data block aims at.
const DefaultBlockSize = 1 << 20

// Querier runs catalog queries inside the dump's snapshot transaction. It
// has the method set of catalog.Querier, so the value Run passes to Load
// can be handed to catalog.Load as it is.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// LoadFunc reads the objects to dump through q, which queries inside the
// dump's transaction, and returns them in restore order with IDs assigned
// (catalog.Load followed by schema.Sort). Run calls it once. Selection by
// name (pg_dump's -t, -n, --exclude-table-data...) is the loader's: Run
// locks the tables whose TABLE or TABLE DATA objects it returns, copies
// the data of the latter, and only the rows a TableData.Where accepts.
type LoadFunc func(ctx context.Context, q Querier) ([]*schema.Object, error)

// Options configure Run. Connector, Out and Load are required.
type Options struct {
	Connector *conn.Connector
	// Out receives the archive. Run writes it sequentially and never
	// closes or syncs it.
	Out io.Writer
	// Load reads the objects to dump (see LoadFunc).
	Load LoadFunc
	// LoadDatabase, if set, reads the database's own objects (pg_dump's
	// DATABASE entries: its creation, properties, comment and
	// privileges), numbered 1, 2, 3... with their DepIDs set. They are
	// written first, before Load's objects, whose IDs are shifted after
	// them.
	LoadDatabase LoadFunc

	// Jobs is the number of connections that copy table data (-j); 0 or
	// 1 means the leader copies everything itself.
	Jobs int
	// Codec and Level choose the compression of the archive (-Z).
	Codec format.Codec
	Level int

	SchemaOnly bool             // -s: no data-section entries, no REFRESH
	DataOnly   bool             // -a: only TABLE DATA and SEQUENCE SET
	Sections   []schema.Section // --section, repeatable; empty means all
	// StatisticsOnly (--statistics-only) keeps only STATISTICS DATA
	// objects. Those the loader returns are kept by -s and -a alike, as
	// pg_dump 18 keeps them.
	StatisticsOnly bool

	NoOwner      bool // -O: entries carry no owner
	NoPrivileges bool // -x: no ACL entries
	NoComments   bool // --no-comments: no COMMENT entries
	// NoTablespaces (--no-tablespaces): entries carry no tablespace, so
	// a restore creates everything in the database's default one.
	NoTablespaces bool

	// LockWaitTimeout (--lock-wait-timeout) bounds the wait for each
	// table lock the leader takes: a PostgreSQL duration such as "10s"
	// or a number of milliseconds. Empty means wait forever.
	LockWaitTimeout string
	// Snapshot (--snapshot) is an exported snapshot to dump at instead
	// of exporting one.
	Snapshot string
	// SerializableDeferrable (--serializable-deferrable) waits for a
	// snapshot that no serializable transaction can invalidate.
	SerializableDeferrable bool

	// TextCopy (--text-copy) stores every table's rows as COPY text, as
	// pgark did before binary blocks and as its older versions read.
	// Otherwise a table whose columns all have built-in types that
	// copybin converts is copied as COPY binary, which the server writes
	// at a fraction of the CPU (format/SPEC.md, "Data record").
	TextCopy bool

	// ToolVersion is recorded in the archive's info.
	ToolVersion string
	// BlockSize is the raw size data blocks aim at; 0 means DefaultBlockSize.
	BlockSize int
	// SplitPages is the smallest part, in pages, that a big table is split
	// into for -j workers to copy at once (PostgreSQL 14 and later); 0
	// means 4096 (32 MiB).
	SplitPages int
	// Progress, if set, receives events as the dump goes (see Event).
	Progress func(Event)
}

func (o *Options) validate() error {
	switch {
	case o.Connector == nil:
		return errors.New("dump: no connector")
	case o.Out == nil:
		return errors.New("dump: no output")
	case o.Load == nil:
		return errors.New("dump: no catalog loader")
	case o.Jobs < 0:
		return fmt.Errorf("dump: invalid number of jobs %d", o.Jobs)
	case o.SchemaOnly && o.DataOnly:
		return errors.New("dump: options -s/--schema-only and -a/--data-only cannot be used together")
	case o.StatisticsOnly && (o.SchemaOnly || o.DataOnly):
		return errors.New("dump: option --statistics-only cannot be used with -s/--schema-only or -a/--data-only")
	case o.BlockSize < 0 || o.BlockSize > format.MaxPayload:
		return fmt.Errorf("dump: block size %d out of range 1..%d", o.BlockSize, format.MaxPayload)
	}
	for _, s := range o.Sections {
		if s < schema.SectionPreData || s > schema.SectionPostData {
			return fmt.Errorf("dump: invalid section %v", s)
		}
	}
	return nil
}

// EventKind says what an Event reports.
type EventKind int

// Event kinds, in the order a dump reaches them.
const (
	// EventSnapshot: the leader's transaction is open, the catalog read,
	// the tables locked and the snapshot (Event.Snapshot) exported or
	// adopted. Nothing has been written yet.
	EventSnapshot EventKind = iota + 1
	// EventEntries: all Event.Entries entries are written; Event.Tables
	// tables (or parts of split tables) are to be copied.
	EventEntries
	// EventTableStart: a worker begins to copy Event.Table.
	EventTableStart
	// EventTableDone: Event.Table is copied: Event.Rows rows, Event.Bytes
	// bytes of COPY data (text, or binary tuples).
	EventTableDone
	// EventDone: the archive is complete; Rows and Bytes are the totals.
	EventDone
	// EventDatabase: RunAll begins to dump Event.Database.
	EventDatabase
)

// Event reports the progress of a dump.
type Event struct {
	Kind     EventKind
	Snapshot string
	Database string
	Entries  int
	Tables   int
	Table    string // quoted, qualified
	Part     string // "part 2 of 8" for a part of a split table, else ""
	Worker   int    // 0 for the leader, 1.. for workers
	Rows     int64
	Bytes    int64
	Elapsed  time.Duration // since Run started
}

// String renders the event as a verbose progress line.
func (e Event) String() string {
	switch e.Kind {
	case EventSnapshot:
		return fmt.Sprintf("catalog read and tables locked at snapshot %s", e.Snapshot)
	case EventEntries:
		return fmt.Sprintf("wrote %d entries", e.Entries)
	case EventTableStart:
		return fmt.Sprintf("dumping contents of table %s%s (worker %d)", e.Table, e.part(), e.Worker)
	case EventTableDone:
		return fmt.Sprintf("finished table %s%s: %d rows, %d bytes", e.Table, e.part(), e.Rows, e.Bytes)
	case EventDone:
		return fmt.Sprintf("dump complete: %d rows, %d bytes of data in %s", e.Rows, e.Bytes, e.Elapsed.Round(time.Millisecond))
	case EventDatabase:
		return fmt.Sprintf("dumping database %q", e.Database)
	}
	return fmt.Sprintf("event %d", int(e.Kind))
}

func (e Event) part() string {
	if e.Part == "" {
		return ""
	}
	return ", " + e.Part
}

// LockError reports a table that a worker could not lock without waiting:
// another session asked for a conflicting lock after the leader locked the
// table, and waiting for it could deadlock.
type LockError struct {
	Table string // quoted, qualified
	Err   error
}

func (e *LockError) Error() string {
	return fmt.Sprintf("could not obtain lock on table %s: another session requested a conflicting lock "+
		"(usually ACCESS EXCLUSIVE, such as ALTER TABLE, DROP or TRUNCATE) after the dump took its ACCESS SHARE lock: %v",
		e.Table, e.Err)
}

func (e *LockError) Unwrap() error { return e.Err }
