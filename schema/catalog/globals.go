package catalog

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgark/pgark/schema"
)

// bootstrapSuperuser is the OID of the role initdb creates
// (BOOTSTRAP_SUPERUSERID): it may grant any role, and it owns parameters.
const bootstrapSuperuser = 10

// GlobalsOptions choose what LoadGlobals reads, as pg_dumpall's flags do.
type GlobalsOptions struct {
	// NoRoles leaves out roles, their memberships, their settings and the
	// privileges on parameters (pg_dumpall --tablespaces-only).
	NoRoles bool
	// NoTablespaces leaves out tablespaces (--roles-only, --no-tablespaces).
	NoTablespaces bool
	// NoRolePasswords reads pg_roles instead of pg_authid, which a role
	// that is not a superuser may read, and dumps no password.
	NoRolePasswords bool
	// NoSecurityLabels leaves out the security labels on roles and
	// tablespaces.
	NoSecurityLabels bool
}

// LoadGlobals reads the cluster's globals, as pg_dumpall --globals-only
// writes them and in its order: roles (CREATE ROLE, then ALTER ROLE with
// every attribute and the password, then the comment), the memberships of
// each role, each role's settings, the privileges on parameters
// (PostgreSQL 15+), and tablespaces with their options, privileges and
// comments. The objects come numbered 1, 2, 3... with their dependencies
// resolved (DepIDs), ready to be written as they are: roles whose names
// begin with pg_ and the built-in tablespaces are left out, as pg_dumpall
// leaves them out.
func LoadGlobals(ctx context.Context, q Querier, opts GlobalsOptions) ([]*schema.Object, error) {
	var version int
	if err := q.QueryRow(ctx, `SELECT pg_catalog.current_setting('server_version_num')::int`).Scan(&version); err != nil {
		return nil, fmt.Errorf("catalog: read server version: %w", err)
	}
	g := &globals{q: q, version: version, opts: opts, byRef: map[schema.Ref]*schema.Object{}}
	if !opts.NoRoles {
		for _, load := range []func(context.Context) error{g.loadRoles, g.memberships, g.roleSettings, g.parameterACLs} {
			if err := load(ctx); err != nil {
				return nil, err
			}
		}
	}
	if !opts.NoTablespaces {
		if err := g.tablespaces(ctx); err != nil {
			return nil, err
		}
	}
	if !opts.NoSecurityLabels {
		if err := g.sharedLabels(ctx); err != nil {
			return nil, err
		}
	}
	return g.objs, nil
}

