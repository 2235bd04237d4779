package catalog

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgark/pgark/schema"
)

// comment makes the COMMENT object of the object whose Ref is target:
// what is how COMMENT ON names it ("RULE "r" ON "s"."t""), tag the
// pg_dump-like name of the entry ("RULE r ON t").
func comment(target schema.Ref, nsp, owner, what, tag, text string) *schema.Object {
	return &schema.Object{
		Ref:    target,
		Kind:   schema.KindComment,
		Schema: nsp,
		Name:   tag,
		Owner:  owner,
		Create: "COMMENT ON " + what + " IS " + schema.Literal(text) + ";",
		Deps:   []schema.Ref{target},
	}
}

// ruleState renders the ALTER TABLE that sets a rule's firing state
// (ev_enabled), "" for the default ('O').
func ruleState(table, rule string, enabled byte) string {
	how := map[byte]string{'D': "DISABLE", 'R': "ENABLE REPLICA", 'A': "ENABLE ALWAYS"}[enabled]
	if how == "" {
		return ""
	}
	return "ALTER TABLE " + table + " " + how + " RULE " + schema.Ident(rule) + ";"
}

// loadRules reads the rewrite rules of tables and views (CREATE RULE, as
// pg_get_ruledef renders them), but the _RETURN rules of views, which are
// their definitions, each followed by the ALTER TABLE that disables it or
// sets it to fire on replicas or always, and their comments. A rule has
// no owner of its own: it is its table's.
func loadRules(ctx context.Context, q Querier, _ *features, add func(*schema.Object)) error {
	rows, err := q.Query(ctx, `SELECT r.oid, r.ev_class, n.nspname, c.relname, pg_catalog.pg_get_userbyid(c.relowner),
			r.rulename, r.ev_enabled::text, pg_catalog.pg_get_ruledef(r.oid), d.description
		FROM pg_catalog.pg_rewrite r
		JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_catalog.pg_description d ON d.classoid = 2618 AND d.objoid = r.oid AND d.objsubid = 0
		WHERE r.rulename <> '_RETURN' AND `+userRelation(`'r', 'p', 'v', 'm'`)+`
		ORDER BY r.oid`)
	if err != nil {
		return fmt.Errorf("catalog: read rules: %w", err)
	}
	var (
		oid, rel                              uint32
		nsp, table, owner, name, enabled, def string
		text                                  *string
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &rel, &nsp, &table, &owner, &name, &enabled, &def, &text}, func() error {
		qtable := schema.Qualified(nsp, table)
		ref := schema.Ref{Class: schema.ClassPgRewrite, OID: oid}
		create := strings.TrimRight(def, " \n")
		if !strings.HasSuffix(create, ";") {
			return fmt.Errorf("rule %s on %s.%s: unexpected pg_get_ruledef output %.40q", name, nsp, table, def)
		}
		if s := ruleState(qtable, name, enabled[0]); s != "" {
			create += "\n" + s
		}
		add(&schema.Object{
			Ref: ref, Kind: schema.KindRule, Schema: nsp, Name: table + " " + name, Owner: owner,
			Create: create,
			Drop:   "DROP RULE " + schema.Ident(name) + " ON " + qtable + ";",
			Deps:   []schema.Ref{{Class: schema.ClassPgClass, OID: rel}},
		})
		if text != nil {
			add(comment(ref, nsp, owner, "RULE "+schema.Ident(name)+" ON "+qtable, "RULE "+name+" ON "+table, *text))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read rules: %w", err)
	}
	return nil
}
