package catalog

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgark/pgark/schema"
)

// Event triggers and default privileges.

// loadEventTriggers reads event triggers, with their tags and firing
// state (ALTER EVENT TRIGGER ... DISABLE, ENABLE REPLICA or ENABLE ALWAYS
// when not simply enabled), as pg_dump renders them.
func loadEventTriggers(ctx context.Context, q Querier, _ *features, add func(*schema.Object)) error {
	rows, err := q.Query(ctx, `SELECT e.oid, e.evtname, pg_catalog.pg_get_userbyid(e.evtowner), e.evtevent,
			COALESCE(e.evttags, '{}'), `+qualifiedProc("e.evtfoid")+`, e.evtenabled::text
		FROM pg_catalog.pg_event_trigger e
		WHERE `+notExtensionMember(schema.ClassPgEventTrigger, "e.oid")+`
		ORDER BY e.evtname`)
	if err != nil {
		return fmt.Errorf("catalog: read event triggers: %w", err)
	}
	var (
		oid                             uint32
		name, owner, event, fn, enabled string
		tags                            []string
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &name, &owner, &event, &tags, &fn, &enabled}, func() error {
		add(&schema.Object{
			Ref:    schema.Ref{Class: schema.ClassPgEventTrigger, OID: oid},
			Kind:   schema.KindEventTrigger,
			Name:   name,
			Owner:  owner,
			Ident:  "EVENT TRIGGER " + schema.Ident(name),
			Create: eventTriggerSQL(name, event, fn, enabled, tags),
			Drop:   "DROP EVENT TRIGGER " + schema.Ident(name) + ";",
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read event triggers: %w", err)
	}
	return nil
}

// eventTriggerSQL renders CREATE EVENT TRIGGER and, unless enabled is 'O'
// (enabled in origin and local mode, the default), the ALTER that sets its
// firing state.
func eventTriggerSQL(name, event, fn, enabled string, tags []string) string {
	qname := schema.Ident(name)
	sql := "CREATE EVENT TRIGGER " + qname + " ON " + schema.Ident(event)
	if len(tags) > 0 {
		lits := make([]string, len(tags))
		for i, t := range tags {
			lits[i] = schema.Literal(t)
		}
		sql += "\n         WHEN TAG IN (" + strings.Join(lits, ", ") + ")"
	}
	sql += "\n   EXECUTE FUNCTION " + fn + "();"
	if how := map[string]string{"D": "DISABLE", "R": "ENABLE REPLICA", "A": "ENABLE ALWAYS"}[enabled]; how != "" {
		sql += "\nALTER EVENT TRIGGER " + qname + " " + how + ";"
	}
	return sql
}

// defaultACLTypes maps pg_default_acl's defaclobjtype to acldefault()'s
// type letter, GRANT's object type (for the privilege names) and ALTER
// DEFAULT PRIVILEGES' plural.
var defaultACLTypes = map[string]struct{ aclType, grantType, plural string }{
	"r": {"r", "TABLE", "TABLES"},
	"S": {"s", "SEQUENCE", "SEQUENCES"},
	"f": {"f", "FUNCTION", "FUNCTIONS"},
	"T": {"T", "TYPE", "TYPES"},
	"n": {"n", "SCHEMA", "SCHEMAS"},
	"L": {"L", "LARGE OBJECT", "LARGE OBJECTS"},
}

// defaultACLSQL renders the ALTER DEFAULT PRIVILEGES statements that take
// role's defaults for objects of objType (a defaclobjtype) in nsp ("" for
// every schema) from base to acl, as pg_dump's buildDefaultACLCommands
// does: the GRANT and REVOKE of schema.ACLStatements, "ON TABLES" and the
// like with no object name.
func defaultACLSQL(role, nsp, objType string, acl, base []string, maintain bool) (string, error) {
	t, ok := defaultACLTypes[objType]
	if !ok {
		return "", fmt.Errorf("unknown default privileges object type %q", objType)
	}
	stmts, err := schema.ACLStatements(schema.GrantTarget{Type: t.grantType, Owner: role, Maintain: maintain}, acl, base)
	if err != nil || stmts == "" {
		return "", err
	}
	prefix := "ALTER DEFAULT PRIVILEGES FOR ROLE " + schema.Ident(role)
	if nsp != "" {
		prefix += " IN SCHEMA " + schema.Ident(nsp)
	}
	lines := strings.Split(stmts, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, "GRANT ") && !strings.HasPrefix(l, "REVOKE ") {
			return "", fmt.Errorf("unexpected statement in default privileges: %q", l)
		}
		l = strings.Replace(l, " ON "+t.grantType+"  ", " ON "+t.plural+"  ", 1)
		lines[i] = prefix + " " + l
	}
	return strings.Join(lines, "\n"), nil
}

// loadDefaultACLs reads default privileges (pg_default_acl): for a role in
// all schemas, the change from the built-in defaults (acldefault), revokes
// included; in one schema, the privileges it adds. Name is pg_dump's tag,
// "DEFAULT PRIVILEGES FOR TABLES"; Owner is the role. They are in no
// section and sort after everything they could give privileges to.
func loadDefaultACLs(ctx context.Context, q Querier, f *features, add func(*schema.Object)) error {
	rows, err := q.Query(ctx, `SELECT d.oid, pg_catalog.pg_get_userbyid(d.defaclrole), COALESCE(n.nspname, ''),
			d.defaclobjtype::text, d.defaclacl::text[],
			CASE WHEN d.defaclnamespace = 0 THEN pg_catalog.acldefault(
				CASE d.defaclobjtype WHEN 'S' THEN 's' ELSE d.defaclobjtype END, d.defaclrole)::text[]
			ELSE '{}'::text[] END
		FROM pg_catalog.pg_default_acl d LEFT JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace
		ORDER BY 2, 3, 4`)
	if err != nil {
		return fmt.Errorf("catalog: read default privileges: %w", err)
	}
	var (
		oid                uint32
		role, nsp, objType string
		acl, base          []string
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &role, &nsp, &objType, &acl, &base}, func() error {
		sql, err := defaultACLSQL(role, nsp, objType, acl, base, f.hasMaintainPrivilege())
		if err != nil {
			return fmt.Errorf("default privileges of %s: %w", role, err)
		}
		if sql == "" {
			return nil
		}
		add(&schema.Object{
			Ref:    schema.Ref{Class: schema.ClassPgDefaultACL, OID: oid},
			Kind:   schema.KindDefaultACL,
			Schema: nsp,
			Name:   "DEFAULT PRIVILEGES FOR " + defaultACLTypes[objType].plural,
			Owner:  role,
			Create: sql,
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read default privileges: %w", err)
	}
	return nil
}
