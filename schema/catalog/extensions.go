package catalog

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgark/pgark/schema"
)

// firstNormalOID is PostgreSQL's FirstNormalObjectId: objects with smaller
// OIDs were made by initdb (plpgsql, the built-in casts and languages...),
// and pg_dump never dumps them.
const firstNormalOID = 16384

// ParseExtensionPattern compiles an -e/--extension pattern. Extension
// names are not qualified: any dot outside quotes is an error, worded as
// pg_dump's.
func ParseExtensionPattern(s string) (schema.NamePattern, error) {
	p, err := schema.ParseRelationPattern(s)
	if err != nil || p.Schema != "" {
		return schema.NamePattern{}, fmt.Errorf("improper qualified name (too many dotted names): %s", s)
	}
	return p, nil
}

// loadExtensions reads the extensions made after initdb (plpgsql, which
// initdb installs, is left out as pg_dump leaves it out): CREATE EXTENSION
// IF NOT EXISTS with the schema and version the catalog holds. Their member
// objects are not dumped by any loader (notExtensionMember) but come with
// CREATE EXTENSION; the rows of their configuration tables
// (pg_extension_config_dump: extconfig, with extcondition's filter) are
// dumped as TABLE DATA that follows the extension, as pg_dump does. The
// values of configuration sequences are not dumped.
func loadExtensions(ctx context.Context, q Querier, _ *features, add func(*schema.Object)) error {
	rows, err := q.Query(ctx, `SELECT x.oid, x.extname, n.nspname, x.extversion
		FROM pg_catalog.pg_extension x JOIN pg_catalog.pg_namespace n ON n.oid = x.extnamespace
		WHERE x.oid >= `+fmt.Sprint(firstNormalOID)+`
		ORDER BY x.extname`)
	if err != nil {
		return fmt.Errorf("catalog: read extensions: %w", err)
	}
	var (
		oid                uint32
		name, nsp, version string
		extByOID           = map[uint32]*schema.Object{}
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &name, &nsp, &version}, func() error {
		o := &schema.Object{
			Ref:    schema.Ref{Class: schema.ClassPgExtension, OID: oid},
			Kind:   schema.KindExtension,
			Name:   name,
			Create: extensionSQL(name, nsp, version),
			Drop:   "DROP EXTENSION " + schema.Ident(name) + ";",
		}
		add(o)
		extByOID[oid] = o
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read extensions: %w", err)
	}
	if len(extByOID) == 0 {
		return nil
	}
	return loadExtensionConfigData(ctx, q, extByOID, add)
}

// extensionSQL is an extension's CREATE EXTENSION.
func extensionSQL(name, nsp, version string) string {
	return "CREATE EXTENSION IF NOT EXISTS " + schema.Ident(name) + " WITH SCHEMA " + schema.Ident(nsp) +
		" VERSION " + schema.Literal(version) + ";"
}

// loadExtensionConfigData adds a TABLE DATA object for each configuration
// table of the extensions read: the rows its condition keeps (extcondition,
// "WHERE ..." or empty for all), of every column but generated ones.
func loadExtensionConfigData(ctx context.Context, q Querier, exts map[uint32]*schema.Object, add func(*schema.Object)) error {
	rows, err := q.Query(ctx, `SELECT x.oid, c.oid, n.nspname, c.relname, pg_catalog.pg_get_userbyid(c.relowner),
			COALESCE(x.extcondition[i.ord], ''), c.relpages::int8, c.reltuples::float8,
			ARRAY(SELECT pg_catalog.quote_ident(a.attname) FROM pg_catalog.pg_attribute a
				WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
				ORDER BY a.attnum),
			ARRAY(SELECT a.atttypid FROM pg_catalog.pg_attribute a
				WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
				ORDER BY a.attnum)
		FROM pg_catalog.pg_extension x,
			LATERAL pg_catalog.unnest(x.extconfig) WITH ORDINALITY AS i(rel, ord)
		JOIN pg_catalog.pg_class c ON c.oid = i.rel
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'r'
		ORDER BY n.nspname, c.relname`)
	if err != nil {
		return fmt.Errorf("catalog: read extension configuration tables: %w", err)
	}
	var (
		ext, rel               uint32
		nsp, name, owner, cond string
		pages                  int64
		tuples                 float64
		cols                   []string
		types                  []uint32
	)
	_, err = pgx.ForEachRow(rows, []any{&ext, &rel, &nsp, &name, &owner, &cond, &pages, &tuples, &cols, &types}, func() error {
		x := exts[ext]
		if x == nil {
			return nil // a built-in extension's
		}
		ref := schema.Ref{Class: schema.ClassPgClass, OID: rel}
		add(&schema.Object{
			Ref:    ref,
			Kind:   schema.KindTableData,
			Schema: nsp,
			Name:   name,
			Owner:  owner,
			Data: &schema.TableData{
				Table: ref, Relation: schema.Qualified(nsp, name), Columns: cols, Types: types,
				Where: configCondition(cond), Pages: pages, Tuples: tuples,
			},
			Deps: []schema.Ref{x.Ref},
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read extension configuration tables: %w", err)
	}
	return nil
}

// configCondition turns an extcondition ("WHERE NOT standard", or "" for
// every row) into a TableData.Where (the bare condition).
func configCondition(cond string) string {
	c := strings.TrimSpace(cond)
	if len(c) >= 5 && strings.EqualFold(c[:5], "WHERE") && (len(c) == 5 || strings.ContainsRune(" \t\r\n(", rune(c[5]))) {
		c = strings.TrimSpace(c[5:])
	}
	return c
}

// extensionOf is the extension a TABLE DATA object of a configuration
// table follows, if it is one.
func extensionOf(o *schema.Object) (schema.Ref, bool) {
	if o.Kind == schema.KindTableData && len(o.Deps) > 0 && o.Deps[0].Class == schema.ClassPgExtension {
		return o.Deps[0], true
	}
	return schema.Ref{}, false
}
