package restore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/sync/semaphore"

	"github.com/pgark/pgark/format"
	"github.com/pgark/pgark/internal/conn"
	"github.com/pgark/pgark/internal/copybin"
	"github.com/pgark/pgark/schema"
)

// Options are pg_restore's restore options. The zero value restores
// everything with one worker.
type Options struct {
	Jobs int // -j: parallel workers for data and post-data; < 1 means 1

	Sections []format.Section // --section, -s (pre-data, post-data), -a (data); empty: all
	List     map[uint32]bool  // -L: the entry ids to restore; nil: all
	NoOwner  bool             // -O: no ALTER ... OWNER TO
	NoACL    bool             // -x: skip ACL entries
	// NoComments (--no-comments) skips COMMENT entries.
	NoComments bool
	Select     Selection // -t, -n, -N, -T, -I, -P, --whole-table: entries by name
	// NoStatistics (--no-statistics) skips STATISTICS DATA entries, and
	// StatisticsOnly (--statistics-only) all others.
	NoStatistics, StatisticsOnly bool

	Clean    bool // -c: drop the selected objects (reverse order) before creating them
	IfExists bool // --if-exists: DROP ... IF EXISTS with -c
	// Create (-C) connects to the target's database, creates the archive's
	// database there and restores into it. With Clean it drops that
	// database first instead of dropping objects.
	Create bool

	// SingleTransaction (-1) restores in one transaction on one connection;
	// it implies Jobs = 1 and ExitOnError.
	SingleTransaction bool
	ExitOnError       bool // -e: stop at the first failed statement
	DisableTriggers   bool // --disable-triggers: ALTER TABLE ... DISABLE TRIGGER ALL around the data
	// NoTablespaces (--no-tablespaces) creates everything in the
	// database's default tablespace: no SET default_tablespace, no
	// TABLESPACE clause on CREATE DATABASE, and no tablespace of a
	// cluster archive's globals.
	NoTablespaces bool
	// TextCopy (--text-copy) loads table data as the archive stores it, in
	// COPY text. By default a restore into a database sends the rows of a
	// table whose columns all have common built-in types as COPY binary,
	// which the server parses at a fraction of the cost (see binary.go).
	TextCopy bool
	// Role (--role) is set with SET ROLE in every session before anything
	// runs, as pg_restore --role does: the restore has that role's
	// privileges, and what it creates belongs to it.
	Role string
	// Cluster says what of a cluster archive to restore (see cluster.go).
	Cluster ClusterOptions

	// OnError is told of each failed entry as it happens (the restore goes
	// on unless ExitOnError). Verbose, if set, is told what is being done
	// (-v). Both are called from one goroutine at a time.
	OnError func(*EntryError)
	Verbose func(msg string)
	// Progress, if set, is told how far the restore is after each entry
	// run and each unit of data loaded, from any goroutine, one call at a
	// time.
	Progress func(Progress)
}

// Target is where a restore goes: a database (DB) or a psql script
// (Script). With Create, DB names the database to connect to for CREATE
// DATABASE.
type Target struct {
	DB     *conn.Connector
	Script io.Writer
}

// EntryError is a failed entry: what was run and what the server said.
type EntryError struct {
	Database  string // the database of a cluster archive's entry; "" otherwise
	ID        uint32
	Kind      string
	Schema    string
	Name      string
	Block     int    // data block sequence for a failed COPY (its first block), -1 otherwise
	LastBlock int    // the last block of a failed COPY of several blocks, else 0
	Statement string // first line of the statement that failed
	Err       error
}

func (e *EntryError) Error() string {
	var b strings.Builder
	if e.Database != "" {
		fmt.Fprintf(&b, "database %s: ", e.Database)
	}
	fmt.Fprintf(&b, "entry %d %s %s", e.ID, e.Kind, describe(e.Schema, e.Name))
	switch {
	case e.Block >= 0 && e.LastBlock > e.Block:
		fmt.Fprintf(&b, " data blocks %d-%d", e.Block, e.LastBlock)
	case e.Block >= 0:
		fmt.Fprintf(&b, " data block %d", e.Block)
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	if e.Statement != "" {
		fmt.Fprintf(&b, "\n    statement: %s", e.Statement)
	}
	return b.String()
}

func (e *EntryError) Unwrap() error { return e.Err }

// IgnoredError is returned by a restore that went on past failed entries
// (the default, as in pg_restore); each was reported to OnError and is in
// Result.Errors.
type IgnoredError struct{ N int }

func (e *IgnoredError) Error() string { return "errors ignored on restore: " + strconv.Itoa(e.N) }

func describe(schemaName, name string) string {
	if schemaName == "" {
		return name
	}
	return schemaName + "." + name
}

// Result says what a restore did. It is complete only when Complete is
// true; otherwise NotDone lists what was not (or not fully) restored.
type Result struct {
	Entries      int    // selected entries seen
	EntriesDone  int    // of them, entries whose statements were run (failed ones included)
	Blocks       int    // data blocks of the selected table data seen
	BlocksLoaded int    // blocks loaded
	Rows         uint64 // rows loaded
	Errors       []*EntryError
	NotDone      []string
	Complete     bool
}

// String summarises r in a few lines.
func (r *Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d entries done, %d of %d data blocks loaded (%d rows)", r.EntriesDone, r.Entries, r.BlocksLoaded, r.Blocks, r.Rows)
	if len(r.Errors) > 0 {
		fmt.Fprintf(&b, ", %d errors", len(r.Errors))
	}
	if len(r.NotDone) > 0 {
		const show = 20
		b.WriteString("; not done:")
		for i, s := range r.NotDone {
			if i == show {
				fmt.Fprintf(&b, "\n  ... and %d more", len(r.NotDone)-show)
				break
			}
			b.WriteString("\n  ")
			b.WriteString(s)
		}
	}
	return b.String()
}

// Progress is how far a restore is.
type Progress struct {
	Entries, EntriesDone int // selected entries, and those run
	Blocks, BlocksLoaded int // data blocks, and those loaded
	// BlocksSent counts the blocks loaded and those sent in COPYs that
	// still run (a COPY of a run takes many blocks).
	BlocksSent int
	Rows       uint64
}

// entryState is what the tracker knows of one selected entry.
type entryState struct {
	e            *format.Entry
	ran          bool // its statements (or, for data, its Create) ran
	hasSQL       bool // it has statements to run
	blocks       int
	blocksLoaded int
	bytes        int64 // of the blocks loaded (COPY text)
}

// tracker records progress; safe for concurrent use.
type tracker struct {
	progress func(Progress) // called with mu held
	mu       sync.Mutex
	order    []*entryState
	byID     map[uint32]*entryState
	res      Result
	inFlight int             // blocks sent in COPYs that still run
	disabled []disabledTable // tables whose triggers are disabled
	extra    []string        // further not-done notes
}

func newTracker() *tracker { return &tracker{byID: map[uint32]*entryState{}} }

func (t *tracker) add(e *format.Entry, hasSQL bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byID[e.ID] != nil {
		return
	}
	st := &entryState{e: e, hasSQL: hasSQL}
	t.byID[e.ID] = st
	t.order = append(t.order, st)
	t.res.Entries++
}

func (t *tracker) addBlocks(id uint32, n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if st := t.byID[id]; st != nil {
		st.blocks += n
	}
	t.res.Blocks += n
}

func (t *tracker) ran(id uint32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if st := t.byID[id]; st != nil && !st.ran {
		st.ran = true
		t.res.EntriesDone++
		t.report()
	}
}

func (t *tracker) report() {
	if t.progress != nil {
		t.progress(Progress{Entries: t.res.Entries, EntriesDone: t.res.EntriesDone,
			Blocks: t.res.Blocks, BlocksLoaded: t.res.BlocksLoaded, BlocksSent: t.res.BlocksLoaded + t.inFlight, Rows: t.res.Rows})
	}
}

// sending counts n blocks sent in a COPY that still runs (n > 0), or
// that has ended (n < 0), before it counts as loaded or failed.
func (t *tracker) sending(n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.inFlight += n
	if n > 0 {
		t.report()
	}
}

func (t *tracker) loaded(u Unit) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if st := t.byID[u.Entry.ID]; st != nil {
		st.blocksLoaded += len(u.Blocks)
		for _, b := range u.Blocks {
			st.bytes += int64(b.Raw)
		}
	}
	t.res.BlocksLoaded += len(u.Blocks)
	t.res.Rows += u.Rows()
	t.report()
}

