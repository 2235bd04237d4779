package catalog

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/pgark/pgark/schema"
)

// Version switches of this file's loaders (see features).

// hasMultirange: range types come with a multirange type (PostgreSQL 14).
func (f *features) hasMultirange() bool { return f.atLeast(140000) }

// hasDomainNotNullConstraints: a domain's NOT NULL is a pg_constraint row
// with a name of its own (PostgreSQL 17).
func (f *features) hasDomainNotNullConstraints() bool { return f.atLeast(170000) }

// hasMaintainPrivilege: tables have the MAINTAIN privilege (PostgreSQL 17).
func (f *features) hasMaintainPrivilege() bool { return f.atLeast(170000) }

// hasSubscript: types have a subscripting handler (PostgreSQL 14).
func (f *features) hasSubscript() bool { return f.atLeast(140000) }

// loadObjects reads the objects that are neither relations nor their parts:
// enum, composite, range and base types (with the shells that break their
// loops with their functions), domains, functions and procedures, and
// triggers. Aggregates and window functions are not read.
//
// The SQL it renders names types by format_type and functions by the
// server's deparsers (pg_get_functiondef, pg_get_triggerdef), which
// schema-qualify what the session's search_path does not show; Load must
// run with an empty search_path, as pg_dump does, and loadObjects checks it.
func loadObjects(ctx context.Context, q Querier, f *features, add func(*schema.Object)) error {
	if err := checkSearchPath(ctx, q); err != nil {
		return err
	}
	for _, l := range []loader{loadEnums, loadComposites, loadRanges, loadBaseTypes, loadDomains, loadFunctions, loadTriggers} {
		if err := l(ctx, q, f, add); err != nil {
			return err
		}
	}
	return nil
}

// checkSearchPath fails unless the session's search_path is empty: with
// anything on it, the server's deparsers leave names unqualified that a
// restore (which runs with an empty search_path) could not resolve.
func checkSearchPath(ctx context.Context, q Querier) error {
	var path string
	if err := q.QueryRow(ctx, `SELECT pg_catalog.current_setting('search_path')`).Scan(&path); err != nil {
		return fmt.Errorf("catalog: read search_path: %w", err)
	}
	if path != "" && path != `""` {
		return fmt.Errorf("catalog: search_path is %q: catalog queries need an empty one "+
			"(SELECT pg_catalog.set_config('search_path', '', false))", path)
	}
	return nil
}

// typeObject makes the Object of a type or domain named s.name.
func typeObject(oid uint32, kind schema.Kind, nsp, name, owner string) *schema.Object {
	word := "TYPE"
	if kind == schema.KindDomain {
		word = "DOMAIN"
	}
	q := schema.Qualified(nsp, name)
	return &schema.Object{
		Ref:    schema.Ref{Class: schema.ClassPgType, OID: oid},
		Kind:   kind,
		Schema: nsp,
		Name:   name,
		Owner:  owner,
		Ident:  word + " " + q,
		Drop:   "DROP " + word + " " + q + ";",
	}
}

// shellType makes the shell of type t ("CREATE TYPE s.t;"), which the
// functions t needs and that take or return t (a base type's I/O
// functions, a range's canonical function) follow instead of t: schema.Sort
// sends their dependency there and leaves out a shell no function needs.
// Its only dependency, its schema, comes from pg_depend with the type's.
// Like pg_dump's SHELL TYPE it has no Ident: the full CREATE TYPE takes
// the owner.
func shellType(t *schema.Object) *schema.Object {
	q := schema.Qualified(t.Schema, t.Name)
	return &schema.Object{
		Ref:    t.Ref,
		Kind:   schema.KindShellType,
		Schema: t.Schema,
		Name:   t.Name,
		Owner:  t.Owner,
		Create: "CREATE TYPE " + q + ";",
		Drop:   "DROP TYPE " + q + ";",
	}
}

// userTypes is the FROM and WHERE of the queries for user types of one
// typtype: not in system schemas, not extension members.
func userTypes(typtype string) string {
	return `FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
		WHERE t.typtype = '` + typtype + `' AND ` + userNamespace("n") + `
		  AND ` + notExtensionMember(schema.ClassPgType, "t.oid")
}

