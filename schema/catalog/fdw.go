package catalog

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgark/pgark/schema"
)

// Foreign data wrappers, servers, user mappings and foreign tables.

// genericOptions is the SQL of an options array (fdwoptions, srvoptions,
// umoptions, ftoptions, attfdwoptions) as a text array of "name 'value'"
// items, quoted as OPTIONS (...) takes them.
func genericOptions(expr string) string {
	return `ARRAY(SELECT pg_catalog.quote_ident(o.option_name) || ' ' || pg_catalog.quote_literal(o.option_value)
		FROM pg_catalog.pg_options_to_table(` + expr + `) o)`
}

// optionsClause renders OPTIONS (...) as pg_dump does, one option a line,
// or "" for none.
func optionsClause(items []string) string {
	if len(items) == 0 {
		return ""
	}
	return " OPTIONS (\n    " + strings.Join(items, ",\n    ") + "\n)"
}

// loadFDWs reads foreign data wrappers with their handler, validator and
// options. pg_dump leaves out those of extensions, as this does.
func loadFDWs(ctx context.Context, q Querier, _ *features, add func(*schema.Object)) error {
	rows, err := q.Query(ctx, `SELECT w.oid, w.fdwname, pg_catalog.pg_get_userbyid(w.fdwowner),
			`+qualifiedProc("w.fdwhandler")+`, `+qualifiedProc("w.fdwvalidator")+`, `+genericOptions("w.fdwoptions")+`
		FROM pg_catalog.pg_foreign_data_wrapper w
		WHERE `+notExtensionMember(schema.ClassPgFDW, "w.oid")+`
		ORDER BY w.fdwname`)
	if err != nil {
		return fmt.Errorf("catalog: read foreign data wrappers: %w", err)
	}
	var (
		oid                             uint32
		name, owner, handler, validator string
		opts                            []string
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &name, &owner, &handler, &validator, &opts}, func() error {
		sql := "CREATE FOREIGN DATA WRAPPER " + schema.Ident(name)
		if handler != "" {
			sql += " HANDLER " + handler
		}
		if validator != "" {
			sql += " VALIDATOR " + validator
		}
		add(&schema.Object{
			Ref:    schema.Ref{Class: schema.ClassPgFDW, OID: oid},
			Kind:   schema.KindFDW,
			Name:   name,
			Owner:  owner,
			Ident:  "FOREIGN DATA WRAPPER " + schema.Ident(name),
			Create: sql + optionsClause(opts) + ";",
			Drop:   "DROP FOREIGN DATA WRAPPER " + schema.Ident(name) + ";",
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read foreign data wrappers: %w", err)
	}
	return nil
}

// loadServers reads foreign servers (type, version, wrapper, options) and
// their user mappings, whose options (a password, say) are dumped as
// pg_dump dumps them: they are the database's, and the dump is as secret
// as its data. User mappings need a superuser to read every option, as
// pg_dump does.
func loadServers(ctx context.Context, q Querier, _ *features, add func(*schema.Object)) error {
	rows, err := q.Query(ctx, `SELECT s.oid, s.srvname, pg_catalog.pg_get_userbyid(s.srvowner), w.fdwname,
			COALESCE(s.srvtype, ''), s.srvtype IS NOT NULL, COALESCE(s.srvversion, ''), s.srvversion IS NOT NULL,
			`+genericOptions("s.srvoptions")+`
		FROM pg_catalog.pg_foreign_server s JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid = s.srvfdw
		WHERE `+notExtensionMember(schema.ClassPgServer, "s.oid")+`
		ORDER BY s.srvname`)
	if err != nil {
		return fmt.Errorf("catalog: read foreign servers: %w", err)
	}
	var (
		oid                        uint32
		name, owner, fdw, typ, ver string
		hasType, hasVersion        bool
		opts                       []string
		servers                    = map[uint32]*schema.Object{}
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &name, &owner, &fdw, &typ, &hasType, &ver, &hasVersion, &opts}, func() error {
		sql := "CREATE SERVER " + schema.Ident(name)
		if hasType {
			sql += " TYPE " + schema.Literal(typ)
		}
		if hasVersion {
			sql += " VERSION " + schema.Literal(ver)
		}
		o := &schema.Object{
			Ref:    schema.Ref{Class: schema.ClassPgServer, OID: oid},
			Kind:   schema.KindServer,
			Name:   name,
			Owner:  owner,
			Ident:  "SERVER " + schema.Ident(name),
			Create: sql + " FOREIGN DATA WRAPPER " + schema.Ident(fdw) + optionsClause(opts) + ";",
			Drop:   "DROP SERVER " + schema.Ident(name) + ";",
		}
		servers[oid] = o
		add(o)
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read foreign servers: %w", err)
	}
	if len(servers) == 0 {
		return nil
	}
	return loadUserMappings(ctx, q, servers, add)
}

// loadUserMappings reads the user mappings of the servers read. PUBLIC's
// is "FOR public"; Name is pg_dump's tag, "USER MAPPING alice SERVER s".
// Like pg_dump's, they carry their server's owner and have no Ident: there
// is no owner to set.
func loadUserMappings(ctx context.Context, q Querier, servers map[uint32]*schema.Object, add func(*schema.Object)) error {
	rows, err := q.Query(ctx, `SELECT u.umid, u.srvid, u.umuser = 0, u.usename::text, `+genericOptions("u.umoptions")+`
		FROM pg_catalog.pg_user_mappings u
		ORDER BY u.srvname, u.usename`)
	if err != nil {
		return fmt.Errorf("catalog: read user mappings: %w", err)
	}
	var (
		oid, srv uint32
		public   bool
		user     string
		opts     []string
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &srv, &public, &user, &opts}, func() error {
		s := servers[srv]
		if s == nil {
			return nil // an extension's server
		}
		who := schema.Ident(user)
		if public {
			who, user = "public", "public"
		}
		head := "USER MAPPING FOR " + who + " SERVER " + schema.Ident(s.Name)
		add(&schema.Object{
			Ref:    schema.Ref{Class: schema.ClassPgUserMapping, OID: oid},
			Kind:   schema.KindUserMapping,
			Name:   "USER MAPPING " + user + " SERVER " + s.Name,
			Owner:  s.Owner,
			Create: "CREATE " + head + optionsClause(opts) + ";",
			Drop:   "DROP " + head + ";",
			Deps:   []schema.Ref{s.Ref},
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read user mappings: %w", err)
	}
	return nil
}

// foreignColumn is a column of a foreign table.
type foreignColumn struct {
	name, typ, collation string // collation: quoted and qualified, "" for the type's
	notNull              bool
	def                  string // default or generation expression, "" for none
	generated            string // attgenerated: "" or "s"/"v"
	storage              string // attstorage when it is not the type's, else ""
	statistics           int    // -1 for the default
	options              string // "name 'value'" items joined by ",\n    ", "" for none
}

// foreignTableSQL renders a foreign table: CREATE FOREIGN TABLE with its
// columns (type, collation, NOT NULL, default or generation expression),
// CHECK constraints (NOT VALID ones added after), server and options, then
// the column settings CREATE cannot carry, as pg_dump does.
func foreignTableSQL(qname, server string, opts []string, cols []foreignColumn, checks, checkNames []string) string {
	var b strings.Builder
	b.WriteString("CREATE FOREIGN TABLE " + qname + " (")
	var items []string
	for _, c := range cols {
		s := schema.Ident(c.name) + " " + c.typ
		if c.collation != "" {
			s += " COLLATE " + c.collation
		}
		switch c.generated {
		case "s":
			s += " GENERATED ALWAYS AS (" + c.def + ") STORED"
		case "v":
			s += " GENERATED ALWAYS AS (" + c.def + ")"
		default:
			if c.def != "" {
				s += " DEFAULT " + c.def
			}
		}
		if c.notNull {
			s += " NOT NULL"
		}
		items = append(items, s)
	}
	var later []string
	for i, def := range checks {
		con := "CONSTRAINT " + schema.Ident(checkNames[i]) + " " + def
		if strings.HasSuffix(def, " NOT VALID") {
			later = append(later, "ALTER FOREIGN TABLE "+qname+" ADD "+con+";")
			continue
		}
		items = append(items, con)
	}
	if len(items) > 0 {
		b.WriteString("\n    " + strings.Join(items, ",\n    ") + "\n")
	}
	b.WriteString(")\nSERVER " + schema.Ident(server))
	if len(opts) > 0 {
		b.WriteString("\nOPTIONS (\n    " + strings.Join(opts, ",\n    ") + "\n)")
	}
	b.WriteString(";")
	for _, c := range cols {
		alter := "\nALTER FOREIGN TABLE ONLY " + qname + " ALTER COLUMN " + schema.Ident(c.name)
		if c.statistics >= 0 {
			b.WriteString(alter + " SET STATISTICS " + strconv.Itoa(c.statistics) + ";")
		}
		if s := map[string]string{"p": "PLAIN", "e": "EXTERNAL", "m": "MAIN", "x": "EXTENDED"}[c.storage]; s != "" {
			b.WriteString(alter + " SET STORAGE " + s + ";")
		}
		if c.options != "" {
			b.WriteString("\nALTER FOREIGN TABLE " + qname + " ALTER COLUMN " + schema.Ident(c.name) +
				" OPTIONS (\n    " + c.options + "\n);")
		}
	}
	for _, l := range later {
		b.WriteString("\n" + l)
	}
	return b.String()
}

// loadForeignTables reads foreign tables (not inheritance children nor
// partitions, which are read as neither). Their data is not dumped, as
// pg_dump does not without --include-foreign-data. Dependencies of their
// defaults and CHECK constraints are the table's.
func loadForeignTables(ctx context.Context, q Querier, _ *features, add func(*schema.Object)) error {
	att := `FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`
	rows, err := q.Query(ctx, `SELECT c.oid, n.nspname, c.relname, pg_catalog.pg_get_userbyid(c.relowner), s.srvname,
			`+genericOptions("ft.ftoptions")+`,
			ARRAY(SELECT a.attname::text `+att+`),
			ARRAY(SELECT pg_catalog.format_type(a.atttypid, a.atttypmod) `+att+`),
			ARRAY(SELECT COALESCE((SELECT pg_catalog.quote_ident(cn.nspname) || '.' || pg_catalog.quote_ident(co.collname)
				FROM pg_catalog.pg_collation co JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
				JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
				WHERE co.oid = a.attcollation AND a.attcollation <> t.typcollation), '') `+att+`),
			ARRAY(SELECT a.attnotnull `+att+`),
			ARRAY(SELECT COALESCE((SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid) FROM pg_catalog.pg_attrdef d
				WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum), '') `+att+`),
			ARRAY(SELECT a.attgenerated::text `+att+`),
			ARRAY(SELECT CASE WHEN a.attstorage <> t.typstorage THEN a.attstorage::text ELSE '' END
				FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
				WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum),
			ARRAY(SELECT COALESCE(a.attstattarget::int, -1) `+att+`),
			ARRAY(SELECT pg_catalog.array_to_string(`+genericOptions("a.attfdwoptions")+`, e',\n    ') `+att+`),
			ARRAY(SELECT co.conname::text FROM pg_catalog.pg_constraint co
				WHERE co.conrelid = c.oid AND co.contype = 'c' AND co.conislocal ORDER BY co.conname),
			ARRAY(SELECT pg_catalog.pg_get_constraintdef(co.oid) FROM pg_catalog.pg_constraint co
				WHERE co.conrelid = c.oid AND co.contype = 'c' AND co.conislocal ORDER BY co.conname),
			ARRAY(SELECT d.refclassid FROM pg_catalog.pg_depend d
				WHERE d.deptype = 'n' AND ((d.classid = 2604 AND d.objid IN (SELECT ad.oid FROM pg_catalog.pg_attrdef ad WHERE ad.adrelid = c.oid))
					OR (d.classid = 2606 AND d.objid IN (SELECT co.oid FROM pg_catalog.pg_constraint co WHERE co.conrelid = c.oid)))
				ORDER BY d.refobjid),
			ARRAY(SELECT d.refobjid FROM pg_catalog.pg_depend d
				WHERE d.deptype = 'n' AND ((d.classid = 2604 AND d.objid IN (SELECT ad.oid FROM pg_catalog.pg_attrdef ad WHERE ad.adrelid = c.oid))
					OR (d.classid = 2606 AND d.objid IN (SELECT co.oid FROM pg_catalog.pg_constraint co WHERE co.conrelid = c.oid)))
				ORDER BY d.refobjid)
		FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_catalog.pg_foreign_table ft ON ft.ftrelid = c.oid
		JOIN pg_catalog.pg_foreign_server s ON s.oid = ft.ftserver
		WHERE c.relkind = 'f' AND NOT c.relispartition
		  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid)
		  AND `+userNamespace("n")+` AND `+notExtensionMember(schema.ClassPgClass, "c.oid")+`
		ORDER BY n.nspname, c.relname`)
	if err != nil {
		return fmt.Errorf("catalog: read foreign tables: %w", err)
	}
	var (
		oid                             uint32
		nsp, name, owner, server        string
		opts, names, types, colls, defs []string
		generated, storage, colOpts     []string
		notNull                         []bool
		stats                           []int
		checkNames, checks              []string
		depClasses, depOIDs             []uint32
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &nsp, &name, &owner, &server, &opts, &names, &types, &colls,
		&notNull, &defs, &generated, &storage, &stats, &colOpts, &checkNames, &checks, &depClasses, &depOIDs}, func() error {
		cols := make([]foreignColumn, len(names))
		for i := range names {
			cols[i] = foreignColumn{name: names[i], typ: types[i], collation: colls[i], notNull: notNull[i],
				def: defs[i], generated: generated[i], storage: storage[i], statistics: stats[i], options: colOpts[i]}
		}
		ref := schema.Ref{Class: schema.ClassPgClass, OID: oid}
		var deps []schema.Ref
		for i := range depClasses {
			deps = append(deps, schema.Ref{Class: depClasses[i], OID: depOIDs[i]})
		}
		qname := schema.Qualified(nsp, name)
		add(&schema.Object{
			Ref:    ref,
			Kind:   schema.KindForeignTable,
			Schema: nsp,
			Name:   name,
			Owner:  owner,
			Ident:  "FOREIGN TABLE " + qname,
			Create: foreignTableSQL(qname, server, opts, cols, checks, checkNames),
			Drop:   "DROP FOREIGN TABLE " + qname + ";",
			Deps:   deps,
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read foreign tables: %w", err)
	}
	return nil
}