// tableBytes is how much data was loaded into each table, by TABLE entry.
func (t *tracker) tableBytes(byID map[uint32]*format.Entry) map[uint32]int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[uint32]int64{}
	for _, st := range t.order {
		if st.bytes == 0 {
			continue
		}
		for _, id := range dataTables(byID, st.e) {
			out[id] += st.bytes
		}
	}
	return out
}

func (t *tracker) failed(err *EntryError) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.res.Errors = append(t.res.Errors, err)
}

func (t *tracker) note(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.extra = append(t.extra, s)
}

// result finishes the Result: entries not run, data not fully loaded,
// triggers left disabled.
func (t *tracker) result(complete bool) *Result {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.res
	r.Errors = slices.Clone(t.res.Errors)
	for _, st := range t.order {
		e := st.e
		what := fmt.Sprintf("%d %s %s", e.ID, e.Kind, describe(e.Schema, e.Name))
		switch {
		case st.hasSQL && !st.ran:
			r.NotDone = append(r.NotDone, what)
		case st.blocksLoaded < st.blocks:
			r.NotDone = append(r.NotDone, fmt.Sprintf("%s: %d of %d data blocks not loaded", what, st.blocks-st.blocksLoaded, st.blocks))
		}
	}
	for _, d := range t.disabled {
		r.NotDone = append(r.NotDone, "triggers of table "+describe(d.e.Schema, d.e.Name)+" are still disabled")
	}
	r.NotDone = append(r.NotDone, t.extra...)
	r.Complete = complete && len(r.NotDone) == 0
	return &r
}

// runner carries one restore.
type runner struct {
	opts    Options
	info    format.Info
	target  Target
	dialDB  string // database the sessions connect to; "" for the target's
	track   *tracker
	main    *session   // pre-data, data statements, privileges
	workers []*session // data and post-data workers (main itself with -1 or a script)
	// binary are the tables whose rows go as COPY binary, by data entry
	// id (see binary.go); set at the start of the data phase.
	binary map[uint32]*binaryTable
	all    []*session // every session opened, to close

	cbMu sync.Mutex // serialises OnError and Verbose

	cancel context.CancelCauseFunc
	fatal  error // first error that stops the restore
	fmu    sync.Mutex

	// db is the archive's DATABASE entry, which -C runs to create the
	// database; nil if it has none (archives of older pgark versions).
	db *format.Entry
	// connectTo is a database that exists, to restore into (a cluster
	// archive's postgres or template1): a script connects to it.
	connectTo string
}

func newRunner(info format.Info, t Target, opts Options) (*runner, error) {
	if (t.DB == nil) == (t.Script == nil) {
		return nil, errors.New("restore: need exactly one of a database and a script as target")
	}
	if opts.SingleTransaction && opts.Create {
		return nil, errors.New("restore: --create and --single-transaction cannot be used together")
	}
	if opts.Create && info.Database == "" {
		return nil, errors.New("restore: --create: the archive does not name its database")
	}
	if opts.Jobs < 1 || opts.SingleTransaction || t.Script != nil {
		opts.Jobs = 1
	}
	if opts.SingleTransaction {
		opts.ExitOnError = true
	}
	r := &runner{opts: opts, info: info, target: t, track: newTracker()}
	r.track.progress = opts.Progress
	return r, nil
}

func (r *runner) verbose(format string, args ...any) {
	if r.opts.Verbose == nil {
		return
	}
	r.cbMu.Lock()
	defer r.cbMu.Unlock()
	r.opts.Verbose(fmt.Sprintf(format, args...))
}

