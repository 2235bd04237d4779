-- The object kinds that are no relation, type or function: extensions,
-- aggregates, operators and their classes and families, casts, collations,
-- conversions, text search objects, procedural languages, transforms,
-- access methods, foreign data wrappers, servers, user mappings and foreign
-- tables, publications, subscriptions, event triggers and default
-- privileges. PostgreSQL 13 syntax; corpus-kinds-15plus.sql has the rest.
-- The roles alice and "Bob Smith" exist (the test creates them). Extensions
-- are created only where the server has their files.

CREATE SCHEMA kinds AUTHORIZATION alice;
CREATE SCHEMA "ext s";

-- extensions: hstore in a schema of its own, with a table using its type
DO $$BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'hstore') THEN
        CREATE EXTENSION hstore WITH SCHEMA "ext s";
        COMMENT ON EXTENSION hstore IS 'key, value';
        CREATE TABLE kinds.props (id integer PRIMARY KEY, h "ext s".hstore);
        INSERT INTO kinds.props VALUES (1, 'a=>1, "b c"=>NULL'), (2, '');
    END IF;
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        CREATE EXTENSION pg_trgm;
        CREATE TABLE kinds.words (w text);
        CREATE INDEX words_trgm ON kinds.words USING gin (w public.gin_trgm_ops);
        INSERT INTO kinds.words VALUES ('hello'), ('world');
    END IF;
END$$;

-- aggregates
CREATE FUNCTION kinds.add2(integer, integer) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT $1 + $2';
CREATE FUNCTION kinds.sub2(integer, integer) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT $1 - $2';
CREATE AGGREGATE kinds."my sum"(integer) (SFUNC = kinds.add2, STYPE = integer, INITCOND = '0', COMBINEFUNC = kinds.add2,
    PARALLEL = SAFE, MSFUNC = kinds.add2, MINVFUNC = kinds.sub2, MSTYPE = integer, MINITCOND = '0');
CREATE AGGREGATE kinds.avg8(float8) (SFUNC = float8_accum, STYPE = float8[], FINALFUNC = float8_avg,
    INITCOND = '{0,0,0}', COMBINEFUNC = float8_combine);
CREATE AGGREGATE kinds.pct(float8 ORDER BY float8) (SFUNC = ordered_set_transition, STYPE = internal,
    FINALFUNC = percentile_disc_final, FINALFUNC_EXTRA);
CREATE AGGREGATE kinds.navg(numeric) (SFUNC = numeric_avg_accum, STYPE = internal, FINALFUNC = numeric_avg,
    COMBINEFUNC = numeric_avg_combine, SERIALFUNC = numeric_avg_serialize, DESERIALFUNC = numeric_avg_deserialize,
    SSPACE = 128);
CREATE AGGREGATE kinds.biggest(integer) (SFUNC = int4larger, STYPE = integer, SORTOP = >);
CREATE AGGREGATE kinds.rows(*) (SFUNC = int8inc, STYPE = int8, INITCOND = '0');
CREATE AGGREGATE kinds.rnk(VARIADIC "any" ORDER BY VARIADIC "any") (SFUNC = ordered_set_transition_multi,
    STYPE = internal, FINALFUNC = rank_final, FINALFUNC_EXTRA, HYPOTHETICAL);
