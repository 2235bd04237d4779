package catalog

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgark/pgark/schema"
)

// loadCommentsAndACLs adds, for the objects already loaded (objs, parts
// included), a COMMENT object for each comment in pg_description (on the
// object, on a column of it, on its constraints) and an ACL object for
// each object whose privileges differ from its type's defaults.
func loadCommentsAndACLs(ctx context.Context, q Querier, f *features, objs []*schema.Object, add func(*schema.Object)) error {
	idx := indexObjects(objs)
	if err := loadComments(ctx, q, idx, add); err != nil {
		return err
	}
	return loadACLs(ctx, q, f, idx, add)
}

// indexObjects maps catalog identities to the objects (and parts) that
// define them; objects derived from another (its data, comment, ACL...)
// are left out. A part is indexed as itself, with its parent's owner when
// it has none of its own.
func indexObjects(objs []*schema.Object) map[schema.Ref]target {
	idx := map[schema.Ref]target{}
	for _, o := range objs {
		switch o.Kind {
		case schema.KindTableData, schema.KindSequenceSet, schema.KindMatViewData,
			schema.KindComment, schema.KindACL, schema.KindSequenceOwnedBy, schema.KindBlobs,
			schema.KindTableAttach, schema.KindIndexAttach, schema.KindRowSecurity:
			continue
		}
		if _, ok := idx[o.Ref.Whole()]; !ok {
			idx[o.Ref.Whole()] = target{o, o.Owner}
		}
		for _, p := range o.Parts {
			if _, ok := idx[p.Ref.Whole()]; !ok {
				owner := p.Owner
				if owner == "" {
					owner = o.Owner
				}
				idx[p.Ref.Whole()] = target{p, owner}
			}
		}
	}
	return idx
}

// target is a loaded object that comments and ACLs may be on.
type target struct {
	obj   *schema.Object
	owner string
}

// relationWord is how COMMENT ON names a relation of relkind k.
func relationWord(relkind string) string {
	switch relkind {
	case "v":
		return "VIEW"
	case "m":
		return "MATERIALIZED VIEW"
	case "S":
		return "SEQUENCE"
	case "i", "I":
		return "INDEX"
	case "f":
		return "FOREIGN TABLE"
	case "c":
		return "TYPE"
	}
	return "TABLE"
}