// stop records the first error that ends the restore and cancels the rest.
func (r *runner) stop(err error) {
	r.fmu.Lock()
	defer r.fmu.Unlock()
	if r.fatal == nil {
		r.fatal = err
		r.cancel(err)
	}
}

func (r *runner) stopped() error {
	r.fmu.Lock()
	defer r.fmu.Unlock()
	return r.fatal
}

// dial opens a session on the restore's database.
func (r *runner) dial(ctx context.Context) (*session, error) {
	if r.target.Script != nil {
		s := newScriptSession(r.target.Script)
		r.all = append(r.all, s)
		return s, nil
	}
	var c *pgconn.PgConn
	var err error
	if r.dialDB == "" {
		c, err = r.target.DB.Connect(ctx)
	} else {
		// The password, if one was needed, is remembered in Config.
		cfg := r.target.DB.Config()
		cfg.Database = r.dialDB
		c, err = conn.Connect(ctx, cfg, nil)
	}
	if err != nil {
		return nil, err
	}
	s, err := newConnSession(ctx, c, r.info, r.opts.Role)
	if err != nil {
		return nil, err
	}
	r.all = append(r.all, s)
	// Commits need not wait for the WAL flush: finish makes all of them
	// durable at once. With -1 there is one commit, which must wait.
	if !r.opts.SingleTransaction {
		if err := s.exec(ctx, "SET synchronous_commit = off;"); err != nil {
			return nil, fmt.Errorf("set up session: %w", err)
		}
	}
	if c.ParameterStatus("is_superuser") == "on" {
		if err := s.exec(ctx, deadlockSQL); err != nil {
			return nil, fmt.Errorf("set up session: %w", err)
		}
	}
	return s, nil
}

// deadlockSQL makes an autovacuum give way to a restore at once. A
// statement that waits for a table lock an autovacuum holds (an index
// build on a table just loaded, which autovacuum wants to vacuum) cancels
// it only after deadlock_timeout, 1 s by default: in the benchmark that
// stalled both workers for a second in 2 to 6 restores out of 10. Only a
// superuser may set it.
const deadlockSQL = "SET deadlock_timeout = '10ms';"

// durableSQL ends a restore whose sessions committed with
// synchronous_commit off: a transaction that gets a transaction ID and
// commits with it on waits until the WAL up to its commit record is
// flushed, and so every earlier commit with it.
const durableSQL = "SET synchronous_commit = on; SELECT pg_catalog.txid_current();"

// setup opens the main session (creating the database first with -C),
// starts the transaction with -1 and opens the workers.
func (r *runner) setup(ctx context.Context, workers int) error {
	if r.target.Script != nil {
		s, err := r.dial(ctx)
		if err != nil {
			return err
		}
		if r.info.Database == "" {
			_ = s.write("--\n-- pgark restore script of a cluster's globals\n--\n\n")
		} else {
			_ = s.write("--\n-- pgark restore script of database ", oneLine(r.info.Database), "\n--\n\n")
		}
		if r.opts.Create {
			if err := r.createDatabase(ctx, s); err != nil {
				return err
			}
			_ = s.write("\\connect -reuse-previous=on ", psqlConnArg(r.info.Database), "\n\n")
		} else if r.connectTo != "" {
			_ = s.write("\\connect -reuse-previous=on ", psqlConnArg(r.connectTo), "\n\n")
		}
		_ = s.write(sessionSQL(r.info.Encoding, r.opts.Role), "\n")
		r.main = s
		r.workers = []*session{s}
	} else {
		if r.opts.Create {
			s, err := r.dial(ctx)
			if err != nil {
				return fmt.Errorf("connect to create the database: %w", err)
			}
			err = r.createDatabase(ctx, s)
			s.close(ctx)
			r.all = slices.DeleteFunc(r.all, func(x *session) bool { return x == s })
			if err != nil {
				return err
			}
			r.dialDB = r.info.Database
		} else if r.connectTo != "" {
			r.dialDB = r.connectTo
		}
		s, err := r.dial(ctx)
		if err != nil {
			return fmt.Errorf("connect: %w", err)
		}
		r.main = s
		if r.opts.SingleTransaction {
			r.workers = []*session{s}
		} else {
			for range workers {
				w, err := r.dial(ctx)
				if err != nil {
					return fmt.Errorf("connect worker: %w", err)
				}
				r.workers = append(r.workers, w)
			}
		}
	}
	if r.opts.SingleTransaction {
		if err := r.main.exec(ctx, "BEGIN;"); err != nil {
			return fmt.Errorf("begin: %w", err)
		}
	}
	return nil
}

// createDatabase runs CREATE DATABASE for -C (DROP DATABASE first with -c).
func (r *runner) createDatabase(ctx context.Context, s *session) error {
	db := schema.Ident(r.info.Database)
	if r.opts.Clean {
		drop := "DROP DATABASE " + db + ";"
		if r.opts.IfExists {
			drop = "DROP DATABASE IF EXISTS " + db + ";"
		}
		r.verbose("dropping database %s", r.info.Database)
		if err := s.exec(ctx, drop); err != nil {
			return fmt.Errorf("drop database %s: %w", r.info.Database, err)
		}
	}
	r.verbose("creating database %s", r.info.Database)
	create := "CREATE DATABASE " + db + ";"
	if r.db != nil {
		create = r.databaseCreate(r.db)
	}
	if err := s.exec(ctx, create); err != nil {
		return fmt.Errorf("create database %s: %w", r.info.Database, err)
	}
	if r.db != nil {
		if own := r.opts.ownerSQL(r.db); own != "" {
			if err := s.exec(ctx, own); err != nil {
				return fmt.Errorf("give database %s its owner: %w", r.info.Database, err)
			}
		}
	}
	return nil
}

// finish commits with -1 and closes every session. With a script, it
// flushes it.
func (r *runner) finish(ctx context.Context, ok bool) error {
	var err error
	if ok && r.opts.SingleTransaction && r.main != nil {
		if cerr := r.main.exec(ctx, "COMMIT;"); cerr != nil {
			err = fmt.Errorf("commit: %w", cerr)
		}
	}
	if !r.opts.SingleTransaction && r.main != nil && r.main.conn != nil && !r.main.broken() && ctx.Err() == nil {
		if cerr := r.main.exec(ctx, durableSQL); cerr != nil && ok {
			err = fmt.Errorf("make the restore durable: %w", cerr)
		}
	}
	for _, s := range r.all {
		if cerr := s.close(ctx); cerr != nil && r.target.Script != nil && err == nil {
			err = cerr
		}
	}
	r.all = nil
	return err
}

