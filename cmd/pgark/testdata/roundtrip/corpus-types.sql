-- The dependency loops pg_dump breaks (loaded after corpus.sql, whose
-- roles and schemas exist): base types and a range type's canonical
-- function, broken by shell types; views that read functions returning
-- their own rows, broken by a dummy view replaced in post-data.
-- LANGUAGE internal wrappers of built-in functions stand in for C ones.

-- A fixed-length base type, passed by value.
CREATE TYPE public.myint;
CREATE FUNCTION public.myint_in(cstring) RETURNS public.myint LANGUAGE internal IMMUTABLE STRICT AS 'int4in';
CREATE FUNCTION public.myint_out(public.myint) RETURNS cstring LANGUAGE internal IMMUTABLE STRICT AS 'int4out';
CREATE TYPE public.myint (INPUT = public.myint_in, OUTPUT = public.myint_out, LIKE = integer);
COMMENT ON TYPE public.myint IS 'a base type';
ALTER TYPE public.myint OWNER TO alice;

-- A variable-length one with every option.
CREATE TYPE "select"."My Text";
CREATE FUNCTION "select"."My Text_in"(cstring) RETURNS "select"."My Text" LANGUAGE internal IMMUTABLE STRICT AS 'textin';
CREATE FUNCTION "select"."My Text_out"("select"."My Text") RETURNS cstring LANGUAGE internal IMMUTABLE STRICT AS 'textout';
CREATE FUNCTION "select"."My Text_recv"(internal) RETURNS "select"."My Text" LANGUAGE internal IMMUTABLE STRICT AS 'textrecv';
CREATE FUNCTION "select"."My Text_send"("select"."My Text") RETURNS bytea LANGUAGE internal IMMUTABLE STRICT AS 'textsend';
CREATE FUNCTION "select".mod_in(cstring[]) RETURNS integer LANGUAGE internal IMMUTABLE STRICT AS 'varchartypmodin';
CREATE FUNCTION "select".mod_out(integer) RETURNS cstring LANGUAGE internal IMMUTABLE STRICT AS 'varchartypmodout';
CREATE TYPE "select"."My Text" (INPUT = "select"."My Text_in", OUTPUT = "select"."My Text_out",
    RECEIVE = "select"."My Text_recv", SEND = "select"."My Text_send",
    TYPMOD_IN = "select".mod_in, TYPMOD_OUT = "select".mod_out,
    INTERNALLENGTH = VARIABLE, ALIGNMENT = int4, STORAGE = extended, CATEGORY = 'S',
    DEFAULT = 'it''s', DELIMITER = ';', COLLATABLE = true);

-- A fixed-length one with an element type (subscriptable).
CREATE TYPE public.mypoint;
CREATE FUNCTION public.mypoint_in(cstring) RETURNS public.mypoint LANGUAGE internal IMMUTABLE STRICT AS 'point_in';
CREATE FUNCTION public.mypoint_out(public.mypoint) RETURNS cstring LANGUAGE internal IMMUTABLE STRICT AS 'point_out';
CREATE TYPE public.mypoint (INPUT = public.mypoint_in, OUTPUT = public.mypoint_out,
    INTERNALLENGTH = 16, ELEMENT = float8, ALIGNMENT = double);

-- A range type with a canonical function.
CREATE TYPE public.intrange;
CREATE FUNCTION public.intrange_canon(public.intrange) RETURNS public.intrange
    LANGUAGE internal IMMUTABLE STRICT AS 'int4range_canonical';
CREATE TYPE public.intrange AS RANGE (subtype = integer, canonical = public.intrange_canon);

CREATE TABLE public.base_types (
    id integer PRIMARY KEY,
    a public.myint,
    b "select"."My Text"(8) COLLATE "C",
    p public.mypoint,
    r public.intrange,
    arr public.myint[]
);
INSERT INTO public.base_types VALUES
    (1, '1', 'it''s', '(1,2)', '[1,3]', '{4,5}'),
    (2, '-42', E'tab\there', '(0.5,-1e10)', 'empty', '{}'),
    (3, NULL, NULL, NULL, NULL, NULL);
GRANT SELECT (a) ON public.base_types TO "Bob Smith";

-- A view that reads a function returning its own rows.
CREATE TABLE "Mixed Case".loop_src (a integer, b text COLLATE "C");
INSERT INTO "Mixed Case".loop_src VALUES (1, 'x'), (2, NULL);
CREATE VIEW "Mixed Case"."Loop View" AS SELECT a, b FROM "Mixed Case".loop_src;
CREATE FUNCTION "Mixed Case".loop_rows() RETURNS SETOF "Mixed Case"."Loop View"
    LANGUAGE sql STABLE AS 'SELECT * FROM "Mixed Case"."Loop View"';
CREATE OR REPLACE VIEW "Mixed Case"."Loop View" WITH (security_barrier) AS
    SELECT a, b FROM "Mixed Case".loop_src UNION ALL SELECT a, b FROM "Mixed Case".loop_rows() LIMIT 0;
ALTER VIEW "Mixed Case"."Loop View" OWNER TO alice;
COMMENT ON VIEW "Mixed Case"."Loop View" IS 'a view in a loop';
COMMENT ON COLUMN "Mixed Case"."Loop View".b IS 'its column';
GRANT SELECT ON "Mixed Case"."Loop View" TO "Bob Smith";

-- Two views that read each other through functions.
CREATE VIEW public.va AS SELECT 1 AS x;
CREATE VIEW public.vb AS SELECT 1 AS y;
CREATE FUNCTION public.fa() RETURNS SETOF public.va LANGUAGE sql AS 'SELECT * FROM public.va';
CREATE FUNCTION public.fb() RETURNS SETOF public.vb LANGUAGE sql AS 'SELECT * FROM public.vb';
CREATE OR REPLACE VIEW public.va AS SELECT y AS x FROM public.fb();
CREATE OR REPLACE VIEW public.vb AS SELECT x AS y FROM public.fa() WHERE false;

-- A view of the base types, in no loop.
CREATE VIEW public.base_view AS SELECT id, a, arr, a::text::public.myint AS c FROM public.base_types;

-- A view that needs a primary key (GROUP BY it): its definition goes to post-data.
CREATE VIEW public.grouped AS SELECT id, a FROM public.base_types GROUP BY id;
