-- The relation-side kinds (loaded after corpus.sql, whose roles, schemas
-- and tables exist; PostgreSQL 13 features only): partitioned tables and
-- their partitions, partitioned indexes and constraints, table inheritance,
-- rules, row level security and policies, extended statistics, replica
-- identities and CLUSTER ON, with comments, owners and privileges.

-- What the foreign key of a partitioned table references.
CREATE TABLE "Mixed Case".cities (name text COLLATE "C" PRIMARY KEY);
INSERT INTO "Mixed Case".cities VALUES ('a'), ('b'), ('c');

-- Range partitions, one of them partitioned itself, and a default one.
CREATE TABLE "Mixed Case".measure (
    id bigint NOT NULL,
    at date NOT NULL,
    city text COLLATE "C",
    v numeric DEFAULT 0 CONSTRAINT "v not negative" CHECK (v >= 0),
    twice numeric GENERATED ALWAYS AS (v * 2) STORED,
    note text,
    PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
CREATE TABLE "Mixed Case"."measure 2025" PARTITION OF "Mixed Case".measure
    FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE "Mixed Case".measure_2026 PARTITION OF "Mixed Case".measure
    FOR VALUES FROM ('2026-01-01') TO ('2027-01-01') PARTITION BY RANGE (id);
CREATE TABLE "Mixed Case".measure_2026_ab PARTITION OF "Mixed Case".measure_2026 FOR VALUES FROM (MINVALUE) TO (5);
CREATE TABLE "Mixed Case".measure_2026_rest PARTITION OF "Mixed Case".measure_2026 DEFAULT;
CREATE TABLE "Mixed Case".measure_other PARTITION OF "Mixed Case".measure DEFAULT;
-- A table of its own, columns in another order and a constraint of its
-- own, attached later.
CREATE TABLE public.measure_2024 (
    note text,
    v numeric DEFAULT 1 CONSTRAINT "v not negative" CHECK (v >= 0),
    id bigint NOT NULL,
    at date NOT NULL,
    city text COLLATE "C",
    twice numeric GENERATED ALWAYS AS (v * 2) STORED,
    CONSTRAINT measure_2024_id CHECK (id > 0)
);
ALTER TABLE "Mixed Case".measure ATTACH PARTITION public.measure_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE INDEX measure_city ON "Mixed Case".measure (city, at);
CREATE UNIQUE INDEX "measure note" ON "Mixed Case".measure (note, at, id);
CREATE INDEX measure_2025_only ON "Mixed Case"."measure 2025" (v);
ALTER TABLE "Mixed Case".measure ADD CONSTRAINT measure_city_fkey
    FOREIGN KEY (city) REFERENCES "Mixed Case".cities (name) ON DELETE SET NULL;
COMMENT ON TABLE "Mixed Case".measure IS 'partitioned by day';
COMMENT ON TABLE "Mixed Case".measure_2026_ab IS 'a sub-partition';
COMMENT ON INDEX "Mixed Case".measure_city IS 'a partitioned index';
COMMENT ON CONSTRAINT "v not negative" ON "Mixed Case".measure IS 'no negatives';
ALTER TABLE "Mixed Case".measure OWNER TO alice;
ALTER TABLE "Mixed Case".measure_2026_ab OWNER TO "Bob Smith";
GRANT SELECT ON "Mixed Case".measure TO "Bob Smith";
GRANT SELECT (id, v), UPDATE (note) ON "Mixed Case"."measure 2025" TO alice;

-- Hash partitions of a table with a serial column, a row trigger cloned to
-- the partitions (one clone disabled), and a table whose foreign key
-- references a partitioned table.
CREATE TABLE "select".hashed (k serial, t text NOT NULL, UNIQUE (k)) PARTITION BY HASH (k);
CREATE TABLE "select".hashed_0 PARTITION OF "select".hashed FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE "select".hashed_1 PARTITION OF "select".hashed FOR VALUES WITH (MODULUS 2, REMAINDER 1);
CREATE TRIGGER hashed_audit AFTER INSERT ON "select".hashed FOR EACH ROW EXECUTE FUNCTION public.audit();
ALTER TABLE "select".hashed_1 DISABLE TRIGGER hashed_audit;
CREATE TABLE "select".hashed_ref (k integer REFERENCES "select".hashed (k));

INSERT INTO "Mixed Case".measure (id, at, city, v, note) VALUES
    (1, '2024-05-01', 'a', 1.5, 'old'),
    (2, '2025-02-03', 'b', 0, NULL),
    (3, '2026-03-04', 'a', 7, 'ab'),
    (4, '2026-03-05', NULL, 8, 'null city'),
    (5, '2026-03-06', 'c', 9, 'rest'),
    (6, '2030-01-01', 'c', 10, 'default');
INSERT INTO "select".hashed (t) SELECT 'h' || g FROM generate_series(1, 20) g;
INSERT INTO "select".hashed_ref VALUES (1), (2), (NULL);

-- Inheritance: two parents, a merged column with a default of its own and
-- one without (DEFAULT NULL), a merged and a NO INHERIT constraint.
CREATE TABLE public.animal (
    name text NOT NULL,
    legs integer DEFAULT 4 CONSTRAINT animal_legs CHECK (legs >= 0),
    CONSTRAINT animal_only CHECK (name <> '') NO INHERIT
);
CREATE TABLE public.pet (owner text, legs integer);
CREATE TABLE public.dog (
    legs integer CONSTRAINT animal_legs CHECK (legs >= 0),
    breed text
) INHERITS (public.animal, public.pet);
ALTER TABLE ONLY public.dog ALTER COLUMN legs DROP DEFAULT;
CREATE TABLE public.cat () INHERITS (public.animal);
ALTER TABLE ONLY public.cat ALTER COLUMN legs DROP DEFAULT;
ALTER TABLE ONLY public.cat ALTER COLUMN name SET DEFAULT 'kitty';
INSERT INTO public.animal VALUES ('worm', 0);
INSERT INTO public.dog (name, owner, breed) VALUES ('rex', 'ann', 'mutt');
INSERT INTO public.cat (legs) VALUES (3);

-- Rules on tables and views, in every firing state, with a comment.
CREATE TABLE public.audit_log (what text, at timestamp with time zone DEFAULT now());
CREATE RULE log_dogs AS ON INSERT TO public.dog DO ALSO INSERT INTO public.audit_log (what) VALUES ('dog ' || NEW.name);
CREATE RULE "no delete" AS ON DELETE TO public.audit_log DO INSTEAD NOTHING;
CREATE RULE keep_cats AS ON DELETE TO public.cat WHERE OLD.legs > 2 DO INSTEAD NOTHING;
ALTER TABLE public.audit_log DISABLE RULE "no delete";
ALTER TABLE public.dog ENABLE REPLICA RULE log_dogs;
ALTER TABLE public.cat ENABLE ALWAYS RULE keep_cats;
COMMENT ON RULE log_dogs ON public.dog IS 'logs new dogs';
CREATE VIEW public.dog_names AS SELECT name, breed FROM public.dog;
CREATE RULE dog_names_insert AS ON INSERT TO public.dog_names
    DO INSTEAD INSERT INTO public.dog (name, breed) VALUES (NEW.name, NEW.breed);

-- Trigger firing states besides DISABLE.
CREATE TRIGGER always_audit AFTER INSERT ON public.audit_log FOR EACH ROW EXECUTE FUNCTION public.audit();
CREATE TRIGGER replica_audit AFTER UPDATE ON public.audit_log FOR EACH ROW EXECUTE FUNCTION public.audit();
ALTER TABLE public.audit_log ENABLE ALWAYS TRIGGER always_audit;
ALTER TABLE public.audit_log ENABLE REPLICA TRIGGER replica_audit;

-- Row level security: enabled and forced, policies of every shape, on a
-- plain and on a partitioned table; forced but not enabled on another.
CREATE TABLE "Mixed Case".secrets (id integer PRIMARY KEY, owner_name text, body text);
INSERT INTO "Mixed Case".secrets VALUES (1, 'alice', 'one'), (2, 'Bob Smith', 'two');
ALTER TABLE "Mixed Case".secrets ENABLE ROW LEVEL SECURITY;
ALTER TABLE "Mixed Case".secrets FORCE ROW LEVEL SECURITY;
CREATE POLICY "own rows" ON "Mixed Case".secrets USING (owner_name = CURRENT_USER);
CREATE POLICY strict ON "Mixed Case".secrets AS RESTRICTIVE FOR UPDATE TO alice, "Bob Smith"
    USING (id > 0) WITH CHECK (body <> '');
CREATE POLICY "insert any" ON "Mixed Case".secrets FOR INSERT TO PUBLIC WITH CHECK (true);
CREATE POLICY del ON "Mixed Case".secrets FOR DELETE TO "Bob Smith" USING (public.add(id) > 1);
COMMENT ON POLICY "own rows" ON "Mixed Case".secrets IS 'only yours';
ALTER TABLE "Mixed Case".measure ENABLE ROW LEVEL SECURITY;
CREATE POLICY recent ON "Mixed Case".measure FOR SELECT TO alice USING (at > '2020-01-01');
ALTER TABLE public.pet FORCE ROW LEVEL SECURITY;

-- Extended statistics.
CREATE STATISTICS "Mixed Case"."orders stats" (ndistinct, dependencies) ON "select", amount FROM "Mixed Case"."Orders";
ALTER STATISTICS "Mixed Case"."orders stats" SET STATISTICS 300;
CREATE STATISTICS public.cust_mcv (mcv) ON points, born FROM public.customers;
CREATE STATISTICS "select".measure_stats ON id, city FROM "Mixed Case".measure;
ALTER STATISTICS public.cust_mcv OWNER TO alice;
COMMENT ON STATISTICS public.cust_mcv IS 'most common values';

-- Replica identities and CLUSTER ON, on indexes and constraints.
ALTER TABLE public.audit_log REPLICA IDENTITY FULL;
ALTER TABLE public.pet REPLICA IDENTITY NOTHING;
ALTER TABLE public.mood_counts REPLICA IDENTITY FULL;
CREATE UNIQUE INDEX dog_name ON public.dog (name);
ALTER TABLE public.dog REPLICA IDENTITY USING INDEX dog_name;
ALTER TABLE public.dog CLUSTER ON dog_name;
ALTER TABLE "Mixed Case".secrets REPLICA IDENTITY USING INDEX secrets_pkey;
ALTER TABLE "Mixed Case".secrets CLUSTER ON secrets_pkey;
ALTER TABLE public.mood_counts CLUSTER ON mood_counts_mood;