// fail handles a failed statement of entry e: it reports it, and returns
// a non-nil error when the restore must stop (ExitOnError, -1, a lost
// connection, or cancellation).
func (r *runner) fail(ctx context.Context, s *session, e *format.Entry, block int, stmt string, err error) error {
	if ctx.Err() != nil {
		if cause := r.stopped(); cause != nil {
			return cause
		}
		return context.Cause(ctx)
	}
	return r.failed(s, &EntryError{ID: e.ID, Kind: e.Kind, Schema: e.Schema, Name: e.Name, Block: block, Statement: firstLine(stmt), Err: err})
}

// failed reports ee, as fail does, once the restore is known not to be
// stopping.
func (r *runner) failed(s *session, ee *EntryError) error {
	r.track.failed(ee)
	if r.opts.OnError != nil {
		r.cbMu.Lock()
		r.opts.OnError(ee)
		r.cbMu.Unlock()
	}
	if r.opts.ExitOnError || s.broken() {
		r.stop(ee)
		return ee
	}
	return nil
}

// runEntry runs e's Create and then gives it its owner, on s. Entries
// without SQL are done at once.
func (r *runner) runEntry(ctx context.Context, s *session, e *format.Entry) error {
	defer r.track.ran(e.ID)
	if e.Create == "" {
		return nil
	}
	if ok, err := r.runStatement(ctx, s, e, e.Create, ""); !ok {
		return err
	}
	if own := r.opts.ownerSQL(e); own != "" {
		if err := s.exec(ctx, own); err != nil {
			return r.fail(ctx, s, e, -1, own, err)
		}
	}
	return nil
}

// runStatement runs stmt, one of e's statements, on s under e's
// tablespace; what says which part of e it is, for -v and scripts. ok is
// false when it failed; err is then non-nil when the restore must stop.
func (r *runner) runStatement(ctx context.Context, s *session, e *format.Entry, stmt, what string) (ok bool, err error) {
	r.verbose("creating %s %s%s", e.Kind, describe(e.Schema, e.Name), what)
	s.comment(fmt.Sprintf("Entry %d; %s %s%s", e.ID, e.Kind, describe(e.Schema, e.Name), what))
	if err := r.useTablespace(ctx, s, e); err != nil {
		return false, err
	}
	if err := s.exec(ctx, stmt); err != nil {
		return false, r.fail(ctx, s, e, -1, stmt, err)
	}
	return true, nil
}

// runTask runs a task of the scheduler: a whole entry, or a step of one
// with Build and Attach: a key's index build or its attach, a foreign
// key's ADD ... NOT VALID or its validation. A validation that fails
// leaves the foreign key NOT VALID, and says so.
func (r *runner) runTask(ctx context.Context, s *session, t *task) error {
	e := t.e
	build, attach := " (its index)", " (on its index)"
	if e.Kind == kindFKey {
		build, attach = " (NOT VALID)", " (validating it)"
	}
	switch t.step {
	case stepBuild:
		ok, err := r.runStatement(ctx, s, e, e.Build, build)
		t.failed = !ok
		return err
	case stepAttach:
		defer r.track.ran(e.ID)
		if t.build.failed {
			return nil // reported with the build
		}
		_, err := r.runStatement(ctx, s, e, e.Attach, attach)
		return err
	}
	return r.runEntry(ctx, s, e)
}

// hasSQL says whether e has statements of its own to run.
func hasSQL(e *format.Entry) bool { return e.Create != "" }

// runSerial runs entries in order on s.
func (r *runner) runSerial(ctx context.Context, s *session, list []*format.Entry) error {
	for _, e := range list {
		if err := ctx.Err(); err != nil {
			return context.Cause(ctx)
		}
		if err := r.runEntry(ctx, s, e); err != nil {
			return err
		}
	}
	return nil
}

// runDrops runs the Drop statements of -c (already in reverse order).
func (r *runner) runDrops(ctx context.Context, list []*format.Entry) error {
	for _, e := range list {
		if err := ctx.Err(); err != nil {
			return context.Cause(ctx)
		}
		drop := e.Drop
		if r.opts.IfExists {
			drop = IfExists(drop)
		}
		r.verbose("dropping %s %s", e.Kind, describe(e.Schema, e.Name))
		if err := r.main.exec(ctx, drop); err != nil {
			if ferr := r.fail(ctx, r.main, e, -1, drop, err); ferr != nil {
				return ferr
			}
		}
	}
	return nil
}

// setTriggers disables all triggers of table data entry e, or enables
// them again (pg_restore's --disable-triggers). Unlike pg_restore, which
// enables them all, on a database it first notes the triggers that are not
// simply enabled (disabled, replica or always) and puts them back so.
func (r *runner) setTriggers(ctx context.Context, e *format.Entry, enable bool) error {
	table := schema.Qualified(e.Schema, e.Name)
	if !enable {
		rows, err := r.main.query(ctx, "SELECT tgname, tgenabled FROM pg_catalog.pg_trigger WHERE tgrelid = "+
			schema.Literal(table)+"::pg_catalog.regclass AND tgenabled <> 'O' ORDER BY tgname")
		if err != nil {
			return r.fail(ctx, r.main, e, -1, "SELECT ... FROM pg_trigger", err)
		}
		var keep strings.Builder
		for _, row := range rows {
			verb := map[string]string{"D": "DISABLE", "R": "ENABLE REPLICA", "A": "ENABLE ALWAYS"}[row[1]]
			if verb != "" {
				keep.WriteString("ALTER TABLE " + table + " " + verb + " TRIGGER " + schema.Ident(row[0]) + ";\n")
			}
		}
		sql := "ALTER TABLE " + table + " DISABLE TRIGGER ALL;"
		if err := r.main.exec(ctx, sql); err != nil {
			return r.fail(ctx, r.main, e, -1, sql, err)
		}
		r.track.mu.Lock()
		r.track.disabled = append(r.track.disabled, disabledTable{e: e, restore: keep.String()})
		r.track.mu.Unlock()
		return nil
	}
	r.track.mu.Lock()
	var restoreSQL string
	for _, d := range r.track.disabled {
		if d.e == e {
			restoreSQL = d.restore
		}
	}
	r.track.mu.Unlock()
	sql := "ALTER TABLE " + table + " ENABLE TRIGGER ALL;\n" + restoreSQL
	if err := r.main.exec(ctx, sql); err != nil {
		return r.fail(ctx, r.main, e, -1, sql, err)
	}
	r.track.mu.Lock()
	r.track.disabled = slices.DeleteFunc(r.track.disabled, func(d disabledTable) bool { return d.e == e })
	r.track.mu.Unlock()
	return nil
}

