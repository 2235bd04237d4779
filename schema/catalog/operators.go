package catalog

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgark/pgark/schema"
)

// Operators, operator families and classes, and access methods. The SQL
// names operators as OPERATOR(s.op) and members by regoperator and
// regprocedure, which qualify what the empty search_path does not show.

// operatorRef is the SQL that renders the operator whose OID is expr as
// OPERATOR(schema.name), ” for none.
func operatorRef(expr string) string {
	return `COALESCE((SELECT 'OPERATOR(' || pg_catalog.quote_ident(rn.nspname) || '.' || r.oprname || ')'
		FROM pg_catalog.pg_operator r JOIN pg_catalog.pg_namespace rn ON rn.oid = r.oprnamespace
		WHERE r.oid = ` + expr + `), '')`
}

// operator is what CREATE OPERATOR needs of pg_operator.
type operator struct {
	left, right         string // format_type, "" for none (a prefix operator's left)
	function            string // regproc
	commutator, negator string // OPERATOR(s.op), "" for none
	merges, hashes      bool
	restrict, join      string // regproc, "" for none
}

// operatorSQL renders CREATE OPERATOR as pg_dump does.
func operatorSQL(qname string, o *operator) string {
	opts := []string{"FUNCTION = " + o.function}
	if o.left != "" {
		opts = append(opts, "LEFTARG = "+o.left)
	}
	if o.right != "" {
		opts = append(opts, "RIGHTARG = "+o.right)
	}
	if o.commutator != "" {
		opts = append(opts, "COMMUTATOR = "+o.commutator)
	}
	if o.negator != "" {
		opts = append(opts, "NEGATOR = "+o.negator)
	}
	if o.merges {
		opts = append(opts, "MERGES")
	}
	if o.hashes {
		opts = append(opts, "HASHES")
	}
	if o.restrict != "" {
		opts = append(opts, "RESTRICT = "+o.restrict)
	}
	if o.join != "" {
		opts = append(opts, "JOIN = "+o.join)
	}
	return "CREATE OPERATOR " + qname + " (\n    " + strings.Join(opts, ",\n    ") + "\n);"
}

// operatorArgs is the argument list ALTER OPERATOR takes: "(integer,
// integer)", "(NONE, integer)" for a prefix operator.
func operatorArgs(left, right string) string {
	if left == "" {
		left = "NONE"
	}
	if right == "" {
		right = "NONE"
	}
	return "(" + left + ", " + right + ")"
}

