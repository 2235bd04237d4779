package dump

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/sync/errgroup"

	"github.com/pgark/pgark/format"
	"github.com/pgark/pgark/internal/conn"
	"github.com/pgark/pgark/schema"
)

// Run dumps one database into an archive written to opts.Out; see the
// package documentation for how. It returns nil only after the archive's
// index and footer are written and checked.
func Run(ctx context.Context, opts Options) error {
	if err := opts.validate(); err != nil {
		return err
	}
	d := newDumper(&opts)
	leader, err := opts.Connector.ConnectPgx(ctx)
	if err != nil {
		return fmt.Errorf("dump: %w", err)
	}
	defer func() {
		cctx, cancel := closeContext(ctx)
		defer cancel()
		_ = leader.Close(cctx)
	}()
	p, err := d.prepare(ctx, leader)
	if err != nil {
		return err
	}
	aw, err := format.NewWriter(opts.Out, format.Info{
		Tool:          "pgark",
		ToolVersion:   opts.ToolVersion,
		Created:       d.start.UTC(),
		Database:      d.database,
		ServerVersion: d.serverVersion,
		Encoding:      d.encoding,
		Attrs:         map[string]string{"snapshot": d.snapshot},
	}, format.WriterOptions{Codec: opts.Codec, Level: opts.Level, Concurrency: max(opts.Jobs, 1)})
	if err != nil {
		return fmt.Errorf("dump: start archive: %w", err)
	}
	// On failure the writer is aborted, never closed: Close would write an
	// index and footer, and a partial dump would look complete.
	closed := false
	defer func() {
		if !closed {
			aw.Abort()
		}
	}()
	if err := d.write(ctx, leader, p, aw); err != nil {
		return err
	}
	closed = true
	if err := aw.Close(); err != nil {
		return fmt.Errorf("dump: finish archive: %w", err)
	}
	if err := d.commit(ctx, leader); err != nil {
		return err
	}
	d.progress(Event{Kind: EventDone, Rows: d.rows.Load(), Bytes: d.bytes.Load(), Elapsed: time.Since(d.start)})
	return nil
}

func newDumper(opts *Options) *dumper {
	d := &dumper{opts: opts, start: time.Now(), blockSize: opts.BlockSize}
	if d.blockSize == 0 {
		d.blockSize = DefaultBlockSize
	}
	return d
}

// prepare opens the leader's transaction, reads the catalog (the
// database's own objects first, with LoadDatabase), locks the tables,
// exports or adopts the snapshot and plans the archive.
func (d *dumper) prepare(ctx context.Context, leader *pgx.Conn) (*plan, error) {
	snap, err := d.begin(ctx, leader)
	if err != nil {
		return nil, err
	}
	objs, err := d.opts.Load(ctx, leader)
	if err != nil {
		return nil, fmt.Errorf("dump: read catalog: %w", err)
	}
	if d.opts.LoadDatabase != nil {
		own, err := d.opts.LoadDatabase(ctx, leader)
		if err != nil {
			return nil, fmt.Errorf("dump: read database properties: %w", err)
		}
		objs = prepend(own, objs)
	}
	if err := d.lockTables(ctx, leader.PgConn(), lockTargets(objs)); err != nil {
		return nil, err
	}
	if snap == "" {
		if err := leader.QueryRow(ctx, "SELECT pg_catalog.pg_export_snapshot()").Scan(&snap); err != nil {
			return nil, fmt.Errorf("dump: export snapshot: %w", err)
		}
	}
	d.snapshot = snap
	d.progress(Event{Kind: EventSnapshot, Snapshot: snap})
	return makePlan(objs, d.opts)
}