// disabledTable is a table whose triggers are disabled, with the
// statements that give its triggers their earlier states back.
type disabledTable struct {
	e       *format.Entry
	restore string
}

// enableTriggers re-enables every table whose triggers were disabled.
func (r *runner) enableTriggers(ctx context.Context) error {
	r.track.mu.Lock()
	list := slices.Clone(r.track.disabled)
	r.track.mu.Unlock()
	for _, d := range list {
		if err := r.setTriggers(ctx, d.e, true); err != nil {
			return err
		}
	}
	return nil
}

// load runs the COPY of a chain read from a stream on s (text: it holds
// parts of a row); rd adds the further blocks to u as it reads them. A
// chain that fails is reported and nothing of it is loaded.
func (r *runner) load(ctx context.Context, s *session, u *Unit, rd io.Reader) error {
	first := u.Blocks[0].Seq
	if u.Entry.Kind == kindBlobs {
		r.verbose("loading %s %s block %d", u.Entry.Kind, describe(u.Entry.Schema, u.Entry.Name), first)
		return r.loadBlobs(ctx, s, u, rd)
	}
	copySQL := u.Entry.Copy
	r.verbose("loading %s %s block %d", u.Entry.Kind, describe(u.Entry.Schema, u.Entry.Name), first)
	if err := s.copyFrom(ctx, copySQL, rd); err != nil {
		// The server only echoes a reader's failure ("COPY from stdin
		// failed: ..."); report the failure itself (a damaged block).
		if re, ok := rd.(interface{ readErr() error }); ok && re.readErr() != nil && ctx.Err() == nil {
			err = fmt.Errorf("COPY abandoned, nothing of it loaded: %w", re.readErr())
		}
		return r.fail(ctx, s, u.Entry, int(first), copySQL, err)
	}
	r.track.loaded(*u)
	return nil
}

// loadStaged loads a staged unit on s, a COPY for each of its segments
// (see stagedReader). A segment that fails is reported and nothing of it
// is loaded; the unit goes on after it. A damaged block is reported and
// skipped, with the rest of its chain.
func (r *runner) loadStaged(ctx context.Context, s *session, rd *stagedReader) error {
	e, last := rd.st.u.Entry, rd.st.u.Blocks[len(rd.st.u.Blocks)-1].Seq
	for {
		first, ok := rd.begin()
		if !ok {
			if rd.st.err != nil {
				return r.fail(ctx, s, e, -1, e.Copy, rd.st.err)
			}
			return nil
		}
		seq := first.b.Seq
		if first.err != nil {
			err := r.fail(ctx, s, e, int(seq), e.Copy, fmt.Errorf("block not loaded: %w", first.err))
			rd.skip()
			if err != nil {
				return err
			}
			continue
		}
		if e.Kind == kindBlobs {
			u := Unit{Entry: e, Blocks: []format.Block{first.b}}
			err := r.loadBlobs(ctx, s, &u, rd)
			r.track.sending(-rd.sent)
			rd.skip() // what a failed COPY left of the block
			if err != nil {
				return err
			}
			continue
		}
		copySQL, as := e.Copy, ""
		if rd.bin != nil {
			copySQL, as = rd.bin.copySQL, " (COPY binary)"
		}
		if seq == last {
			r.verbose("loading %s %s block %d%s", e.Kind, describe(e.Schema, e.Name), seq, as)
		} else {
			r.verbose("loading %s %s blocks %d-%d%s", e.Kind, describe(e.Schema, e.Name), seq, last, as)
		}
		err := s.copyFrom(ctx, copySQL, rd)
		r.track.sending(-rd.sent)
		if err == nil {
			r.track.loaded(Unit{Entry: e, Blocks: rd.seg})
			continue
		}
		// The server only echoes a reader's failure ("COPY from stdin
		// failed: ..."); report the failure itself (a damaged block).
		if rd.err != nil && ctx.Err() == nil {
			err = rd.err
		}
		lastSent := rd.seg[len(rd.seg)-1].Seq
		rd.skip()
		if ctx.Err() != nil {
			return r.fail(ctx, s, e, int(seq), copySQL, err)
		}
		ee := &EntryError{ID: e.ID, Kind: e.Kind, Schema: e.Schema, Name: e.Name, Block: int(seq), Statement: firstLine(copySQL), Err: err}
		if lastSent > seq {
			ee.LastBlock = int(lastSent)
		}
		if err := r.failed(s, ee); err != nil {
			return err
		}
	}
}

// schedule runs list (a parallel phase, archive order) on the workers, as
// parallel does, after the data: of the entries that can start, those on
// the tables with the most data go first.
func (r *runner) schedule(ctx context.Context, list []*format.Entry, byID map[uint32]*format.Entry) error {
	tasks := newTasks(byID, list, r.target.DB != nil)
	return r.parallel(ctx, nil, work{tasks: tasks, taskWeight: taskWeights(tasks, r.track.tableBytes(byID))})
}

// heldLocks counts the table locks the running tasks hold, by table and
// mode.
type heldLocks map[uint32]*[lockModes]int

