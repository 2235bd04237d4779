-- Large objects: owners, privileges, a comment, binary and empty contents.
SELECT pg_catalog.lo_from_bytea(424242, 'hello large object'::bytea);
SELECT pg_catalog.lo_from_bytea(424243, '\x00ff5c0a0d09'::bytea);
SELECT pg_catalog.lo_create(424244);
SELECT pg_catalog.lo_from_bytea(424245, convert_to(repeat('line of text\n', 50000), 'UTF8'));
ALTER LARGE OBJECT 424242 OWNER TO alice;
ALTER LARGE OBJECT 424245 OWNER TO alice;
GRANT SELECT ON LARGE OBJECT 424242 TO "Bob Smith";
GRANT SELECT, UPDATE ON LARGE OBJECT 424243 TO "Bob Smith" WITH GRANT OPTION;
COMMENT ON LARGE OBJECT 424243 IS 'a comment on a large object';
