-- PostgreSQL 15 and newer: publications with column lists and row filters,
-- and TABLES IN SCHEMA; subscription options of PostgreSQL 14 and 15. It is
-- loaded before corpus-kinds.sql (name order), so it makes its own objects.

CREATE SCHEMA kinds15;
CREATE TABLE kinds15.events (id integer PRIMARY KEY, kind text, payload text);
INSERT INTO kinds15.events VALUES (1, 'a', 'x'), (20, 'b', NULL);
CREATE PUBLICATION pub_filtered FOR TABLE kinds15.events (id, kind) WHERE (id > 10 AND kind <> 'secret')
    WITH (publish = 'insert, delete');
CREATE PUBLICATION "pub schemas" FOR TABLES IN SCHEMA kinds15, public;
COMMENT ON PUBLICATION pub_filtered IS 'filtered';
CREATE SUBSCRIPTION sub15 CONNECTION 'dbname=z' PUBLICATION pub_filtered
    WITH (connect = false, slot_name = NONE, binary = true, streaming = true, two_phase = true, disable_on_error = true);