// take adds (n = 1) or releases (n = -1) t's locks.
func (h heldLocks) take(t *task, n int) {
	for _, l := range t.locks {
		c := h[l.table]
		if c == nil {
			c = new([lockModes]int)
			h[l.table] = c
		}
		c[l.mode] += n
	}
}

func (h heldLocks) conflicts(t *task) bool {
	for _, l := range t.locks {
		if c := h[l.table]; c != nil {
			for m, n := range c {
				if n > 0 && l.mode.conflict(lockMode(m)) {
					return true
				}
			}
		}
	}
	return false
}

// pick returns the position in ready (task indexes, ascending) of the
// task to start, -1 if none can start, and the weight that task stands
// for against units. Instant tasks go first: the first whose locks do not
// conflict with the running tasks' (dependents[i] are the tasks that wait
// for task i); it stands for the heaviest task that could start after
// it, so that it starts when that one would, and not ahead of heavier
// units. Of the other tasks, whose locks must conflict neither with the
// running tasks' nor with those reserved, the heaviest, the first on
// ties. An instant task that others wait for and that cannot start yet
// reserves its locks, as a lock request waiting in the server's queue
// does: no long task (an index build) starts on its tables meanwhile to
// hold it, and all that waits for it, up. So the foreign keys to a big
// table are added (NOT VALID) as soon as its key is attached, and
// validate while its last indexes build.
func (h heldLocks) pick(ready []int, tasks []*task, weight []int64, dependents [][]int) (int, int64) {
	var reserved heldLocks
	first := -1
	for k, i := range ready {
		t := tasks[i]
		if !t.instant() {
			continue
		}
		if !h.conflicts(t) {
			if first < 0 {
				first = k
			}
			continue
		}
		if len(dependents[i]) > 0 {
			if reserved == nil {
				reserved = heldLocks{}
			}
			reserved.take(t, 1)
		}
	}
	pick := -1
	for k, i := range ready {
		t := tasks[i]
		if t.instant() || h.conflicts(t) || reserved.conflicts(t) {
			continue
		}
		if pick < 0 || weight[i] > weight[ready[pick]] {
			pick = k
		}
	}
	switch {
	case first >= 0 && pick >= 0:
		return first, max(weight[ready[first]], weight[ready[pick]])
	case first >= 0:
		return first, weight[ready[first]]
	case pick >= 0:
		return pick, weight[ready[pick]]
	}
	return -1, 0
}

// finalPhases runs post-data, privileges and materialized view refreshes.
func (r *runner) finalPhases(ctx context.Context, post, acl, refresh []*format.Entry, byID map[uint32]*format.Entry) error {
	if err := r.schedule(ctx, post, byID); err != nil {
		return err
	}
	if err := r.runSerial(ctx, r.main, acl); err != nil {
		return err
	}
	return r.schedule(ctx, refresh, byID)
}

// end turns the restore's outcome into its error: the error that stopped
// it, else the count of errors ignored.
func (r *runner) end(ctx context.Context, err error, complete bool) (*Result, error) {
	if err == nil {
		err = r.stopped()
	}
	if ferr := r.finish(ctx, err == nil); ferr != nil && err == nil {
		err = ferr
	}
	if err != nil && r.opts.SingleTransaction && r.target.DB != nil {
		r.track.note("the transaction was rolled back: nothing was restored")
	}
	res := r.track.result(complete && err == nil)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return res, err // the command layer says "interrupted"
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return res, fmt.Errorf("timed out: %w", err)
		}
		var ee *EntryError
		if errors.As(err, &ee) {
			return res, fmt.Errorf("stopped at the first error: %w", err)
		}
		return res, err
	}
	if n := len(res.Errors); n > 0 {
		return res, &IgnoredError{N: n}
	}
	return res, nil
}

// Run restores the archive ar into t. The returned Result is never nil and
// says what was and was not done; the error is nil only when every
// selected entry was restored without error.
func Run(ctx context.Context, ar *format.Reader, t Target, opts Options) (*Result, error) {
	if ar.Info().Cluster {
		return runCluster(ctx, ar, t, opts)
	}
	return runEntries(ctx, ar, ar.Info(), ar.Entries(), ar.Blocks(), t, opts, "")
}

// runEntries restores entries (with their blocks) of ar: the whole of an
// archive of one database, or one database of a cluster archive, with info
// describing it. connectTo names a database that exists, to restore into
// instead of the target's (without -C).
func runEntries(ctx context.Context, ar *format.Reader, info format.Info, entries []format.Entry, blocks []format.Block,
	t Target, opts Options, connectTo string) (*Result, error) {
	plan, err := NewPlan(entries, blocks, opts)
	if err != nil {
		return &Result{}, err
	}
	r, err := newRunner(info, t, opts)
	if err != nil {
		return &Result{}, err
	}
	r.db, r.connectTo = databaseEntry(entries), connectTo
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	r.cancel = cancel
	for _, list := range [][]*format.Entry{plan.Pre, plan.Data, plan.Post, plan.ACL, plan.Refresh} {
		for _, e := range list {
			r.track.add(e, hasSQL(e))
		}
	}
	for _, u := range plan.Units {
		r.track.addBlocks(u.Entry.ID, len(u.Blocks))
	}
	err = r.runPlan(ctx, ar, plan)
	return r.end(ctx, err, true)
}

func (r *runner) runPlan(ctx context.Context, ar *format.Reader, plan *Plan) error {
	if err := r.setup(ctx, r.opts.Jobs); err != nil {
		return err
	}
	if err := r.runDrops(ctx, plan.Drops); err != nil {
		return err
	}
	if err := r.runSerial(ctx, r.main, plan.Pre); err != nil {
		return err
	}
	if r.pipelined() {
		if err := r.dataAndPost(ctx, ar, plan); err != nil {
			return err
		}
		return r.finalPhases(ctx, nil, plan.ACL, plan.Refresh, plan.byID)
	}
	if err := r.dataPhase(ctx, ar, plan); err != nil {
		return err
	}
	return r.finalPhases(ctx, plan.Post, plan.ACL, plan.Refresh, plan.byID)
}

