package main

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/internal/testcluster"
)

// The catalog signature: a server-side description of every user object of a
// database, as sorted text lines, to compare two databases where pg_dump
// cannot (pg_dump refuses servers newer than itself) and across servers of
// different majors. Objects are named by identity (qualified names, argument
// types), never by OID, since OIDs differ between a source and its restore;
// definitions are the server's own deparsing (pg_get_*def, pg_get_expr,
// format_type). The queries read only catalog columns that PostgreSQL 13 to
// 18 all have, and run with search_path = pg_catalog so that every user name
// is printed qualified.
//
// Privileges are compared as what they grant: no ACL (NULL) means the
// default ACL, and REVOKE ALL ... FROM a role that had nothing writes the
// default out, which pg_dump does not dump and a restore leaves NULL. So a
// NULL ACL is shown as acldefault(...), and an empty column ACL as none.
//
// What it leaves out, on purpose: connoinherit of primary key, unique and
// exclusion constraints, which means nothing for them: a partition's that
// was cloned from its parent's has it false, one added to the partition
// and attached to the parent's (as pg_dump and pgark restore them) true;
// the public schema's own row and comment
// (initdb makes them, OID 2200); what the server makes along with other
// objects: array types, multirange types with their constructors and casts
// (PostgreSQL 14+ makes them for each range type), relation row types, TOAST
// tables, the internal triggers of foreign keys (named after OIDs); and, of
// the dependencies, those on built-in objects and those of not-null
// constraints (PostgreSQL 18 records not-null constraints in pg_constraint:
// their rows are in the signature, their edges to their columns add
// nothing). Differences between majors that remain are in versionRules
// (versions_test.go), applied only when source and target majors differ.

// userNamespace is the condition on a pg_namespace alias n of user schemas.
const userNamespace = `n.nspname NOT IN ('pg_catalog', 'information_schema')
	AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'`