// write adds the plan's entries to aw, then copies the tables' data.
func (d *dumper) write(ctx context.Context, leader *pgx.Conn, p *plan, aw *format.Writer) error {
	tables := p.tables
	// Real sizes decide what is split and which tables go in batches.
	if err := d.measure(ctx, leader.PgConn(), tables); err != nil {
		return err
	}
	if d.opts.Jobs > 1 && d.version >= 140000 { // TID range scans
		minPart := int64(d.opts.SplitPages)
		if minPart == 0 {
			minPart = minSplitPages
		}
		tables = split(tables, d.opts.Jobs, minPart)
	}
	for _, e := range p.entries {
		if err := aw.AddEntry(e); err != nil {
			return fmt.Errorf("dump: write entry %d (%s %s): %w", e.ID, e.Kind, e.Name, err)
		}
	}
	d.progress(Event{Kind: EventEntries, Entries: len(p.entries), Tables: len(tables)})
	if d.opts.Jobs <= 1 {
		return d.copyAll(ctx, leader.PgConn(), 0, tables, aw, false)
	}
	return d.parallel(ctx, tables, aw)
}

// commit ends the leader's transaction, which only read: ending it
// cleanly releases the locks now.
func (d *dumper) commit(ctx context.Context, leader *pgx.Conn) error {
	if _, err := leader.PgConn().Exec(ctx, "COMMIT").ReadAll(); err != nil {
		return fmt.Errorf("dump: end transaction: %w", err)
	}
	return nil
}

// measure sets each table's pages to its size on disk when that is more
// than the planner's estimate, which is 0 for a table never vacuumed or
// analyzed: splitting and batching need the real size. One query for all
// tables; the leader holds their locks.
func (d *dumper) measure(ctx context.Context, pc *pgconn.PgConn, tables []table) error {
	var rels []string
	for _, t := range tables {
		if !t.lo {
			rels = append(rels, schema.Literal(t.relation))
		}
	}
	if len(rels) == 0 {
		return nil
	}
	res, err := pc.Exec(ctx, `SELECT pg_catalog.pg_relation_size(r::pg_catalog.regclass) /
		pg_catalog.current_setting('block_size')::pg_catalog.int8
		FROM pg_catalog.unnest(ARRAY[`+strings.Join(rels, ", ")+`]::pg_catalog.text[]) WITH ORDINALITY AS u(r, i) ORDER BY i`).ReadAll()
	if err != nil {
		return fmt.Errorf("dump: read table sizes: %w", err)
	}
	if len(res) != 1 || len(res[0].Rows) != len(rels) {
		return fmt.Errorf("dump: read table sizes: %d answers for %d tables", len(res[0].Rows), len(rels))
	}
	i := 0
	for k := range tables {
		if tables[k].lo {
			continue
		}
		if n, err := strconv.ParseInt(string(res[0].Rows[i][0]), 10, 64); err == nil && n > tables[k].pages {
			tables[k].pages = n
		}
		i++
	}
	return nil
}

// closeContext bounds closing a connection, which must happen even when
// ctx is cancelled.
func closeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
}

// dumper is the state of one Run.
type dumper struct {
	opts      *Options
	start     time.Time
	blockSize int

	// Set by begin from the leader connection.
	version       int    // server_version_num
	serverVersion string // server_version
	database      string
	encoding      string
	snapshot      string

	rows, bytes atomic.Int64
}

func (d *dumper) progress(e Event) {
	if d.opts.Progress != nil {
		if e.Elapsed == 0 {
			e.Elapsed = time.Since(d.start)
		}
		d.opts.Progress(e)
	}
}

// begin reads what the archive info needs, sets up the leader's session
// and opens its transaction. It returns the snapshot to use if one was
// given.
func (d *dumper) begin(ctx context.Context, leader *pgx.Conn) (string, error) {
	pc := leader.PgConn()
	v, err := conn.ServerVersion(ctx, pc)
	if err != nil {
		return "", fmt.Errorf("dump: %w", err)
	}
	d.version = v
	err = leader.QueryRow(ctx, `SELECT pg_catalog.current_setting('server_version'), pg_catalog.current_database(),
		pg_catalog.pg_encoding_to_char(d.encoding)
		FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()`).
		Scan(&d.serverVersion, &d.database, &d.encoding)
	if err != nil {
		return "", fmt.Errorf("dump: read database settings: %w", err)
	}
	if err := d.setupSession(ctx, pc); err != nil {
		return "", fmt.Errorf("dump: %w", err)
	}
	begin := "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"
	if d.opts.SerializableDeferrable && d.opts.Snapshot == "" {
		begin = "BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY, DEFERRABLE"
	}
	if d.opts.Snapshot != "" {
		begin += "; SET TRANSACTION SNAPSHOT " + schema.Literal(d.opts.Snapshot)
	}
	if _, err := pc.Exec(ctx, begin).ReadAll(); err != nil {
		return "", fmt.Errorf("dump: begin transaction: %w", err)
	}
	return d.opts.Snapshot, nil
}

