-- PostgreSQL 14 and newer (loaded after corpus.sql): SQL-standard function
-- bodies, which are parsed at creation and record their dependencies.
CREATE FUNCTION public.std_body(x integer) RETURNS integer LANGUAGE sql IMMUTABLE
    BEGIN ATOMIC SELECT x * 2; END;
CREATE FUNCTION "select".std_orders() RETURNS bigint LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT count(*) FROM "Mixed Case"."Orders" WHERE mood > 'meh';
END;
COMMENT ON FUNCTION "select".std_orders() IS 'reads a table and an enum';
