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

// AllOptions configure RunAll, pg_dumpall's counterpart. Connector, Out
// and Database.Load are required.
type AllOptions struct {
	// Connector connects to the maintenance database (pg_dumpall's -l),
	// where the globals and the list of databases are read; each database
	// is dumped through a Connector derived from it.
	Connector *conn.Connector
	// Out receives the cluster archive; RunAll never closes or syncs it.
	Out io.Writer
	// LoadGlobals reads the cluster's globals (roles, tablespaces...),
	// numbered 1, 2, 3... with their DepIDs; nil for none.
	LoadGlobals LoadFunc
	// GlobalsOnly leaves the databases out (-g, -r, --tablespaces-only).
	GlobalsOnly bool
	// ExcludeDatabases are regular expressions (schema.NamePattern.Name,
	// from pg_dumpall's --exclude-database patterns) for the names of
	// databases not to dump.
	ExcludeDatabases []string
	// Database are the options of each database's dump, as Run takes
	// them; RunAll sets Connector and Out. Its Jobs, Codec and Level are
	// the archive's too.
	Database Options
	// Progress, if set, is told of each database as its dump begins,
	// besides the events of each database's dump (Database.Progress).
	Progress func(Event)
}

// RunAll dumps a cluster into one archive (format version 2): the globals
// first, then every database that accepts connections but template0 and
// those excluded, template1 first and the others in name order, as
// pg_dumpall does. Each database is dumped as Run dumps it, at a snapshot
// of its own, its entries (numbered on from the previous database's)
// naming it and written before its data. As with pg_dumpall, the
// databases are not dumped at one point in time together, nor with the
// globals.
func RunAll(ctx context.Context, opts AllOptions) error {
	switch {
	case opts.Connector == nil:
		return errors.New("dump: no connector")
	case opts.Out == nil:
		return errors.New("dump: no output")
	}
	dbOpts := opts.Database
	dbOpts.Connector, dbOpts.Out = opts.Connector, io.Discard
	if err := dbOpts.validate(); err != nil {
		return err
	}
	start := time.Now()
	main, err := opts.Connector.ConnectPgx(ctx)
	if err != nil {
		return fmt.Errorf("dump: %w", err)
	}
	defer func() {
		cctx, cancel := closeContext(ctx)
		defer cancel()
		_ = main.Close(cctx)
	}()
	info := format.Info{Tool: "pgark", ToolVersion: dbOpts.ToolVersion, Created: start.UTC(), Cluster: true}
	if err := main.QueryRow(ctx, "SELECT pg_catalog.current_setting('server_version')").Scan(&info.ServerVersion); err != nil {
		return fmt.Errorf("dump: read server version: %w", err)
	}
	if _, err := main.Exec(ctx, "SET DateStyle = ISO; SET standard_conforming_strings = on"); err != nil {
		return fmt.Errorf("dump: set up session: %w", err)
	}
	var globals []*schema.Object
	if opts.LoadGlobals != nil {
		if globals, err = opts.LoadGlobals(ctx, main); err != nil {
			return fmt.Errorf("dump: read globals: %w", err)
		}
	}
	if !opts.GlobalsOnly {
		if info.Databases, err = listDatabases(ctx, main, opts.ExcludeDatabases); err != nil {
			return err
		}
	}
	plan, err := makePlan(globals, &dbOpts)
	if err != nil {
		return err
	}

	aw, err := format.NewWriter(opts.Out, info, format.WriterOptions{Codec: dbOpts.Codec, Level: dbOpts.Level, Concurrency: max(dbOpts.Jobs, 1)})
	if err != nil {
		return fmt.Errorf("dump: start archive: %w", err)
	}
	closed := false
	defer func() {
		if !closed {
			aw.Abort()
		}
	}()
	var next uint32 // the highest entry id written so far
	for _, e := range plan.entries {
		if err := aw.AddEntry(e); err != nil {
			return fmt.Errorf("dump: write entry %d (%s %s): %w", e.ID, e.Kind, e.Name, err)
		}
		next = max(next, e.ID)
	}
	var rows, bytes int64
	for _, db := range info.Databases {
		if opts.Progress != nil {
			opts.Progress(Event{Kind: EventDatabase, Database: db.Name, Elapsed: time.Since(start)})
		}
		o := dbOpts
		o.Connector = opts.Connector.ForDatabase(db.Name)
		d := newDumper(&o)
		n, err := d.dumpInto(ctx, aw, next, db.Name)
		if err != nil {
			return fmt.Errorf("database %s: %w", db.Name, err)
		}
		next = n
		rows += d.rows.Load()
		bytes += d.bytes.Load()
	}
	closed = true
	if err := aw.Close(); err != nil {
		return fmt.Errorf("dump: finish archive: %w", err)
	}
	if opts.Progress != nil {
		opts.Progress(Event{Kind: EventDone, Rows: rows, Bytes: bytes, Elapsed: time.Since(start)})
	}
	return nil
}

// listDatabases lists the databases pg_dumpall dumps: those that accept
// connections (and are not invalid, datconnlimit -2), but template0 and
// those whose names match a regular expression of exclude; template1
// first, then the others by name.
func listDatabases(ctx context.Context, q Querier, exclude []string) ([]format.DatabaseInfo, error) {
	if exclude == nil {
		exclude = []string{}
	}
	rows, err := q.Query(ctx, `SELECT datname, pg_catalog.pg_encoding_to_char(encoding) FROM pg_catalog.pg_database
		WHERE datallowconn AND datconnlimit <> -2 AND datname <> 'template0' AND NOT datname ~ ANY($1::text[])
		ORDER BY (datname <> 'template1'), datname`, exclude)
	if err != nil {
		return nil, fmt.Errorf("dump: list databases: %w", err)
	}
	var out []format.DatabaseInfo
	var d format.DatabaseInfo
	if _, err := pgx.ForEachRow(rows, []any{&d.Name, &d.Encoding}, func() error {
		out = append(out, d)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("dump: list databases: %w", err)
	}
	return out, nil
}

// dumpInto dumps the dumper's database into the cluster archive aw as Run
// dumps it, its entry ids following base and its entries naming db. It
// returns the highest entry id it wrote (base if none).
func (d *dumper) dumpInto(ctx context.Context, aw *format.Writer, base uint32, db string) (uint32, error) {
	leader, err := d.opts.Connector.ConnectPgx(ctx)
	if err != nil {
		return 0, fmt.Errorf("dump: %w", err)
	}
	defer func() {
		cctx, cancel := closeContext(ctx)
		defer cancel()
		_ = leader.Close(cctx)
	}()
	p, err := d.prepare(ctx, leader)
	if err != nil {
		return 0, err
	}
	last := base
	for i := range p.entries {
		e := &p.entries[i]
		e.ID += base
		for j := range e.Deps {
			e.Deps[j] += base
		}
		e.Database = db
		last = max(last, e.ID)
	}
	for i := range p.tables {
		p.tables[i].entry += base
	}
	if err := d.write(ctx, leader, p, aw); err != nil {
		return 0, err
	}
	return last, d.commit(ctx, leader)
}

// prepend puts head (numbered 1..k) before objs, whose IDs and DepIDs are
// shifted by k.
func prepend(head, objs []*schema.Object) []*schema.Object {
	k := len(head)
	out := make([]*schema.Object, 0, k+len(objs))
	out = append(out, head...)
	for _, o := range objs {
		o.ID += k
		for i := range o.DepIDs {
			o.DepIDs[i] += k
		}
		out = append(out, o)
	}
	return out
}