// setupSession applies pg_dump's session settings: dates, intervals and
// floats that restore exactly, no timeouts, no row security (rows hidden
// by a policy would be missing from the dump silently; with it off, the
// dump fails instead), an empty search path, and the database encoding.
// It also turns standard_conforming_strings on, which pgark's restore
// sessions always use, so that string literals the server renders into
// definitions (pg_get_expr, pg_get_viewdef...) read back the same.
func (d *dumper) setupSession(ctx context.Context, pc *pgconn.PgConn) error {
	stmts := []string{
		"SET client_encoding TO " + schema.Literal(d.encoding),
		"SET standard_conforming_strings = on",
		"SET DateStyle = ISO",
		"SET IntervalStyle = postgres",
		"SET extra_float_digits TO 3",
		"SET synchronize_seqscans TO off",
		"SET statement_timeout = 0",
		"SET lock_timeout = 0",
		"SET idle_in_transaction_session_timeout = 0",
	}
	if d.version >= 170000 {
		stmts = append(stmts, "SET transaction_timeout = 0")
	}
	stmts = append(stmts,
		"SET row_security = off",
		"SELECT pg_catalog.set_config('search_path', '', false)",
	)
	if _, err := pc.Exec(ctx, strings.Join(stmts, "; ")).ReadAll(); err != nil {
		return fmt.Errorf("set up session: %w", err)
	}
	return nil
}

// lockBatch is how many LOCK statements go to the server in one round trip.
const lockBatch = 500

// lockTables takes an ACCESS SHARE lock on every table, as pg_dump does,
// with statement_timeout set to the lock wait timeout if there is one.
// Statements are sent in batches; a failure names its table.
func (d *dumper) lockTables(ctx context.Context, pc *pgconn.PgConn, rels []string) error {
	if len(rels) == 0 {
		return nil
	}
	if t := d.opts.LockWaitTimeout; t != "" {
		if _, err := pc.Exec(ctx, "SET statement_timeout = "+schema.Literal(t)).ReadAll(); err != nil {
			return fmt.Errorf("dump: set lock wait timeout %q: %w", t, err)
		}
	}
	for i := 0; i < len(rels); i += lockBatch {
		batch := rels[i:min(i+lockBatch, len(rels))]
		var sql strings.Builder
		for _, r := range batch {
			sql.WriteString("LOCK TABLE " + r + " IN ACCESS SHARE MODE;")
		}
		res, err := pc.Exec(ctx, sql.String()).ReadAll()
		if err != nil {
			failed := batch[min(len(res), len(batch)-1)]
			var pgErr *pgconn.PgError
			if d.opts.LockWaitTimeout != "" && errors.As(err, &pgErr) && pgErr.Code == "57014" {
				return fmt.Errorf("dump: lock table %s: not granted within the lock wait timeout %s: %w", failed, d.opts.LockWaitTimeout, err)
			}
			return fmt.Errorf("dump: lock table %s: %w", failed, err)
		}
	}
	if d.opts.LockWaitTimeout != "" {
		if _, err := pc.Exec(ctx, "SET statement_timeout = 0").ReadAll(); err != nil {
			return fmt.Errorf("dump: reset statement timeout: %w", err)
		}
	}
	return nil
}

// parallel copies tables with Jobs worker connections that share the
// leader's snapshot, biggest table first.
func (d *dumper) parallel(ctx context.Context, tables []table, aw *format.Writer) error {
	if len(tables) == 0 {
		return nil
	}
	g, gctx := errgroup.WithContext(ctx)
	next := make(chan []table)
	g.Go(func() error {
		defer close(next)
		for len(tables) > 0 {
			n := batchLen(tables)
			select {
			case next <- tables[:n]:
			case <-gctx.Done():
				return nil // a worker failed; its error is the one reported
			}
			tables = tables[n:]
		}
		return nil
	})
	workers := min(d.opts.Jobs, len(tables))
	for w := 1; w <= workers; w++ {
		g.Go(func() error { return d.worker(gctx, w, next, aw) })
	}
	return g.Wait()
}