// signatureQueries each return one text column, one line per object.
var signatureQueries = []struct{ name, sql string }{
	{"schemas", `SELECT format('schema %I owner=%s acl=%s', n.nspname, n.nspowner::regrole, coalesce(n.nspacl, acldefault('n'::"char", n.nspowner)))
		FROM pg_namespace n WHERE ` + userNamespace + ` AND n.oid >= 16384`},

	{"relations", `SELECT format('relation %s kind=%s owner=%s persistence=%s options=%s acl=%s populated=%s replident=%s rls=%s/%s parents=%s',
			c.oid::regclass, c.relkind, c.relowner::regrole, c.relpersistence, c.reloptions,
			coalesce(c.relacl, acldefault(CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::"char", c.relowner)),
			c.relispopulated, c.relreplident, c.relrowsecurity, c.relforcerowsecurity,
			(SELECT string_agg(i.inhparent::regclass::text, ',' ORDER BY i.inhseqno) FROM pg_inherits i WHERE i.inhrelid = c.oid))
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ` + userNamespace},

	// Column numbers are positions among the live columns: a dropped column
	// keeps its attnum in the source, and a restore renumbers.
	{"columns", `SELECT format('column %s.%I #%s type=%s typmod=%s notnull=%s default=%s identity=%s generated=%s collation=%s storage=%s stattarget=%s options=%s acl=%s local=%s inherited=%s',
			c.oid::regclass, a.attname, row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum),
			format_type(a.atttypid, a.atttypmod), a.atttypmod, a.attnotnull, pg_get_expr(d.adbin, d.adrelid),
			a.attidentity, a.attgenerated, CASE WHEN a.attcollation <> 0 THEN a.attcollation::regcollation END,
			a.attstorage, coalesce(nullif(a.attstattarget::int, -1)::text, 'default'), a.attoptions, nullif(a.attacl, '{}'),
			a.attislocal, a.attinhcount)
		FROM pg_attribute a
		JOIN pg_class c ON c.oid = a.attrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
		WHERE ` + userNamespace + ` AND c.relkind IN ('r', 'p', 'v', 'm', 'c', 'f') AND a.attnum > 0 AND NOT a.attisdropped`},

	{"constraints", `SELECT format('constraint %I on %s type=%s def=%s deferrable=%s deferred=%s validated=%s local=%s inherited=%s noinherit=%s index=%s',
			co.conname,
			CASE WHEN co.conrelid <> 0 THEN co.conrelid::regclass::text ELSE 'domain ' || co.contypid::regtype::text END,
			co.contype, pg_get_constraintdef(co.oid), co.condeferrable, co.condeferred, co.convalidated,
			co.conislocal, co.coninhcount, CASE WHEN co.contype NOT IN ('p', 'u', 'x') THEN co.connoinherit END,
			CASE WHEN co.conindid <> 0 THEN co.conindid::regclass END)
		FROM pg_constraint co JOIN pg_namespace n ON n.oid = co.connamespace WHERE ` + userNamespace},

	{"indexes", `SELECT format('index %s def=%s clustered=%s replident=%s valid=%s',
			i.indexrelid::regclass, pg_get_indexdef(i.indexrelid), i.indisclustered, i.indisreplident, i.indisvalid)
		FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE ` + userNamespace},

	{"views", `SELECT format('view %s def=%s', c.oid::regclass, pg_get_viewdef(c.oid))
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE ` + userNamespace + ` AND c.relkind IN ('v', 'm')`},

	{"functions", `SELECT format('function %s kind=%s owner=%s acl=%s args=%s def=%s',
			(pg_identify_object('pg_proc'::regclass, p.oid, 0)).identity, p.prokind, p.proowner::regrole, coalesce(p.proacl, acldefault('f'::"char", p.proowner)),
			pg_get_function_arguments(p.oid), CASE WHEN p.prokind <> 'a' THEN pg_get_functiondef(p.oid) END)
		FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ` + userNamespace + `
		  AND NOT EXISTS (SELECT 1 FROM pg_type m WHERE m.oid = p.prorettype AND m.typtype = 'm' AND p.prosrc LIKE 'multirange\_constructor%')`},

	{"triggers", `SELECT format('trigger %s enabled=%s%s', pg_get_triggerdef(t.oid), t.tgenabled,
			CASE WHEN t.tgparentid <> 0 THEN ' clone' ELSE '' END)
		FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE ` + userNamespace + ` AND NOT t.tgisinternal`},

	// Every user type but array and multirange types made with another, and
	// the row types of relations other than composite types.
	{"types", `SELECT format('type %s type=%s owner=%s acl=%s len=%s byval=%s align=%s storage=%s category=%s preferred=%s delim=%s default=%s in=%s out=%s recv=%s send=%s modin=%s modout=%s analyze=%s elem=%s collation=%s base=%s typmod=%s notnull=%s labels=%s range=%s',
			t.oid::regtype, t.typtype, t.typowner::regrole, coalesce(t.typacl, acldefault('T'::"char", t.typowner)), t.typlen, t.typbyval, t.typalign, t.typstorage,
			t.typcategory, t.typispreferred, t.typdelim, t.typdefault, t.typinput, t.typoutput, t.typreceive, t.typsend,
			t.typmodin, t.typmodout, t.typanalyze, CASE WHEN t.typelem <> 0 THEN format_type(t.typelem, NULL) END,
			CASE WHEN t.typcollation <> 0 THEN t.typcollation::regcollation END,
			CASE WHEN t.typbasetype <> 0 THEN format_type(t.typbasetype, t.typtypmod) END, t.typtypmod, t.typnotnull,
			(SELECT string_agg(quote_literal(e.enumlabel), ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid),
			(SELECT format('subtype=%s collation=%s opclass=%s canonical=%s diff=%s', format_type(r.rngsubtype, NULL),
					CASE WHEN r.rngcollation <> 0 THEN r.rngcollation::regcollation END,
					(SELECT format('%I.%I', opn.nspname, opc.opcname) FROM pg_opclass opc JOIN pg_namespace opn ON opn.oid = opc.opcnamespace WHERE opc.oid = r.rngsubopc),
					r.rngcanonical, r.rngsubdiff)
				FROM pg_range r WHERE r.rngtypid = t.oid))
		FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
		WHERE ` + userNamespace + ` AND t.typtype <> 'm'
		  AND NOT EXISTS (SELECT 1 FROM pg_type e WHERE e.typarray = t.oid)
		  AND (t.typrelid = 0 OR (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c')`},

	{"sequences", `SELECT format('sequence %s type=%s start=%s increment=%s min=%s max=%s cache=%s cycle=%s last=%s',
			s.seqrelid::regclass, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax,
			s.seqcache, s.seqcycle, pg_sequence_last_value(s.seqrelid))
		FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE ` + userNamespace},

	{"comments", `SELECT format('comment on %s %s: %s', o.type, o.identity, d.description)
		FROM pg_description d, LATERAL pg_identify_object(d.classoid, d.objoid, d.objsubid) o
		WHERE d.objoid >= 16384 AND coalesce(o.schema, '') NOT LIKE 'pg\_toast%'`},

	{"large objects", `SELECT format('large object %s owner=%s acl=%s md5=%s', m.oid, m.lomowner::regrole, coalesce(m.lomacl, acldefault('L'::"char", m.lomowner)), md5(lo_get(m.oid)))
		FROM pg_largeobject_metadata m`},

	// Dependencies between user objects (both OIDs past FirstNormalObjectId),
	// each end named by its identity, but those of the objects the server
	// makes with others (automade): multiranges, their constructors and
	// casts, and relation row types (a sequence has one before PostgreSQL
	// 14); and a range type's canonical function's dependency on the type,
	// which PostgreSQL 13 records and later majors do not (the range's
	// signature line names its canonical function either way). Left out
	// too: the dependencies of an extension's members, which its script on
	// the target makes (a restore runs CREATE EXTENSION, and the script
	// differs between the extension's versions), and those of triggers
	// the server clones onto partitions (see the trigger lines).
	{"dependencies", `WITH automade (classid, objid) AS (
			SELECT 'pg_type'::regclass::oid, t.oid FROM pg_type t WHERE t.typtype = 'm'
				OR (t.typrelid <> 0 AND (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) <> 'c')
			UNION ALL SELECT 'pg_proc'::regclass::oid, p.oid FROM pg_proc p JOIN pg_type m ON m.oid = p.prorettype
				WHERE m.typtype = 'm' AND p.prosrc LIKE 'multirange\_constructor%'
			UNION ALL SELECT 'pg_cast'::regclass::oid, c.oid FROM pg_cast c JOIN pg_type m ON m.oid = c.casttarget
				WHERE m.typtype = 'm')
		SELECT format('depend %s %s -> %s %s (%s)', o.type, o.identity, r.type, r.identity, d.deptype)
		FROM pg_depend d,
			LATERAL pg_identify_object(d.classid, d.objid, d.objsubid) o,
			LATERAL pg_identify_object(d.refclassid, d.refobjid, d.refobjsubid) r
		WHERE d.objid >= 16384 AND d.refobjid >= 16384 AND d.deptype <> 'p'
		  AND coalesce(o.schema, '') NOT LIKE 'pg\_toast%' AND coalesce(r.schema, '') NOT LIKE 'pg\_toast%'
		  AND (d.classid, d.objid) NOT IN (SELECT * FROM automade)
		  AND (d.refclassid, d.refobjid) NOT IN (SELECT * FROM automade)
		  AND NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE d.classid = 'pg_trigger'::regclass AND t.oid = d.objid
			AND (t.tgisinternal OR t.tgparentid <> 0))
		  AND d.deptype <> 'e'
		  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.deptype = 'e'
			AND ((x.classid, x.objid) = (d.classid, d.objid) OR (x.classid, x.objid) = (d.refclassid, d.refobjid)))
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE d.classid = 'pg_constraint'::regclass AND c.oid = d.objid AND c.contype = 'n')
		  AND NOT EXISTS (SELECT 1 FROM pg_range g WHERE d.classid = 'pg_proc'::regclass AND d.objid = g.rngcanonical
			AND d.refclassid = 'pg_type'::regclass AND d.refobjid = g.rngtypid)`},
}