// dataPhase starts the data (startData), loads the units with the
// workers, a table after the other, each worker taking the next run, then
// ends it (endData).
func (r *runner) dataPhase(ctx context.Context, ar *format.Reader, plan *Plan) error {
	if err := r.startData(ctx, plan); err != nil {
		return err
	}
	var w work
	for _, i := range loadOrder(plan.Units, nil) {
		w.units = append(w.units, plan.Units[i])
	}
	if err := r.parallel(ctx, ar, w); err != nil {
		return err
	}
	return r.endData(ctx)
}

// loadOrder is the order in which units load: each table's units
// together, in file order, so that they go in long runs (a parallel dump
// interleaves tables in the file); tables in the order of their first
// block, or heaviest first if weights are given.
func loadOrder(units []Unit, weights []int64) []int {
	first := map[uint32]int{}
	order := make([]int, len(units))
	for i, u := range units {
		if _, ok := first[u.Entry.ID]; !ok {
			first[u.Entry.ID] = i
		}
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if weights != nil {
			if c := cmp.Compare(weights[b], weights[a]); c != 0 {
				return c
			}
		}
		return cmp.Compare(first[units[a].Entry.ID], first[units[b].Entry.ID])
	})
	return order
}

// pipelined says whether a restore runs post-data with the data, a
// table's indexes and keys starting once its data is loaded: into a
// database, with more than one worker. Not with --disable-triggers,
// which re-enables triggers only once all data is loaded.
func (r *runner) pipelined() bool {
	return r.target.DB != nil && len(r.workers) > 1 && !r.opts.DisableTriggers
}

// dataAndPost loads the data and runs post-data at once (see pipelined
// and waitForData).
func (r *runner) dataAndPost(ctx context.Context, ar *format.Reader, plan *Plan) error {
	if err := r.startData(ctx, plan); err != nil {
		return err
	}
	tasks := newTasks(plan.byID, plan.Post, true)
	waitForData(plan.byID, tasks, plan.Data)
	sizes := unitSizes(plan.byID, plan.Units)
	// Biggest table first: the archive's order interleaves the tables a
	// parallel dump copied at once.
	weights := unitWeights(plan.byID, plan.Units, sizes)
	w := work{tasks: tasks, taskWeight: taskWeights(tasks, sizes)}
	gateWeights(plan.Units, weights, tasks, w.taskWeight)
	for _, i := range loadOrder(plan.Units, weights) {
		w.units = append(w.units, plan.Units[i])
		w.unitWeight = append(w.unitWeight, weights[i])
	}
	return r.parallel(ctx, ar, w)
}

// startData disables triggers with --disable-triggers, runs the data
// entries' statements on the main session and finds the tables that take
// COPY binary.
func (r *runner) startData(ctx context.Context, plan *Plan) error {
	if r.opts.DisableTriggers {
		for _, e := range plan.Data {
			if hasTriggers(e) {
				if err := r.setTriggers(ctx, e, false); err != nil {
					return err
				}
			}
		}
	}
	for _, e := range plan.Data {
		if err := r.runEntry(ctx, r.main, e); err != nil {
			return err
		}
	}
	if !r.opts.TextCopy {
		var err error
		if r.binary, err = binaryTables(ctx, r.main, plan.Data); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	}
	return nil
}

// endData re-enables the triggers --disable-triggers disabled.
func (r *runner) endData(ctx context.Context) error {
	if r.opts.DisableTriggers {
		return r.enableTriggers(ctx)
	}
	return nil
}

// readAheadBytes bounds the raw bytes of the blocks a worker has read and
// decoded but not sent yet; a larger block (a piece of a chain) is read
// alone.
const readAheadBytes = 4 << 20

// readAhead reads, checks and decodes a worker's next blocks while its
// session sends the current ones, within a budget of readAheadBytes, and
// turns the rows of those that are not part of a chain into COPY binary
// where it can.
type readAhead struct {
	budget *semaphore.Weighted
	bufs   chan []byte // free buffers of at most 2 MiB, kept across GCs
	binary map[uint32]*binaryTable
	conv   codecs
}

// stagedUnit is a unit whose blocks are read ahead. blocks delivers them in
// order and is closed after the last one, or after err is set (the
// restore is stopping).
type stagedUnit struct {
	u      Unit
	blocks chan stagedBlock
	err    error
}

type stagedBlock struct {
	b      format.Block
	data   []byte
	weight int64        // what it holds of the budget
	bin    *binaryTable // data is COPY binary rows of this table, without header or trailer
	err    error        // the block could not be read: it is damaged
}

func weight(b format.Block) int64 { return min(max(int64(b.Raw), 1), readAheadBytes) }

// inChain says whether block k of blocks holds part of a row: it or the
// block before it Continues.
func inChain(blocks []format.Block, k int) bool {
	return blocks[k].Continues || (k > 0 && blocks[k-1].Continues)
}

// stage reads the blocks of the units it receives and passes them on in
// staged, one unit after the other, until units is closed or ctx is done;
// then it closes staged. A block that cannot be read is passed on with
// its error, and the blocks after it still are.
func (ra *readAhead) stage(ctx context.Context, ar *format.Reader, units <-chan Unit, staged chan<- *stagedUnit) {
	defer close(staged)
	for u := range units {
		st := &stagedUnit{u: u, blocks: make(chan stagedBlock, 4)}
		select {
		case staged <- st:
		case <-ctx.Done():
			return
		}
		bt := ra.binary[u.Entry.ID]
		for k, b := range u.Blocks {
			w := weight(b)
			if err := ra.budget.Acquire(ctx, w); err != nil {
				st.err = context.Cause(ctx)
				break
			}
			data, err := ar.ReadBlock(b, ra.buf())
			blk := stagedBlock{b: b, data: data, weight: w, err: err}
			// A chain's blocks hold parts of one row: text only.
			if err == nil && !inChain(u.Blocks, k) {
				scratch := ra.buf()
				out, bin, err := ra.conv.form(scratch, u.Entry, b.Binary, bt, data)
				if b.Binary != (bin != nil) {
					ra.putBuf(data) // out is in scratch
				} else {
					ra.putBuf(scratch)
				}
				blk.data, blk.bin, blk.err = out, bin, err
			}
			st.blocks <- blk
		}
		close(st.blocks)
	}
}