// loadEnums reads enum types, their labels in enumsortorder.
func loadEnums(ctx context.Context, q Querier, _ *features, add func(*schema.Object)) error {
	rows, err := q.Query(ctx, `SELECT t.oid, n.nspname, t.typname, pg_catalog.pg_get_userbyid(t.typowner),
		ARRAY(SELECT e.enumlabel::text FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)
		`+userTypes("e")+` ORDER BY n.nspname, t.typname`)
	if err != nil {
		return fmt.Errorf("catalog: read enum types: %w", err)
	}
	var (
		oid              uint32
		nsp, name, owner string
		labels           []string
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &nsp, &name, &owner, &labels}, func() error {
		o := typeObject(oid, schema.KindType, nsp, name, owner)
		var b strings.Builder
		b.WriteString("CREATE TYPE " + schema.Qualified(nsp, name) + " AS ENUM (")
		for i, l := range labels {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("\n    " + schema.Literal(l))
		}
		b.WriteString("\n);")
		o.Create = b.String()
		add(o)
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read enum types: %w", err)
	}
	return nil
}

// loadComposites reads composite types (CREATE TYPE ... AS (...)): their
// attributes, with a COLLATE clause where the collation is not the
// attribute type's default. Dependencies on the attributes' types come
// from pg_depend, through the type's relation.
func loadComposites(ctx context.Context, q Querier, _ *features, add func(*schema.Object)) error {
	rows, err := q.Query(ctx, `SELECT t.oid, n.nspname, t.typname, pg_catalog.pg_get_userbyid(t.typowner),
		ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a
			WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum),
		ARRAY(SELECT pg_catalog.format_type(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute a
			WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum),
		ARRAY(SELECT COALESCE(cn.nspname::text, '') FROM pg_catalog.pg_attribute a
			JOIN pg_catalog.pg_type at ON at.oid = a.atttypid
			LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation AND a.attcollation <> at.typcollation
			LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
			WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum),
		ARRAY(SELECT COALESCE(co.collname::text, '') FROM pg_catalog.pg_attribute a
			JOIN pg_catalog.pg_type at ON at.oid = a.atttypid
			LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation AND a.attcollation <> at.typcollation
			WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum)
		`+userTypes("c")+`
		  AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid AND c.relkind = 'c')
		ORDER BY n.nspname, t.typname`)
	if err != nil {
		return fmt.Errorf("catalog: read composite types: %w", err)
	}
	var (
		oid                 uint32
		nsp, name, owner    string
		attNames, attTypes  []string
		collNsps, collNames []string
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &nsp, &name, &owner, &attNames, &attTypes, &collNsps, &collNames}, func() error {
		o := typeObject(oid, schema.KindType, nsp, name, owner)
		var b strings.Builder
		b.WriteString("CREATE TYPE " + schema.Qualified(nsp, name) + " AS (")
		for i := range attNames {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("\n    " + schema.Ident(attNames[i]) + " " + attTypes[i])
			if collNames[i] != "" {
				b.WriteString(" COLLATE " + schema.Qualified(collNsps[i], collNames[i]))
			}
		}
		b.WriteString("\n);")
		o.Create = b.String()
		add(o)
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read composite types: %w", err)
	}
	return nil
}

// defaultMultirangeName is the name CREATE TYPE AS RANGE gives the
// multirange type when none is given: "range" in the name becomes
// "multirange", else "_multirange" is appended, clipped to 63 bytes.
func defaultMultirangeName(rangeName string) string {
	var n string
	if i := strings.Index(rangeName, "range"); i >= 0 {
		n = rangeName[:i] + "multi" + rangeName[i:]
	} else {
		n = rangeName + "_multirange"
	}
	for len(n) > 63 {
		_, size := utf8.DecodeLastRuneInString(n)
		n = n[:len(n)-size]
	}
	return n
}

