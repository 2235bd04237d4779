package catalog

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgark/pgark/schema"
)

// Relations: schemas, tables (partitioned tables and partitions too), their
// data, columns, defaults, constraints and indexes, sequences (plain,
// serial-owned and identity) with their values, views and materialized
// views; what hangs off them: rules, row level security and policies,
// extended statistics (rules.go, policies.go, statsobjects.go).
//
// Partitions are dumped as pg_dump dumps them: each is created as a table
// of its own, with all its columns and CHECK constraints, and attached to
// its parent by a TABLE ATTACH object; each leaf has its own TABLE DATA, a
// partitioned table none. An index of a partition that is attached to its
// parent's (constraints' indexes too) is created on its own and attached
// by an INDEX ATTACH object.
//
// Not read here yet: foreign tables, column defaults on views, and NOT
// NULL constraints as pg_constraint rows (PostgreSQL 18; attnotnull covers
// them, their names are not kept).
//
// The SQL the server prints (format_type, pg_get_expr, pg_get_viewdef,
// pg_get_indexdef, pg_get_constraintdef) qualifies names only when they are
// not on the search_path: the session must run with an empty search_path,
// as pg_dump's does.

// attCompression reports whether pg_attribute has attcompression (14+).
func (f *features) attCompression() bool { return f.atLeast(140000) }

// userRelation is the condition on a pg_class alias c joined to its
// pg_namespace alias n that keeps the relations this file dumps.
func userRelation(kinds string) string {
	return fmt.Sprintf(`c.relkind IN (%s) AND %s AND %s`,
		kinds, userNamespace("n"), notExtensionMember(schema.ClassPgClass, "c.oid"))
}

// loadRelations reads schemas and relations, and hands each object to add:
// schemas first, then for each relation in OID order its objects.
func loadRelations(ctx context.Context, q Querier, f *features, add func(*schema.Object)) error {
	if err := loadSchemas(ctx, q, add); err != nil {
		return err
	}
	r := &relReader{q: q, f: f, tables: map[uint32]*relTable{}, seqs: map[uint32]*relSeq{}, views: map[uint32]*relView{}}
	steps := []func(context.Context) error{r.relations, r.inherits, r.columns, r.viewColumns, r.generatedDeps,
		r.notNulls, r.constraints, r.indexes, r.indexAttaches, r.sequences, r.sequenceValues}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
	}
	for _, o := range r.objs {
		add(o)
	}
	for _, l := range []loader{loadRules, loadPolicies, loadStatisticsObjects} {
		if err := l(ctx, q, f, add); err != nil {
			return err
		}
	}
	return nil
}