// readAheadBufs is how many free buffers a worker keeps: its blocks in
// flight (the budget's worth, plus the one being sent) and a conversion's.
const readAheadBufs = 8

// buf is an empty buffer, a free one if there is one. Reusing them, rather
// than a sync.Pool that a GC empties, spares a fresh megabyte its page
// faults and zeroing for most blocks.
func (ra *readAhead) buf() []byte {
	select {
	case b := <-ra.bufs:
		return b
	default:
		return nil
	}
}

// done returns a block's budget and buffer.
func (ra *readAhead) done(b stagedBlock) {
	ra.budget.Release(b.weight)
	ra.putBuf(b.data)
}

// putBuf keeps a buffer for reuse, unless it is large or enough are kept.
func (ra *readAhead) putBuf(b []byte) {
	if cap(b) > 0 && cap(b) <= 2<<20 {
		select {
		case ra.bufs <- b[:0]:
		default:
		}
	}
}

// stagedReader yields a staged unit as segments, one COPY each (begin
// starts the next): a chain; or consecutive blocks that are not part of a
// chain and go in the same form, text or binary (the header and trailer
// around them). A damaged block is never sent: it ends the segment before
// it, or fails the read, and so the COPY, of the chain it is part of.
type stagedReader struct {
	ctx    context.Context
	st     *stagedUnit
	ra     *readAhead
	next   stagedBlock // the block after the segment's, once received
	peeked bool
	cur    stagedBlock // the segment's block being sent, when have
	have   bool
	pos    int
	seg    []format.Block // the segment's blocks so far
	bin    *binaryTable   // the segment is COPY binary rows of this table
	frame  []byte         // header or trailer bytes to send first
	ended  bool           // the segment has no more blocks
	err    error          // why the segment's read fails
	sent   int            // the segment's blocks sent whole
	track  *tracker       // told of each block sent, if set
}

func (b *stagedReader) readErr() error { return b.err }

// peek receives the next block, if there is one.
func (b *stagedReader) peek() (stagedBlock, bool) {
	if !b.peeked {
		next, ok := <-b.st.blocks
		if !ok {
			return stagedBlock{}, false
		}
		b.next, b.peeked = next, true
	}
	return b.next, true
}

// take makes the next block the one being sent.
func (b *stagedReader) take() {
	b.cur, b.have, b.pos = b.next, true, 0
	b.next, b.peeked = stagedBlock{}, false
	b.seg = append(b.seg, b.cur.b)
}

// begin starts the next segment with its first block and returns that
// block; ok is false once the unit has no more. A damaged first block
// must be skipped (skip) rather than sent.
func (b *stagedReader) begin() (first stagedBlock, ok bool) {
	b.release()
	if _, ok := b.peek(); !ok {
		return stagedBlock{}, false
	}
	b.seg, b.frame, b.ended, b.err, b.sent = nil, nil, false, nil, 0
	b.take()
	b.bin = b.cur.bin
	if b.bin != nil {
		b.frame = copybin.Header(nil)
	}
	return b.cur, true
}

// belongs says whether the next block goes on in the segment.
func (b *stagedReader) belongs(next stagedBlock) bool {
	last := b.seg[len(b.seg)-1]
	if last.Continues || b.seg[0].Continues {
		return last.Continues // a chain goes on to its last block, damaged or not
	}
	return next.err == nil && !next.b.Continues && next.bin == b.bin
}

func (b *stagedReader) Read(p []byte) (int, error) {
	for {
		if len(b.frame) > 0 {
			n := copy(p, b.frame)
			b.frame = b.frame[n:]
			return n, nil
		}
		if b.have && b.cur.err != nil && b.err == nil { // a damaged block of the chain
			b.err = fmt.Errorf("COPY abandoned, nothing of it loaded: %w", b.cur.err)
		}
		if b.err != nil {
			return 0, b.err
		}
		if b.have && b.pos < len(b.cur.data) {
			n := copy(p, b.cur.data[b.pos:])
			b.pos += n
			return n, nil
		}
		if b.ended {
			return 0, io.EOF
		}
		if err := b.ctx.Err(); err != nil {
			return 0, err
		}
		if b.have {
			b.sent++
			if b.track != nil {
				b.track.sending(1)
			}
		}
		b.release()
		next, ok := b.peek()
		switch {
		case !ok && b.st.err != nil:
			b.err = b.st.err
		case !ok || !b.belongs(next):
			b.ended = true
			if b.bin != nil {
				b.frame = copybin.Trailer(nil)
			}
		default:
			b.take()
		}
	}
}

// skip drops what is left of the segment, after its COPY failed or its
// first block was damaged: the block being sent and, if it is part of a
// chain, the rest of the chain.
func (b *stagedReader) skip() {
	b.release()
	for b.seg[len(b.seg)-1].Continues {
		if _, ok := b.peek(); !ok {
			return
		}
		b.take()
		b.release()
	}
}

// release gives back the block that has been sent.
func (b *stagedReader) release() {
	if b.have {
		b.ra.done(b.cur)
		b.cur, b.have = stagedBlock{}, false
	}
}

// drain gives back every block of the unit the load did not take (it
// failed or stopped), so that the stage goroutine can go on.
func (b *stagedReader) drain() {
	b.release()
	if b.peeked {
		b.ra.done(b.next)
		b.next, b.peeked = stagedBlock{}, false
	}
	for blk := range b.st.blocks {
		b.ra.done(blk)
	}
}

// psqlConnArg is the argument of psql's \connect for database db, as
// pg_dump writes it: "dbname='db'" with ' and \ escaped, in double quotes.
func psqlConnArg(db string) string {
	v := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(db)
	return `"` + strings.ReplaceAll("dbname='"+v+"'", `"`, `""`) + `"`
}

func oneLine(s string) string { return strings.NewReplacer("\n", " ", "\r", " ").Replace(s) }