// loadOperators reads operators, but the shells that a commutator or
// negator made and nothing completed (oprcode 0), as pg_dump does: the
// CREATE OPERATOR that names them makes them again. Name is the
// operator's name, as pg_dump's tag.
func loadOperators(ctx context.Context, q Querier, _ *features, add func(*schema.Object)) error {
	optProc := func(col string) string {
		return `CASE WHEN o.` + col + ` <> 0 THEN o.` + col + `::pg_catalog.regproc::text ELSE '' END`
	}
	optType := func(col string) string {
		return `CASE WHEN o.` + col + ` <> 0 THEN pg_catalog.format_type(o.` + col + `, NULL) ELSE '' END`
	}
	rows, err := q.Query(ctx, `SELECT o.oid, n.nspname, o.oprname, pg_catalog.pg_get_userbyid(o.oprowner),
			`+optType("oprleft")+`, `+optType("oprright")+`, o.oprcode::pg_catalog.regproc::text,
			`+operatorRef("o.oprcom")+`, `+operatorRef("o.oprnegate")+`, o.oprcanmerge, o.oprcanhash,
			`+optProc("oprrest")+`, `+optProc("oprjoin")+`
		FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace
		WHERE o.oprcode <> 0 AND `+userNamespace("n")+` AND `+notExtensionMember(schema.ClassPgOperator, "o.oid")+`
		ORDER BY n.nspname, o.oprname, o.oid`)
	if err != nil {
		return fmt.Errorf("catalog: read operators: %w", err)
	}
	var (
		oid              uint32
		nsp, name, owner string
		o                operator
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &nsp, &name, &owner, &o.left, &o.right, &o.function,
		&o.commutator, &o.negator, &o.merges, &o.hashes, &o.restrict, &o.join}, func() error {
		qname := schema.Ident(nsp) + "." + name
		sig := qname + " " + operatorArgs(o.left, o.right)
		add(&schema.Object{
			Ref:    schema.Ref{Class: schema.ClassPgOperator, OID: oid},
			Kind:   schema.KindOperator,
			Schema: nsp,
			Name:   name,
			Owner:  owner,
			Ident:  "OPERATOR " + sig,
			Create: operatorSQL(qname, &o),
			Drop:   "DROP OPERATOR " + sig + ";",
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read operators: %w", err)
	}
	return nil
}

// opMembers is the SQL of the members of an operator family (refClass
// 2753, the family's loose members) or class (2616) whose OID is ref:
// an array of "OPERATOR n op(l,r) [FOR ORDER BY s.f]" and "FUNCTION n (l,
// r) f(args)" items, then an array of the operators' and an array of the
// functions' OIDs, which the family or class depends on.
func opMembers(refClass uint32, ref, family string) string {
	amop := fmt.Sprintf(`FROM pg_catalog.pg_amop ao
		JOIN pg_catalog.pg_depend d ON d.classid = 2602 AND d.objid = ao.oid AND d.refclassid = %d AND d.refobjid = %s
		WHERE ao.amopfamily = %s`, refClass, ref, family)
	amproc := fmt.Sprintf(`FROM pg_catalog.pg_amproc ap
		JOIN pg_catalog.pg_depend d ON d.classid = 2603 AND d.objid = ap.oid AND d.refclassid = %d AND d.refobjid = %s
		WHERE ap.amprocfamily = %s`, refClass, ref, family)
	return `ARRAY(SELECT item FROM (
			SELECT 0 AS k, ao.amopstrategy AS num, 'OPERATOR ' || ao.amopstrategy || ' ' || ao.amopopr::pg_catalog.regoperator::text ||
				CASE WHEN ao.amoppurpose = 'o' THEN ' FOR ORDER BY ' || (SELECT pg_catalog.quote_ident(sn.nspname) || '.' || pg_catalog.quote_ident(sf.opfname)
					FROM pg_catalog.pg_opfamily sf JOIN pg_catalog.pg_namespace sn ON sn.oid = sf.opfnamespace WHERE sf.oid = ao.amopsortfamily)
				ELSE '' END AS item, ao.amoplefttype AS l, ao.amoprighttype AS r
			` + amop + `
			UNION ALL
			SELECT 1, ap.amprocnum, 'FUNCTION ' || ap.amprocnum || ' (' || pg_catalog.format_type(ap.amproclefttype, NULL) || ', ' ||
				pg_catalog.format_type(ap.amprocrighttype, NULL) || ') ' || ap.amproc::pg_catalog.regprocedure::text,
				ap.amproclefttype, ap.amprocrighttype
			` + amproc + `
		) m ORDER BY k, num, l, r),
		ARRAY(SELECT ao.amopopr ` + amop + `),
		ARRAY(SELECT ap.amproc::pg_catalog.oid ` + amproc + `)`
}

// memberDeps are the dependencies of a family or class on its members'
// operators and functions, which pg_depend records for pg_amop and
// pg_amproc rows, not for the family or class.
func memberDeps(ops, procs []uint32) []schema.Ref {
	var deps []schema.Ref
	for _, o := range ops {
		deps = append(deps, schema.Ref{Class: schema.ClassPgOperator, OID: o})
	}
	for _, p := range procs {
		deps = append(deps, schema.Ref{Class: schema.ClassPgProc, OID: p})
	}
	return deps
}

// loadOpFamilies reads operator families, with their loose members (those
// not of an operator class) added by ALTER OPERATOR FAMILY ... ADD, as
// pg_dump dumps them, also for the families CREATE OPERATOR CLASS made.
func loadOpFamilies(ctx context.Context, q Querier, _ *features, add func(*schema.Object)) error {
	rows, err := q.Query(ctx, `SELECT f.oid, n.nspname, f.opfname, am.amname, pg_catalog.pg_get_userbyid(f.opfowner),
			`+opMembers(schema.ClassPgOpFamily, "f.oid", "f.oid")+`
		FROM pg_catalog.pg_opfamily f
		JOIN pg_catalog.pg_namespace n ON n.oid = f.opfnamespace
		JOIN pg_catalog.pg_am am ON am.oid = f.opfmethod
		WHERE `+userNamespace("n")+` AND `+notExtensionMember(schema.ClassPgOpFamily, "f.oid")+`
		ORDER BY n.nspname, f.opfname, am.amname`)
	if err != nil {
		return fmt.Errorf("catalog: read operator families: %w", err)
	}
	var (
		oid                      uint32
		nsp, name, method, owner string
		items                    []string
		ops, procs               []uint32
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &nsp, &name, &method, &owner, &items, &ops, &procs}, func() error {
		sig := schema.Qualified(nsp, name) + " USING " + schema.Ident(method)
		sql := "CREATE OPERATOR FAMILY " + sig + ";"
		if len(items) > 0 {
			sql += "\nALTER OPERATOR FAMILY " + sig + " ADD\n    " + strings.Join(items, " ,\n    ") + ";"
		}
		add(&schema.Object{
			Ref:    schema.Ref{Class: schema.ClassPgOpFamily, OID: oid},
			Kind:   schema.KindOpFamily,
			Schema: nsp,
			Name:   name,
			Owner:  owner,
			Ident:  "OPERATOR FAMILY " + sig,
			Create: sql,
			Drop:   "DROP OPERATOR FAMILY " + sig + ";",
			Deps:   memberDeps(ops, procs),
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read operator families: %w", err)
	}
	return nil
}

// loadOpClasses reads operator classes: their type, method, family (always
// named: the family is dumped on its own), storage type and members.
func loadOpClasses(ctx context.Context, q Querier, _ *features, add func(*schema.Object)) error {
	rows, err := q.Query(ctx, `SELECT c.oid, n.nspname, c.opcname, am.amname, pg_catalog.pg_get_userbyid(c.opcowner),
			c.opcdefault, pg_catalog.format_type(c.opcintype, NULL),
			CASE WHEN c.opckeytype <> 0 THEN pg_catalog.format_type(c.opckeytype, NULL) ELSE '' END,
			c.opcfamily, fn.nspname, f.opfname,
			`+opMembers(schema.ClassPgOpClass, "c.oid", "c.opcfamily")+`
		FROM pg_catalog.pg_opclass c
		JOIN pg_catalog.pg_namespace n ON n.oid = c.opcnamespace
		JOIN pg_catalog.pg_am am ON am.oid = c.opcmethod
		JOIN pg_catalog.pg_opfamily f ON f.oid = c.opcfamily
		JOIN pg_catalog.pg_namespace fn ON fn.oid = f.opfnamespace
		WHERE `+userNamespace("n")+` AND `+notExtensionMember(schema.ClassPgOpClass, "c.oid")+`
		ORDER BY n.nspname, c.opcname, am.amname`)
	if err != nil {
		return fmt.Errorf("catalog: read operator classes: %w", err)
	}
	var (
		oid, family                               uint32
		nsp, name, method, owner, intype, keytype string
		famNsp, famName                           string
		isDefault                                 bool
		items                                     []string
		ops, procs                                []uint32
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &nsp, &name, &method, &owner, &isDefault, &intype, &keytype,
		&family, &famNsp, &famName, &items, &ops, &procs}, func() error {
		qname := schema.Qualified(nsp, name)
		var b strings.Builder
		b.WriteString("CREATE OPERATOR CLASS " + qname + "\n    ")
		if isDefault {
			b.WriteString("DEFAULT ")
		}
		b.WriteString("FOR TYPE " + intype + " USING " + schema.Ident(method) +
			" FAMILY " + schema.Qualified(famNsp, famName) + " AS\n    ")
		if keytype != "" {
			items = append([]string{"STORAGE " + keytype}, items...)
		}
		if len(items) == 0 {
			items = []string{"STORAGE " + intype} // CREATE OPERATOR CLASS needs an item
		}
		b.WriteString(strings.Join(items, " ,\n    ") + ";")
		sig := qname + " USING " + schema.Ident(method)
		add(&schema.Object{
			Ref:    schema.Ref{Class: schema.ClassPgOpClass, OID: oid},
			Kind:   schema.KindOpClass,
			Schema: nsp,
			Name:   name,
			Owner:  owner,
			Ident:  "OPERATOR CLASS " + sig,
			Create: b.String(),
			Drop:   "DROP OPERATOR CLASS " + sig + ";",
			Deps:   append(memberDeps(ops, procs), schema.Ref{Class: schema.ClassPgOpFamily, OID: family}),
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read operator classes: %w", err)
	}
	return nil
}

// loadAccessMethods reads the access methods made after initdb: CREATE
// ACCESS METHOD with its type and handler. They have no owner.
func loadAccessMethods(ctx context.Context, q Querier, _ *features, add func(*schema.Object)) error {
	rows, err := q.Query(ctx, `SELECT a.oid, a.amname, a.amtype::text, a.amhandler::pg_catalog.regproc::text
		FROM pg_catalog.pg_am a
		WHERE a.oid >= `+fmt.Sprint(firstNormalOID)+` AND `+notExtensionMember(schema.ClassPgAm, "a.oid")+`
		ORDER BY a.amname`)
	if err != nil {
		return fmt.Errorf("catalog: read access methods: %w", err)
	}
	var (
		oid                   uint32
		name, amtype, handler string
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &name, &amtype, &handler}, func() error {
		typ := map[string]string{"i": "INDEX", "t": "TABLE"}[amtype]
		if typ == "" {
			return fmt.Errorf("access method %s: unknown type %q", name, amtype)
		}
		add(&schema.Object{
			Ref:    schema.Ref{Class: schema.ClassPgAm, OID: oid},
			Kind:   schema.KindAccessMethod,
			Name:   name,
			Create: "CREATE ACCESS METHOD " + schema.Ident(name) + " TYPE " + typ + " HANDLER " + handler + ";",
			Drop:   "DROP ACCESS METHOD " + schema.Ident(name) + ";",
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read access methods: %w", err)
	}
	return nil
}