func loadSchemas(ctx context.Context, q Querier, add func(*schema.Object)) error {
	rows, err := q.Query(ctx, `SELECT n.oid, n.nspname, pg_catalog.pg_get_userbyid(n.nspowner)
		FROM pg_catalog.pg_namespace n
		WHERE `+userNamespace("n")+` AND `+notExtensionMember(schema.ClassPgNamespace, "n.oid")+`
		ORDER BY n.oid`)
	if err != nil {
		return fmt.Errorf("catalog: read schemas: %w", err)
	}
	var (
		oid         uint32
		name, owner string
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &name, &owner}, func() error {
		if name == "public" {
			return nil // every database has it; pg_dump does not create it
		}
		add(&schema.Object{
			Ref:    schema.Ref{Class: schema.ClassPgNamespace, OID: oid},
			Kind:   schema.KindSchema,
			Name:   name,
			Owner:  owner,
			Ident:  "SCHEMA " + schema.Ident(name),
			Create: "CREATE SCHEMA " + schema.Ident(name) + ";",
			Drop:   "DROP SCHEMA " + schema.Ident(name) + ";",
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read schemas: %w", err)
	}
	return nil
}

// relReader holds what the relation queries have read so far.
type relReader struct {
	q      Querier
	f      *features
	objs   []*schema.Object
	tables map[uint32]*relTable
	seqs   map[uint32]*relSeq
	views  map[uint32]*relView
}

type relView struct {
	obj *schema.Object
	def *viewDef
}

type relTable struct {
	obj       *schema.Object
	def       *schema.Table
	data      *schema.TableData // nil for a partitioned table
	ref       schema.Ref
	owner     string
	partition bool
}

type relSeq struct {
	obj   *schema.Object
	seq   *schema.Sequence
	owner string
}

// relations reads tables (partitioned tables and partitions too), views,
// materialized views and sequences.
func (r *relReader) relations(ctx context.Context) error {
	rows, err := r.q.Query(ctx, `SELECT c.oid, n.nspname, c.relname, c.relkind::text, c.relpersistence::text,
			pg_catalog.pg_get_userbyid(c.relowner), COALESCE(ts.spcname, ''),
			COALESCE(c.reloptions, '{}'), COALESCE(tc.reloptions, '{}'),
			c.relpages::int8, c.reltuples::float8, c.relispopulated,
			COALESCE(tn.nspname, ''), COALESCE(t.typname, ''),
			CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid) ELSE '' END,
			COALESCE((SELECT ru.oid FROM pg_catalog.pg_rewrite ru
				WHERE ru.ev_class = c.oid AND ru.rulename = '_RETURN' AND c.relkind = 'v'), 0),
			CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) ELSE '' END,
			CASE WHEN c.relispartition THEN pg_catalog.pg_get_expr(c.relpartbound, c.oid) ELSE '' END,
			COALESCE(pc.oid, 0), COALESCE(pn.nspname, ''), COALESCE(pc.relname, ''),
			c.relreplident::text, c.relrowsecurity, c.relforcerowsecurity
		FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_catalog.pg_tablespace ts ON ts.oid = c.reltablespace
		LEFT JOIN pg_catalog.pg_class tc ON tc.oid = c.reltoastrelid
		LEFT JOIN pg_catalog.pg_type t ON t.oid = c.reloftype
		LEFT JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace
		LEFT JOIN pg_catalog.pg_inherits pi ON c.relispartition AND pi.inhrelid = c.oid
		LEFT JOIN pg_catalog.pg_class pc ON pc.oid = pi.inhparent
		LEFT JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
		WHERE `+userRelation(`'r', 'p', 'v', 'm', 'S'`)+`
		ORDER BY c.oid`)
	if err != nil {
		return fmt.Errorf("catalog: read relations: %w", err)
	}
	var (
		oid, rule, parent                        uint32
		nsp, name, kind, persistence, owner, tbs string
		opts, toastOpts                          []string
		pages                                    int64
		tuples                                   float64
		populated, rowSecurity, forceRowSecurity bool
		ofNsp, ofType, viewdef                   string
		partKey, bound, parentNsp, parentName    string
		replident                                string
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &nsp, &name, &kind, &persistence, &owner, &tbs, &opts, &toastOpts,
		&pages, &tuples, &populated, &ofNsp, &ofType, &viewdef, &rule,
		&partKey, &bound, &parent, &parentNsp, &parentName, &replident, &rowSecurity, &forceRowSecurity}, func() error {
		ref := schema.Ref{Class: schema.ClassPgClass, OID: oid}
		qname := schema.Qualified(nsp, name)
		for _, o := range toastOpts {
			opts = append(opts, "toast."+o)
		}
		obj := &schema.Object{Ref: ref, Schema: nsp, Name: name, Owner: owner, Tablespace: tbs}
		switch kind {
		case "r", "p":
			def := &schema.Table{Schema: nsp, Name: name, Unlogged: persistence == "u", Options: opts,
				PartitionBy: partKey, ForceRowSecurity: forceRowSecurity}
			if replident == "f" || replident == "n" {
				def.ReplicaIdentity = replident[0]
			}
			if ofType != "" {
				def.OfType = schema.Qualified(ofNsp, ofType)
			}
			obj.Kind, obj.Definer = schema.KindTable, def
			obj.Ident, obj.Drop = "TABLE "+qname, "DROP TABLE "+qname+";"
			t := &relTable{obj: obj, def: def, ref: ref, owner: owner, partition: parent != 0}
			r.tables[oid] = t
			r.objs = append(r.objs, obj)
			if kind == "r" {
				t.data = &schema.TableData{Table: ref, Relation: qname, Pages: pages, Tuples: tuples}
				r.objs = append(r.objs, &schema.Object{
					Ref: ref, Kind: schema.KindTableData, Schema: nsp, Name: name, Owner: owner,
					Data: t.data, Deps: []schema.Ref{ref},
				})
			}
			if parent != 0 {
				r.objs = append(r.objs, &schema.Object{
					Ref: ref, Kind: schema.KindTableAttach, Schema: nsp, Name: name, Owner: owner,
					Create: "ALTER TABLE ONLY " + schema.Qualified(parentNsp, parentName) +
						" ATTACH PARTITION " + qname + " " + bound + ";",
					Deps: []schema.Ref{ref, {Class: schema.ClassPgClass, OID: parent}},
				})
			}
			if rowSecurity {
				r.objs = append(r.objs, &schema.Object{
					Ref: ref, Kind: schema.KindRowSecurity, Schema: nsp, Name: name, Owner: owner,
					Create: "ALTER TABLE " + qname + " ENABLE ROW LEVEL SECURITY;",
					Deps:   []schema.Ref{ref},
				})
			}
		case "v":
			obj.Kind = schema.KindView
			obj.Ident, obj.Drop = "VIEW "+qname, "DROP VIEW "+qname+";"
			v := &viewDef{qname: qname, opts: slices.Clone(opts), def: viewdef}
			v.part = &schema.Object{
				Ref: schema.Ref{Class: schema.ClassPgRewrite, OID: rule}, Kind: schema.KindRule,
				Schema: nsp, Name: name + " _RETURN", Owner: owner,
				Create: viewSQL("OR REPLACE VIEW", qname, opts, viewdef),
				Deps:   []schema.Ref{ref},
			}
			obj.Definer, obj.Parts = v, []*schema.Object{v.part}
			r.views[oid] = &relView{obj: obj, def: v}
			r.objs = append(r.objs, obj)
		case "m":
			obj.Kind = schema.KindMatView
			obj.Ident, obj.Drop = "MATERIALIZED VIEW "+qname, "DROP MATERIALIZED VIEW "+qname+";"
			obj.Create = viewSQL("MATERIALIZED VIEW", qname, opts, viewdef)
			switch replident {
			case "f":
				obj.Create += "\nALTER TABLE ONLY " + qname + " REPLICA IDENTITY FULL;"
			case "n":
				obj.Create += "\nALTER TABLE ONLY " + qname + " REPLICA IDENTITY NOTHING;"
			}
			r.objs = append(r.objs, obj)
			if populated {
				r.objs = append(r.objs, &schema.Object{
					Ref: ref, Kind: schema.KindMatViewData, Schema: nsp, Name: name, Owner: owner,
					Create: "REFRESH MATERIALIZED VIEW " + qname + ";",
					Deps:   []schema.Ref{ref},
				})
			}
		case "S":
			obj.Kind = schema.KindSequence
			obj.Ident, obj.Drop = "SEQUENCE "+qname, "DROP SEQUENCE "+qname+";"
			seq := &schema.Sequence{Schema: nsp, Name: name, Unlogged: persistence == "u"}
			r.seqs[oid] = &relSeq{obj: obj, seq: seq, owner: owner}
			// Added by sequences, which knows whether it is an identity.
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read relations: %w", err)
	}
	return nil
}

// viewSQL renders CREATE VIEW or CREATE MATERIALIZED VIEW from
// pg_get_viewdef's text, as pg_dump does: a view's check_option becomes
// WITH ... CHECK OPTION, a materialized view is created empty (its data
// object refreshes it).
func viewSQL(what, qname string, opts []string, def string) string {
	var b strings.Builder
	check := ""
	var rest []string
	for _, o := range opts {
		switch o {
		case "check_option=local":
			check = "LOCAL"
		case "check_option=cascaded":
			check = "CASCADED"
		default:
			rest = append(rest, o)
		}
	}
	b.WriteString("CREATE " + what + " " + qname)
	if len(rest) > 0 {
		b.WriteString(" WITH (" + schema.RelOptions(rest) + ")")
	}
	b.WriteString(" AS\n" + strings.TrimSuffix(strings.TrimRight(def, " \n\t"), ";"))
	if check != "" {
		b.WriteString("\n  WITH " + check + " CHECK OPTION")
	}
	if what == "MATERIALIZED VIEW" {
		b.WriteString("\n  WITH NO DATA")
	}
	b.WriteString(";")
	return b.String()
}

// viewDef renders a view. Its definition is a part of Kind RULE, which
// carries the dependencies of the view's _RETURN rule: when it stays
// inline the view is created whole; when Sort splits it off to break a
// loop (a function that returns the view's rows and that the view reads),
// the view is created with a dummy definition that has its columns' names,
// types and collations, and the part (CREATE OR REPLACE VIEW) gives it its
// real one in post-data, as pg_dump does.
type viewDef struct {
	qname string
	opts  []string
	def   string // pg_get_viewdef
	cols  []viewColumn
	part  *schema.Object
}

type viewColumn struct {
	name, typ, collation string // collation: quoted, qualified, "" for the type's
}

func (v *viewDef) CreateSQL() string {
	if !v.part.Separate {
		return viewSQL("VIEW", v.qname, v.opts, v.def)
	}
	return "CREATE VIEW " + v.qname + " AS\n" + v.dummy() + ";"
}

// dummy is a query with the view's columns, all NULL.
func (v *viewDef) dummy() string {
	var b strings.Builder
	b.WriteString("SELECT")
	for i, c := range v.cols {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n    NULL::" + c.typ)
		if c.collation != "" {
			b.WriteString(" COLLATE " + c.collation)
		}
		b.WriteString(" AS " + schema.Ident(c.name))
	}
	return b.String()
}

// viewColumns reads the views' columns, for their dummy definitions. A
// view depends on its columns' types (and collations) itself: its dummy
// needs them. They are named as the catalog's dependencies name them: an
// array type by its element type, a relation's row type by the relation.
func (r *relReader) viewColumns(ctx context.Context) error {
	rows, err := r.q.Query(ctx, `SELECT a.attrelid, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
			COALESCE(cn.nspname, ''), COALESCE(co.collname, ''), COALESCE(co.oid, 0),
			CASE WHEN tr.relkind IS NOT NULL AND tr.relkind <> 'c' THEN 1259 ELSE 1247 END::oid,
			CASE WHEN tr.relkind IS NOT NULL AND tr.relkind <> 'c' THEN tr.oid ELSE et.oid END
		FROM pg_catalog.pg_attribute a
		JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
		LEFT JOIN pg_catalog.pg_type e ON e.typarray = t.oid
		JOIN pg_catalog.pg_type et ON et.oid = COALESCE(e.oid, t.oid)
		LEFT JOIN pg_catalog.pg_class tr ON tr.oid = et.typrelid
		LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation AND a.attcollation <> t.typcollation
		LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
		WHERE `+userRelation(`'v'`)+` AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY a.attrelid, a.attnum`)
	if err != nil {
		return fmt.Errorf("catalog: read view columns: %w", err)
	}
	var (
		rel, collOID, typClass, typOID uint32
		name, typ, collNsp, coll       string
	)
	_, err = pgx.ForEachRow(rows, []any{&rel, &name, &typ, &collNsp, &coll, &collOID, &typClass, &typOID}, func() error {
		rv := r.views[rel]
		if rv == nil {
			return nil
		}
		v, obj := rv.def, rv.obj
		c := viewColumn{name: name, typ: typ}
		obj.Deps = append(obj.Deps, schema.Ref{Class: typClass, OID: typOID})
		if coll != "" {
			c.collation = schema.Qualified(collNsp, coll)
			obj.Deps = append(obj.Deps, schema.Ref{Class: schema.ClassPgCollation, OID: collOID})
		}
		v.cols = append(v.cols, c)
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read view columns: %w", err)
	}
	for _, rv := range r.views {
		rv.def.part.Drop = "CREATE OR REPLACE VIEW " + rv.def.qname + " AS\n" + rv.def.dummy() + ";"
	}
	return nil
}

// inherits reads the parents of inheritance children (not of partitions,
// which are attached).
func (r *relReader) inherits(ctx context.Context) error {
	rows, err := r.q.Query(ctx, `SELECT i.inhrelid, pn.nspname, p.relname
		FROM pg_catalog.pg_inherits i
		JOIN pg_catalog.pg_class p ON p.oid = i.inhparent
		JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace
		ORDER BY i.inhrelid, i.inhseqno`)
	if err != nil {
		return fmt.Errorf("catalog: read table inheritance: %w", err)
	}
	var (
		oid       uint32
		nsp, name string
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &nsp, &name}, func() error {
		if t := r.tables[oid]; t != nil && !t.partition {
			t.def.Inherits = append(t.def.Inherits, schema.Qualified(nsp, name))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read table inheritance: %w", err)
	}
	return nil
}

// columns reads the tables' columns and defaults. A partition's columns
// are all its own: it is created alone, then attached. A column without
// a default of its own whose parent has one gets DEFAULT NULL, as pg_dump
// gives it, since CREATE TABLE ... INHERITS would copy the parent's.
func (r *relReader) columns(ctx context.Context) error {
	compression := `''`
	if r.f.attCompression() {
		compression = `a.attcompression::text`
	}
	rows, err := r.q.Query(ctx, `SELECT a.attrelid, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
			COALESCE(cn.nspname, ''), COALESCE(co.collname, ''),
			a.attnotnull, a.attislocal, a.attidentity::text, a.attgenerated::text,
			COALESCE(ad.oid, 0), COALESCE(pg_catalog.pg_get_expr(ad.adbin, ad.adrelid),
				CASE WHEN a.attgenerated = '' AND EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i
					JOIN pg_catalog.pg_attribute pa ON pa.attrelid = i.inhparent AND pa.attname = a.attname
					JOIN pg_catalog.pg_attrdef pd ON pd.adrelid = pa.attrelid AND pd.adnum = pa.attnum
					WHERE i.inhrelid = a.attrelid) THEN 'NULL' END, ''),
			CASE WHEN a.attstorage <> t.typstorage THEN a.attstorage::text ELSE '' END,
			COALESCE(a.attstattarget::int, -1), COALESCE(a.attoptions, '{}'), `+compression+`,
			EXISTS (SELECT 1 FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_depend o
					ON o.classid = 1259 AND o.objid = d.refobjid AND o.refclassid = 1259
					AND o.refobjid = a.attrelid AND o.deptype = 'a'
				WHERE d.classid = 2604 AND d.objid = ad.oid AND d.refclassid = 1259),
			a.atttypid
		FROM pg_catalog.pg_attribute a
		JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
		LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation AND a.attcollation <> t.typcollation
		LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
		LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
		WHERE `+userRelation(`'r', 'p'`)+` AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY a.attrelid, a.attnum`)
	if err != nil {
		return fmt.Errorf("catalog: read columns: %w", err)
	}
	var (
		rel, defOID, typOID                    uint32
		name, typ, collNsp, coll               string
		notNull, local                         bool
		identity, generated, def, storage, cmp string
		stats                                  int
		opts                                   []string
		ownSeq                                 bool
	)
	_, err = pgx.ForEachRow(rows, []any{&rel, &name, &typ, &collNsp, &coll, &notNull, &local, &identity, &generated,
		&defOID, &def, &storage, &stats, &opts, &cmp, &ownSeq, &typOID}, func() error {
		t := r.tables[rel]
		if t == nil {
			return nil
		}
		c := &schema.Column{
			Name: name, Type: typ, NotNull: notNull, Inherited: !local && !t.partition, Default: def,
			Identity: firstByte(identity), Generated: firstByte(generated), Storage: firstByte(storage),
			Compression: firstByte(cmp), Options: opts,
		}
		if coll != "" {
			c.Collation = schema.Qualified(collNsp, coll)
		}
		if stats >= 0 {
			target := stats
			c.Statistics = &target
		}
		t.def.Columns = append(t.def.Columns, c)
		if c.Generated == 0 && t.data != nil {
			t.data.Columns = append(t.data.Columns, schema.Ident(name))
			t.data.Types = append(t.data.Types, typOID)
		}
		if def != "" && c.Generated == 0 {
			p := t.def.DefaultPart(schema.Ref{Class: schema.ClassPgAttrdef, OID: defOID}, t.ref, c)
			p.Owner = t.owner
			// An inherited column's own default is set after CREATE
			// TABLE ... INHERITS has copied the parent's. A default
			// that reads a sequence the table owns (a serial column) is
			// separate too, as pg_dump makes it (for pg_dump, the
			// sequence's OWNED BY makes a loop with the table): so the
			// table can be created, and restored alone, before the
			// sequence exists.
			p.Separate = c.Inherited || ownSeq
			t.obj.Parts = append(t.obj.Parts, p)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read columns: %w", err)
	}
	return nil
}

// generatedDeps adds to each table what its generated columns'
// expressions need (functions, types, collations): generation expressions
// are pg_attrdef rows like defaults, but never parts of their own.
func (r *relReader) generatedDeps(ctx context.Context) error {
	rows, err := r.q.Query(ctx, `SELECT ad.adrelid, d.refclassid, d.refobjid
		FROM pg_catalog.pg_attrdef ad
		JOIN pg_catalog.pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
		JOIN pg_catalog.pg_depend d ON d.classid = 2604 AND d.objid = ad.oid
		WHERE a.attgenerated <> '' AND d.deptype = 'n' AND d.refobjid <> ad.adrelid
		ORDER BY 1, 2, 3`)
	if err != nil {
		return fmt.Errorf("catalog: read generated column dependencies: %w", err)
	}
	var rel, class, oid uint32
	_, err = pgx.ForEachRow(rows, []any{&rel, &class, &oid}, func() error {
		if t := r.tables[rel]; t != nil {
			t.obj.Deps = append(t.obj.Deps, schema.Ref{Class: class, OID: oid})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read generated column dependencies: %w", err)
	}
	return nil
}

func firstByte(s string) byte {
	if s == "" {
		return 0
	}
	return s[0]
}

// constraints reads the tables' CHECK, primary key, unique, exclusion and
// foreign key constraints. A foreign key of a partitioned table is cloned
// on its partitions (and on the partitions of a partitioned table it
// references): the clones come with it. A partition's primary key or
// unique constraint is its own, attached with its index (indexAttaches).
func (r *relReader) constraints(ctx context.Context) error {
	rows, err := r.q.Query(ctx, `SELECT co.oid, co.conrelid, co.conname, co.contype::text,
			pg_catalog.pg_get_constraintdef(co.oid), co.conislocal, COALESCE(its.spcname, ''), co.confrelid,
			COALESCE((SELECT u.oid FROM pg_catalog.pg_constraint u
				WHERE co.contype = 'f' AND u.conrelid = co.confrelid AND u.conindid = co.conindid
				AND u.contype IN ('p', 'u') LIMIT 1), 0),
			COALESCE(i.indisclustered, false), COALESCE(i.indisreplident, false), COALESCE(ic.relname, ''),
			CASE WHEN co.contype IN ('p', 'u')
				AND (SELECT am.amname FROM pg_catalog.pg_am am WHERE am.oid = ic.relam) = 'btree'
				THEN pg_catalog.pg_get_indexdef(co.conindid) ELSE '' END,
			co.condeferrable, co.condeferred, COALESCE(pg_catalog.array_to_string(ic.reloptions, ', '), ''),
			co.convalidated
		FROM pg_catalog.pg_constraint co
		JOIN pg_catalog.pg_class c ON c.oid = co.conrelid
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_catalog.pg_class ic ON ic.oid = co.conindid AND co.contype IN ('p', 'u', 'x')
		LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = ic.oid
		LEFT JOIN pg_catalog.pg_tablespace its ON its.oid = ic.reltablespace
		WHERE `+userRelation(`'r', 'p'`)+` AND co.contype IN ('c', 'p', 'u', 'x', 'f')
		  AND (co.contype <> 'f' OR co.conparentid = 0)
		ORDER BY co.conrelid, co.conname`)
	if err != nil {
		return fmt.Errorf("catalog: read constraints: %w", err)
	}
	var (
		oid, rel, refRel, refCon                                     uint32
		name, kind, def, tbs, index, indexDef, options               string
		local, clustered, replident, deferrable, deferred, validated bool
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &rel, &name, &kind, &def, &local, &tbs, &refRel, &refCon,
		&clustered, &replident, &index, &indexDef, &deferrable, &deferred, &options, &validated}, func() error {
		t := r.tables[rel]
		if t == nil {
			return nil
		}
		ref := schema.Ref{Class: schema.ClassPgConstraint, OID: oid}
		if options != "" && (kind == "p" || kind == "u") {
			// pg_get_constraintdef leaves out the index's storage
			// parameters (pg_dump adds them too); they go before DEFERRABLE.
			head, tail := def, ""
			if i := strings.LastIndex(def, " DEFERRABLE"); deferrable && i >= 0 {
				head, tail = def[:i], def[i:]
			}
			def = head + " WITH (" + options + ")" + tail
		}
		if kind == "c" {
			// Inherited ones come with INHERITS; a partition needs its
			// parent's before it is attached.
			if local || t.partition {
				p := t.def.CheckPart(ref, t.ref, name, def)
				p.Owner = t.owner
				t.obj.Parts = append(t.obj.Parts, p)
			}
			return nil
		}
		add := "ALTER TABLE ONLY " + t.def.Qualified() + " ADD CONSTRAINT " + schema.Ident(name) + " "
		o := &schema.Object{
			Ref: ref, Kind: schema.KindConstraint, Schema: t.def.Schema, Name: t.def.Name + " " + name,
			Owner: t.owner, Tablespace: tbs,
			Create: add + def + ";" + indexSettings(t.def.Qualified(), index, clustered, replident),
			Drop:   "ALTER TABLE ONLY " + t.def.Qualified() + " DROP CONSTRAINT " + schema.Ident(name) + ";",
			Deps:   []schema.Ref{t.ref},
		}
		if indexDef != "" && !t.partition && t.def.PartitionBy == "" && index == name {
			// A parallel restore builds the index alongside the table's
			// others, then adds the constraint on it. Partitioned tables and
			// partitions keep the plain form: USING INDEX is refused on the
			// former, and a partition's index is attached to its parent's.
			o.Build = indexDef + ";"
			o.Attach = add + usingIndex(kind, name, deferrable, deferred) + ";" + indexSettings(t.def.Qualified(), index, clustered, replident)
		}
		if kind == "f" {
			if r.tables[refRel] == nil {
				return nil // references a relation not dumped
			}
			if t.def.PartitionBy != "" {
				// It applies to the partitions too: ONLY is refused.
				o.Create = "ALTER TABLE " + t.def.Qualified() + " ADD CONSTRAINT " + schema.Ident(name) + " " + def + ";"
			}
			o.Kind = schema.KindFKConstraint
			if validated && t.def.PartitionBy == "" && r.tables[refRel].def.PartitionBy == "" {
				// A parallel restore adds it NOT VALID, then validates it
				// under a weaker lock on the referenced table, so that the
				// foreign keys to one table validate at once. One that is
				// not valid (or, PostgreSQL 18, not enforced) keeps the
				// plain form, and so do partitioned tables: NOT VALID is
				// refused on them before PostgreSQL 18.
				o.Build = add + def + " NOT VALID;"
				o.Attach = "ALTER TABLE ONLY " + t.def.Qualified() + " VALIDATE CONSTRAINT " + schema.Ident(name) + ";"
			}
			o.Deps = append(o.Deps, schema.Ref{Class: schema.ClassPgClass, OID: refRel})
			if refCon != 0 {
				o.Deps = append(o.Deps, schema.Ref{Class: schema.ClassPgConstraint, OID: refCon})
			}
		}
		r.objs = append(r.objs, o)
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read constraints: %w", err)
	}
	return nil
}

// usingIndex is the constraint clause that makes the unique index name a
// primary key (kind "p") or unique constraint, deferrable as the source's.
func usingIndex(kind, name string, deferrable, deferred bool) string {
	s := "UNIQUE"
	if kind == "p" {
		s = "PRIMARY KEY"
	}
	s += " USING INDEX " + schema.Ident(name)
	if deferrable {
		s += " DEFERRABLE"
		if deferred {
			s += " INITIALLY DEFERRED"
		}
	}
	return s
}

// indexSettings renders what pg_dump adds to an index's (or its
// constraint's) entry: CLUSTER ON, and REPLICA IDENTITY USING INDEX.
func indexSettings(table, index string, clustered, replident bool) string {
	var s string
	if clustered {
		s += "\nALTER TABLE " + table + " CLUSTER ON " + schema.Ident(index) + ";"
	}
	if replident {
		s += "\nALTER TABLE ONLY " + table + " REPLICA IDENTITY USING INDEX " + schema.Ident(index) + ";"
	}
	return s
}

// indexes reads the indexes of tables, partitioned tables and materialized
// views that no constraint owns. An index of a partitioned table is
// created on it alone (ON ONLY), each partition's by itself.
func (r *relReader) indexes(ctx context.Context) error {
	rows, err := r.q.Query(ctx, `SELECT i.indexrelid, i.indrelid, n.nspname, ic.relname, c.relname,
			pg_catalog.pg_get_userbyid(c.relowner), pg_catalog.pg_get_indexdef(i.indexrelid),
			COALESCE(ts.spcname, ''),
			COALESCE((SELECT pg_catalog.array_agg(a.attnum::text || ' ' || a.attstattarget::text ORDER BY a.attnum)
				FROM pg_catalog.pg_attribute a
				WHERE a.attrelid = i.indexrelid AND a.attstattarget >= 0), '{}'),
			i.indisclustered, i.indisreplident
		FROM pg_catalog.pg_index i
		JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
		JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_catalog.pg_tablespace ts ON ts.oid = ic.reltablespace
		WHERE `+userRelation(`'r', 'p', 'm'`)+` AND i.indisvalid AND i.indislive
		  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint co
			WHERE co.conrelid = i.indrelid AND co.conindid = i.indexrelid AND co.contype IN ('p', 'u', 'x'))
		ORDER BY i.indexrelid`)
	if err != nil {
		return fmt.Errorf("catalog: read indexes: %w", err)
	}
	var (
		oid, rel                         uint32
		nsp, name, table, owner, def, tb string
		stats                            []string
		clustered, replident             bool
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &rel, &nsp, &name, &table, &owner, &def, &tb, &stats,
		&clustered, &replident}, func() error {
		qname := schema.Qualified(nsp, name)
		create := def + ";"
		for _, s := range stats {
			col, target, _ := strings.Cut(s, " ")
			create += "\nALTER INDEX " + qname + " ALTER COLUMN " + col + " SET STATISTICS " + target + ";"
		}
		create += indexSettings(schema.Qualified(nsp, table), name, clustered, replident)
		r.objs = append(r.objs, &schema.Object{
			Ref: schema.Ref{Class: schema.ClassPgClass, OID: oid}, Kind: schema.KindIndex,
			Schema: nsp, Name: name, Owner: owner, Tablespace: tb,
			Create: create, Drop: "DROP INDEX " + qname + ";",
			Deps: []schema.Ref{{Class: schema.ClassPgClass, OID: rel}},
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read indexes: %w", err)
	}
	return nil
}

// indexAttaches reads which indexes of partitions are attached to an
// index of their parent, and makes an INDEX ATTACH object of each, with
// the Ref of the partition's index. It needs both indexes (or the
// constraints they belong to) and, as pg_dump's, both tables: the
// scheduler of a parallel restore then keeps it apart from other ALTER
// TABLEs on them.
func (r *relReader) indexAttaches(ctx context.Context) error {
	rows, err := r.q.Query(ctx, `SELECT i.inhrelid, i.inhparent, n.nspname, c.relname, pn.nspname, p.relname,
			x.indrelid, px.indrelid,
			COALESCE(co.oid, 0), COALESCE(pco.oid, 0)
		FROM pg_catalog.pg_inherits i
		JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid AND c.relkind IN ('i', 'I')
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_catalog.pg_index x ON x.indexrelid = c.oid
		JOIN pg_catalog.pg_class p ON p.oid = i.inhparent
		JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace
		JOIN pg_catalog.pg_index px ON px.indexrelid = p.oid
		LEFT JOIN pg_catalog.pg_constraint co ON co.conindid = c.oid AND co.conrelid = x.indrelid
			AND co.contype IN ('p', 'u', 'x')
		LEFT JOIN pg_catalog.pg_constraint pco ON pco.conindid = p.oid AND pco.conrelid = px.indrelid
			AND pco.contype IN ('p', 'u', 'x')
		WHERE `+userNamespace("n")+`
		ORDER BY i.inhrelid`)
	if err != nil {
		return fmt.Errorf("catalog: read attached indexes: %w", err)
	}
	var (
		oid, parent, table, parentTable, con, parentCon uint32
		nsp, name, parentNsp, parentName                string
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &parent, &nsp, &name, &parentNsp, &parentName, &table, &parentTable,
		&con, &parentCon}, func() error {
		t := r.tables[table]
		if t == nil || r.tables[parentTable] == nil {
			return nil
		}
		ref := schema.Ref{Class: schema.ClassPgClass, OID: oid}
		idx, parentIdx := ref, schema.Ref{Class: schema.ClassPgClass, OID: parent}
		if con != 0 {
			idx = schema.Ref{Class: schema.ClassPgConstraint, OID: con}
		}
		if parentCon != 0 {
			parentIdx = schema.Ref{Class: schema.ClassPgConstraint, OID: parentCon}
		}
		r.objs = append(r.objs, &schema.Object{
			Ref: ref, Kind: schema.KindIndexAttach, Schema: nsp, Name: name,
			Create: "ALTER INDEX " + schema.Qualified(parentNsp, parentName) + " ATTACH PARTITION " + schema.Qualified(nsp, name) + ";",
			Deps:   []schema.Ref{idx, parentIdx, t.ref, {Class: schema.ClassPgClass, OID: parentTable}},
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read attached indexes: %w", err)
	}
	return nil
}

// sequences reads the sequences' parameters and what owns them: an
// identity column (the sequence object then adds the identity), or a
// column by OWNED BY (serial).
func (r *relReader) sequences(ctx context.Context) error {
	rows, err := r.q.Query(ctx, `SELECT s.seqrelid, pg_catalog.format_type(s.seqtypid, NULL),
			s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle,
			COALESCE(d.refobjid, 0), COALESCE(d.deptype::text, ''), COALESCE(a.attname, ''),
			COALESCE(a.attidentity::text, '')
		FROM pg_catalog.pg_sequence s
		LEFT JOIN pg_catalog.pg_depend d ON d.classid = 1259 AND d.objid = s.seqrelid
			AND d.refclassid = 1259 AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')
		LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
		ORDER BY s.seqrelid`)
	if err != nil {
		return fmt.Errorf("catalog: read sequences: %w", err)
	}
	var (
		oid, tableOID                  uint32
		typ, deptype, column, identity string
		start, inc, minv, maxv, cache  int64
		cycle                          bool
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &typ, &start, &inc, &minv, &maxv, &cache, &cycle,
		&tableOID, &deptype, &column, &identity}, func() error {
		s := r.seqs[oid]
		if s == nil {
			return nil
		}
		seq := s.seq
		seq.Type, seq.Start, seq.Increment, seq.Min, seq.Max, seq.Cache, seq.Cycle = typ, start, inc, minv, maxv, cache, cycle
		t := r.tables[tableOID]
		switch {
		case deptype == "i" && identity != "":
			if t == nil {
				delete(r.seqs, oid) // the identity of a table not dumped
				return nil
			}
			s.obj.Create = seq.IdentitySQL(t.def.Schema, t.def.Name, column, identity[0])
			s.obj.Drop = "ALTER TABLE " + t.def.Qualified() + " ALTER COLUMN " + schema.Ident(column) + " DROP IDENTITY;"
			s.obj.Deps = append(s.obj.Deps, t.ref)
			r.objs = append(r.objs, s.obj)
		default:
			s.obj.Create = seq.CreateSQL()
			r.objs = append(r.objs, s.obj)
			if deptype == "a" && t != nil {
				r.objs = append(r.objs, &schema.Object{
					Ref: s.obj.Ref, Kind: schema.KindSequenceOwnedBy, Schema: seq.Schema, Name: seq.Name,
					Owner:  s.owner,
					Create: seq.OwnedBySQL(t.def.Schema, t.def.Name, column),
					Deps:   []schema.Ref{s.obj.Ref, t.ref},
				})
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read sequences: %w", err)
	}
	return nil
}

// seqBatch is how many sequences one query reads the values of.
const seqBatch = 500

// sequenceValues reads every dumped sequence's last value, in the
// Querier's snapshot, and makes its SEQUENCE SET object. Sequences the
// selection leaves out are not read: reading one needs a privilege on it.
func (r *relReader) sequenceValues(ctx context.Context) error {
	var batch []*relSeq
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		var b strings.Builder
		for i, s := range batch {
			if i > 0 {
				b.WriteString("\nUNION ALL ")
			}
			b.WriteString("SELECT " + strconv.Itoa(i) + ", last_value, is_called FROM " + s.seq.Qualified())
		}
		rows, err := r.q.Query(ctx, b.String())
		if err != nil {
			return fmt.Errorf("catalog: read sequence values: %w", err)
		}
		var (
			i      int
			last   int64
			called bool
		)
		_, err = pgx.ForEachRow(rows, []any{&i, &last, &called}, func() error {
			if i < 0 || i >= len(batch) {
				return fmt.Errorf("catalog: sequence value row %d out of range", i)
			}
			s := batch[i]
			r.objs = append(r.objs, &schema.Object{
				Ref: s.obj.Ref, Kind: schema.KindSequenceSet, Schema: s.seq.Schema, Name: s.seq.Name,
				Owner:  s.owner,
				Create: s.seq.SetvalSQL(last, called),
				Deps:   []schema.Ref{s.obj.Ref},
			})
			return nil
		})
		if err != nil {
			return fmt.Errorf("catalog: read sequence values: %w", err)
		}
		batch = batch[:0]
		return nil
	}
	// In OID order, as the objects were read.
	for _, o := range r.objs {
		if s := r.seqs[o.Ref.OID]; s != nil && s.obj == o && r.f.sel.keepRelation(o.Ref.OID) {
			batch = append(batch, s)
			if len(batch) == seqBatch {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}
