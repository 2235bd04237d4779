-- PostgreSQL 18 and newer (loaded after corpus.sql): NOT NULL constraints
-- as pg_constraint rows, with names, NOT VALID and NO INHERIT; virtual
-- generated columns; temporal keys (WITHOUT OVERLAPS, PERIOD foreign keys);
-- NOT ENFORCED constraints.
CREATE SCHEMA pg18;
CREATE TABLE pg18.nn (
    a integer CONSTRAINT nn_a NOT NULL,
    b text CONSTRAINT "nn b" NOT NULL,
    c integer NOT NULL,
    d integer,
    e integer
);
ALTER TABLE pg18.nn ADD CONSTRAINT nn_a_key UNIQUE (a);
INSERT INTO pg18.nn VALUES (1, 'x', 1, 4, 1), (2, 'y', 2, 5, 2);
-- NOT VALID: left unchecked (a restore must keep it so, not add it inline).
ALTER TABLE pg18.nn ADD CONSTRAINT nn_d NOT NULL d NOT VALID;
ALTER TABLE pg18.nn ADD CONSTRAINT "nn e" NOT NULL e;
COMMENT ON COLUMN pg18.nn.d IS 'not null, not validated';

-- NO INHERIT on a parent; a child that inherits the other constraint by
-- its parent's name, one that names its own, one whose column is only
-- inherited but has a not-null of its own.
CREATE TABLE pg18.parent (id integer CONSTRAINT parent_id_nn NOT NULL NO INHERIT, v integer CONSTRAINT parent_v_nn NOT NULL, w integer);
CREATE TABLE pg18.child (extra text) INHERITS (pg18.parent);
CREATE TABLE pg18.child2 (id integer CONSTRAINT child2_id_nn NOT NULL, v integer CONSTRAINT child2_v_nn NOT NULL) INHERITS (pg18.parent);
ALTER TABLE ONLY pg18.child ADD CONSTRAINT "child w" NOT NULL w;
INSERT INTO pg18.child VALUES (1, 2, 3, 'c');
INSERT INTO pg18.child2 VALUES (1, 2, 3);

-- Virtual generated columns, beside a stored one.
CREATE TABLE pg18.gen (
    a integer,
    b integer GENERATED ALWAYS AS (a * 2) VIRTUAL,
    c integer GENERATED ALWAYS AS (a + 1) STORED,
    d text GENERATED ALWAYS AS ('x' || a) VIRTUAL NOT NULL
);
INSERT INTO pg18.gen (a) VALUES (1), (2);
CREATE VIEW pg18.gen_view AS SELECT a, b, d FROM pg18.gen;

-- Temporal primary key, unique constraint and PERIOD foreign key.
CREATE TABLE pg18.rooms (room int4range, during tstzrange, PRIMARY KEY (room, during WITHOUT OVERLAPS));
CREATE TABLE pg18.bookings (id integer, room int4range, during tstzrange,
    CONSTRAINT bookings_uq UNIQUE (room, during WITHOUT OVERLAPS),
    CONSTRAINT bookings_room_fk FOREIGN KEY (room, PERIOD during) REFERENCES pg18.rooms (room, PERIOD during));
INSERT INTO pg18.rooms VALUES ('[1,2)', '[2025-01-01,2026-01-01)');
INSERT INTO pg18.bookings VALUES (1, '[1,2)', '[2025-02-01,2025-03-01)');

-- NOT ENFORCED check and foreign key, with rows that break them.
CREATE TABLE pg18.lax (a integer CONSTRAINT lax_pos CHECK (a > 0) NOT ENFORCED, b integer,
    CONSTRAINT lax_fk FOREIGN KEY (b) REFERENCES pg18.nn (a) NOT ENFORCED);
INSERT INTO pg18.lax VALUES (-1, 99);