// loadRanges reads range types: the subtype, its operator class unless it
// is the subtype's default, the collation unless it is the subtype's, the
// canonical and subtype_diff functions, and (PostgreSQL 14+) the
// multirange type's name unless it is the default one.
func loadRanges(ctx context.Context, q Querier, f *features, add func(*schema.Object)) error {
	multi := `'', ''`
	if f.hasMultirange() {
		multi = `mn.nspname::text, mt.typname::text`
	}
	multiJoin := ""
	if f.hasMultirange() {
		multiJoin = `LEFT JOIN pg_catalog.pg_type mt ON mt.oid = r.rngmultitypid
		LEFT JOIN pg_catalog.pg_namespace mn ON mn.oid = mt.typnamespace`
	}
	rows, err := q.Query(ctx, `SELECT t.oid, n.nspname, t.typname, pg_catalog.pg_get_userbyid(t.typowner),
		pg_catalog.format_type(r.rngsubtype, NULL),
		CASE WHEN opc.opcdefault THEN '' ELSE opn.nspname::text END, CASE WHEN opc.opcdefault THEN '' ELSE opc.opcname::text END,
		COALESCE(cn.nspname::text, ''), COALESCE(co.collname::text, ''),
		COALESCE(cfn.nspname::text, ''), COALESCE(cf.proname::text, ''),
		COALESCE(dfn.nspname::text, ''), COALESCE(df.proname::text, ''),
		`+multi+`
		FROM pg_catalog.pg_range r
		JOIN pg_catalog.pg_type t ON t.oid = r.rngtypid
		JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
		JOIN pg_catalog.pg_type st ON st.oid = r.rngsubtype
		JOIN pg_catalog.pg_opclass opc ON opc.oid = r.rngsubopc
		JOIN pg_catalog.pg_namespace opn ON opn.oid = opc.opcnamespace
		LEFT JOIN pg_catalog.pg_collation co ON co.oid = r.rngcollation AND r.rngcollation <> st.typcollation
		LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
		LEFT JOIN pg_catalog.pg_proc cf ON cf.oid = r.rngcanonical
		LEFT JOIN pg_catalog.pg_namespace cfn ON cfn.oid = cf.pronamespace
		LEFT JOIN pg_catalog.pg_proc df ON df.oid = r.rngsubdiff
		LEFT JOIN pg_catalog.pg_namespace dfn ON dfn.oid = df.pronamespace
		`+multiJoin+`
		WHERE `+userNamespace("n")+` AND `+notExtensionMember(schema.ClassPgType, "t.oid")+`
		ORDER BY n.nspname, t.typname`)
	if err != nil {
		return fmt.Errorf("catalog: read range types: %w", err)
	}
	var (
		oid                                        uint32
		nsp, name, owner, subtype, opcNsp, opcName string
		collNsp, collName, canonNsp, canonName     string
		diffNsp, diffName, multiNsp, multiName     string
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &nsp, &name, &owner, &subtype, &opcNsp, &opcName, &collNsp, &collName,
		&canonNsp, &canonName, &diffNsp, &diffName, &multiNsp, &multiName}, func() error {
		o := typeObject(oid, schema.KindType, nsp, name, owner)
		var b strings.Builder
		b.WriteString("CREATE TYPE " + schema.Qualified(nsp, name) + " AS RANGE (\n    subtype = " + subtype)
		if multiName != "" && (multiNsp != nsp || multiName != defaultMultirangeName(name)) {
			b.WriteString(",\n    multirange_type_name = " + schema.Qualified(multiNsp, multiName))
		}
		if opcName != "" {
			b.WriteString(",\n    subtype_opclass = " + schema.Qualified(opcNsp, opcName))
		}
		if collName != "" {
			b.WriteString(",\n    collation = " + schema.Qualified(collNsp, collName))
		}
		if canonName != "" {
			b.WriteString(",\n    canonical = " + schema.Qualified(canonNsp, canonName))
		}
		if diffName != "" {
			b.WriteString(",\n    subtype_diff = " + schema.Qualified(diffNsp, diffName))
		}
		b.WriteString("\n);")
		o.Create = b.String()
		add(o)
		if canonName != "" {
			add(shellType(o))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read range types: %w", err)
	}
	return nil
}

// baseTypeFuncs are the pg_type columns naming a base type's support
// functions, in the order CREATE TYPE lists them, with their option names.
var baseTypeFuncs = []struct{ column, option string }{
	{"typinput", "INPUT"}, {"typoutput", "OUTPUT"}, {"typreceive", "RECEIVE"}, {"typsend", "SEND"},
	{"typmodin", "TYPMOD_IN"}, {"typmodout", "TYPMOD_OUT"}, {"typanalyze", "ANALYZE"},
}

// baseType is what CREATE TYPE (base type form) needs of pg_type.
type baseType struct {
	length              int
	funcNsps, funcNames []string // schema and name of each of baseTypeFuncs, "" for none
	subNsp, subName     string   // the subscripting handler, "" for none
	delim, align, store string
	category            string
	byVal, preferred    bool
	collatable          bool
	defExpr, defLiteral *string // typdefaultbin deparsed, else typdefault
	element             string  // format_type of typelem, "" for none
}

// baseTypeSQL renders a base type's CREATE TYPE as pg_dump does: the
// options in pg_dump's order, those at their defaults left out.
func baseTypeSQL(qname string, t *baseType) string {
	var b strings.Builder
	b.WriteString("CREATE TYPE " + qname + " (\n    INTERNALLENGTH = ")
	if t.length == -1 {
		b.WriteString("variable")
	} else {
		b.WriteString(strconv.Itoa(t.length))
	}
	for i, fn := range baseTypeFuncs {
		if t.funcNames[i] != "" {
			b.WriteString(",\n    " + fn.option + " = " + schema.Qualified(t.funcNsps[i], t.funcNames[i]))
		}
	}
	if t.collatable {
		b.WriteString(",\n    COLLATABLE = true")
	}
	switch {
	case t.defExpr != nil:
		b.WriteString(",\n    DEFAULT = " + *t.defExpr)
	case t.defLiteral != nil:
		b.WriteString(",\n    DEFAULT = " + schema.Literal(*t.defLiteral))
	}
	if t.subName != "" {
		b.WriteString(",\n    SUBSCRIPT = " + schema.Qualified(t.subNsp, t.subName))
	}
	if t.element != "" {
		b.WriteString(",\n    ELEMENT = " + t.element)
	}
	if t.category != "U" {
		b.WriteString(",\n    CATEGORY = " + schema.Literal(t.category))
	}
	if t.preferred {
		b.WriteString(",\n    PREFERRED = true")
	}
	if t.delim != "," {
		b.WriteString(",\n    DELIMITER = " + schema.Literal(t.delim))
	}
	if a := map[string]string{"c": "char", "s": "int2", "i": "int4", "d": "double"}[t.align]; a != "" {
		b.WriteString(",\n    ALIGNMENT = " + a)
	}
	if s := map[string]string{"p": "plain", "e": "external", "x": "extended", "m": "main"}[t.store]; s != "" {
		b.WriteString(",\n    STORAGE = " + s)
	}
	if t.byVal {
		b.WriteString(",\n    PASSEDBYVALUE")
	}
	b.WriteString("\n);")
	return b.String()
}

// loadBaseTypes reads base types (CREATE TYPE with INPUT and OUTPUT
// functions), not the array types the server makes for every type. Each
// comes with its shell: its I/O functions take or return it, and it needs
// them (see shellType).
func loadBaseTypes(ctx context.Context, q Querier, f *features, add func(*schema.Object)) error {
	// The schema (what = "pn.nspname") or name ("p.proname") of the
	// function whose OID is expr, "" for none.
	procName := func(what, expr string) string {
		return `COALESCE((SELECT ` + what + `::text FROM pg_catalog.pg_proc p
			JOIN pg_catalog.pg_namespace pn ON pn.oid = p.pronamespace WHERE p.oid = ` + expr + `), '')`
	}
	var nsps, names []string
	for _, fn := range baseTypeFuncs {
		nsps = append(nsps, procName("pn.nspname", "t."+fn.column))
		names = append(names, procName("p.proname", "t."+fn.column))
	}
	subscript := `'', ''`
	if f.hasSubscript() {
		subscript = procName("pn.nspname", "t.typsubscript") + ", " + procName("p.proname", "t.typsubscript")
	}
	rows, err := q.Query(ctx, `SELECT t.oid, n.nspname, t.typname, pg_catalog.pg_get_userbyid(t.typowner),
		t.typlen::int, ARRAY[`+strings.Join(nsps, ", ")+`], ARRAY[`+strings.Join(names, ", ")+`], `+subscript+`,
		t.typdelim::text, t.typalign::text, t.typstorage::text, t.typcategory::text,
		t.typbyval, t.typispreferred, t.typcollation <> 0,
		pg_catalog.pg_get_expr(t.typdefaultbin, 0), t.typdefault,
		CASE WHEN t.typelem <> 0 THEN pg_catalog.format_type(t.typelem, NULL) ELSE '' END
		`+userTypes("b")+`
		  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type e WHERE e.typarray = t.oid)
		ORDER BY n.nspname, t.typname`)
	if err != nil {
		return fmt.Errorf("catalog: read base types: %w", err)
	}
	var (
		oid              uint32
		nsp, name, owner string
		t                baseType
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &nsp, &name, &owner, &t.length, &t.funcNsps, &t.funcNames, &t.subNsp, &t.subName,
		&t.delim, &t.align, &t.store, &t.category, &t.byVal, &t.preferred, &t.collatable,
		&t.defExpr, &t.defLiteral, &t.element}, func() error {
		if len(t.funcNsps) != len(baseTypeFuncs) || len(t.funcNames) != len(baseTypeFuncs) {
			return fmt.Errorf("type %s.%s: %d support functions read, want %d", nsp, name, len(t.funcNames), len(baseTypeFuncs))
		}
		o := typeObject(oid, schema.KindType, nsp, name, owner)
		o.Create = baseTypeSQL(schema.Qualified(nsp, name), &t)
		add(o)
		add(shellType(o))
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read base types: %w", err)
	}
	return nil
}

// domainDef renders a domain's CREATE DOMAIN with the constraints that
// are still its parts (not split off by Sort, and valid).
type domainDef struct {
	head string // CREATE DOMAIN ... up to the constraints
	cons []domainConstraint
}

type domainConstraint struct {
	name, def string
	part      *schema.Object
}

func (d *domainDef) CreateSQL() string {
	var b strings.Builder
	b.WriteString(d.head)
	for _, c := range d.cons {
		if !c.part.Separate {
			b.WriteString("\n    CONSTRAINT " + schema.Ident(c.name) + " " + c.def)
		}
	}
	b.WriteString(";")
	return b.String()
}

// loadDomains reads domains: base type, collation when it is not the
// base type's, default, NOT NULL and constraints. Each CHECK constraint
// (and, PostgreSQL 17+, the named NOT NULL constraint) is a part of Kind
// CHECK CONSTRAINT whose separate form is ALTER DOMAIN ... ADD CONSTRAINT;
// NOT VALID ones are always separate, and so restored after the data.
func loadDomains(ctx context.Context, q Querier, f *features, add func(*schema.Object)) error {
	contypes := `'c'`
	if f.hasDomainNotNullConstraints() {
		contypes = `'c', 'n'`
	}
	rows, err := q.Query(ctx, `SELECT t.oid, n.nspname, t.typname, pg_catalog.pg_get_userbyid(t.typowner),
		pg_catalog.format_type(t.typbasetype, t.typtypmod), t.typnotnull,
		COALESCE(pg_catalog.pg_get_expr(t.typdefaultbin, 'pg_catalog.pg_type'::pg_catalog.regclass), t.typdefault, ''),
		COALESCE(cn.nspname::text, ''), COALESCE(co.collname::text, ''),
		ARRAY(SELECT c.oid FROM pg_catalog.pg_constraint c WHERE c.contypid = t.oid AND c.contype IN (`+contypes+`) ORDER BY c.conname),
		ARRAY(SELECT c.conname::text FROM pg_catalog.pg_constraint c WHERE c.contypid = t.oid AND c.contype IN (`+contypes+`) ORDER BY c.conname),
		ARRAY(SELECT c.contype::text FROM pg_catalog.pg_constraint c WHERE c.contypid = t.oid AND c.contype IN (`+contypes+`) ORDER BY c.conname),
		ARRAY(SELECT pg_catalog.pg_get_constraintdef(c.oid) FROM pg_catalog.pg_constraint c WHERE c.contypid = t.oid AND c.contype IN (`+contypes+`) ORDER BY c.conname),
		ARRAY(SELECT c.convalidated FROM pg_catalog.pg_constraint c WHERE c.contypid = t.oid AND c.contype IN (`+contypes+`) ORDER BY c.conname)
		FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
		JOIN pg_catalog.pg_type bt ON bt.oid = t.typbasetype
		LEFT JOIN pg_catalog.pg_collation co ON co.oid = t.typcollation AND t.typcollation <> bt.typcollation
		LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
		WHERE t.typtype = 'd' AND `+userNamespace("n")+` AND `+notExtensionMember(schema.ClassPgType, "t.oid")+`
		ORDER BY n.nspname, t.typname`)
	if err != nil {
		return fmt.Errorf("catalog: read domains: %w", err)
	}
	var (
		oid                         uint32
		nsp, name, owner, base, def string
		collNsp, collName           string
		notNull                     bool
		conOIDs                     []uint32
		conNames, conTypes, conDefs []string
		conValid                    []bool
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &nsp, &name, &owner, &base, &notNull, &def, &collNsp, &collName,
		&conOIDs, &conNames, &conTypes, &conDefs, &conValid}, func() error {
		o := typeObject(oid, schema.KindDomain, nsp, name, owner)
		qname := schema.Qualified(nsp, name)
		head := "CREATE DOMAIN " + qname + " AS " + base
		if collName != "" {
			head += " COLLATE " + schema.Qualified(collNsp, collName)
		}
		if def != "" {
			head += " DEFAULT " + def
		}
		namedNotNull := false
		for _, t := range conTypes {
			namedNotNull = namedNotNull || t == "n"
		}
		if notNull && !namedNotNull {
			head += " NOT NULL"
		}
		d := &domainDef{head: head}
		for i := range conOIDs {
			part := &schema.Object{
				Ref:      schema.Ref{Class: schema.ClassPgConstraint, OID: conOIDs[i]},
				Kind:     schema.KindCheckConstraint,
				Schema:   nsp,
				Name:     name + " " + conNames[i],
				Owner:    owner,
				Create:   "ALTER DOMAIN " + qname + " ADD CONSTRAINT " + schema.Ident(conNames[i]) + " " + conDefs[i] + ";",
				Drop:     "ALTER DOMAIN " + qname + " DROP CONSTRAINT " + schema.Ident(conNames[i]) + ";",
				Deps:     []schema.Ref{o.Ref},
				Separate: !conValid[i],
			}
			o.Parts = append(o.Parts, part)
			d.cons = append(d.cons, domainConstraint{name: conNames[i], def: conDefs[i], part: part})
		}
		o.Definer = d
		add(o)
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read domains: %w", err)
	}
	return nil
}

// loadFunctions reads functions and procedures (prokind 'f' and 'p'),
// as pg_get_functiondef renders them (language, SECURITY DEFINER, SET
// clauses, volatility, parallel safety, strictness, cost and rows,
// defaults, VARIADIC, OUT and TABLE parameters, SQL-standard bodies),
// with CREATE in place of its CREATE OR REPLACE so that a clash fails as
// pg_dump's would. Functions internal to another object (a range type's
// constructors) come with it and are left out. Name is pg_dump's tag, "f(integer, text)"; Ident has
// the identity arguments, as ALTER FUNCTION and GRANT take them.
func loadFunctions(ctx context.Context, q Querier, _ *features, add func(*schema.Object)) error {
	rows, err := q.Query(ctx, `SELECT p.oid, n.nspname, p.proname, p.prokind = 'p', pg_catalog.pg_get_userbyid(p.proowner),
		pg_catalog.pg_get_function_identity_arguments(p.oid), pg_catalog.oidvectortypes(p.proargtypes),
		pg_catalog.pg_get_functiondef(p.oid)
		FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
		WHERE p.prokind IN ('f', 'p') AND `+userNamespace("n")+` AND `+notExtensionMember(schema.ClassPgProc, "p.oid")+`
		  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend i
			WHERE i.classid = 1255 AND i.objid = p.oid AND i.deptype = 'i')
		ORDER BY n.nspname, p.proname, 7`)
	if err != nil {
		return fmt.Errorf("catalog: read functions: %w", err)
	}
	var (
		oid                                uint32
		nsp, name, owner, args, types, def string
		proc                               bool
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &nsp, &name, &proc, &owner, &args, &types, &def}, func() error {
		kind, word := schema.KindFunction, "FUNCTION"
		if proc {
			kind, word = schema.KindProcedure, "PROCEDURE"
		}
		create, err := functionCreate(def, word)
		if err != nil {
			return fmt.Errorf("%s %s.%s(%s): %w", strings.ToLower(word), nsp, name, args, err)
		}
		sig := schema.Qualified(nsp, name) + "(" + args + ")"
		add(&schema.Object{
			Ref:    schema.Ref{Class: schema.ClassPgProc, OID: oid},
			Kind:   kind,
			Schema: nsp,
			Name:   name + "(" + types + ")",
			Owner:  owner,
			Ident:  word + " " + sig,
			Create: create,
			Drop:   "DROP " + word + " " + sig + ";",
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read functions: %w", err)
	}
	return nil
}

// functionCreate turns pg_get_functiondef's text into a statement: CREATE
// instead of CREATE OR REPLACE, trailing newlines off, and a ";" after
// the body (a quoted body, or a SQL-standard BEGIN ATOMIC ... END or
// RETURN expression, neither of which carries one).
func functionCreate(def, word string) (string, error) {
	const prefix = "CREATE OR REPLACE "
	if !strings.HasPrefix(def, prefix+word+" ") {
		return "", fmt.Errorf("unexpected pg_get_functiondef output %.40q", def)
	}
	body := strings.TrimRight(def[len(prefix):], " \t\r\n")
	if strings.HasSuffix(body, ";") {
		return "", fmt.Errorf("unexpected ';' at the end of pg_get_functiondef output")
	}
	return "CREATE " + body + ";", nil
}

// triggerWhen renders the ALTER TABLE that sets a trigger's firing state
// (tgenabled), "" for the default ('O', enabled in origin and local mode).
func triggerWhen(relkind, table, trigger string, enabled byte) string {
	var how string
	switch enabled {
	case 'D':
		how = "DISABLE"
	case 'R':
		how = "ENABLE REPLICA"
	case 'A':
		how = "ENABLE ALWAYS"
	case 'O':
		how = "ENABLE"
	default:
		return ""
	}
	alter := "ALTER TABLE "
	if relkind == "f" {
		alter = "ALTER FOREIGN TABLE "
	}
	return alter + table + " " + how + " TRIGGER " + schema.Ident(trigger) + ";"
}

// loadTriggers reads triggers as pg_get_triggerdef renders them (constraint
// triggers included), followed by the ALTER TABLE that disables them or
// sets them to fire on replicas, or always, as tgenabled says. Internal
// triggers (foreign keys') are left out. A partition's trigger cloned from
// its parent's is created with the parent's; it is read only when its
// firing state differs from the parent's, and then is just that ALTER.
// Triggers depend on their table (and, through pg_depend, their function).
func loadTriggers(ctx context.Context, q Querier, _ *features, add func(*schema.Object)) error {
	rows, err := q.Query(ctx, `SELECT t.oid, t.tgrelid, n.nspname, c.relname, c.relkind::text, pg_catalog.pg_get_userbyid(c.relowner),
		t.tgname, t.tgenabled::text, t.tgparentid, t.tgfoid,
		CASE WHEN t.tgparentid = 0 THEN pg_catalog.pg_get_triggerdef(t.oid, false) ELSE '' END
		FROM pg_catalog.pg_trigger t
		JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_catalog.pg_trigger u ON u.oid = t.tgparentid
		WHERE ((NOT t.tgisinternal AND t.tgparentid = 0)
		       OR (t.tgparentid <> 0 AND NOT u.tgisinternal AND t.tgenabled <> u.tgenabled))
		  AND `+userNamespace("n")+` AND `+notExtensionMember(schema.ClassPgClass, "c.oid")+`
		ORDER BY n.nspname, c.relname, t.tgname`)
	if err != nil {
		return fmt.Errorf("catalog: read triggers: %w", err)
	}
	var (
		oid, rel, parent, fn                      uint32
		nsp, table, relkind, owner, name, enabled string
		def                                       string
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &rel, &nsp, &table, &relkind, &owner, &name, &enabled, &parent, &fn, &def}, func() error {
		qtable := schema.Qualified(nsp, table)
		o := &schema.Object{
			Ref:    schema.Ref{Class: schema.ClassPgTrigger, OID: oid},
			Kind:   schema.KindTrigger,
			Schema: nsp,
			Name:   table + " " + name,
			Owner:  owner,
			Drop:   "DROP TRIGGER " + schema.Ident(name) + " ON " + qtable + ";",
			Deps: []schema.Ref{
				{Class: schema.ClassPgClass, OID: rel},
				{Class: schema.ClassPgProc, OID: fn},
			},
		}
		state := triggerWhen(relkind, qtable, name, enabled[0])
		if parent != 0 {
			// A clone: the parent's CREATE TRIGGER makes it.
			o.Create = state
			o.Deps = append(o.Deps, schema.Ref{Class: schema.ClassPgTrigger, OID: parent})
			o.Drop = ""
		} else {
			if def == "" {
				return fmt.Errorf("trigger %s on %s.%s: pg_get_triggerdef returned nothing", name, nsp, table)
			}
			o.Create = strings.TrimRight(def, " \n") + ";"
			if enabled != "O" {
				o.Create += "\n" + state
			}
		}
		add(o)
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read triggers: %w", err)
	}
	return nil
}