// worker opens a connection in the dump's snapshot and copies the tables
// it receives until the channel closes.
func (d *dumper) worker(ctx context.Context, id int, tables <-chan []table, aw *format.Writer) error {
	pc, err := d.opts.Connector.Connect(ctx)
	if err != nil {
		return fmt.Errorf("dump: worker %d: %w", id, err)
	}
	defer func() {
		cctx, cancel := closeContext(ctx)
		defer cancel()
		_ = pc.Close(cctx)
	}()
	if err := d.setupSession(ctx, pc); err != nil {
		return fmt.Errorf("dump: worker %d: %w", id, err)
	}
	begin := "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SET TRANSACTION SNAPSHOT " + schema.Literal(d.snapshot)
	if _, err := pc.Exec(ctx, begin).ReadAll(); err != nil {
		return fmt.Errorf("dump: worker %d: begin transaction at snapshot %s: %w", id, d.snapshot, err)
	}
	for ts := range tables {
		if err := d.copyAll(ctx, pc, id, ts, aw, true); err != nil {
			return err
		}
	}
	if _, err := pc.Exec(ctx, "COMMIT").ReadAll(); err != nil {
		return fmt.Errorf("dump: worker %d: end transaction: %w", id, err)
	}
	return nil
}

// copyAll copies tables one after another on pc, which is in the dump's
// snapshot: a big table with COPY, a run of small ones as a batch (see
// batchLen). Workers lock each table first with NOWAIT.
func (d *dumper) copyAll(ctx context.Context, pc *pgconn.PgConn, worker int, tables []table, aw *format.Writer, lock bool) error {
	for len(tables) > 0 {
		n := batchLen(tables)
		var err error
		if n > 1 {
			err = d.copyBatch(ctx, pc, worker, tables[:n], aw, lock)
		} else {
			err = d.copyOne(ctx, pc, worker, tables[0], aw, lock)
		}
		if err != nil {
			return err
		}
		tables = tables[n:]
	}
	return nil
}

// copyOne copies t with pgconn's CopyTo.
func (d *dumper) copyOne(ctx context.Context, pc *pgconn.PgConn, worker int, t table, aw *format.Writer, lock bool) error {
	if lock && !t.lo {
		_, err := pc.Exec(ctx, lockStatement(t)).ReadAll()
		if err != nil {
			return lockError(t, err)
		}
	}
	d.progress(Event{Kind: EventTableStart, Table: t.relation, Part: t.part, Worker: worker})
	rows, n, err := copyTable(ctx, pc, t.copyTo, t.types != nil, d.blockSize, tableSink(aw, t))
	if err != nil {
		return errCopy(t.relation, err)
	}
	d.tableDone(worker, t, rows, n)
	return nil
}

// tableDone counts t's rows and bytes and reports it done.
func (d *dumper) tableDone(worker int, t table, rows, n int64) {
	d.rows.Add(rows)
	d.bytes.Add(n)
	d.progress(Event{Kind: EventTableDone, Table: t.relation, Part: t.part, Worker: worker, Rows: rows, Bytes: n})
}

// tableSink writes t's blocks to aw.
func tableSink(aw *format.Writer, t table) blockSink {
	if t.types != nil {
		return binarySink(aw, t.entry, t.types)
	}
	return func(b []byte, rows uint32) error { return aw.WriteBlock(t.entry, b, rows) }
}

// lockStatement is a worker's lock of t (see LockError).
func lockStatement(t table) string {
	return "LOCK TABLE " + t.relation + " IN ACCESS SHARE MODE NOWAIT"
}

// lockError is the error of a worker's LOCK of t.
func lockError(t table, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "55P03" { // lock_not_available
		return fmt.Errorf("dump: %w", &LockError{Table: t.relation, Err: err})
	}
	return fmt.Errorf("dump: lock table %s: %w", t.relation, err)
}
