package catalog

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgark/pgark/schema"
)

// policyCommands are CREATE POLICY's FOR clauses by polcmd ('*': ALL, the
// default, left out as pg_dump does).
var policyCommands = map[string]string{"r": " FOR SELECT", "a": " FOR INSERT", "w": " FOR UPDATE", "d": " FOR DELETE"}

// loadPolicies reads row level security policies (CREATE POLICY, in
// pg_dump's form: AS RESTRICTIVE, FOR, TO, USING, WITH CHECK), and their
// comments. A policy for PUBLIC (polroles {0}, which no role has) has no
// TO. Row level security itself (ENABLE, a ROW SECURITY object, and FORCE,
// in the table's definition) is relations's. A policy has no owner of its
// own: it is its table's.
func loadPolicies(ctx context.Context, q Querier, _ *features, add func(*schema.Object)) error {
	rows, err := q.Query(ctx, `SELECT p.oid, p.polrelid, n.nspname, c.relname, pg_catalog.pg_get_userbyid(c.relowner),
			p.polname, p.polcmd::text, p.polpermissive,
			ARRAY(SELECT a.rolname::text FROM pg_catalog.unnest(p.polroles) WITH ORDINALITY u(role, i)
				JOIN pg_catalog.pg_roles a ON a.oid = u.role ORDER BY u.i),
			COALESCE(pg_catalog.pg_get_expr(p.polqual, p.polrelid), ''),
			COALESCE(pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid), ''), d.description
		FROM pg_catalog.pg_policy p
		JOIN pg_catalog.pg_class c ON c.oid = p.polrelid
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_catalog.pg_description d ON d.classoid = 3256 AND d.objoid = p.oid AND d.objsubid = 0
		WHERE `+userRelation(`'r', 'p'`)+`
		ORDER BY p.oid`)
	if err != nil {
		return fmt.Errorf("catalog: read policies: %w", err)
	}
	var (
		oid, rel                                  uint32
		nsp, table, owner, name, cmd, qual, check string
		permissive                                bool
		roles                                     []string
		text                                      *string
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &rel, &nsp, &table, &owner, &name, &cmd, &permissive, &roles,
		&qual, &check, &text}, func() error {
		qtable := schema.Qualified(nsp, table)
		ref := schema.Ref{Class: schema.ClassPgPolicy, OID: oid}
		var b strings.Builder
		b.WriteString("CREATE POLICY " + schema.Ident(name) + " ON " + qtable)
		if !permissive {
			b.WriteString(" AS RESTRICTIVE")
		}
		b.WriteString(policyCommands[cmd])
		for i, r := range roles {
			if i == 0 {
				b.WriteString(" TO ")
			} else {
				b.WriteString(", ")
			}
			b.WriteString(schema.Ident(r))
		}
		if qual != "" {
			b.WriteString(" USING (" + qual + ")")
		}
		if check != "" {
			b.WriteString(" WITH CHECK (" + check + ")")
		}
		b.WriteString(";")
		add(&schema.Object{
			Ref: ref, Kind: schema.KindPolicy, Schema: nsp, Name: table + " " + name, Owner: owner,
			Create: b.String(),
			Drop:   "DROP POLICY " + schema.Ident(name) + " ON " + qtable + ";",
			Deps:   []schema.Ref{{Class: schema.ClassPgClass, OID: rel}},
		})
		if text != nil {
			add(comment(ref, nsp, owner, "POLICY "+schema.Ident(name)+" ON "+qtable, "POLICY "+name+" ON "+table, *text))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read policies: %w", err)
	}
	return nil
}