// loadComments reads pg_description for relations and their columns,
// types and domains, functions and procedures, schemas, constraints and
// triggers, and adds a COMMENT for each that belongs to a loaded object.
// The public schema's comment and privileges are dumped though the schema
// is not (see schemaTarget). A comment on the index of a primary key, unique or exclusion constraint
// goes with the constraint; one on a constraint that is not an object of
// its own (an inherited CHECK, a NOT NULL on PostgreSQL 18) with its table.
func loadComments(ctx context.Context, q Querier, idx map[schema.Ref]target, add func(*schema.Object)) error {
	// Each row: the commented object's class, OID and column, the text,
	// a kind (relkind, typtype, prokind, contype, or '' for schemas and
	// triggers), schema and name of the object or of the table or domain
	// that holds it, the member name (column, constraint, trigger) or the
	// function's identity arguments, and a fallback owner object.
	rows, err := q.Query(ctx, `
		SELECT d.classoid, d.objoid, d.objsubid, d.description, c.relkind::text, n.nspname::text, c.relname::text,
			COALESCE(a.attname::text, ''),
			CASE WHEN c.relkind = 'c' THEN 1247 WHEN k.oid IS NOT NULL THEN 2606 ELSE 0 END::oid,
			COALESCE(CASE WHEN c.relkind = 'c' THEN c.reltype ELSE k.oid END, 0)
		FROM pg_catalog.pg_description d
		JOIN pg_catalog.pg_class c ON d.classoid = 1259 AND c.oid = d.objoid
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid AND d.objsubid > 0
		LEFT JOIN pg_catalog.pg_constraint k ON c.relkind IN ('i', 'I') AND k.conindid = c.oid AND k.contype IN ('p', 'u', 'x')
		WHERE `+userNamespace("n")+`
		UNION ALL
		SELECT d.classoid, d.objoid, 0, d.description, t.typtype::text, n.nspname::text, t.typname::text, '', 0::oid, 0::oid
		FROM pg_catalog.pg_description d
		JOIN pg_catalog.pg_type t ON d.classoid = 1247 AND t.oid = d.objoid
		JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
		WHERE `+userNamespace("n")+`
		UNION ALL
		SELECT d.classoid, d.objoid, 0, d.description, p.prokind::text, n.nspname::text, p.proname::text,
			pg_catalog.pg_get_function_identity_arguments(p.oid), 0::oid, 0::oid
		FROM pg_catalog.pg_description d
		JOIN pg_catalog.pg_proc p ON d.classoid = 1255 AND p.oid = d.objoid
		JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
		WHERE `+userNamespace("n")+`
		UNION ALL
		SELECT d.classoid, d.objoid, 0, d.description, '', '', n.nspname::text,
			pg_catalog.pg_get_userbyid(n.nspowner)::text, 0::oid, 0::oid
		FROM pg_catalog.pg_description d
		JOIN pg_catalog.pg_namespace n ON d.classoid = 2615 AND n.oid = d.objoid
		WHERE `+userNamespace("n")+`
			-- initdb's comment on public, which pg_dump leaves out too: a
			-- restoring role that does not own public may not set it.
			AND NOT (n.nspname = 'public' AND d.description = 'standard public schema')
		UNION ALL
		SELECT d.classoid, d.objoid, 0, d.description, k.contype::text, n.nspname::text,
			COALESCE(c.relname, t.typname)::text, k.conname::text,
			CASE WHEN k.conrelid <> 0 THEN 1259 ELSE 1247 END::oid,
			CASE WHEN k.conrelid <> 0 THEN k.conrelid ELSE k.contypid END
		FROM pg_catalog.pg_description d
		JOIN pg_catalog.pg_constraint k ON d.classoid = 2606 AND k.oid = d.objoid
		LEFT JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
		LEFT JOIN pg_catalog.pg_type t ON t.oid = k.contypid
		JOIN pg_catalog.pg_namespace n ON n.oid = COALESCE(c.relnamespace, t.typnamespace)
		WHERE `+userNamespace("n")+`
		UNION ALL
		SELECT d.classoid, d.objoid, 0, d.description, '', n.nspname::text, c.relname::text, g.tgname::text,
			1259::oid, g.tgrelid
		FROM pg_catalog.pg_description d
		JOIN pg_catalog.pg_trigger g ON d.classoid = 2620 AND g.oid = d.objoid
		JOIN pg_catalog.pg_class c ON c.oid = g.tgrelid
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE `+userNamespace("n")+`
		ORDER BY 1, 2, 3`)
	if err != nil {
		return fmt.Errorf("catalog: read comments: %w", err)
	}
	var (
		ref                         schema.Ref
		text, kind, nsp, name, memb string
		alt                         schema.Ref
	)
	_, err = pgx.ForEachRow(rows, []any{&ref.Class, &ref.OID, &ref.Sub, &text, &kind, &nsp, &name, &memb, &alt.Class, &alt.OID}, func() error {
		t, what, tag := commentTarget(idx, ref, alt, kind, nsp, name, memb)
		if t.obj == nil {
			return nil
		}
		add(&schema.Object{
			Ref:    ref,
			Kind:   schema.KindComment,
			Schema: nsp,
			Name:   tag,
			Owner:  t.owner,
			Create: "COMMENT ON " + what + " IS " + schema.Literal(text) + ";",
			Deps:   []schema.Ref{t.obj.Ref.Whole()},
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read comments: %w", err)
	}
	return nil
}

// commentTarget finds the loaded object a comment row belongs to and says
// how COMMENT ON names what it is on, and the pg_dump-like tag; a nil
// object means the comment is not dumped.
func commentTarget(idx map[schema.Ref]target, ref, alt schema.Ref, kind, nsp, name, memb string) (target, string, string) {
	q := schema.Qualified(nsp, name)
	lookup := func() target {
		if o := idx[ref.Whole()]; o.obj != nil {
			return o
		}
		return idx[alt]
	}
	switch ref.Class {
	case schema.ClassPgClass:
		var o target
		if kind == "c" { // a composite type's relation: its columns
			o = idx[alt]
		} else {
			o = lookup()
		}
		if o.obj == nil {
			return target{}, "", ""
		}
		if ref.Sub != 0 {
			if memb == "" {
				return target{}, "", "" // a dropped column
			}
			return o, "COLUMN " + q + "." + schema.Ident(memb), "COLUMN " + name + "." + memb
		}
		w := relationWord(kind)
		return o, w + " " + q, w + " " + name
	case schema.ClassPgType:
		o := idx[ref]
		if o.obj == nil {
			return target{}, "", ""
		}
		w := "TYPE"
		if kind == "d" {
			w = "DOMAIN"
		}
		return o, w + " " + q, w + " " + name
	case schema.ClassPgProc:
		o := idx[ref]
		if o.obj == nil {
			return target{}, "", ""
		}
		w := "FUNCTION"
		switch {
		case kind == "p":
			w = "PROCEDURE"
		case kind == "a" && memb == "":
			w, memb = "AGGREGATE", "*"
		case kind == "a":
			w = "AGGREGATE"
		}
		return o, w + " " + q + "(" + memb + ")", w + " " + o.obj.Name
	case schema.ClassPgNamespace:
		o := schemaTarget(idx, ref, name, memb)
		if o.obj == nil {
			return target{}, "", ""
		}
		return o, "SCHEMA " + schema.Ident(name), "SCHEMA " + name
	case schema.ClassPgConstraint:
		o := lookup()
		if o.obj == nil {
			return target{}, "", ""
		}
		if alt.Class == schema.ClassPgType {
			return o, "CONSTRAINT " + schema.Ident(memb) + " ON DOMAIN " + q, "CONSTRAINT " + memb + " ON DOMAIN " + name
		}
		return o, "CONSTRAINT " + schema.Ident(memb) + " ON " + q, "CONSTRAINT " + memb + " ON " + name
	case schema.ClassPgTrigger:
		o := idx[ref]
		if o.obj == nil {
			return target{}, "", ""
		}
		return o, "TRIGGER " + schema.Ident(memb) + " ON " + q, "TRIGGER " + memb + " ON " + name
	}
	return target{}, "", ""
}

// schemaTarget is the loaded schema ref, or for the public schema, which
// every database has and so is not an object of the dump, a stand-in: its
// comment and privileges are dumped all the same, as pg_dump does.
func schemaTarget(idx map[schema.Ref]target, ref schema.Ref, name, owner string) target {
	if t := idx[ref]; t.obj != nil || name != "public" {
		return t
	}
	return target{obj: &schema.Object{Ref: ref, Kind: schema.KindSchema, Name: name, Owner: owner}, owner: owner}
}

// aclRow is one object's (or column's) privileges as the catalog holds them.
type aclRow struct {
	ref       schema.Ref
	kind      string // relkind, typtype, prokind; '' for schemas
	nsp, name string
	member    string // the column, or a function's identity arguments
	owner     string
	acl       []string // nil when NULL: the default
	def       []string // acldefault() for the object's type and owner
	init      []string // pg_init_privs' initprivs, nil when none
}

// loadACLs reads the privileges of relations and their columns, schemas,
// functions and procedures, types and domains, and adds an ACL object for
// each loaded object whose privileges are not the defaults: the REVOKE and
// GRANT statements (schema.ACLStatements) from the base, which is the
// initial privileges pg_init_privs records (the public schema's since
// PostgreSQL 15, say), else acldefault(), as pg_dump does. A relation's
// column privileges follow its own in the same object, so that a REVOKE
// on the table cannot undo them.
func loadACLs(ctx context.Context, q Querier, f *features, idx map[schema.Ref]target, add func(*schema.Object)) error {
	initPrivs := func(class uint32, oid, sub string) string {
		return fmt.Sprintf(`(SELECT ip.initprivs::text[] FROM pg_catalog.pg_init_privs ip
			WHERE ip.classoid = %d AND ip.objoid = %s AND ip.objsubid = %s)`, class, oid, sub)
	}
	rows, err := q.Query(ctx, `
		SELECT * FROM (
		SELECT 1259::oid AS cls, c.oid, 0 AS sub, c.relkind::text, n.nspname::text, c.relname::text, ''::text,
			pg_catalog.pg_get_userbyid(c.relowner)::text,
			c.relacl::text[] AS acl,
			pg_catalog.acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char", c.relowner)::text[],
			`+initPrivs(schema.ClassPgClass, "c.oid", "0")+` AS init
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND `+userNamespace("n")+`
		UNION ALL
		SELECT 1259::oid, c.oid, a.attnum, c.relkind::text, n.nspname::text, c.relname::text, a.attname::text,
			pg_catalog.pg_get_userbyid(c.relowner)::text,
			a.attacl::text[], '{}'::text[],
			`+initPrivs(schema.ClassPgClass, "c.oid", "a.attnum")+`
		FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped AND `+userNamespace("n")+`
		UNION ALL
		SELECT 2615::oid, n.oid, 0, '', '', n.nspname::text, '', pg_catalog.pg_get_userbyid(n.nspowner)::text,
			n.nspacl::text[], pg_catalog.acldefault('n', n.nspowner)::text[],
			`+initPrivs(schema.ClassPgNamespace, "n.oid", "0")+`
		FROM pg_catalog.pg_namespace n
		WHERE `+userNamespace("n")+`
		UNION ALL
		SELECT 1255::oid, p.oid, 0, p.prokind::text, n.nspname::text, p.proname::text,
			pg_catalog.pg_get_function_identity_arguments(p.oid), pg_catalog.pg_get_userbyid(p.proowner)::text,
			p.proacl::text[], pg_catalog.acldefault('f', p.proowner)::text[],
			`+initPrivs(schema.ClassPgProc, "p.oid", "0")+`
		FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
		WHERE p.prokind IN ('f', 'p', 'a') AND `+userNamespace("n")+`
		UNION ALL
		SELECT 1247::oid, t.oid, 0, t.typtype::text, n.nspname::text, t.typname::text, '',
			pg_catalog.pg_get_userbyid(t.typowner)::text,
			t.typacl::text[], pg_catalog.acldefault('T', t.typowner)::text[],
			`+initPrivs(schema.ClassPgType, "t.oid", "0")+`
		FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
		WHERE t.typtype IN ('b', 'c', 'd', 'e', 'r') AND `+userNamespace("n")+`
		) x WHERE x.acl IS NOT NULL OR x.init IS NOT NULL
		ORDER BY 1, 2, 3`)
	if err != nil {
		return fmt.Errorf("catalog: read privileges: %w", err)
	}
	var r aclRow
	var (
		pending *schema.Object // the ACL object being built for the current relation
		stmts   []string
	)
	flush := func() {
		if pending != nil && len(stmts) > 0 {
			pending.Create = strings.Join(stmts, "\n")
			add(pending)
		}
		pending, stmts = nil, nil
	}
	_, err = pgx.ForEachRow(rows, []any{&r.ref.Class, &r.ref.OID, &r.ref.Sub, &r.kind, &r.nsp, &r.name, &r.member,
		&r.owner, &r.acl, &r.def, &r.init}, func() error {
		whole := r.ref.Whole()
		t := idx[whole]
		if r.ref.Class == schema.ClassPgNamespace {
			t = schemaTarget(idx, whole, r.name, r.owner)
		}
		if t.obj == nil {
			return nil
		}
		if pending == nil || pending.Ref != whole {
			flush()
			pending = &schema.Object{
				Ref:    whole,
				Kind:   schema.KindACL,
				Schema: t.obj.Schema,
				Owner:  t.owner,
				Deps:   []schema.Ref{whole},
			}
		}
		gt, tag := grantTarget(r)
		gt.Maintain = f.hasMaintainPrivilege()
		pending.Name = tag // a relation's columns are in its own entry
		acl, base := r.acl, r.def
		if r.init != nil {
			base = r.init
			if acl == nil {
				acl = r.def
			}
		}
		sql, err := schema.ACLStatements(gt, acl, base)
		if err != nil {
			return fmt.Errorf("privileges of %s: %w", tag, err)
		}
		if sql != "" {
			stmts = append(stmts, sql)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read privileges: %w", err)
	}
	flush()
	return nil
}

// grantTarget says how GRANT names the object of an ACL row, and the
// pg_dump-like tag of its ACL entry ("TABLE t", "FUNCTION f(integer)"),
// which for a column is its relation's.
func grantTarget(r aclRow) (schema.GrantTarget, string) {
	t := schema.GrantTarget{Owner: r.owner, Name: schema.Qualified(r.nsp, r.name)}
	switch r.ref.Class {
	case schema.ClassPgClass:
		t.Type = "TABLE"
		if r.kind == "S" {
			t.Type = "SEQUENCE"
		}
		if r.ref.Sub != 0 {
			t.Column = r.member
		}
	case schema.ClassPgNamespace:
		t.Type, t.Name = "SCHEMA", schema.Ident(r.name)
		return t, "SCHEMA " + r.name
	case schema.ClassPgProc:
		t.Type = "FUNCTION"
		if r.kind == "p" {
			t.Type = "PROCEDURE"
		}
		t.Name += "(" + r.member + ")"
		return t, t.Type + " " + r.name + "(" + r.member + ")"
	case schema.ClassPgType:
		t.Type = "TYPE"
		if r.kind == "d" {
			t.Type = "DOMAIN"
		}
	}
	return t, t.Type + " " + r.name
}
