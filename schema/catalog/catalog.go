package catalog

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/pgark/pgark/schema"
)

// Querier runs catalog queries: a *pgx.Conn, or the pgx.Tx of the dump's
// snapshot transaction, so that the catalog is read at the dump's point in time.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Options select what Load reads.
type Options struct {
	// Select chooses objects by name, as pg_dump's -t/-n... (see
	// Selection); the zero value selects everything.
	Select Selection
	// NoPublications, NoSubscriptions and NoSecurityLabels leave those
	// objects out, as pg_dump's --no-publications and the like do.
	NoPublications, NoSubscriptions, NoSecurityLabels bool
	// Statistics reads the planner statistics of tables, materialized
	// views and indexes into STATISTICS DATA objects (pg_dump 18's
	// --statistics; see statistics.go).
	Statistics bool
}

// Catalog is what Load read: the objects of one database.
type Catalog struct {
	Objects       []*schema.Object
	Version       int    // server_version_num
	ServerVersion string // server_version
	Database      string
	Encoding      string
}

// features is the one place where server versions differ: loaders ask it,
// never server_version_num directly. It also carries what the options
// select (sel, nil for everything), so that loaders can skip reading what
// will not be dumped.
type features struct {
	num  int
	sel  *selected
	opts Options
}

func (f *features) atLeast(num int) bool { return f.num >= num }

// loader reads one family of objects and hands each to add.
type loader func(ctx context.Context, q Querier, f *features, add func(*schema.Object)) error

// finisher reads objects that belong to others already loaded (comments, ACLs).
type finisher func(ctx context.Context, q Querier, f *features, objs []*schema.Object, add func(*schema.Object)) error

// load runs loaders, then finishers, then adds pg_depend's dependencies.
// Objects the options do not select are dropped last.
func load(ctx context.Context, q Querier, opts Options, loaders []loader, finishers []finisher) (*Catalog, error) {
	c := &Catalog{}
	// With an empty search_path, format_type and the pg_get_*def functions
	// qualify every name they print, as pg_dump relies on.
	var path string
	if err := q.QueryRow(ctx, `SELECT pg_catalog.set_config('search_path', '', false)`).Scan(&path); err != nil {
		return nil, fmt.Errorf("catalog: clear search_path: %w", err)
	}
	err := q.QueryRow(ctx, `SELECT current_setting('server_version_num')::int, current_setting('server_version'),
		current_database(), pg_catalog.pg_encoding_to_char(encoding)
		FROM pg_catalog.pg_database WHERE datname = current_database()`).Scan(&c.Version, &c.ServerVersion, &c.Database, &c.Encoding)
	if err != nil {
		return nil, fmt.Errorf("catalog: read server version: %w", err)
	}
	if c.Version < 130000 {
		return nil, fmt.Errorf("catalog: server version %s is not supported (PostgreSQL 13 or newer)", c.ServerVersion)
	}
	f := &features{num: c.Version, opts: opts}
	if f.sel, err = resolveSelection(ctx, q, c.Database, opts.Select); err != nil {
		return nil, err
	}
	add := func(o *schema.Object) { c.Objects = append(c.Objects, o) }
	for _, l := range loaders {
		if err := l(ctx, q, f, add); err != nil {
			return nil, err
		}
	}
	for _, fin := range finishers {
		if err := fin(ctx, q, f, c.Objects, add); err != nil {
			return nil, err
		}
	}
	if err := addDependencies(ctx, q, c.Objects); err != nil {
		return nil, err
	}
	if c.Objects, err = f.sel.apply(ctx, q, c.Objects); err != nil {
		return nil, err
	}
	if opts.Select.dropLargeObjects() {
		c.Objects = slices.DeleteFunc(c.Objects, func(o *schema.Object) bool {
			return o.Kind == schema.KindBlobs || o.Kind == schema.KindBlobMetadata ||
				((o.Kind == schema.KindComment || o.Kind == schema.KindACL || o.Kind == schema.KindSecLabel) &&
					o.Ref.Class == schema.ClassPgLargeObject)
		})
	}
	return c, nil
}

// userNamespace is a condition on a pg_namespace alias that keeps user
// schemas: not the system's, not TOAST or temporary ones.
func userNamespace(alias string) string {
	return fmt.Sprintf(`%[1]s.nspname NOT IN ('pg_catalog', 'information_schema')
		AND %[1]s.nspname NOT LIKE 'pg\_toast%%' AND %[1]s.nspname NOT LIKE 'pg\_temp\_%%'`, alias)
}

// notExtensionMember is a condition that the object (catalog OID class,
// object OID expression) does not belong to an extension: pg_dump dumps
// an extension's members as part of CREATE EXTENSION, never by themselves.
func notExtensionMember(class uint32, oidExpr string) string {
	return fmt.Sprintf(`NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend ext
		WHERE ext.classid = %d AND ext.objid = %s AND ext.deptype = 'e')`, class, oidExpr)
}