// signature returns the catalog signature of database db of cluster c,
// sorted.
func signature(t testing.TB, c *testcluster.Cluster, db string) []string {
	t.Helper()
	ctx := context.Background()
	conn, err := c.Connect(ctx, db)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `SET search_path = pg_catalog`)
	require.NoError(t, err)
	var lines []string
	for _, q := range signatureQueries {
		rows, err := conn.Query(ctx, q.sql)
		require.NoError(t, err, "signature query %s on PostgreSQL %d", q.name, c.Major())
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err, "signature query %s on PostgreSQL %d", q.name, c.Major())
		lines = append(lines, got...)
	}
	slices.Sort(lines)
	return lines
}

// signatureDiff lists the lines only one side has, "-" for a and "+" for z
// (as many times as one side has more), or "" when they are equal.
func signatureDiff(a, z []string) string {
	count := func(lines []string) map[string]int {
		m := map[string]int{}
		for _, l := range lines {
			m[l]++
		}
		return m
	}
	ca, cz := count(a), count(z)
	var out []string
	for l, n := range ca {
		for range n - cz[l] {
			out = append(out, "- "+l)
		}
	}
	for l, n := range cz {
		for range n - ca[l] {
			out = append(out, "+ "+l)
		}
	}
	// Sort by the line, so that a changed line's - and + sit together.
	slices.SortFunc(out, func(x, y string) int { return strings.Compare(x[2:]+x[:1], y[2:]+y[:1]) })
	if len(out) == 0 {
		return ""
	}
	return strings.Join(out, "\n") + "\n"
}