// sharedLabels adds the security labels (pg_shseclabel) on the roles and
// tablespaces loaded, as pg_dumpall writes them after each object. No
// label provider comes with PostgreSQL: without one there are none.
func (g *globals) sharedLabels(ctx context.Context) error {
	rows, err := g.q.Query(ctx, `SELECT l.classoid, l.objoid, l.provider, l.label FROM pg_catalog.pg_shseclabel l
		WHERE l.classoid IN (1260, 1213) ORDER BY l.classoid, l.objoid, l.provider`)
	if err != nil {
		return fmt.Errorf("catalog: read security labels: %w", err)
	}
	var labels []*schema.Object
	var class, oid uint32
	var provider, label string
	_, err = pgx.ForEachRow(rows, []any{&class, &oid, &provider, &label}, func() error {
		if o := sharedLabel(g.byRef, class, oid, provider, label); o != nil {
			labels = append(labels, o)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read security labels: %w", err)
	}
	for _, o := range labels {
		g.add(o)
	}
	return nil
}

// sharedLabel is the SECURITY LABEL object for a label on a role (class
// 1260, pg_authid) or tablespace (1213) among objs, nil for one on an
// object not dumped.
func sharedLabel(objs map[schema.Ref]*schema.Object, class, oid uint32, provider, label string) *schema.Object {
	ref := schema.Ref{Class: schema.ClassPgAuthID, OID: oid}
	typ := "role"
	if class == 1213 {
		ref, typ = schema.Ref{Class: schema.ClassPgTablespace, OID: oid}, "tablespace"
	}
	o := objs[ref]
	if o == nil {
		return nil
	}
	return &schema.Object{Ref: ref, Kind: schema.KindSecLabel, Name: strings.ToUpper(typ) + " " + o.Name, Owner: o.Owner,
		Create: secLabelSQL(provider, typ, schema.Ident(o.Name), label), Deps: []schema.Ref{ref}}
}

// globals collects the objects of LoadGlobals or LoadDatabase in order.
type globals struct {
	q       Querier
	version int
	opts    GlobalsOptions
	objs    []*schema.Object
	byRef   map[schema.Ref]*schema.Object // roles, tablespaces and databases by identity
	roles   map[string]*schema.Object     // ROLE objects by name
}

// add numbers o and resolves its dependencies on objects already added.
func (g *globals) add(o *schema.Object) {
	o.ID = len(g.objs) + 1
	for _, d := range o.Deps {
		if dep := g.byRef[d]; dep != nil && dep != o && !slices.Contains(o.DepIDs, dep.ID) {
			o.DepIDs = append(o.DepIDs, dep.ID)
		}
	}
	if o.Kind == schema.KindRole || o.Kind == schema.KindTablespace || o.Kind == schema.KindDatabase {
		g.byRef[o.Ref] = o
	}
	g.objs = append(g.objs, o)
}

// roleCatalog is where roles are read: pg_authid has the passwords and
// needs a superuser; pg_roles shows everyone everything but them.
func (g *globals) roleCatalog() string {
	if g.opts.NoRolePasswords {
		return "pg_catalog.pg_roles"
	}
	return "pg_catalog.pg_authid"
}

// roleDep is the dependency on the role named name, if it is dumped.
func (g *globals) roleDep(name string) []schema.Ref {
	if r := g.roles[name]; r != nil {
		return []schema.Ref{r.Ref}
	}
	return nil
}

// loadRoles reads every role but the built-in pg_ ones.
func (g *globals) loadRoles(ctx context.Context) error {
	rows, err := g.q.Query(ctx, `SELECT oid, rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin,
		rolconnlimit, rolpassword, rolvaliduntil::text,
		rolreplication, rolbypassrls, pg_catalog.shobj_description(oid, 'pg_authid')
		FROM `+g.roleCatalog()+` WHERE rolname !~ '^pg_' ORDER BY rolname`)
	if err != nil {
		return fmt.Errorf("catalog: read roles: %w", err)
	}
	var (
		oid                                                   uint32
		name                                                  string
		super, inherit, createRole, createDB, login, repl, by bool
		connLimit                                             int
		password, validUntil, comment                         *string
	)
	g.roles = map[string]*schema.Object{}
	var comments []*schema.Object
	_, err = pgx.ForEachRow(rows, []any{&oid, &name, &super, &inherit, &createRole, &createDB, &login, &connLimit,
		&password, &validUntil, &repl, &by, &comment}, func() error {
		id := schema.Ident(name)
		var b strings.Builder
		b.WriteString("CREATE ROLE " + id + ";\nALTER ROLE " + id + " WITH")
		for _, a := range []struct {
			on   bool
			word string
		}{{super, "SUPERUSER"}, {inherit, "INHERIT"}, {createRole, "CREATEROLE"}, {createDB, "CREATEDB"},
			{login, "LOGIN"}, {repl, "REPLICATION"}, {by, "BYPASSRLS"}} {
			if a.on {
				b.WriteString(" " + a.word)
			} else {
				b.WriteString(" NO" + a.word)
			}
		}
		if connLimit != -1 {
			fmt.Fprintf(&b, " CONNECTION LIMIT %d", connLimit)
		}
		if validUntil != nil {
			b.WriteString(" VALID UNTIL " + schema.Literal(*validUntil))
		}
		b.WriteString(";")
		// The password goes on a line of its own, never the first line
		// of what a restore runs, which is what messages quote.
		if password != nil && !g.opts.NoRolePasswords {
			b.WriteString("\nALTER ROLE " + id + " WITH PASSWORD " + schema.Literal(*password) + ";")
		}
		r := &schema.Object{
			Ref:    schema.Ref{Class: schema.ClassPgAuthID, OID: oid},
			Kind:   schema.KindRole,
			Name:   name,
			Create: b.String(),
			Drop:   "DROP ROLE " + id + ";",
		}
		g.roles[name] = r
		g.add(r)
		if comment != nil {
			comments = append(comments, &schema.Object{
				Ref:    r.Ref,
				Kind:   schema.KindComment,
				Name:   "ROLE " + name,
				Create: "COMMENT ON ROLE " + id + " IS " + schema.Literal(*comment) + ";",
				Deps:   []schema.Ref{r.Ref},
			})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read roles: %w", err)
	}
	for _, c := range comments {
		g.add(c)
	}
	return nil
}

// membership is one row of pg_auth_members.
type membership struct {
	role, member, grantor string
	grantorID             uint32
	admin, inherit, set   bool
}

// memberships reads the grants of roles to roles, one object per granted
// role, in the order pg_dumpall 16 writes them: a grant whose grantor is
// not the bootstrap superuser waits until the grantor has been given
// ADMIN OPTION on the role. PostgreSQL 16 and later record the grantor and
// the INHERIT and SET options, which the grants then name (GRANTED BY);
// older servers have only ADMIN OPTION, and their grantors are not
// dumped, as pg_dumpall does not dump them.
func (g *globals) memberships(ctx context.Context) error {
	options := "true, true"
	if g.version >= 160000 {
		options = "a.inherit_option, a.set_option"
	}
	cat := g.roleCatalog()
	rows, err := g.q.Query(ctx, `SELECT ur.rolname, um.rolname, a.grantor, COALESCE(ug.rolname, ''), a.admin_option, `+options+`
		FROM pg_catalog.pg_auth_members a
		JOIN `+cat+` ur ON ur.oid = a.roleid
		JOIN `+cat+` um ON um.oid = a.member
		LEFT JOIN `+cat+` ug ON ug.oid = a.grantor
		WHERE NOT (ur.rolname ~ '^pg_' AND um.rolname ~ '^pg_')
		ORDER BY 1, 2, 4`)
	if err != nil {
		return fmt.Errorf("catalog: read role memberships: %w", err)
	}
	var all []membership
	var m membership
	_, err = pgx.ForEachRow(rows, []any{&m.role, &m.member, &m.grantorID, &m.grantor, &m.admin, &m.inherit, &m.set}, func() error {
		all = append(all, m)
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read role memberships: %w", err)
	}
	grantors := g.version >= 160000
	for start := 0; start < len(all); {
		end := start
		for end < len(all) && all[end].role == all[start].role {
			end++
		}
		group := all[start:end]
		start = end
		stmts, err := orderGrants(group, grantors, g.version >= 160000)
		if err != nil {
			return err
		}
		role := group[0].role
		deps := g.roleDep(role)
		for _, m := range group {
			deps = append(deps, g.roleDep(m.member)...)
			if grantors {
				deps = append(deps, g.roleDep(m.grantor)...)
			}
		}
		g.add(&schema.Object{
			Kind:   schema.KindRoleMembership,
			Name:   role,
			Create: strings.Join(stmts, "\n"),
			Deps:   deps,
		})
	}
	return nil
}

// orderGrants renders the grants of one role (pg_dumpall's
// dumpRoleMembership): repeated passes, each writing the grants whose
// grantor may grant by then (the bootstrap superuser, or a member already
// given ADMIN OPTION), until all are written.
func orderGrants(group []membership, grantors, options bool) ([]string, error) {
	done := make([]bool, len(group))
	admins := map[string]bool{}
	var out []string
	for remaining := len(group); remaining > 0; {
		before := remaining
		for i, m := range group {
			if done[i] || (grantors && m.grantorID != bootstrapSuperuser && !admins[m.grantor]) {
				continue
			}
			done[i] = true
			remaining--
			if m.admin {
				admins[m.member] = true
			}
			var with []string
			if m.admin {
				with = append(with, "ADMIN OPTION")
			}
			if options {
				if m.inherit {
					with = append(with, "INHERIT TRUE")
				} else {
					with = append(with, "INHERIT FALSE")
				}
			}
			if !m.set {
				with = append(with, "SET FALSE")
			}
			s := "GRANT " + schema.Ident(m.role) + " TO " + schema.Ident(m.member)
			if len(with) > 0 {
				s += " WITH " + strings.Join(with, ", ")
			}
			if grantors {
				s += " GRANTED BY " + schema.Ident(m.grantor)
			}
			out = append(out, s+";")
		}
		if remaining == before {
			return nil, fmt.Errorf("catalog: could not find a legal order for the memberships in role %q", group[0].role)
		}
	}
	return out, nil
}

// roleSettings reads each role's settings in every database
// (pg_db_role_setting with no database): ALTER ROLE ... SET.
func (g *globals) roleSettings(ctx context.Context) error {
	rows, err := g.q.Query(ctx, `SELECT r.rolname, s.setconfig FROM pg_catalog.pg_db_role_setting s
		JOIN `+g.roleCatalog()+` r ON r.oid = s.setrole
		WHERE s.setdatabase = 0 AND r.rolname !~ '^pg_' ORDER BY r.rolname`)
	if err != nil {
		return fmt.Errorf("catalog: read role settings: %w", err)
	}
	var (
		role   string
		config []string
	)
	_, err = pgx.ForEachRow(rows, []any{&role, &config}, func() error {
		var b []string
		for _, c := range config {
			if s := alterConfig(c, "ROLE "+schema.Ident(role)); s != "" {
				b = append(b, s)
			}
		}
		if len(b) > 0 {
			g.add(&schema.Object{Kind: schema.KindRoleSettings, Name: role, Create: strings.Join(b, "\n"), Deps: g.roleDep(role)})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read role settings: %w", err)
	}
	return nil
}

// parameterACLs reads the privileges granted on configuration parameters
// (GRANT SET / ALTER SYSTEM ON PARAMETER, PostgreSQL 15+), owned by the
// bootstrap superuser, as ACL objects named "PARAMETER <name>".
func (g *globals) parameterACLs(ctx context.Context) error {
	if g.version < 150000 {
		return nil
	}
	rows, err := g.q.Query(ctx, `SELECT parname, pg_catalog.pg_get_userbyid(10),
		COALESCE(paracl, pg_catalog.acldefault('p', 10))::text[], pg_catalog.acldefault('p', 10)::text[]
		FROM pg_catalog.pg_parameter_acl ORDER BY 1`)
	if err != nil {
		return fmt.Errorf("catalog: read parameter privileges: %w", err)
	}
	var (
		name, owner string
		acl, def    []string
	)
	_, err = pgx.ForEachRow(rows, []any{&name, &owner, &acl, &def}, func() error {
		sql, err := schema.ACLStatements(schema.GrantTarget{Type: "PARAMETER", Name: schema.Ident(name), Owner: owner}, acl, def)
		if err != nil {
			return fmt.Errorf("parameter %q: %w", name, err)
		}
		if sql != "" {
			var deps []schema.Ref
			for _, item := range acl {
				if a, err := schema.ParseACLItem(item); err == nil {
					deps = append(deps, g.roleDep(a.Grantee)...)
					deps = append(deps, g.roleDep(a.Grantor)...)
				}
			}
			g.add(&schema.Object{Kind: schema.KindACL, Name: "PARAMETER " + name, Owner: owner, Create: sql, Deps: deps})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read parameter privileges: %w", err)
	}
	return nil
}

// tablespaces reads every tablespace but pg_default and pg_global, with
// its location (” for an in-place one), options, privileges and comment.
// The owner is given by ALTER TABLESPACE ... OWNER TO, which a restore
// writes (unless -O) from the object's Owner and Ident.
func (g *globals) tablespaces(ctx context.Context) error {
	rows, err := g.q.Query(ctx, `SELECT oid, spcname, pg_catalog.pg_get_userbyid(spcowner),
		pg_catalog.pg_tablespace_location(oid),
		COALESCE(spcacl, pg_catalog.acldefault('t', spcowner))::text[], pg_catalog.acldefault('t', spcowner)::text[],
		COALESCE(pg_catalog.array_to_string(spcoptions, ', '), ''),
		pg_catalog.shobj_description(oid, 'pg_tablespace')
		FROM pg_catalog.pg_tablespace WHERE spcname !~ '^pg_' ORDER BY oid`)
	if err != nil {
		return fmt.Errorf("catalog: read tablespaces: %w", err)
	}
	var (
		oid                            uint32
		name, owner, location, options string
		acl, def                       []string
		comment                        *string
	)
	type pending struct {
		ts       *schema.Object
		acl, def []string
		comment  *string
	}
	var list []pending
	_, err = pgx.ForEachRow(rows, []any{&oid, &name, &owner, &location, &acl, &def, &options, &comment}, func() error {
		id := schema.Ident(name)
		if !strings.HasPrefix(location, "/") {
			location = "" // an in-place tablespace (allow_in_place_tablespaces)
		}
		create := "CREATE TABLESPACE " + id + " LOCATION " + schema.Literal(location) + ";"
		if options != "" {
			create += "\nALTER TABLESPACE " + id + " SET (" + options + ");"
		}
		list = append(list, pending{ts: &schema.Object{
			Ref:    schema.Ref{Class: schema.ClassPgTablespace, OID: oid},
			Kind:   schema.KindTablespace,
			Name:   name,
			Owner:  owner,
			Ident:  "TABLESPACE " + id,
			Create: create,
			Drop:   "DROP TABLESPACE " + id + ";",
			Deps:   g.roleDep(owner),
		}, acl: acl, def: def, comment: comment})
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read tablespaces: %w", err)
	}
	for _, p := range list {
		g.add(p.ts)
		id := schema.Ident(p.ts.Name)
		sql, err := schema.ACLStatements(schema.GrantTarget{Type: "TABLESPACE", Name: id, Owner: p.ts.Owner}, p.acl, p.def)
		if err != nil {
			return fmt.Errorf("catalog: privileges of tablespace %q: %w", p.ts.Name, err)
		}
		if sql != "" {
			g.add(&schema.Object{Ref: p.ts.Ref, Kind: schema.KindACL, Name: "TABLESPACE " + p.ts.Name, Owner: p.ts.Owner,
				Create: sql, Deps: []schema.Ref{p.ts.Ref}})
		}
		if p.comment != nil {
			g.add(&schema.Object{Ref: p.ts.Ref, Kind: schema.KindComment, Name: "TABLESPACE " + p.ts.Name, Owner: p.ts.Owner,
				Create: "COMMENT ON TABLESPACE " + id + " IS " + schema.Literal(*p.comment) + ";", Deps: []schema.Ref{p.ts.Ref}})
		}
	}
	return nil
}

// LoadDatabase reads the database q is connected to as pg_dump does for
// its DATABASE entries: CREATE DATABASE with its encoding, locale provider
// and locales (from template0, so that any encoding and locale can be
// given), the owner (Owner and Ident) and tablespace (Tablespace, which a
// restore adds as TABLESPACE = unless told not to); then DATABASE
// PROPERTIES (connection limit, template flag, ALTER DATABASE ... SET),
// each role's settings in the database (ROLE SETTINGS, ALTER ROLE ... IN
// DATABASE ... SET), and its comment and privileges. The objects come
// numbered 1, 2, 3..., the DATABASE first.
func LoadDatabase(ctx context.Context, q Querier) ([]*schema.Object, error) {
	var version int
	if err := q.QueryRow(ctx, `SELECT pg_catalog.current_setting('server_version_num')::int`).Scan(&version); err != nil {
		return nil, fmt.Errorf("catalog: read server version: %w", err)
	}
	// The locale columns, by version: the provider from 15, ICU rules
	// from 16, datlocale (ICU or builtin) from 17.
	provider, locale, rules := "''", "NULL::text", "NULL::text"
	switch {
	case version >= 170000:
		provider, locale, rules = "d.datlocprovider::text", "d.datlocale", "d.daticurules"
	case version >= 160000:
		provider, locale, rules = "d.datlocprovider::text", "d.daticulocale", "d.daticurules"
	case version >= 150000:
		provider, locale = "d.datlocprovider::text", "d.daticulocale"
	}
	var (
		oid                                             uint32
		name, owner, encoding, collate, ctype, prov, ts string
		icuLocale, icuRules, comment                    *string
		connLimit                                       int
		isTemplate                                      bool
		acl, def                                        []string
	)
	err := q.QueryRow(ctx, `SELECT d.oid, d.datname, pg_catalog.pg_get_userbyid(d.datdba),
		pg_catalog.pg_encoding_to_char(d.encoding), d.datcollate, d.datctype, `+provider+`, `+locale+`, `+rules+`,
		d.datconnlimit, d.datistemplate, t.spcname,
		COALESCE(d.datacl, pg_catalog.acldefault('d', d.datdba))::text[], pg_catalog.acldefault('d', d.datdba)::text[],
		pg_catalog.shobj_description(d.oid, 'pg_database')
		FROM pg_catalog.pg_database d JOIN pg_catalog.pg_tablespace t ON t.oid = d.dattablespace
		WHERE d.datname = pg_catalog.current_database()`).Scan(&oid, &name, &owner, &encoding, &collate, &ctype, &prov,
		&icuLocale, &icuRules, &connLimit, &isTemplate, &ts, &acl, &def, &comment)
	if err != nil {
		return nil, fmt.Errorf("catalog: read database properties: %w", err)
	}
	id := schema.Ident(name)
	ref := schema.Ref{Class: schema.ClassPgDatabase, OID: oid}
	g := &globals{q: q, version: version, byRef: map[schema.Ref]*schema.Object{}}

	create := "CREATE DATABASE " + id + " WITH TEMPLATE = template0 ENCODING = " + schema.Literal(encoding)
	switch prov {
	case "c":
		create += " LOCALE_PROVIDER = libc"
	case "i":
		create += " LOCALE_PROVIDER = icu"
	case "b":
		create += " LOCALE_PROVIDER = builtin"
	}
	if collate == ctype {
		create += " LOCALE = " + schema.Literal(collate)
	} else {
		create += " LC_COLLATE = " + schema.Literal(collate) + " LC_CTYPE = " + schema.Literal(ctype)
	}
	if icuLocale != nil {
		if prov == "b" {
			create += " BUILTIN_LOCALE = " + schema.Literal(*icuLocale)
		} else {
			create += " ICU_LOCALE = " + schema.Literal(*icuLocale)
		}
	}
	if icuRules != nil {
		create += " ICU_RULES = " + schema.Literal(*icuRules)
	}
	db := &schema.Object{
		Ref:    ref,
		Kind:   schema.KindDatabase,
		Name:   name,
		Owner:  owner,
		Ident:  "DATABASE " + id,
		Create: create + ";",
		Drop:   "DROP DATABASE " + id + ";",
	}
	if ts != "pg_default" {
		db.Tablespace = ts
	}
	g.add(db)

	settings, err := g.databaseSettings(ctx, oid)
	if err != nil {
		return nil, err
	}
	var props []string
	if connLimit != -1 {
		props = append(props, fmt.Sprintf("ALTER DATABASE %s CONNECTION LIMIT = %d;", id, connLimit))
	}
	if isTemplate {
		props = append(props, "ALTER DATABASE "+id+" IS_TEMPLATE = true;")
	}
	for _, s := range settings[""] {
		if sql := alterConfig(s, "DATABASE "+id); sql != "" {
			props = append(props, sql)
		}
	}
	if len(props) > 0 {
		g.add(&schema.Object{Ref: ref, Kind: schema.KindDatabaseProperties, Name: name, Owner: owner,
			Create: strings.Join(props, "\n"), Deps: []schema.Ref{ref}})
	}
	for _, role := range settings.roles() {
		var b []string
		for _, s := range settings[role] {
			if sql := alterConfig(s, "ROLE "+schema.Ident(role)+" IN DATABASE "+id); sql != "" {
				b = append(b, sql)
			}
		}
		if len(b) > 0 {
			g.add(&schema.Object{Ref: ref, Kind: schema.KindRoleSettings, Name: role, Create: strings.Join(b, "\n"), Deps: []schema.Ref{ref}})
		}
	}
	if comment != nil {
		g.add(&schema.Object{Ref: ref, Kind: schema.KindComment, Name: "DATABASE " + name, Owner: owner,
			Create: "COMMENT ON DATABASE " + id + " IS " + schema.Literal(*comment) + ";", Deps: []schema.Ref{ref}})
	}
	sql, err := schema.ACLStatements(schema.GrantTarget{Type: "DATABASE", Name: id, Owner: owner}, acl, def)
	if err != nil {
		return nil, fmt.Errorf("catalog: privileges of database %q: %w", name, err)
	}
	if sql != "" {
		g.add(&schema.Object{Ref: ref, Kind: schema.KindACL, Name: "DATABASE " + name, Owner: owner, Create: sql, Deps: []schema.Ref{ref}})
	}
	return g.objs, nil
}

// dbSettings are a database's settings: key "" for the database's own,
// else a role's in the database; each "name=value" as setconfig holds it.
type dbSettings map[string][]string

// roles lists the roles with settings, in name order.
func (s dbSettings) roles() []string {
	var out []string
	for r := range s {
		if r != "" {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return out
}

// databaseSettings reads pg_db_role_setting for database oid.
func (g *globals) databaseSettings(ctx context.Context, oid uint32) (dbSettings, error) {
	rows, err := g.q.Query(ctx, `SELECT COALESCE(r.rolname, ''), s.setconfig FROM pg_catalog.pg_db_role_setting s
		LEFT JOIN pg_catalog.pg_roles r ON r.oid = s.setrole
		WHERE s.setdatabase = $1 AND (s.setrole = 0 OR r.oid IS NOT NULL)`, oid)
	if err != nil {
		return nil, fmt.Errorf("catalog: read database settings: %w", err)
	}
	out := dbSettings{}
	var (
		role   string
		config []string
	)
	_, err = pgx.ForEachRow(rows, []any{&role, &config}, func() error {
		out[role] = append(out[role], config...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: read database settings: %w", err)
	}
	return out, nil
}

// listQuoteSettings are the settings whose values the server stores as a
// list of double-quoted elements (GUC_LIST_QUOTE), pg_dump's
// variable_is_guc_list_quote.
var listQuoteSettings = map[string]bool{
	"local_preload_libraries": true, "search_path": true, "session_preload_libraries": true,
	"shared_preload_libraries": true, "temp_tablespaces": true, "unix_socket_directories": true,
}

// alterConfig renders one "name=value" of a setconfig array as
// ALTER <target> SET "name" TO value; as pg_dump's makeAlterConfigCommand
// does: a list setting's elements each as a literal, any other value as
// one literal. It returns "" for an item without "=".
func alterConfig(item, target string) string {
	name, value, ok := strings.Cut(item, "=")
	if !ok {
		return ""
	}
	sql := "ALTER " + target + " SET " + schema.Ident(name) + " TO "
	if !listQuoteSettings[strings.ToLower(name)] {
		return sql + schema.Literal(value) + ";"
	}
	elems := splitGUCList(value)
	for i, e := range elems {
		elems[i] = schema.Literal(e)
	}
	return sql + strings.Join(elems, ", ") + ";"
}

// splitGUCList splits a list setting's value as the server wrote it
// (flatten_set_variable_args): elements separated by commas, each either
// bare or double-quoted with "" for a quote, white space around them
// ignored (SplitGUCList in pg_dump's dumputils.c). An empty value is an
// empty list.
func splitGUCList(s string) []string {
	var out []string
	i := 0
	skip := func() {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			i++
		}
	}
	skip()
	if i == len(s) {
		return nil
	}
	for {
		var b strings.Builder
		if i < len(s) && s[i] == '"' {
			for i++; i < len(s); i++ {
				if s[i] == '"' {
					if i+1 < len(s) && s[i+1] == '"' {
						b.WriteByte('"')
						i++
						continue
					}
					i++
					break
				}
				b.WriteByte(s[i])
			}
		} else {
			for i < len(s) && s[i] != ',' && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r' {
				b.WriteByte(s[i])
				i++
			}
		}
		out = append(out, b.String())
		skip()
		if i >= len(s) || s[i] != ',' {
			return out
		}
		i++
		skip()
	}
}