COMMENT ON AGGREGATE kinds."my sum"(integer) IS 'sums';
COMMENT ON AGGREGATE kinds.rows(*) IS 'counts';
ALTER AGGREGATE kinds."my sum"(integer) OWNER TO "Bob Smith";
REVOKE ALL ON FUNCTION kinds."my sum"(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kinds."my sum"(integer) TO alice;

-- operators, operator families and classes, access methods
CREATE FUNCTION kinds.eqf(integer, integer) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT $1 = $2';
CREATE FUNCTION kinds.ltf(integer, integer) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT $1 < $2';
CREATE FUNCTION kinds.neg(integer) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT -$1';
CREATE FUNCTION kinds.cmpf(integer, integer) RETURNS integer LANGUAGE sql IMMUTABLE
    AS 'SELECT CASE WHEN $1 < $2 THEN -1 WHEN $1 > $2 THEN 1 ELSE 0 END';
CREATE OPERATOR kinds.!== (LEFTARG = integer, RIGHTARG = integer, FUNCTION = kinds.eqf);
CREATE OPERATOR kinds.=== (LEFTARG = integer, RIGHTARG = integer, FUNCTION = kinds.eqf, COMMUTATOR = OPERATOR(kinds.===),
    NEGATOR = OPERATOR(kinds.!==), RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES);
CREATE OPERATOR kinds.<<< (LEFTARG = integer, RIGHTARG = integer, FUNCTION = kinds.ltf);
CREATE OPERATOR kinds.~~~ (RIGHTARG = integer, FUNCTION = kinds.neg);
COMMENT ON OPERATOR kinds.===(integer, integer) IS 'equal';
ALTER OPERATOR kinds.<<<(integer, integer) OWNER TO alice;
CREATE OPERATOR FAMILY kinds.fam USING btree;
CREATE OPERATOR CLASS kinds.cls FOR TYPE integer USING btree FAMILY kinds.fam AS
    OPERATOR 1 kinds.<<<, OPERATOR 3 kinds.===, FUNCTION 1 kinds.cmpf(integer, integer);
ALTER OPERATOR FAMILY kinds.fam USING btree ADD OPERATOR 1 <(integer, bigint), FUNCTION 1 btint48cmp(integer, bigint);
CREATE TYPE kinds.mood AS ENUM ('low', 'high');
CREATE OPERATOR CLASS kinds."Mood Hash" DEFAULT FOR TYPE kinds.mood USING hash AS
    OPERATOR 1 =(anyenum, anyenum), FUNCTION 1 hashenum(anyenum);
COMMENT ON OPERATOR FAMILY kinds.fam USING btree IS 'a family';
COMMENT ON OPERATOR CLASS kinds.cls USING btree IS 'a class';
ALTER OPERATOR CLASS kinds.cls USING btree OWNER TO alice;
CREATE TABLE kinds.ordered (n integer, m kinds.mood);
CREATE INDEX ordered_cls ON kinds.ordered (n kinds.cls);
INSERT INTO kinds.ordered VALUES (3, 'low'), (1, 'high');
CREATE ACCESS METHOD "heap 2" TYPE TABLE HANDLER heap_tableam_handler;
CREATE ACCESS METHOD btree2 TYPE INDEX HANDLER bthandler;
COMMENT ON ACCESS METHOD btree2 IS 'a copy of btree';
CREATE OPERATOR CLASS kinds.b2 DEFAULT FOR TYPE integer USING btree2 AS
    OPERATOR 1 <, OPERATOR 3 =, FUNCTION 1 btint4cmp(integer, integer);

-- casts, collations, conversions
CREATE TYPE kinds.pt AS (x integer, y integer);
CREATE FUNCTION kinds.pt_text(kinds.pt) RETURNS text LANGUAGE sql IMMUTABLE AS $$SELECT $1.x || ',' || $1.y$$;
CREATE CAST (kinds.pt AS text) WITH FUNCTION kinds.pt_text(kinds.pt) AS ASSIGNMENT;
CREATE CAST (kinds.mood AS text) WITH INOUT AS IMPLICIT;
COMMENT ON CAST (kinds.pt AS text) IS 'a cast';
CREATE COLLATION kinds.c1 (locale = 'C');
CREATE COLLATION kinds."c 2" (lc_collate = 'C', lc_ctype = 'POSIX');
COMMENT ON COLLATION kinds.c1 IS 'C again';
ALTER COLLATION kinds.c1 OWNER TO alice;
DO $$BEGIN
    IF EXISTS (SELECT 1 FROM pg_collation WHERE collprovider = 'i') THEN
        CREATE COLLATION kinds.nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
        CREATE COLLATION kinds."icu de" (provider = icu, locale = 'de');
    END IF;
END$$;
CREATE TABLE kinds.collated (a text COLLATE kinds.c1, b text COLLATE kinds."c 2");
INSERT INTO kinds.collated VALUES ('x', 'y');
CREATE CONVERSION kinds.latin1_utf8 FOR 'LATIN1' TO 'UTF8' FROM iso8859_1_to_utf8;
CREATE DEFAULT CONVERSION kinds."latin2 utf8" FOR 'LATIN2' TO 'UTF8' FROM iso8859_to_utf8;
COMMENT ON CONVERSION kinds.latin1_utf8 IS 'a conversion';

-- text search, with the built-in parser's and template's C functions
CREATE TEXT SEARCH PARSER kinds.prs (START = prsd_start, GETTOKEN = prsd_nexttoken, END = prsd_end,
    LEXTYPES = prsd_lextype, HEADLINE = prsd_headline);
CREATE TEXT SEARCH TEMPLATE kinds.tmpl (INIT = dsimple_init, LEXIZE = dsimple_lexize);
CREATE TEXT SEARCH DICTIONARY kinds.dict (TEMPLATE = simple, STOPWORDS = english, ACCEPT = false);
CREATE TEXT SEARCH DICTIONARY kinds."dict 2" (TEMPLATE = kinds.tmpl);
CREATE TEXT SEARCH CONFIGURATION kinds.cfg (PARSER = kinds.prs);
ALTER TEXT SEARCH CONFIGURATION kinds.cfg ADD MAPPING FOR asciiword, word WITH kinds.dict, simple;
ALTER TEXT SEARCH CONFIGURATION kinds.cfg ADD MAPPING FOR int WITH kinds."dict 2";
CREATE TEXT SEARCH CONFIGURATION kinds.english2 (COPY = english);
COMMENT ON TEXT SEARCH PARSER kinds.prs IS 'a parser';
COMMENT ON TEXT SEARCH TEMPLATE kinds.tmpl IS 'a template';
COMMENT ON TEXT SEARCH DICTIONARY kinds.dict IS 'a dictionary';
COMMENT ON TEXT SEARCH CONFIGURATION kinds.cfg IS 'a configuration';
ALTER TEXT SEARCH DICTIONARY kinds.dict OWNER TO alice;
ALTER TEXT SEARCH CONFIGURATION kinds.cfg OWNER TO "Bob Smith";
CREATE TABLE kinds.docs (body text, tsv tsvector GENERATED ALWAYS AS (to_tsvector('kinds.cfg', body)) STORED);
INSERT INTO kinds.docs (body) VALUES ('the quick brown fox 42');

-- a procedural language (plpgsql's handlers under another name) and transforms
CREATE FUNCTION kinds.lang_handler() RETURNS language_handler LANGUAGE c AS '$libdir/plpgsql', 'plpgsql_call_handler';
CREATE FUNCTION kinds.lang_inline(internal) RETURNS void LANGUAGE c STRICT AS '$libdir/plpgsql', 'plpgsql_inline_handler';
CREATE FUNCTION kinds.lang_valid(oid) RETURNS void LANGUAGE c STRICT AS '$libdir/plpgsql', 'plpgsql_validator';
CREATE TRUSTED LANGUAGE "my pl" HANDLER kinds.lang_handler INLINE kinds.lang_inline VALIDATOR kinds.lang_valid;
CREATE LANGUAGE untrusted_pl HANDLER kinds.lang_handler;
COMMENT ON LANGUAGE "my pl" IS 'a language';
ALTER LANGUAGE "my pl" OWNER TO alice;
REVOKE ALL ON LANGUAGE "my pl" FROM PUBLIC;
GRANT USAGE ON LANGUAGE "my pl" TO "Bob Smith";
CREATE FUNCTION kinds.in_my_pl(n integer) RETURNS integer LANGUAGE "my pl" AS 'BEGIN RETURN n + 1; END';
CREATE FUNCTION kinds.tf_from(internal) RETURNS internal LANGUAGE internal IMMUTABLE STRICT AS 'int4recv';
CREATE FUNCTION kinds.tf_to(internal) RETURNS kinds.mood LANGUAGE internal IMMUTABLE STRICT AS 'int4recv';
CREATE TRANSFORM FOR kinds.mood LANGUAGE "my pl" (FROM SQL WITH FUNCTION kinds.tf_from(internal),
    TO SQL WITH FUNCTION kinds.tf_to(internal));
CREATE TRANSFORM FOR kinds.pt LANGUAGE "my pl" (FROM SQL WITH FUNCTION kinds.tf_from(internal));
COMMENT ON TRANSFORM FOR kinds.mood LANGUAGE "my pl" IS 'a transform';

-- foreign data wrappers without handlers, servers, user mappings, foreign tables
CREATE FUNCTION kinds.fdw_valid(text[], oid) RETURNS void LANGUAGE internal STRICT AS 'postgresql_fdw_validator';
CREATE FOREIGN DATA WRAPPER w;
CREATE FOREIGN DATA WRAPPER "w 2" VALIDATOR kinds.fdw_valid;
CREATE FOREIGN DATA WRAPPER w3 OPTIONS ("a b" 'it''s', c 'd');
COMMENT ON FOREIGN DATA WRAPPER w IS 'a wrapper';
GRANT USAGE ON FOREIGN DATA WRAPPER w TO "Bob Smith" WITH GRANT OPTION;
CREATE SERVER s1 FOREIGN DATA WRAPPER w;
CREATE SERVER "s 2" TYPE 'oracle' VERSION '19c' FOREIGN DATA WRAPPER w OPTIONS (host 'h', port '1521');
COMMENT ON SERVER s1 IS 'a server';
ALTER SERVER "s 2" OWNER TO "Bob Smith";
GRANT USAGE ON FOREIGN SERVER s1 TO alice;
CREATE USER MAPPING FOR alice SERVER s1 OPTIONS (user 'al', password 'secret''s');
CREATE USER MAPPING FOR PUBLIC SERVER s1;
CREATE USER MAPPING FOR "Bob Smith" SERVER "s 2" OPTIONS (x 'y');
CREATE FUNCTION kinds.five() RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT 5';
CREATE FOREIGN TABLE kinds.ft (
    id integer OPTIONS (column_name 'ID') NOT NULL,
    "v v" text COLLATE "C" DEFAULT 'x',
    n numeric(5,2) OPTIONS (a 'b', c 'd') DEFAULT kinds.five(),
    CONSTRAINT "ft check" CHECK (id > kinds.five())
) SERVER s1 OPTIONS (schema_name 'remote', table_name 'x');
CREATE FOREIGN TABLE kinds.ft2 (a integer, b text) SERVER "s 2";
ALTER FOREIGN TABLE kinds.ft2 ALTER COLUMN a SET STATISTICS 50, ALTER COLUMN b SET STORAGE MAIN;
ALTER FOREIGN TABLE kinds.ft2 ADD CONSTRAINT a_positive CHECK (a > 0) NOT VALID;
COMMENT ON FOREIGN TABLE kinds.ft IS 'a foreign table';
COMMENT ON COLUMN kinds.ft."v v" IS 'a foreign column';
ALTER FOREIGN TABLE kinds.ft OWNER TO alice;
GRANT SELECT ON kinds.ft TO "Bob Smith";
GRANT SELECT (b) ON kinds.ft2 TO alice;

-- publications and subscriptions (disabled, not connected)
CREATE TABLE kinds.pubt (id integer PRIMARY KEY, v text);
CREATE TABLE kinds."pub T2" (id integer PRIMARY KEY, v text);
INSERT INTO kinds.pubt VALUES (1, 'one');
CREATE PUBLICATION pub_all FOR ALL TABLES WITH (publish = 'insert, update');
CREATE PUBLICATION "pub some" FOR TABLE kinds.pubt, kinds."pub T2" WITH (publish_via_partition_root = true);
CREATE PUBLICATION pub_empty;
CREATE PUBLICATION pub_none WITH (publish = '');
COMMENT ON PUBLICATION pub_all IS 'everything';
ALTER PUBLICATION pub_empty OWNER TO alice;
CREATE SUBSCRIPTION sub1 CONNECTION 'host=nowhere dbname=x password=pw' PUBLICATION pub_all, "pub some"
    WITH (connect = false, slot_name = NONE);
CREATE SUBSCRIPTION "sub 2" CONNECTION 'dbname=y' PUBLICATION pub_all
    WITH (connect = false, slot_name = 'sub_slot', synchronous_commit = 'local');
COMMENT ON SUBSCRIPTION sub1 IS 'a subscription';

-- event triggers, in every firing state
CREATE FUNCTION kinds.on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN END$$;
CREATE EVENT TRIGGER "on ddl" ON ddl_command_start WHEN TAG IN ('CREATE TABLE', 'DROP TABLE')
    EXECUTE FUNCTION kinds.on_ddl();
CREATE EVENT TRIGGER on_drop ON sql_drop EXECUTE FUNCTION kinds.on_ddl();
ALTER EVENT TRIGGER on_drop DISABLE;
CREATE EVENT TRIGGER on_rewrite ON table_rewrite EXECUTE FUNCTION kinds.on_ddl();
ALTER EVENT TRIGGER on_rewrite ENABLE REPLICA;
CREATE EVENT TRIGGER on_end ON ddl_command_end EXECUTE FUNCTION kinds.on_ddl();
ALTER EVENT TRIGGER on_end ENABLE ALWAYS;
COMMENT ON EVENT TRIGGER on_drop IS 'disabled';

-- default privileges, of the corpus roles only (so that the objects of the
-- other corpus files keep theirs), grants and revokes
ALTER DEFAULT PRIVILEGES FOR ROLE alice IN SCHEMA kinds GRANT SELECT ON TABLES TO "Bob Smith";
ALTER DEFAULT PRIVILEGES FOR ROLE alice IN SCHEMA kinds GRANT USAGE ON SEQUENCES TO "Bob Smith" WITH GRANT OPTION;
ALTER DEFAULT PRIVILEGES FOR ROLE alice REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE alice GRANT EXECUTE ON FUNCTIONS TO "Bob Smith";
ALTER DEFAULT PRIVILEGES FOR ROLE alice REVOKE USAGE ON TYPES FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE "Bob Smith" GRANT ALL ON TABLES TO alice;
ALTER DEFAULT PRIVILEGES FOR ROLE "Bob Smith" REVOKE ALL ON TABLES FROM "Bob Smith";
ALTER DEFAULT PRIVILEGES FOR ROLE "Bob Smith" GRANT CREATE ON SCHEMAS TO alice;