// testSignatureCanFail changes database db (a faithful restore of src) one
// thing at a time and requires each change to show in the signature diff:
// an oracle that cannot fail proves nothing.
func testSignatureCanFail(t *testing.T, rt *roundTrip, src, db string) {
	want := signature(t, rt.c, src)
	require.Empty(t, signatureDiff(want, signature(t, rt.c, db)), "the restore must match before it is changed")
	for _, tc := range []struct{ sql, shows string }{
		{`COMMENT ON TABLE "Mixed Case"."Orders" IS 'changed'`, `: changed`},
		{`ALTER TABLE public.customers ALTER COLUMN born SET DEFAULT '2000-01-01'`, `'2000-01-01'::date`},
		{`ALTER TABLE "Mixed Case"."Orders" ALTER COLUMN "select" SET STATISTICS 7`, `stattarget=7`},
		{`ALTER FUNCTION public.add(integer, integer) OWNER TO "Bob Smith"`, `public.add(integer,integer) kind=f owner="Bob Smith"`},
		{`GRANT UPDATE ON "select"."from" TO alice`, `alice=w/postgres`},
		{`ALTER TYPE "Mixed Case".mood ADD VALUE 'glad'`, `'glad'`},
		{`SELECT setval('public.counter', 78)`, `last=78`},
		{`ALTER TABLE "select"."from" ENABLE TRIGGER audit_stmt`, `audit_stmt AFTER DELETE ON "select"."from" FOR EACH STATEMENT EXECUTE FUNCTION public.audit() enabled=O`},
		{`DROP INDEX "Mixed Case".orders_code_hash`, `orders_code_hash`},
		{`CREATE OR REPLACE VIEW public.va AS SELECT y AS x FROM public.fb() WHERE true`, `WHERE true`},
		{`ALTER SEQUENCE "select"."seq ""q""" OWNED BY NONE`, `(a)`},
		{`SELECT lo_put(424243, 0, 'J')`, `large object 424243`},
	} {
		rt.c.Exec(t, db, tc.sql)
		diff := signatureDiff(want, signature(t, rt.c, db))
		require.Contains(t, diff, tc.shows, "after %s", tc.sql)
		want = signature(t, rt.c, db) // the next change must show on its own
	}
}
