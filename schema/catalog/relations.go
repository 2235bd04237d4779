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

// Relations: schemas, tables (relkind 'r', not partitions), their data,
// columns, defaults, constraints and indexes, sequences (plain, serial-owned
// and identity) with their values, views and materialized views.
//
// Not read here yet: partitioned tables and partitions (relkind 'p' and
// relispartition, and foreign keys that reference them), foreign tables,
// CLUSTER ON, REPLICA IDENTITY, column defaults on views, and NOT NULL
// constraints as pg_constraint rows (PostgreSQL 18; attnotnull covers
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
	return fmt.Sprintf(`c.relkind IN (%s) AND NOT c.relispartition AND %s AND %s`,
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
		r.notNulls, r.constraints, r.indexes, r.sequences, r.sequenceValues}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
	}
	for _, o := range r.objs {
		add(o)
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
	obj   *schema.Object
	def   *schema.Table
	data  *schema.TableData
	ref   schema.Ref
	owner string
}

type relSeq struct {
	obj   *schema.Object
	seq   *schema.Sequence
	owner string
}

// relations reads tables, views, materialized views and sequences.
func (r *relReader) relations(ctx context.Context) error {
	rows, err := r.q.Query(ctx, `SELECT c.oid, n.nspname, c.relname, c.relkind::text, c.relpersistence::text,
			pg_catalog.pg_get_userbyid(c.relowner), COALESCE(ts.spcname, ''),
			COALESCE(c.reloptions, '{}'), COALESCE(tc.reloptions, '{}'),
			c.relpages::int8, c.reltuples::float8, c.relispopulated,
			COALESCE(tn.nspname, ''), COALESCE(t.typname, ''),
			CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid) ELSE '' END,
			COALESCE((SELECT ru.oid FROM pg_catalog.pg_rewrite ru
				WHERE ru.ev_class = c.oid AND ru.rulename = '_RETURN' AND c.relkind = 'v'), 0)
		FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_catalog.pg_tablespace ts ON ts.oid = c.reltablespace
		LEFT JOIN pg_catalog.pg_class tc ON tc.oid = c.reltoastrelid
		LEFT JOIN pg_catalog.pg_type t ON t.oid = c.reloftype
		LEFT JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace
		WHERE `+userRelation(`'r', 'v', 'm', 'S'`)+`
		ORDER BY c.oid`)
	if err != nil {
		return fmt.Errorf("catalog: read relations: %w", err)
	}
	var (
		oid, rule                                uint32
		nsp, name, kind, persistence, owner, tbs string
		opts, toastOpts                          []string
		pages                                    int64
		tuples                                   float64
		populated                                bool
		ofNsp, ofType, viewdef                   string
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &nsp, &name, &kind, &persistence, &owner, &tbs, &opts, &toastOpts,
		&pages, &tuples, &populated, &ofNsp, &ofType, &viewdef, &rule}, func() error {
		ref := schema.Ref{Class: schema.ClassPgClass, OID: oid}
		qname := schema.Qualified(nsp, name)
		for _, o := range toastOpts {
			opts = append(opts, "toast."+o)
		}
		obj := &schema.Object{Ref: ref, Schema: nsp, Name: name, Owner: owner, Tablespace: tbs}
		switch kind {
		case "r":
			def := &schema.Table{Schema: nsp, Name: name, Unlogged: persistence == "u", Options: opts}
			if ofType != "" {
				def.OfType = schema.Qualified(ofNsp, ofType)
			}
			obj.Kind, obj.Definer = schema.KindTable, def
			obj.Ident, obj.Drop = "TABLE "+qname, "DROP TABLE "+qname+";"
			data := &schema.TableData{Table: ref, Relation: qname, Pages: pages, Tuples: tuples}
			r.tables[oid] = &relTable{obj: obj, def: def, data: data, ref: ref, owner: owner}
			r.objs = append(r.objs, obj, &schema.Object{
				Ref: ref, Kind: schema.KindTableData, Schema: nsp, Name: name, Owner: owner,
				Data: data, Deps: []schema.Ref{ref},
			})
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

// inherits reads the parents of inheritance children.
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
		if t := r.tables[oid]; t != nil {
			t.def.Inherits = append(t.def.Inherits, schema.Qualified(nsp, name))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read table inheritance: %w", err)
	}
	return nil
}

// columns reads the tables' columns and defaults.
func (r *relReader) columns(ctx context.Context) error {
	compression := `''`
	if r.f.attCompression() {
		compression = `a.attcompression::text`
	}
	rows, err := r.q.Query(ctx, `SELECT a.attrelid, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
			COALESCE(cn.nspname, ''), COALESCE(co.collname, ''),
			a.attnotnull, a.attislocal, a.attidentity::text, a.attgenerated::text,
			COALESCE(ad.oid, 0), COALESCE(pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), ''),
			CASE WHEN a.attstorage <> t.typstorage THEN a.attstorage::text ELSE '' END,
			COALESCE(a.attstattarget::int, -1), COALESCE(a.attoptions, '{}'), `+compression+`
		FROM pg_catalog.pg_attribute a
		JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
		LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation AND a.attcollation <> t.typcollation
		LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
		LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
		WHERE `+userRelation(`'r'`)+` AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY a.attrelid, a.attnum`)
	if err != nil {
		return fmt.Errorf("catalog: read columns: %w", err)
	}
	var (
		rel, defOID                            uint32
		name, typ, collNsp, coll               string
		notNull, local                         bool
		identity, generated, def, storage, cmp string
		stats                                  int
		opts                                   []string
	)
	_, err = pgx.ForEachRow(rows, []any{&rel, &name, &typ, &collNsp, &coll, &notNull, &local, &identity, &generated,
		&defOID, &def, &storage, &stats, &opts, &cmp}, func() error {
		t := r.tables[rel]
		if t == nil {
			return nil
		}
		c := &schema.Column{
			Name: name, Type: typ, NotNull: notNull, Inherited: !local, Default: def,
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
		if c.Generated == 0 {
			t.data.Columns = append(t.data.Columns, schema.Ident(name))
		}
		if def != "" && c.Generated == 0 {
			p := t.def.DefaultPart(schema.Ref{Class: schema.ClassPgAttrdef, OID: defOID}, t.ref, c)
			p.Owner = t.owner
			// An inherited column's own default is set after CREATE
			// TABLE ... INHERITS has copied the parent's.
			p.Separate = c.Inherited
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
// foreign key constraints.
func (r *relReader) constraints(ctx context.Context) error {
	rows, err := r.q.Query(ctx, `SELECT co.oid, co.conrelid, co.conname, co.contype::text,
			pg_catalog.pg_get_constraintdef(co.oid), co.conislocal, COALESCE(its.spcname, ''), co.confrelid,
			COALESCE((SELECT u.oid FROM pg_catalog.pg_constraint u
				WHERE co.contype = 'f' AND u.conrelid = co.confrelid AND u.conindid = co.conindid
				AND u.contype IN ('p', 'u') LIMIT 1), 0)
		FROM pg_catalog.pg_constraint co
		JOIN pg_catalog.pg_class c ON c.oid = co.conrelid
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_catalog.pg_class ic ON ic.oid = co.conindid AND co.contype IN ('p', 'u', 'x')
		LEFT JOIN pg_catalog.pg_tablespace its ON its.oid = ic.reltablespace
		WHERE `+userRelation(`'r'`)+` AND co.contype IN ('c', 'p', 'u', 'x', 'f')
		ORDER BY co.conrelid, co.conname`)
	if err != nil {
		return fmt.Errorf("catalog: read constraints: %w", err)
	}
	var (
		oid, rel, refRel, refCon uint32
		name, kind, def, tbs     string
		local                    bool
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &rel, &name, &kind, &def, &local, &tbs, &refRel, &refCon}, func() error {
		t := r.tables[rel]
		if t == nil {
			return nil
		}
		ref := schema.Ref{Class: schema.ClassPgConstraint, OID: oid}
		if kind == "c" {
			if local { // inherited ones come with INHERITS
				p := t.def.CheckPart(ref, t.ref, name, def)
				p.Owner = t.owner
				t.obj.Parts = append(t.obj.Parts, p)
			}
			return nil
		}
		o := &schema.Object{
			Ref: ref, Kind: schema.KindConstraint, Schema: t.def.Schema, Name: t.def.Name + " " + name,
			Owner: t.owner, Tablespace: tbs,
			Create: "ALTER TABLE ONLY " + t.def.Qualified() + " ADD CONSTRAINT " + schema.Ident(name) + " " + def + ";",
			Drop:   "ALTER TABLE ONLY " + t.def.Qualified() + " DROP CONSTRAINT " + schema.Ident(name) + ";",
			Deps:   []schema.Ref{t.ref},
		}
		if kind == "f" {
			if r.tables[refRel] == nil {
				return nil // references a relation not dumped (a partitioned table)
			}
			o.Kind = schema.KindFKConstraint
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

// indexes reads the indexes of tables and materialized views that no
// constraint owns.
func (r *relReader) indexes(ctx context.Context) error {
	rows, err := r.q.Query(ctx, `SELECT i.indexrelid, i.indrelid, n.nspname, ic.relname,
			pg_catalog.pg_get_userbyid(c.relowner), pg_catalog.pg_get_indexdef(i.indexrelid),
			COALESCE(ts.spcname, ''),
			COALESCE((SELECT pg_catalog.array_agg(a.attnum::text || ' ' || a.attstattarget::text ORDER BY a.attnum)
				FROM pg_catalog.pg_attribute a
				WHERE a.attrelid = i.indexrelid AND a.attstattarget >= 0), '{}')
		FROM pg_catalog.pg_index i
		JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
		JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_catalog.pg_tablespace ts ON ts.oid = ic.reltablespace
		WHERE `+userRelation(`'r', 'm'`)+` AND i.indisvalid AND i.indislive
		  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint co
			WHERE co.conrelid = i.indrelid AND co.conindid = i.indexrelid AND co.contype IN ('p', 'u', 'x'))
		ORDER BY i.indexrelid`)
	if err != nil {
		return fmt.Errorf("catalog: read indexes: %w", err)
	}
	var (
		oid, rel                  uint32
		nsp, name, owner, def, tb string
		stats                     []string
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &rel, &nsp, &name, &owner, &def, &tb, &stats}, func() error {
		qname := schema.Qualified(nsp, name)
		create := def + ";"
		for _, s := range stats {
			col, target, _ := strings.Cut(s, " ")
			create += "\nALTER INDEX " + qname + " ALTER COLUMN " + col + " SET STATISTICS " + target + ";"
		}
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
