package catalog

import (
	"bytes"
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pgark/pgark/internal/testcluster"
	"github.com/pgark/pgark/schema"
)

func TestConfigCondition(t *testing.T) {
	for in, want := range map[string]string{
		"":                     "",
		"WHERE NOT std":        "NOT std",
		"  where (a > 1)":      "(a > 1)",
		"WHERE\n\tx":           "x",
		"wherever IS NOT NULL": "wherever IS NOT NULL",
		"a > 1":                "a > 1",
	} {
		if got := configCondition(in); got != want {
			t.Errorf("configCondition(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseExtensionPattern(t *testing.T) {
	p, err := ParseExtensionPattern(`"Ext"*`)
	if err != nil || p.Name != `^(Ext.*)$` {
		t.Errorf("ParseExtensionPattern: %+v, %v", p, err)
	}
	for _, bad := range []string{"a.b", "a.b.c", "a.b.c.d"} {
		if _, err := ParseExtensionPattern(bad); err == nil || err.Error() != "improper qualified name (too many dotted names): "+bad {
			t.Errorf("ParseExtensionPattern(%q): %v", bad, err)
		}
	}
}

func TestAggregateSQL(t *testing.T) {
	a := &aggregate{kind: "n", transFn: "s.add", transType: "integer", hasInit: true, initVal: "0",
		finalModify: "r", mTransFn: "s.add", mInvFn: "s.sub", mTransType: "integer", mFinalMod: "r", parallel: "s"}
	want := "CREATE AGGREGATE s.f(integer) (\n    SFUNC = s.add,\n    STYPE = integer,\n    INITCOND = '0',\n" +
		"    MSFUNC = s.add,\n    MINVFUNC = s.sub,\n    MSTYPE = integer,\n    PARALLEL = safe\n);"
	if got := aggregateSQL("s.f", "integer", a); got != want {
		t.Errorf("aggregateSQL:\n%s\nwant\n%s", got, want)
	}
	// An ordered-set aggregate's default finalfunc_modify is READ_WRITE.
	o := &aggregate{kind: "h", transFn: "t", transType: "internal", finalFn: "f", finalExtra: true, finalModify: "r"}
	want = "CREATE AGGREGATE s.h(*) (\n    SFUNC = t,\n    STYPE = internal,\n    FINALFUNC = f,\n    FINALFUNC_EXTRA,\n" +
		"    FINALFUNC_MODIFY = READ_ONLY,\n    HYPOTHETICAL\n);"
	if got := aggregateSQL("s.h", "", o); got != want {
		t.Errorf("aggregateSQL:\n%s\nwant\n%s", got, want)
	}
}

func TestCollationSQL(t *testing.T) {
	for _, tt := range []struct {
		c    collation
		want string
	}{
		{collation{provider: "c", deterministic: true, collate: "C", ctype: "C"}, `(provider = libc, locale = 'C')`},
		{collation{provider: "c", deterministic: true, collate: "C", ctype: "POSIX"}, `(provider = libc, lc_collate = 'C', lc_ctype = 'POSIX')`},
		{collation{provider: "i", locale: "und-u-ks-level2"}, `(provider = icu, deterministic = false, locale = 'und-u-ks-level2')`},
		{collation{provider: "i", deterministic: true, collate: "de", ctype: "de"}, `(provider = icu, locale = 'de')`}, // PostgreSQL 13, 14
		{collation{provider: "i", deterministic: true, locale: "und", rules: "&a < b"}, `(provider = icu, locale = 'und', rules = '&a < b')`},
		{collation{provider: "b", deterministic: true, locale: "C.UTF-8"}, `(provider = builtin, locale = 'C.UTF-8')`},
	} {
		if got := collationSQL(`"s"."c"`, &tt.c); got != `CREATE COLLATION "s"."c" `+tt.want+";" {
			t.Errorf("collationSQL(%+v) = %s", tt.c, got)
		}
	}
}

func TestSubscriptionSQL(t *testing.T) {
	s := &subscription{conninfo: "host=h password='it''s'", publications: []string{"p", "P q"}, streaming: "p",
		defaultStreaming: "p", syncCommit: "off", twoPhase: "d", passwordRequired: true, hasPasswordRequired: true, origin: "any"}
	want := `CREATE SUBSCRIPTION "s" CONNECTION 'host=h password=''it''''s''' PUBLICATION "p", "P q" WITH (connect = false, slot_name = NONE);`
	if got := subscriptionSQL("s", s); got != want {
		t.Errorf("subscriptionSQL:\n%s\nwant\n%s", got, want)
	}
	s.hasSlot, s.slot, s.binary, s.streaming, s.twoPhase, s.disableOnError = true, "slot", true, "f", "p", true
	s.passwordRequired, s.runAsOwner, s.origin, s.failover, s.syncCommit = false, true, "none", true, "local"
	want = `CREATE SUBSCRIPTION "s" CONNECTION 'host=h password=''it''''s''' PUBLICATION "p", "P q" WITH (connect = false, ` +
		`slot_name = 'slot', binary = true, streaming = off, two_phase = on, disable_on_error = true, password_required = false, ` +
		`run_as_owner = true, origin = 'none', failover = true, synchronous_commit = 'local');`
	if got := subscriptionSQL("s", s); got != want {
		t.Errorf("subscriptionSQL:\n%s\nwant\n%s", got, want)
	}
}

func TestEventTriggerSQL(t *testing.T) {
	got := eventTriggerSQL("e t", "ddl_command_start", `"s"."f"`, "R", []string{"CREATE TABLE", "it's"})
	want := `CREATE EVENT TRIGGER "e t" ON "ddl_command_start"` + "\n         WHEN TAG IN ('CREATE TABLE', 'it''s')\n" +
		`   EXECUTE FUNCTION "s"."f"();` + "\n" + `ALTER EVENT TRIGGER "e t" ENABLE REPLICA;`
	if got != want {
		t.Errorf("eventTriggerSQL:\n%s\nwant\n%s", got, want)
	}
}

func TestDefaultACLSQL(t *testing.T) {
	for _, tt := range []struct {
		role, nsp, typ string
		acl, base      []string
		want           string
	}{
		{"alice", "s", "r", []string{`"Bob"=r/alice`}, nil,
			`ALTER DEFAULT PRIVILEGES FOR ROLE "alice" IN SCHEMA "s" GRANT SELECT ON TABLES  TO "Bob";`},
		{"alice", "", "f", []string{"alice=X/alice", "bob=X/alice"}, []string{"=X/alice", "alice=X/alice"},
			"ALTER DEFAULT PRIVILEGES FOR ROLE \"alice\" REVOKE ALL ON FUNCTIONS  FROM PUBLIC;\n" +
				`ALTER DEFAULT PRIVILEGES FOR ROLE "alice" GRANT ALL ON FUNCTIONS  TO "bob";`},
		{"a", "", "S", []string{"a=rwU/a", "b=U*/a"}, []string{"a=rwU/a"},
			`ALTER DEFAULT PRIVILEGES FOR ROLE "a" GRANT USAGE ON SEQUENCES  TO "b" WITH GRANT OPTION;`},
		{"a", "", "n", []string{"b=C/a"}, []string{"a=UC/a"},
			"ALTER DEFAULT PRIVILEGES FOR ROLE \"a\" REVOKE ALL ON SCHEMAS  FROM \"a\";\n" +
				`ALTER DEFAULT PRIVILEGES FOR ROLE "a" GRANT CREATE ON SCHEMAS  TO "b";`},
		{"a", "", "T", []string{"a=U/a"}, []string{"=U/a", "a=U/a"}, `ALTER DEFAULT PRIVILEGES FOR ROLE "a" REVOKE ALL ON TYPES  FROM PUBLIC;`},
		{"a", "", "L", []string{"a=rw/a", "b=r/a"}, []string{"a=rw/a"}, `ALTER DEFAULT PRIVILEGES FOR ROLE "a" GRANT SELECT ON LARGE OBJECTS  TO "b";`},
	} {
		got, err := defaultACLSQL(tt.role, tt.nsp, tt.typ, tt.acl, tt.base, false)
		if err != nil || got != tt.want {
			t.Errorf("defaultACLSQL(%s, %s, %s): %v\n%s\nwant\n%s", tt.role, tt.nsp, tt.typ, err, got, tt.want)
		}
	}
	if _, err := defaultACLSQL("a", "", "x", nil, nil, false); err == nil {
		t.Error("defaultACLSQL: no error for an unknown type")
	}
}

// TestSecLabelSQL checks the SECURITY LABEL statements: no label provider
// comes with PostgreSQL, so the live tests can make no label.
func TestSharedLabel(t *testing.T) {
	role := &schema.Object{Ref: schema.Ref{Class: schema.ClassPgAuthID, OID: 10}, Kind: schema.KindRole, Name: "Bob Smith"}
	ts := &schema.Object{Ref: schema.Ref{Class: schema.ClassPgTablespace, OID: 20}, Kind: schema.KindTablespace, Name: "fast", Owner: "o"}
	objs := map[schema.Ref]*schema.Object{role.Ref: role, ts.Ref: ts}
	o := sharedLabel(objs, 1260, 10, "selinux", "user_u")
	if o == nil || o.Create != `SECURITY LABEL FOR "selinux" ON ROLE "Bob Smith" IS 'user_u';` || o.Kind != schema.KindSecLabel ||
		len(o.Deps) != 1 || o.Deps[0] != role.Ref {
		t.Errorf("label on a role: %+v", o)
	}
	o = sharedLabel(objs, 1213, 20, "selinux", "x")
	if o == nil || o.Create != `SECURITY LABEL FOR "selinux" ON TABLESPACE "fast" IS 'x';` || o.Owner != "o" {
		t.Errorf("label on a tablespace: %+v", o)
	}
	if o := sharedLabel(objs, 1260, 99, "selinux", "x"); o != nil {
		t.Errorf("label on a role not dumped: %+v", o)
	}
}

func TestSecLabelSQL(t *testing.T) {
	for _, tt := range []struct{ typ, identity, want string }{
		{"table", `"s"."t"`, `SECURITY LABEL FOR "selinux" ON TABLE "s"."t" IS 'system_u:object_r:x:s0';`},
		{"column", `"s"."t"."c c"`, `SECURITY LABEL FOR "selinux" ON COLUMN "s"."t"."c c" IS 'system_u:object_r:x:s0';`},
		{"foreign-data wrapper", `w`, `SECURITY LABEL FOR "selinux" ON FOREIGN DATA WRAPPER w IS 'system_u:object_r:x:s0';`},
		{"materialized view", `s.m`, `SECURITY LABEL FOR "selinux" ON MATERIALIZED VIEW s.m IS 'system_u:object_r:x:s0';`},
		{"large object", `42`, `SECURITY LABEL FOR "selinux" ON LARGE OBJECT 42 IS 'system_u:object_r:x:s0';`},
		{"aggregate", `s.agg(integer)`, `SECURITY LABEL FOR "selinux" ON AGGREGATE s.agg(integer) IS 'system_u:object_r:x:s0';`},
	} {
		if got := secLabelSQL("selinux", tt.typ, tt.identity, "system_u:object_r:x:s0"); got != tt.want {
			t.Errorf("secLabelSQL(%s):\n%s\nwant\n%s", tt.typ, got, tt.want)
		}
	}
	// A label on a large object goes with the BLOB METADATA group that
	// holds it; one on a column with its table.
	blob := &schema.Object{Ref: schema.Ref{Class: schema.ClassPgLargeObject, OID: 7}, Kind: schema.KindBlobMetadata, Owner: "o"}
	tab := &schema.Object{Ref: schema.Ref{Class: schema.ClassPgClass, OID: 9}, Kind: schema.KindTable, Owner: "p"}
	idx := indexObjects([]*schema.Object{tab})
	blobs := map[uint32]*schema.Object{8: blob}
	if got := secLabelTarget(idx, blobs, schema.Ref{Class: schema.ClassPgLargeObject, OID: 8}); got.obj != blob || got.owner != "o" {
		t.Errorf("large object label target: %+v", got)
	}
	if got := secLabelTarget(idx, blobs, schema.Ref{Class: schema.ClassPgClass, OID: 9, Sub: 2}); got.obj != tab {
		t.Errorf("column label target: %+v", got)
	}
	if got := secLabelTarget(idx, blobs, schema.Ref{Class: schema.ClassPgClass, OID: 10}); got.obj != nil {
		t.Errorf("label on an object not dumped: %+v", got)
	}
}

// kindsFixture creates objects of every kind the loaders of this change
// read, with awkward names, comments, owners and privileges. Objects of
// later majors' syntax are added for them.
func kindsFixture(major int) string {
	s := `
CREATE ROLE alice; CREATE ROLE "Bob Smith";
CREATE SCHEMA "ext s";
CREATE EXTENSION hstore WITH SCHEMA "ext s";
COMMENT ON EXTENSION hstore IS 'key value';
CREATE SCHEMA k AUTHORIZATION alice;
CREATE TABLE k.uses_ext (id int PRIMARY KEY, h "ext s".hstore);
INSERT INTO k.uses_ext VALUES (1, 'a=>1');

CREATE FUNCTION k.add2(integer, integer) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT $1 + $2';
CREATE FUNCTION k.sub2(integer, integer) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT $1 - $2';
CREATE AGGREGATE k.mysum(integer) (SFUNC = k.add2, STYPE = integer, INITCOND = '0', COMBINEFUNC = k.add2, PARALLEL = SAFE,
	MSFUNC = k.add2, MINVFUNC = k.sub2, MSTYPE = integer, MINITCOND = '0');
CREATE AGGREGATE k."my avg"(float8) (SFUNC = float8_accum, STYPE = float8[], FINALFUNC = float8_avg, INITCOND = '{0,0,0}',
	COMBINEFUNC = float8_combine, FINALFUNC_MODIFY = SHAREABLE);
CREATE AGGREGATE k.mypct(float8 ORDER BY float8) (SFUNC = ordered_set_transition, STYPE = internal,
	FINALFUNC = percentile_disc_final, FINALFUNC_EXTRA);
CREATE AGGREGATE k.myser(numeric) (SFUNC = numeric_avg_accum, STYPE = internal, FINALFUNC = numeric_avg,
	COMBINEFUNC = numeric_avg_combine, SERIALFUNC = numeric_avg_serialize, DESERIALFUNC = numeric_avg_deserialize, SSPACE = 128);
CREATE AGGREGATE k.mymax(integer) (SFUNC = int4larger, STYPE = integer, SORTOP = >);
CREATE AGGREGATE k.star(*) (SFUNC = int8inc, STYPE = int8, INITCOND = '0');
CREATE AGGREGATE k.hyp(VARIADIC "any" ORDER BY VARIADIC "any") (SFUNC = ordered_set_transition_multi, STYPE = internal,
	FINALFUNC = rank_final, FINALFUNC_EXTRA, HYPOTHETICAL);
COMMENT ON AGGREGATE k.mysum(integer) IS 'sum';
COMMENT ON AGGREGATE k.star(*) IS 'counts';
COMMENT ON AGGREGATE k.mypct(float8 ORDER BY float8) IS 'ordered';
ALTER AGGREGATE k.mysum(integer) OWNER TO "Bob Smith";
REVOKE ALL ON FUNCTION k.mysum(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION k.mysum(integer) TO alice;

CREATE FUNCTION k.eqf(integer, integer) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT $1 = $2';
CREATE FUNCTION k.ltf(integer, integer) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT $1 < $2';
CREATE FUNCTION k.neg(integer) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT -$1';
CREATE OPERATOR k.!== (LEFTARG = integer, RIGHTARG = integer, FUNCTION = k.eqf);
CREATE OPERATOR k.=== (LEFTARG = integer, RIGHTARG = integer, FUNCTION = k.eqf, COMMUTATOR = OPERATOR(k.===),
	NEGATOR = OPERATOR(k.!==), RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES);
CREATE OPERATOR k.<<< (LEFTARG = integer, RIGHTARG = integer, FUNCTION = k.ltf);
CREATE OPERATOR k.~~~ (RIGHTARG = integer, FUNCTION = k.neg);
CREATE OPERATOR k.@@@ (LEFTARG = integer, RIGHTARG = integer, FUNCTION = k.eqf, COMMUTATOR = OPERATOR(k.@@@@));
COMMENT ON OPERATOR k.===(integer, integer) IS 'eq';
COMMENT ON OPERATOR k.~~~(NONE, integer) IS 'prefix';
ALTER OPERATOR k.<<<(integer, integer) OWNER TO alice;
CREATE FUNCTION k.cmpf(integer, integer) RETURNS integer LANGUAGE sql IMMUTABLE
	AS 'SELECT CASE WHEN $1 < $2 THEN -1 WHEN $1 > $2 THEN 1 ELSE 0 END';
CREATE OPERATOR FAMILY k.fam USING btree;
CREATE OPERATOR CLASS k.cls FOR TYPE integer USING btree FAMILY k.fam AS
	OPERATOR 1 k.<<<, OPERATOR 3 k.===, FUNCTION 1 k.cmpf(integer, integer);
ALTER OPERATOR FAMILY k.fam USING btree ADD OPERATOR 1 <(integer, bigint), FUNCTION 1 btint48cmp(integer, bigint);
CREATE TYPE k.mood AS ENUM ('a', 'b');
CREATE OPERATOR CLASS k."Def Cls" DEFAULT FOR TYPE k.mood USING hash AS OPERATOR 1 =(anyenum, anyenum), FUNCTION 1 hashenum(anyenum);
CREATE OPERATOR CLASS k.gcls FOR TYPE k.mood USING btree AS OPERATOR 1 <(anyenum, anyenum), FUNCTION 1 enum_cmp(anyenum, anyenum);
COMMENT ON OPERATOR FAMILY k.fam USING btree IS 'fam';
COMMENT ON OPERATOR CLASS k.cls USING btree IS 'cls';
ALTER OPERATOR CLASS k.cls USING btree OWNER TO alice;
CREATE INDEX uses_ext_cls ON k.uses_ext (id k.cls);

CREATE ACCESS METHOD "heap 2" TYPE TABLE HANDLER heap_tableam_handler;
CREATE ACCESS METHOD btree2 TYPE INDEX HANDLER bthandler;
COMMENT ON ACCESS METHOD btree2 IS 'am';
CREATE OPERATOR CLASS k.b2 DEFAULT FOR TYPE integer USING btree2 AS OPERATOR 1 <, FUNCTION 1 btint4cmp(integer, integer);

CREATE TYPE k.pt AS (x int, y int);
CREATE FUNCTION k.pt_text(k.pt) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT $1.x || '','' || $1.y';
CREATE CAST (k.pt AS text) WITH FUNCTION k.pt_text(k.pt) AS ASSIGNMENT;
CREATE CAST (k.mood AS text) WITH INOUT AS IMPLICIT;
CREATE CAST (k.mood AS integer) WITH INOUT;
COMMENT ON CAST (k.pt AS text) IS 'cast';
CREATE TYPE k.r AS RANGE (subtype = integer);

CREATE COLLATION k.c1 (locale = 'C');
CREATE COLLATION k."c 2" (lc_collate = 'C', lc_ctype = 'POSIX');
COMMENT ON COLLATION k.c1 IS 'c';
ALTER COLLATION k.c1 OWNER TO alice;
DO $$BEGIN
	IF EXISTS (SELECT 1 FROM pg_collation WHERE collprovider = 'i') THEN
		EXECUTE $c$CREATE COLLATION k.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)$c$;
		EXECUTE $c$CREATE COLLATION k."icu de" (provider = icu, locale = 'de')$c$;
	END IF;
END$$;
CREATE TABLE k.collated (a text COLLATE k.c1);

CREATE CONVERSION k.myconv FOR 'LATIN1' TO 'UTF8' FROM iso8859_1_to_utf8;
CREATE DEFAULT CONVERSION k.defconv FOR 'LATIN2' TO 'UTF8' FROM iso8859_to_utf8;
COMMENT ON CONVERSION k.myconv IS 'conv';

CREATE TEXT SEARCH PARSER k.prs (START = prsd_start, GETTOKEN = prsd_nexttoken, END = prsd_end, LEXTYPES = prsd_lextype,
	HEADLINE = prsd_headline);
CREATE TEXT SEARCH PARSER k.prs2 (START = prsd_start, GETTOKEN = prsd_nexttoken, END = prsd_end, LEXTYPES = prsd_lextype);
CREATE TEXT SEARCH TEMPLATE k.tmpl (INIT = dsimple_init, LEXIZE = dsimple_lexize);
CREATE TEXT SEARCH TEMPLATE k.tmpl2 (LEXIZE = dsimple_lexize);
CREATE TEXT SEARCH DICTIONARY k.dict (TEMPLATE = simple, STOPWORDS = english, ACCEPT = false);
CREATE TEXT SEARCH DICTIONARY k."dict 2" (TEMPLATE = k.tmpl);
CREATE TEXT SEARCH CONFIGURATION k.cfg (PARSER = k.prs);
ALTER TEXT SEARCH CONFIGURATION k.cfg ADD MAPPING FOR asciiword, word WITH k.dict, simple;
ALTER TEXT SEARCH CONFIGURATION k.cfg ADD MAPPING FOR int WITH k."dict 2";
CREATE TEXT SEARCH CONFIGURATION k.cfg2 (COPY = english);
COMMENT ON TEXT SEARCH PARSER k.prs IS 'p';
COMMENT ON TEXT SEARCH TEMPLATE k.tmpl IS 't';
COMMENT ON TEXT SEARCH DICTIONARY k.dict IS 'd';
COMMENT ON TEXT SEARCH CONFIGURATION k.cfg IS 'c';
ALTER TEXT SEARCH DICTIONARY k.dict OWNER TO alice;
ALTER TEXT SEARCH CONFIGURATION k.cfg OWNER TO "Bob Smith";

CREATE FUNCTION k.lang_handler() RETURNS language_handler LANGUAGE c AS '$libdir/plpgsql', 'plpgsql_call_handler';
CREATE FUNCTION k.lang_inline(internal) RETURNS void LANGUAGE c STRICT AS '$libdir/plpgsql', 'plpgsql_inline_handler';
CREATE FUNCTION k.lang_valid(oid) RETURNS void LANGUAGE c STRICT AS '$libdir/plpgsql', 'plpgsql_validator';
CREATE TRUSTED LANGUAGE "my lang" HANDLER k.lang_handler INLINE k.lang_inline VALIDATOR k.lang_valid;
CREATE LANGUAGE untr HANDLER k.lang_handler;
COMMENT ON LANGUAGE "my lang" IS 'lang';
ALTER LANGUAGE "my lang" OWNER TO alice;
REVOKE ALL ON LANGUAGE "my lang" FROM PUBLIC;
GRANT USAGE ON LANGUAGE "my lang" TO "Bob Smith";
CREATE FUNCTION k.in_my_lang() RETURNS integer LANGUAGE "my lang" AS 'BEGIN RETURN 1; END';

CREATE FUNCTION k.tf_from(internal) RETURNS internal LANGUAGE internal IMMUTABLE STRICT AS 'int4recv';
CREATE FUNCTION k.tf_to(internal) RETURNS k.mood LANGUAGE internal IMMUTABLE STRICT AS 'int4recv';
CREATE TRANSFORM FOR k.mood LANGUAGE "my lang" (FROM SQL WITH FUNCTION k.tf_from(internal), TO SQL WITH FUNCTION k.tf_to(internal));
CREATE TRANSFORM FOR k.pt LANGUAGE "my lang" (FROM SQL WITH FUNCTION k.tf_from(internal));
COMMENT ON TRANSFORM FOR k.mood LANGUAGE "my lang" IS 'tr';

CREATE FUNCTION k.fdw_valid(text[], oid) RETURNS void LANGUAGE internal STRICT AS 'postgresql_fdw_validator';
CREATE FOREIGN DATA WRAPPER w;
CREATE FOREIGN DATA WRAPPER "w 2" VALIDATOR k.fdw_valid;
CREATE FOREIGN DATA WRAPPER w3 NO VALIDATOR OPTIONS ("a b" 'it''s', c 'd');
COMMENT ON FOREIGN DATA WRAPPER w IS 'fdw';
GRANT USAGE ON FOREIGN DATA WRAPPER w TO "Bob Smith" WITH GRANT OPTION;
CREATE SERVER s1 FOREIGN DATA WRAPPER w;
CREATE SERVER "s 2" TYPE 'oracle' VERSION '1.0' FOREIGN DATA WRAPPER w OPTIONS (host 'h', port '1');
COMMENT ON SERVER s1 IS 'server';
ALTER SERVER "s 2" OWNER TO "Bob Smith";
GRANT USAGE ON FOREIGN SERVER s1 TO alice;
CREATE USER MAPPING FOR alice SERVER s1 OPTIONS (user 'al', password 'secret''s');
CREATE USER MAPPING FOR PUBLIC SERVER s1;
CREATE USER MAPPING FOR "Bob Smith" SERVER "s 2" OPTIONS (x 'y');
CREATE FUNCTION k.five() RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT 5';
CREATE FOREIGN TABLE k.ft (id integer OPTIONS (column_name 'ID') NOT NULL, "v v" text COLLATE "C" DEFAULT 'x',
	n numeric(5,2) OPTIONS (a 'b', c 'd') DEFAULT k.five(), CONSTRAINT "ft check" CHECK (id > k.five()))
	SERVER s1 OPTIONS (schema_name 'r', table_name 'x');
CREATE FOREIGN TABLE k.ft2 (a int, b text) SERVER "s 2";
ALTER FOREIGN TABLE k.ft2 ALTER COLUMN a SET STATISTICS 50, ALTER COLUMN b SET STORAGE MAIN;
ALTER FOREIGN TABLE k.ft2 ADD CONSTRAINT nv CHECK (a > 0) NOT VALID;
COMMENT ON FOREIGN TABLE k.ft IS 'ft';
COMMENT ON COLUMN k.ft."v v" IS 'col';
COMMENT ON CONSTRAINT "ft check" ON k.ft IS 'check';
ALTER FOREIGN TABLE k.ft OWNER TO alice;
GRANT SELECT ON k.ft TO "Bob Smith";
GRANT SELECT (b) ON k.ft2 TO alice;

CREATE TABLE k.pubt (id int PRIMARY KEY, v text);
CREATE TABLE k."pub T2" (id int PRIMARY KEY, v text);
CREATE PUBLICATION pall FOR ALL TABLES WITH (publish = 'insert, update');
CREATE PUBLICATION "p some" FOR TABLE k.pubt, k."pub T2" WITH (publish_via_partition_root = true);
CREATE PUBLICATION pempty;
CREATE PUBLICATION pnone WITH (publish = '');
COMMENT ON PUBLICATION pall IS 'all';
ALTER PUBLICATION pempty OWNER TO alice;

CREATE SUBSCRIPTION sub1 CONNECTION 'host=nowhere dbname=x password=pw' PUBLICATION pall, "p some"
	WITH (connect = false, slot_name = NONE);
COMMENT ON SUBSCRIPTION sub1 IS 'sub';

CREATE FUNCTION k.evt() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN END$$;
CREATE EVENT TRIGGER "ev 1" ON ddl_command_start WHEN TAG IN ('CREATE TABLE', 'DROP TABLE') EXECUTE FUNCTION k.evt();
CREATE EVENT TRIGGER ev2 ON sql_drop EXECUTE FUNCTION k.evt();
ALTER EVENT TRIGGER ev2 DISABLE;
CREATE EVENT TRIGGER ev3 ON table_rewrite EXECUTE FUNCTION k.evt();
ALTER EVENT TRIGGER ev3 ENABLE REPLICA;
CREATE EVENT TRIGGER ev4 ON ddl_command_end EXECUTE FUNCTION k.evt();
ALTER EVENT TRIGGER ev4 ENABLE ALWAYS;
COMMENT ON EVENT TRIGGER ev2 IS 'ev';

ALTER DEFAULT PRIVILEGES FOR ROLE alice IN SCHEMA k GRANT SELECT ON TABLES TO "Bob Smith";
ALTER DEFAULT PRIVILEGES FOR ROLE alice REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE alice GRANT EXECUTE ON FUNCTIONS TO "Bob Smith";
ALTER DEFAULT PRIVILEGES IN SCHEMA k GRANT USAGE ON SEQUENCES TO alice WITH GRANT OPTION;
ALTER DEFAULT PRIVILEGES REVOKE USAGE ON TYPES FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE "Bob Smith" GRANT ALL ON TABLES TO alice;
ALTER DEFAULT PRIVILEGES FOR ROLE "Bob Smith" REVOKE ALL ON TABLES FROM "Bob Smith";
ALTER DEFAULT PRIVILEGES GRANT CREATE ON SCHEMAS TO alice;
`
	if major >= 14 {
		s += `
CREATE SUBSCRIPTION sub2 CONNECTION 'dbname=y' PUBLICATION pall
	WITH (connect = false, slot_name = 'my_slot', binary = true, streaming = true, synchronous_commit = 'local');
`
	}
	if major >= 15 {
		s += `
CREATE PUBLICATION pfilter FOR TABLE k.pubt (id) WHERE (id > 10) WITH (publish = 'insert');
CREATE PUBLICATION pschema FOR TABLES IN SCHEMA "ext s", k;
CREATE SUBSCRIPTION sub3 CONNECTION 'dbname=z' PUBLICATION pfilter
	WITH (connect = false, slot_name = NONE, two_phase = true, disable_on_error = true);
`
	}
	if major >= 16 {
		s += `
CREATE SUBSCRIPTION sub4 CONNECTION 'dbname=z' PUBLICATION pfilter
	WITH (connect = false, slot_name = NONE, origin = none, password_required = false, run_as_owner = true, streaming = parallel);
`
	}
	if major >= 17 {
		s += `
CREATE SUBSCRIPTION sub5 CONNECTION 'dbname=z' PUBLICATION pfilter WITH (connect = false, slot_name = NONE, failover = true);
CREATE COLLATION k.bi (provider = builtin, locale = 'C');
`
	}
	return s
}

func TestKindsLive(t *testing.T) {
	testcluster.EachMajor(t, testKinds)
}

func testKinds(t *testing.T, c *testcluster.Cluster) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	c.CreateDB(t, "src")
	c.Exec(t, "src", kindsFixture(c.Major()))
	src := connect(t, ctx, c, "src")
	objs := loadAllSorted(t, ctx, src, Options{})
	checkKinds(t, objs, c.Major(), c.User())

	// Restore into a fresh database, privileges last as restore does.
	c.CreateDB(t, "dst")
	dst := connect(t, ctx, c, "dst")
	var acls []*schema.Object
	for _, o := range objs {
		switch o.Kind {
		case schema.KindTableData:
			copyData(t, ctx, src, dst, o.Data)
			continue
		case schema.KindACL:
			acls = append(acls, o)
			continue
		}
		sql := o.CreateSQL()
		if o.Ident != "" && o.Owner != "" {
			sql += "\nALTER " + o.Ident + " OWNER TO " + schema.Ident(o.Owner) + ";"
		}
		if _, err := dst.Exec(ctx, sql); err != nil {
			t.Fatalf("restore %s: %v\n%s", o, err, sql)
		}
	}
	for _, o := range acls {
		if _, err := dst.Exec(ctx, o.CreateSQL()); err != nil {
			t.Fatalf("restore %s: %v\n%s", o, err, o.CreateSQL())
		}
	}
	if got, want := describe(loadAllSorted(t, ctx, dst, Options{})), describe(objs); !slices.Equal(got, want) {
		t.Errorf("the restored database loads differently:\n%s", lineDiff(want, got))
	}
	comparePgDump(t, c, "src", "dst")

	// What --no-publications, --no-subscriptions and -e leave.
	kinds := func(objs []*schema.Object) map[schema.Kind]int {
		m := map[schema.Kind]int{}
		for _, o := range objs {
			m[o.Kind]++
		}
		return m
	}
	no := kinds(loadAllSorted(t, ctx, src, Options{NoPublications: true, NoSubscriptions: true, NoSecurityLabels: true}))
	if no[schema.KindPublication]+no[schema.KindPublicationTable]+no[schema.KindSubscription] != 0 || no[schema.KindOperator] == 0 {
		t.Errorf("--no-publications --no-subscriptions: %v", no)
	}
	p, err := ParseExtensionPattern("h*")
	if err != nil {
		t.Fatal(err)
	}
	e := kinds(loadAllSorted(t, ctx, src, Options{Select: Selection{Extensions: []schema.NamePattern{p}}}))
	if e[schema.KindExtension] != 1 || e[schema.KindCast]+e[schema.KindFDW]+e[schema.KindPublication]+e[schema.KindEventTrigger] != 0 ||
		e[schema.KindOperator] == 0 || e[schema.KindDefaultACL] != 2 {
		t.Errorf("-e 'h*': %v", e)
	}
	n, err := schema.ParseSchemaPattern("k")
	if err != nil {
		t.Fatal(err)
	}
	if got := kinds(loadAllSorted(t, ctx, src, Options{Select: Selection{Schemas: []schema.NamePattern{n}}})); got[schema.KindExtension] != 0 {
		t.Errorf("-n k dumps extensions: %v", got)
	}
	if got := kinds(loadAllSorted(t, ctx, src, Options{Select: Selection{Schemas: []schema.NamePattern{n}, Extensions: []schema.NamePattern{p}}})); got[schema.KindExtension] != 1 {
		t.Errorf("-n k -e 'h*' leaves out the extension: %v", got)
	}
	testExtensionConfig(t, ctx, c)
}

func loadAllSorted(t *testing.T, ctx context.Context, q Querier, opts Options) []*schema.Object {
	t.Helper()
	cat, err := Load(ctx, q, opts)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := schema.Sort(cat.Objects)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// checkKinds checks names, owners, idents, order and a few statements.
func checkKinds(t *testing.T, objs []*schema.Object, major int, superuser string) {
	t.Helper()
	find := func(kind schema.Kind, nsp, name string) *schema.Object {
		for _, o := range objs {
			if o.Kind == kind && o.Schema == nsp && o.Name == name {
				return o
			}
		}
		t.Errorf("no %s %q.%q", kind, nsp, name)
		return &schema.Object{}
	}
	if o := find(schema.KindExtension, "", "hstore"); !strings.HasPrefix(o.Create, `CREATE EXTENSION IF NOT EXISTS "hstore" WITH SCHEMA "ext s" VERSION '`) ||
		o.Owner != "" || o.Ident != "" {
		t.Errorf("extension: %+v", o)
	}
	for _, o := range objs {
		if o.Kind == schema.KindExtension && o.Name == "plpgsql" || o.Kind == schema.KindType && o.Name == "hstore" ||
			o.Kind == schema.KindFunction && strings.HasPrefix(o.Name, "hstore") {
			t.Errorf("%s is dumped", o)
		}
	}
	if o := find(schema.KindAggregate, "k", "star(*)"); o.Ident != `AGGREGATE "k"."star"(*)` {
		t.Errorf("aggregate: %+v", o)
	}
	if o := find(schema.KindAggregate, "k", "mypct(double precision, double precision)"); o.Ident !=
		`AGGREGATE "k"."mypct"(double precision ORDER BY double precision)` {
		t.Errorf("aggregate: %+v", o)
	}
	if o := find(schema.KindComment, "k", "AGGREGATE star(*)"); o.Create != `COMMENT ON AGGREGATE "k"."star"(*) IS 'counts';` {
		t.Errorf("aggregate comment: %s", o.Create)
	}
	find(schema.KindOperator, "k", "@@@")
	for _, o := range objs {
		if o.Kind == schema.KindOperator && o.Name == "@@@@" {
			t.Errorf("shell operator %s dumped", o.Ident)
		}
	}
	if o := find(schema.KindOperator, "k", "~~~"); o.Ident != `OPERATOR "k".~~~ (NONE, integer)` {
		t.Errorf("operator: %+v", o)
	}
	if o := find(schema.KindOpFamily, "k", "fam"); !strings.Contains(o.Create, "ALTER OPERATOR FAMILY \"k\".\"fam\" USING \"btree\" ADD\n"+
		"    OPERATOR 1 <(integer,bigint) ,\n    FUNCTION 1 (integer, bigint) btint48cmp(integer,bigint);") {
		t.Errorf("operator family:\n%s", o.Create)
	}
	// PostgreSQL 13 makes the members class members, later majors loose
	// members of the family.
	if o := find(schema.KindOpClass, "k", "Def Cls"); !strings.HasPrefix(o.Create, "CREATE OPERATOR CLASS \"k\".\"Def Cls\"\n    DEFAULT FOR TYPE k.mood USING \"hash\" "+
		"FAMILY \"k\".\"Def Cls\" AS\n    ") {
		t.Errorf("operator class:\n%s", o.Create)
	}
	if o := find(schema.KindCast, "", "CAST (k.pt AS text)"); o.Create != "CREATE CAST (k.pt AS text) WITH FUNCTION k.pt_text(k.pt) AS ASSIGNMENT;" {
		t.Errorf("cast: %s", o.Create)
	}
	for _, o := range objs {
		if o.Kind == schema.KindCast && strings.Contains(o.Name, "multirange") {
			t.Errorf("%s is dumped", o.Name)
		}
	}
	if o := find(schema.KindTSConfig, "k", "cfg"); !strings.Contains(o.Create, "ALTER TEXT SEARCH CONFIGURATION \"k\".\"cfg\"\n"+
		"    ADD MAPPING FOR asciiword WITH k.dict, simple;") || !strings.Contains(o.Create, `ADD MAPPING FOR "int" WITH k."dict 2";`) {
		t.Errorf("text search configuration:\n%s", o.Create)
	}
	if o := find(schema.KindUserMapping, "", "USER MAPPING alice SERVER s1"); o.Create !=
		"CREATE USER MAPPING FOR \"alice\" SERVER \"s1\" OPTIONS (\n    \"user\" 'al',\n    password 'secret''s'\n);" || o.Owner != superuser {
		t.Errorf("user mapping: %+v", o)
	}
	find(schema.KindUserMapping, "", "USER MAPPING public SERVER s1")
	if o := find(schema.KindForeignTable, "k", "ft2"); !strings.Contains(o.Create, `ALTER FOREIGN TABLE ONLY "k"."ft2" ALTER COLUMN "a" SET STATISTICS 50;`) ||
		!strings.HasSuffix(o.Create, `ALTER FOREIGN TABLE "k"."ft2" ADD CONSTRAINT "nv" CHECK ((a > 0)) NOT VALID;`) {
		t.Errorf("foreign table:\n%s", o.Create)
	}
	if o := find(schema.KindPublicationTable, "k", "p some pub T2"); o.Create != `ALTER PUBLICATION "p some" ADD TABLE ONLY "k"."pub T2";` ||
		o.Section() != schema.SectionPostData {
		t.Errorf("publication table: %+v", o)
	}
	if major >= 15 {
		if o := find(schema.KindPublicationTable, "k", "pfilter pubt"); o.Create != `ALTER PUBLICATION "pfilter" ADD TABLE ONLY "k"."pubt" (id) WHERE ((id > 10));` {
			t.Errorf("publication table: %s", o.Create)
		}
		find(schema.KindPublicationSchema, "ext s", "pschema ext s")
	}
	if o := find(schema.KindSubscription, "", "sub1"); o.Create != `CREATE SUBSCRIPTION "sub1" CONNECTION 'host=nowhere dbname=x password=pw' `+
		`PUBLICATION "pall", "p some" WITH (connect = false, slot_name = NONE);` {
		t.Errorf("subscription: %s", o.Create)
	}
	if o := find(schema.KindEventTrigger, "", "ev2"); !strings.HasSuffix(o.Create, `ALTER EVENT TRIGGER "ev2" DISABLE;`) {
		t.Errorf("event trigger: %s", o.Create)
	}
	if o := find(schema.KindDefaultACL, "k", "DEFAULT PRIVILEGES FOR TABLES"); o.Owner != "alice" || o.Section() != schema.SectionNone ||
		o.Create != `ALTER DEFAULT PRIVILEGES FOR ROLE "alice" IN SCHEMA "k" GRANT SELECT ON TABLES  TO "Bob Smith";` {
		t.Errorf("default privileges: %+v", o)
	}
	if o := find(schema.KindACL, "", "LANGUAGE my lang"); o.Create != "REVOKE ALL ON LANGUAGE \"my lang\" FROM PUBLIC;\n"+
		`GRANT ALL ON LANGUAGE "my lang" TO "Bob Smith";` {
		t.Errorf("language privileges: %s", o.Create)
	}
	// The order: pg_dump's priorities, and the dependencies.
	pos := map[string]int{}
	for i, o := range objs {
		pos[string(o.Kind)+" "+o.Name] = i
	}
	for _, pair := range [][2]string{
		{"FUNCTION lang_handler()", "PROCEDURAL LANGUAGE my lang"},
		{"EXTENSION hstore", "TABLE uses_ext"},
		{"FUNCTION five()", "FOREIGN TABLE ft"},
		{"SERVER s1", "USER MAPPING USER MAPPING alice SERVER s1"},
		{"OPERATOR FAMILY fam", "OPERATOR CLASS cls"},
		{"OPERATOR CLASS cls", "INDEX uses_ext_cls"},
		{"PUBLICATION p some", "PUBLICATION TABLE p some pubt"},
		{"PUBLICATION TABLE p some pubt", "SUBSCRIPTION sub1"},
		{"SUBSCRIPTION sub1", "DEFAULT ACL DEFAULT PRIVILEGES FOR SCHEMAS"},
		{"DEFAULT ACL DEFAULT PRIVILEGES FOR SCHEMAS", "EVENT TRIGGER ev2"},
	} {
		a, aok := pos[pair[0]]
		b, bok := pos[pair[1]]
		if !aok || !bok || a > b {
			t.Errorf("%s (%d, %v) is not before %s (%d, %v)", pair[0], a, aok, pair[1], b, bok)
		}
	}
}

// testExtensionConfig checks the TABLE DATA of an extension's
// configuration table against pg_dump's. No extension of PostgreSQL's has
// one: the test makes a table a member of hstore and marks it as its
// configuration, as pg_extension_config_dump would, in the catalog
// (superuser).
func testExtensionConfig(t *testing.T, ctx context.Context, c *testcluster.Cluster) {
	c.CreateDB(t, "cfg")
	c.Exec(t, "cfg", `CREATE EXTENSION hstore;
CREATE TABLE public.conf (id int, std bool, "v v" text, g int GENERATED ALWAYS AS (id * 2) STORED);
INSERT INTO public.conf VALUES (1, true, 'a'), (2, false, 'b'), (3, false, E'c\td');
ALTER EXTENSION hstore ADD TABLE public.conf;
UPDATE pg_extension SET extconfig = ARRAY['public.conf'::regclass::oid], extcondition = ARRAY['WHERE NOT std']
	WHERE extname = 'hstore';`)
	conn := connect(t, ctx, c, "cfg")
	objs := loadAllSorted(t, ctx, conn, Options{})
	var data *schema.Object
	for _, o := range objs {
		if o.Kind == schema.KindTable && o.Name == "conf" {
			t.Errorf("the configuration table is dumped: %s", o.CreateSQL())
		}
		if o.Kind == schema.KindTableData && o.Name == "conf" {
			data = o
		}
	}
	if data == nil || data.Data.Where != "NOT std" || !slices.Equal(data.Data.Columns, []string{"id", "std", `"v v"`}) ||
		data.Deps[0].Class != schema.ClassPgExtension {
		t.Fatalf("configuration table data: %+v", data)
	}
	var got bytes.Buffer
	q := "COPY (SELECT " + strings.Join(data.Data.Columns, ", ") + " FROM " + data.Data.Relation + " WHERE " + data.Data.Where + ") TO STDOUT"
	if _, err := conn.PgConn().CopyTo(ctx, &got, q); err != nil {
		t.Fatal(err)
	}
	pgDump, err := c.ClientBin("pg_dump")
	if err != nil {
		t.Fatal(err)
	}
	if binMajor(t, pgDump) < c.Major() {
		return
	}
	cmd := exec.Command(pgDump, "--data-only", "cfg")
	cmd.Env = append(cmd.Environ(), c.Env("cfg")...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	_, block, _ := strings.Cut(string(out), "COPY public.conf (id, std, \"v v\") FROM stdin;\n")
	block, _, _ = strings.Cut(block, "\\.\n")
	if block != got.String() {
		t.Errorf("configuration table rows: pgark %q, pg_dump %q", got.String(), block)
	}
	// -e of another extension leaves them out.
	p, err := ParseExtensionPattern("plpgsql")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range loadAllSorted(t, ctx, conn, Options{Select: Selection{Extensions: []schema.NamePattern{p}}}) {
		if o.Kind == schema.KindTableData && o.Name == "conf" || o.Kind == schema.KindExtension {
			t.Errorf("-e plpgsql dumps %s", o)
		}
	}
}