// addDependencies adds pg_depend's normal and automatic dependencies to
// every object by catalog identity, after mapping the catalog's indirections
// to the objects a dump holds: a view's rewrite rule to the view, a
// relation's row type to the relation, a composite type's relation to the
// type, an array type to its element type, and the index behind a primary
// key, unique or exclusion constraint to the constraint. A sequence's
// automatic dependency on the column that owns it is left out: ownership
// is its own object (SEQUENCE OWNED BY), as in pg_dump. An extension's
// member objects, which the dump holds as CREATE EXTENSION, map to the
// extension.
func addDependencies(ctx context.Context, q Querier, objs []*schema.Object) error {
	alias := map[schema.Ref]schema.Ref{}
	rows, err := q.Query(ctx, `
		SELECT 2618::oid, r.oid, 1259::oid, r.ev_class FROM pg_catalog.pg_rewrite r WHERE r.rulename = '_RETURN'
		UNION ALL
		SELECT 1247::oid, t.oid, 1259::oid, t.typrelid FROM pg_catalog.pg_type t
			JOIN pg_catalog.pg_class c ON c.oid = t.typrelid WHERE c.relkind <> 'c'
		UNION ALL
		SELECT 1259::oid, t.typrelid, 1247::oid, t.oid FROM pg_catalog.pg_type t
			JOIN pg_catalog.pg_class c ON c.oid = t.typrelid WHERE c.relkind = 'c'
		UNION ALL
		SELECT 1247::oid, a.oid, 1247::oid, a.typelem FROM pg_catalog.pg_type a
			JOIN pg_catalog.pg_type e ON e.typarray = a.oid
		UNION ALL
		SELECT 1259::oid, c.conindid, 2606::oid, c.oid FROM pg_catalog.pg_constraint c
			WHERE c.contype IN ('p', 'u', 'x') AND c.conindid <> 0
		UNION ALL
		SELECT e.classid, e.objid, 3079::oid, e.refobjid FROM pg_catalog.pg_depend e WHERE e.deptype = 'e'`)
	if err != nil {
		return fmt.Errorf("catalog: read object aliases: %w", err)
	}
	var from, to schema.Ref
	_, err = pgx.ForEachRow(rows, []any{&from.Class, &from.OID, &to.Class, &to.OID}, func() error {
		alias[from] = to
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read object aliases: %w", err)
	}
	canon := func(r schema.Ref) schema.Ref {
		for range 3 { // array of row type of relation: at most three hops
			a, ok := alias[r.Whole()]
			if !ok {
				break
			}
			r = schema.Ref{Class: a.Class, OID: a.OID, Sub: r.Sub}
		}
		return r
	}

	byRef := map[schema.Ref][]*schema.Object{}
	index := func(o *schema.Object) {
		switch o.Kind {
		case schema.KindTableData, schema.KindSequenceSet, schema.KindMatViewData, schema.KindComment, schema.KindACL, schema.KindSequenceOwnedBy, schema.KindBlobs,
			schema.KindTableAttach, schema.KindIndexAttach, schema.KindRowSecurity:
			return // these share their owner's Ref; the loaders give them their deps
		}
		byRef[o.Ref.Whole()] = append(byRef[o.Ref.Whole()], o)
	}
	for _, o := range objs {
		index(o)
		for _, p := range o.Parts {
			index(p)
		}
	}

	rows, err = q.Query(ctx, `
		SELECT d.classid, d.objid, d.objsubid, d.refclassid, d.refobjid, d.refobjsubid
		FROM pg_catalog.pg_depend d
		WHERE d.deptype IN ('n', 'a')
		  AND NOT (d.deptype = 'a' AND d.classid = 1259 AND d.refclassid = 1259 AND d.refobjsubid <> 0
		           AND EXISTS (SELECT 1 FROM pg_catalog.pg_class s WHERE s.oid = d.objid AND s.relkind = 'S'))`)
	if err != nil {
		return fmt.Errorf("catalog: read pg_depend: %w", err)
	}
	var obj, ref schema.Ref
	seen := map[*schema.Object]map[schema.Ref]bool{}
	_, err = pgx.ForEachRow(rows, []any{&obj.Class, &obj.OID, &obj.Sub, &ref.Class, &ref.OID, &ref.Sub}, func() error {
		// An object the dump holds by its own identity (a view's
		// definition, which is a part of the view) keeps its dependencies.
		targets := byRef[obj.Whole()]
		if len(targets) == 0 {
			targets = byRef[canon(obj).Whole()]
		}
		if len(targets) == 0 {
			return nil
		}
		r := canon(ref)
		for _, o := range targets {
			if o.Ref.Whole() == r.Whole() {
				continue
			}
			if seen[o] == nil {
				seen[o] = map[schema.Ref]bool{}
				for _, d := range o.Deps {
					seen[o][d] = true
				}
			}
			if !seen[o][r] {
				seen[o][r] = true
				o.Deps = append(o.Deps, r)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read pg_depend: %w", err)
	}
	return nil
}
