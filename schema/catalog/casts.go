package catalog

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgark/pgark/schema"
)

// Casts, collations, conversions, procedural languages and transforms.

// Version switches of this file's loaders (see features).

// hasICULocale: ICU collations keep their locale in colliculocale
// (PostgreSQL 15 and 16), not collcollate and collctype.
func (f *features) hasICULocale() bool { return f.atLeast(150000) && !f.atLeast(170000) }

// hasCollLocale: colllocale holds the ICU and builtin providers' locale
// (PostgreSQL 17).
func (f *features) hasCollLocale() bool { return f.atLeast(170000) }

// hasICURules: ICU collations may have tailoring rules (PostgreSQL 16).
func (f *features) hasICURules() bool { return f.atLeast(160000) }

// loadCasts reads the casts made after initdb, but those the server makes
// with others (a range type's casts to its multirange, which depend on it
// internally), as pg_dump does. Name is pg_dump's tag, which is also how
// COMMENT ON names them: "CAST (s.a AS text)". They have no owner.
func loadCasts(ctx context.Context, q Querier, _ *features, add func(*schema.Object)) error {
	rows, err := q.Query(ctx, `SELECT c.oid, pg_catalog.format_type(c.castsource, NULL), pg_catalog.format_type(c.casttarget, NULL),
			c.castmethod::text, c.castcontext::text,
			CASE WHEN c.castfunc <> 0 THEN c.castfunc::pg_catalog.regprocedure::text ELSE '' END
		FROM pg_catalog.pg_cast c
		WHERE c.oid >= `+fmt.Sprint(firstNormalOID)+` AND `+notExtensionMember(schema.ClassPgCast, "c.oid")+`
		  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend i
			WHERE i.classid = 2605 AND i.objid = c.oid AND i.deptype = 'i')
		ORDER BY 2, 3`)
	if err != nil {
		return fmt.Errorf("catalog: read casts: %w", err)
	}
	var (
		oid                              uint32
		source, target, method, ctx2, fn string
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &source, &target, &method, &ctx2, &fn}, func() error {
		name := "CAST (" + source + " AS " + target + ")"
		var how string
		switch method {
		case "f":
			how = " WITH FUNCTION " + fn
		case "i":
			how = " WITH INOUT"
		case "b":
			how = " WITHOUT FUNCTION"
		default:
			return fmt.Errorf("%s: unknown method %q", name, method)
		}
		switch ctx2 {
		case "a":
			how += " AS ASSIGNMENT"
		case "i":
			how += " AS IMPLICIT"
		}
		add(&schema.Object{
			Ref:    schema.Ref{Class: schema.ClassPgCast, OID: oid},
			Kind:   schema.KindCast,
			Name:   name,
			Create: "CREATE " + name + how + ";",
			Drop:   "DROP " + name + ";",
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read casts: %w", err)
	}
	return nil
}

// collation is what CREATE COLLATION needs of pg_collation.
type collation struct {
	provider       string // collprovider: c(libc), i(cu), b(uiltin), d(efault)
	deterministic  bool
	collate, ctype string // libc (and ICU before PostgreSQL 15)
	locale         string // ICU and builtin (colliculocale, colllocale), "" else
	rules          string // ICU rules (PostgreSQL 16), "" for none
}

// collationSQL renders CREATE COLLATION: the provider, deterministic =
// false if so, then locale when one name says it all, else lc_collate and
// lc_ctype, and ICU rules.
func collationSQL(qname string, c *collation) string {
	provider := map[string]string{"c": "libc", "i": "icu", "b": "builtin", "d": "default"}[c.provider]
	opts := []string{"provider = " + provider}
	if !c.deterministic {
		opts = append(opts, "deterministic = false")
	}
	switch {
	case c.provider != "c" && c.locale != "":
		opts = append(opts, "locale = "+schema.Literal(c.locale))
	case c.collate == c.ctype:
		opts = append(opts, "locale = "+schema.Literal(c.collate))
	default:
		opts = append(opts, "lc_collate = "+schema.Literal(c.collate), "lc_ctype = "+schema.Literal(c.ctype))
	}
	if c.rules != "" {
		opts = append(opts, "rules = "+schema.Literal(c.rules))
	}
	return "CREATE COLLATION " + qname + " (" + strings.Join(opts, ", ") + ");"
}

// loadCollations reads the collations of user schemas (libc, ICU with
// its rules, builtin), not their versions: the restoring server records
// its own, as after pg_dump.
func loadCollations(ctx context.Context, q Querier, f *features, add func(*schema.Object)) error {
	locale, rules := `''`, `''`
	switch {
	case f.hasCollLocale():
		locale = `COALESCE(c.colllocale, '')`
	case f.hasICULocale():
		locale = `COALESCE(c.colliculocale, '')`
	}
	if f.hasICURules() {
		rules = `COALESCE(c.collicurules, '')`
	}
	rows, err := q.Query(ctx, `SELECT c.oid, n.nspname, c.collname, pg_catalog.pg_get_userbyid(c.collowner),
			c.collprovider::text, c.collisdeterministic, COALESCE(c.collcollate, ''), COALESCE(c.collctype, ''),
			`+locale+`, `+rules+`
		FROM pg_catalog.pg_collation c JOIN pg_catalog.pg_namespace n ON n.oid = c.collnamespace
		WHERE `+userNamespace("n")+` AND `+notExtensionMember(schema.ClassPgCollation, "c.oid")+`
		ORDER BY n.nspname, c.collname`)
	if err != nil {
		return fmt.Errorf("catalog: read collations: %w", err)
	}
	var (
		oid              uint32
		nsp, name, owner string
		c                collation
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &nsp, &name, &owner, &c.provider, &c.deterministic,
		&c.collate, &c.ctype, &c.locale, &c.rules}, func() error {
		qname := schema.Qualified(nsp, name)
		add(&schema.Object{
			Ref:    schema.Ref{Class: schema.ClassPgCollation, OID: oid},
			Kind:   schema.KindCollation,
			Schema: nsp,
			Name:   name,
			Owner:  owner,
			Ident:  "COLLATION " + qname,
			Create: collationSQL(qname, &c),
			Drop:   "DROP COLLATION " + qname + ";",
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read collations: %w", err)
	}
	return nil
}

// loadConversions reads encoding conversions: CREATE [DEFAULT] CONVERSION.
func loadConversions(ctx context.Context, q Querier, _ *features, add func(*schema.Object)) error {
	rows, err := q.Query(ctx, `SELECT c.oid, n.nspname, c.conname, pg_catalog.pg_get_userbyid(c.conowner), c.condefault,
			pg_catalog.pg_encoding_to_char(c.conforencoding)::text, pg_catalog.pg_encoding_to_char(c.contoencoding)::text,
			c.conproc::pg_catalog.regproc::text
		FROM pg_catalog.pg_conversion c JOIN pg_catalog.pg_namespace n ON n.oid = c.connamespace
		WHERE `+userNamespace("n")+` AND `+notExtensionMember(schema.ClassPgConversion, "c.oid")+`
		ORDER BY n.nspname, c.conname`)
	if err != nil {
		return fmt.Errorf("catalog: read conversions: %w", err)
	}
	var (
		oid                              uint32
		nsp, name, owner, from, to, proc string
		isDefault                        bool
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &nsp, &name, &owner, &isDefault, &from, &to, &proc}, func() error {
		qname := schema.Qualified(nsp, name)
		word := "CREATE CONVERSION "
		if isDefault {
			word = "CREATE DEFAULT CONVERSION "
		}
		add(&schema.Object{
			Ref:    schema.Ref{Class: schema.ClassPgConversion, OID: oid},
			Kind:   schema.KindConversion,
			Schema: nsp,
			Name:   name,
			Owner:  owner,
			Ident:  "CONVERSION " + qname,
			Create: word + qname + " FOR " + schema.Literal(from) + " TO " + schema.Literal(to) + " FROM " + proc + ";",
			Drop:   "DROP CONVERSION " + qname + ";",
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read conversions: %w", err)
	}
	return nil
}

// qualifiedProc is the SQL of the quoted, qualified name of the function
// whose OID is expr (” for none), as CREATE LANGUAGE takes it.
func qualifiedProc(expr string) string {
	return `COALESCE((SELECT pg_catalog.quote_ident(pn.nspname) || '.' || pg_catalog.quote_ident(p.proname)
		FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace pn ON pn.oid = p.pronamespace WHERE p.oid = ` + expr + `), '')`
}

// loadLanguages reads the procedural languages made after initdb that are
// not an extension's (plpgsql is one): CREATE [TRUSTED] PROCEDURAL
// LANGUAGE with its handler, inline handler and validator.
func loadLanguages(ctx context.Context, q Querier, _ *features, add func(*schema.Object)) error {
	rows, err := q.Query(ctx, `SELECT l.oid, l.lanname, pg_catalog.pg_get_userbyid(l.lanowner), l.lanpltrusted,
			`+qualifiedProc("l.lanplcallfoid")+`, `+qualifiedProc("l.laninline")+`, `+qualifiedProc("l.lanvalidator")+`
		FROM pg_catalog.pg_language l
		WHERE l.lanispl AND l.oid >= `+fmt.Sprint(firstNormalOID)+` AND `+notExtensionMember(schema.ClassPgLanguage, "l.oid")+`
		ORDER BY l.lanname`)
	if err != nil {
		return fmt.Errorf("catalog: read procedural languages: %w", err)
	}
	var (
		oid                                     uint32
		name, owner, handler, inline, validator string
		trusted                                 bool
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &name, &owner, &trusted, &handler, &inline, &validator}, func() error {
		sql := "CREATE "
		if trusted {
			sql += "TRUSTED "
		}
		sql += "PROCEDURAL LANGUAGE " + schema.Ident(name) + " HANDLER " + handler
		if inline != "" {
			sql += " INLINE " + inline
		}
		if validator != "" {
			sql += " VALIDATOR " + validator
		}
		add(&schema.Object{
			Ref:    schema.Ref{Class: schema.ClassPgLanguage, OID: oid},
			Kind:   schema.KindLanguage,
			Name:   name,
			Owner:  owner,
			Ident:  "LANGUAGE " + schema.Ident(name),
			Create: sql + ";",
			Drop:   "DROP PROCEDURAL LANGUAGE " + schema.Ident(name) + ";",
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read procedural languages: %w", err)
	}
	return nil
}

// loadTransforms reads transforms: CREATE TRANSFORM FOR a type and a
// language with its FROM SQL and TO SQL functions. Name is pg_dump's tag,
// "TRANSFORM FOR s.t LANGUAGE l", as COMMENT ON names them. They have no
// owner.
func loadTransforms(ctx context.Context, q Querier, _ *features, add func(*schema.Object)) error {
	rows, err := q.Query(ctx, `SELECT t.oid, pg_catalog.format_type(t.trftype, NULL), l.lanname,
			CASE WHEN t.trffromsql <> 0 THEN t.trffromsql::pg_catalog.regprocedure::text ELSE '' END,
			CASE WHEN t.trftosql <> 0 THEN t.trftosql::pg_catalog.regprocedure::text ELSE '' END
		FROM pg_catalog.pg_transform t JOIN pg_catalog.pg_language l ON l.oid = t.trflang
		WHERE t.oid >= `+fmt.Sprint(firstNormalOID)+` AND `+notExtensionMember(schema.ClassPgTransform, "t.oid")+`
		ORDER BY 2, 3`)
	if err != nil {
		return fmt.Errorf("catalog: read transforms: %w", err)
	}
	var (
		oid                 uint32
		typ, lang, from, to string
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &typ, &lang, &from, &to}, func() error {
		name := "TRANSFORM FOR " + typ + " LANGUAGE " + schema.Ident(lang)
		var fns []string
		if from != "" {
			fns = append(fns, "FROM SQL WITH FUNCTION "+from)
		}
		if to != "" {
			fns = append(fns, "TO SQL WITH FUNCTION "+to)
		}
		add(&schema.Object{
			Ref:    schema.Ref{Class: schema.ClassPgTransform, OID: oid},
			Kind:   schema.KindTransform,
			Name:   name,
			Create: "CREATE " + name + " (" + strings.Join(fns, ", ") + ");",
			Drop:   "DROP " + name + ";",
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read transforms: %w", err)
	}
	return nil
}
