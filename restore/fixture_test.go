package restore_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/format"
	"github.com/pgark/pgark/internal/testcluster"
	"github.com/pgark/pgark/restore"
)

// The fixture: a schema with tables, awkward data in several blocks, a row
// larger than a block (a chain), a sequence, keys, indexes, a trigger, a
// comment on a table and one on an index, privileges and a materialized
// view, written with format.NewWriter the way pgark's dump lays an archive
// out: pre-data and data entries, then the blocks (interleaved), then the
// post-data entries.

const (
	ownerRole  = "app_owner"
	readerRole = "app_reader"
	archiveDB  = "pgark_created"
)

type spec struct {
	kind, name string
	section    format.Section
	ident      string
	create     string
	drop       string
	copy       string
	deps       []string
	owned      bool
	// build and attach: a key built as an index, then added USING INDEX;
	// a foreign key added NOT VALID, then validated
	build, attach string
}

func fixtureSpecs() []spec {
	pre, data, post := format.SectionPreData, format.SectionData, format.SectionPostData
	return []spec{
		{kind: "SCHEMA", name: "app", section: pre, ident: `SCHEMA "app"`, create: `CREATE SCHEMA "app";`, drop: `DROP SCHEMA "app";`, owned: true},
		{kind: "FUNCTION", name: "trg_fn()", section: pre, ident: `FUNCTION "app"."trg_fn"()`, deps: []string{"app"}, owned: true,
			create: "CREATE FUNCTION \"app\".\"trg_fn\"() RETURNS trigger\n    LANGUAGE plpgsql\n    AS $$BEGIN NEW.note := NEW.note || ' (trg)'; RETURN NEW; END$$;",
			drop:   `DROP FUNCTION "app"."trg_fn"();`},
		{kind: "TABLE", name: "parent", section: pre, ident: `TABLE "app"."parent"`, deps: []string{"app"}, owned: true,
			create: "CREATE TABLE \"app\".\"parent\" (\n    \"id\" integer NOT NULL,\n    \"name\" text NOT NULL,\n    \"info\" text\n);",
			drop:   `DROP TABLE "app"."parent";`},
		{kind: "COMMENT", name: "TABLE parent", section: pre, deps: []string{"parent"},
			create: `COMMENT ON TABLE "app"."parent" IS 'the parents';`},
		{kind: "TABLE", name: "child", section: pre, ident: `TABLE "app"."child"`, deps: []string{"app"}, owned: true,
			create: "CREATE TABLE \"app\".\"child\" (\n    \"id\" integer NOT NULL,\n    \"parent_id\" integer,\n    \"note\" text\n);",
			drop:   `DROP TABLE "app"."child";`},
		{kind: "TABLE", name: "big", section: pre, ident: `TABLE "app"."big"`, deps: []string{"app"}, owned: true,
			create: "CREATE TABLE \"app\".\"big\" (\n    \"id\" integer,\n    \"payload\" text\n);\nALTER TABLE ONLY \"app\".\"big\" ALTER COLUMN \"payload\" SET STORAGE EXTERNAL;",
			drop:   `DROP TABLE "app"."big";`},
		{kind: "SEQUENCE", name: "seq", section: pre, ident: `SEQUENCE "app"."seq"`, deps: []string{"app"}, owned: true,
			create: `CREATE SEQUENCE "app"."seq";`, drop: `DROP SEQUENCE "app"."seq";`},
		{kind: "MATERIALIZED VIEW", name: "mv", section: pre, ident: `MATERIALIZED VIEW "app"."mv"`, deps: []string{"parent"}, owned: true,
			create: "CREATE MATERIALIZED VIEW \"app\".\"mv\" AS\n SELECT count(*) AS \"n\" FROM \"app\".\"parent\"\n  WITH NO DATA;",
			drop:   `DROP MATERIALIZED VIEW "app"."mv";`},
		{kind: "ACL", name: "SCHEMA app", section: pre, deps: []string{"app"}, create: `GRANT USAGE ON SCHEMA "app" TO "app_reader";`},
		{kind: "ACL", name: "TABLE parent", section: pre, deps: []string{"parent"}, create: `GRANT SELECT ON TABLE "app"."parent" TO "app_reader";`},
		{kind: "TABLE DATA", name: "parent", section: data, deps: []string{"parent"}, copy: `COPY "app"."parent" ("id", "name", "info") FROM stdin;`},
		{kind: "TABLE DATA", name: "child", section: data, deps: []string{"child"}, copy: `COPY "app"."child" ("id", "parent_id", "note") FROM stdin;`},
		{kind: "TABLE DATA", name: "big", section: data, deps: []string{"big"}, copy: `COPY "app"."big" ("id", "payload") FROM stdin;`},
		{kind: "SEQUENCE SET", name: "seq", section: data, deps: []string{"seq"}, create: `SELECT pg_catalog.setval('"app"."seq"', 42, true);`},
		// Blocks come here; then the post-data entries.
		{kind: "CONSTRAINT", name: "parent parent_pkey", section: post, deps: []string{"parent"},
			create: `ALTER TABLE ONLY "app"."parent" ADD CONSTRAINT "parent_pkey" PRIMARY KEY ("id");`,
			drop:   `ALTER TABLE ONLY "app"."parent" DROP CONSTRAINT "parent_pkey";`,
			build:  `CREATE UNIQUE INDEX parent_pkey ON app.parent USING btree (id);`,
			attach: `ALTER TABLE ONLY "app"."parent" ADD CONSTRAINT "parent_pkey" PRIMARY KEY USING INDEX "parent_pkey";`},
		{kind: "CONSTRAINT", name: "parent parent_name_key", section: post, deps: []string{"parent"},
			create: `ALTER TABLE ONLY "app"."parent" ADD CONSTRAINT "parent_name_key" UNIQUE ("name");`,
			drop:   `ALTER TABLE ONLY "app"."parent" DROP CONSTRAINT "parent_name_key";`},
		{kind: "CONSTRAINT", name: "child child_pkey", section: post, deps: []string{"child"},
			create: `ALTER TABLE ONLY "app"."child" ADD CONSTRAINT "child_pkey" PRIMARY KEY ("id");`,
			drop:   `ALTER TABLE ONLY "app"."child" DROP CONSTRAINT "child_pkey";`,
			build:  `CREATE UNIQUE INDEX child_pkey ON app.child USING btree (id);`,
			attach: `ALTER TABLE ONLY "app"."child" ADD CONSTRAINT "child_pkey" PRIMARY KEY USING INDEX "child_pkey";`},
		{kind: "INDEX", name: "child_parent_idx", section: post, deps: []string{"child"},
			create: `CREATE INDEX "child_parent_idx" ON "app"."child" USING "btree" ("parent_id");`,
			drop:   `DROP INDEX "app"."child_parent_idx";`},
		{kind: "INDEX", name: "child_note_idx", section: post, deps: []string{"child"},
			create: `CREATE INDEX "child_note_idx" ON "app"."child" USING "btree" ("note");`,
			drop:   `DROP INDEX "app"."child_note_idx";`},
		{kind: "COMMENT", name: "INDEX child_note_idx", section: post, deps: []string{"child_note_idx"},
			create: `COMMENT ON INDEX "app"."child_note_idx" IS 'notes';`},
		{kind: "FK CONSTRAINT", name: "child child_parent_fkey", section: post, deps: []string{"child", "parent", "parent parent_pkey"},
			create: `ALTER TABLE ONLY "app"."child" ADD CONSTRAINT "child_parent_fkey" FOREIGN KEY ("parent_id") REFERENCES "app"."parent"("id");`,
			drop:   `ALTER TABLE ONLY "app"."child" DROP CONSTRAINT "child_parent_fkey";`,
			build:  `ALTER TABLE ONLY "app"."child" ADD CONSTRAINT "child_parent_fkey" FOREIGN KEY ("parent_id") REFERENCES "app"."parent"("id") NOT VALID;`,
			attach: `ALTER TABLE ONLY "app"."child" VALIDATE CONSTRAINT "child_parent_fkey";`},
		{kind: "TRIGGER", name: "child child_audit", section: post, deps: []string{"child", "trg_fn()"},
			create: `CREATE TRIGGER "child_audit" BEFORE INSERT ON "app"."child" FOR EACH ROW EXECUTE FUNCTION "app"."trg_fn"();`,
			drop:   `DROP TRIGGER "child_audit" ON "app"."child";`},
		{kind: "MATERIALIZED VIEW DATA", name: "mv", section: post, deps: []string{"mv"}, create: `REFRESH MATERIALIZED VIEW "app"."mv";`},
	}
}

// sourceData fills the source database's tables (run after the pre-data).
const sourceData = `
INSERT INTO app.parent
SELECT g, 'name ' || g,
       CASE g % 8 WHEN 0 THEN NULL WHEN 1 THEN E'tab\there' WHEN 2 THEN E'new\nline' WHEN 3 THEN E'back\\slash'
                  WHEN 4 THEN '\.' WHEN 5 THEN 'ünïcødé ☃ 😀' WHEN 6 THEN E'cr\rlf\r\n' ELSE E'\\N' END
FROM generate_series(1, 3000) g;
INSERT INTO app.child SELECT g, 1 + g % 3000, 'note ' || (g % 17) FROM generate_series(1, 2000) g;
INSERT INTO app.big SELECT g, 'small ' || g FROM generate_series(2, 60) g;
INSERT INTO app.big VALUES (1, repeat('0123456789abcdef', 17 * 65536));
`

type fixture struct {
	archive []byte
	entries []format.Entry
	byName  map[string]uint32
	schema  string // summary of the source's objects
	data    string // summary of the source's rows
	blocks  map[string][]blockSpec
}

type blockSpec struct {
	data []byte
	rows uint32
}

// buildFixture creates the source database db (as a restore would, by
// hand), reads its rows back with COPY and writes the archive.
func buildFixture(t *testing.T, c *testcluster.Cluster, db string) *fixture {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	c.Exec(t, "postgres", `DO $$BEGIN CREATE ROLE "app_owner"; EXCEPTION WHEN duplicate_object THEN NULL; END$$;
		DO $$BEGIN CREATE ROLE "app_reader"; EXCEPTION WHEN duplicate_object THEN NULL; END$$;`)
	c.CreateDB(t, db)

	specs := fixtureSpecs()
	f := &fixture{byName: map[string]uint32{}, blocks: map[string][]blockSpec{}}
	for i, s := range specs {
		id := uint32(i + 1)
		key := s.name
		switch s.kind {
		case "TABLE DATA":
			key = "data " + s.name
		case "SEQUENCE SET":
			key = "setval " + s.name
		case "MATERIALIZED VIEW DATA":
			key = "refresh " + s.name
		}
		f.byName[key] = id
		e := format.Entry{ID: id, Section: s.section, Kind: s.kind, Schema: "app", Name: s.name, Ident: s.ident,
			Create: s.create, Drop: s.drop, Copy: s.copy, Build: s.build, Attach: s.attach}
		if s.kind == "SCHEMA" {
			e.Schema = ""
		}
		if s.owned {
			e.Owner = ownerRole
		}
		for _, d := range s.deps {
			dep, ok := f.byName[d]
			require.True(t, ok, "dependency %q of %q", d, s.name)
			e.Deps = append(e.Deps, dep)
		}
		f.entries = append(f.entries, e)
	}

	// The source, in restore order.
	run := func(e format.Entry) {
		if e.Create == "" {
			return
		}
		sql := e.Create
		if e.Owner != "" {
			sql += "\nALTER " + e.Ident + " OWNER TO \"" + e.Owner + "\";"
		}
		c.Exec(t, db, sql)
	}
	for _, e := range f.entries {
		if restore.PhaseOf(&e) == restore.PhasePre {
			run(e)
		}
	}
	c.Exec(t, db, sourceData)
	for _, ph := range []restore.Phase{restore.PhaseData, restore.PhasePost, restore.PhaseACL, restore.PhaseRefresh} {
		for _, e := range f.entries {
			if restore.PhaseOf(&e) == ph {
				run(e)
			}
		}
	}
	f.schema = schemaSummary(t, c, db)
	f.data = dataSummary(t, c, db)

	// Rows, as COPY writes them, cut into blocks.
	conn, err := c.Connect(ctx, db)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	rowsOf := func(table, order string) [][]byte {
		var buf bytes.Buffer
		_, err := conn.PgConn().CopyTo(ctx, &buf, fmt.Sprintf("COPY (SELECT * FROM app.%s ORDER BY %s) TO STDOUT", table, order))
		require.NoError(t, err)
		rows := bytes.SplitAfter(buf.Bytes(), []byte("\n"))
		return rows[:len(rows)-1]
	}
	cut := func(rows [][]byte, sizes ...int) []blockSpec {
		var out []blockSpec
		for _, n := range sizes {
			out = append(out, blockSpec{data: bytes.Join(rows[:n], nil), rows: uint32(n)})
			rows = rows[n:]
		}
		return append(out, blockSpec{data: bytes.Join(rows, nil), rows: uint32(len(rows))})
	}
	f.blocks["parent"] = cut(rowsOf("parent", "id"), 1000, 1200)
	f.blocks["child"] = cut(rowsOf("child", "id"), 700)
	big := rowsOf("big", "id") // id 1, the huge row, first; put it in the middle block
	big = append(append(slices.Clone(big[1:21]), big[0]), big[21:]...)
	f.blocks["big"] = cut(big, 20, 1)
	require.Greater(t, len(f.blocks["big"][1].data), format.MaxPayload, "the huge row must make a chain")

	var out bytes.Buffer
	w, err := format.NewWriter(&out, format.Info{Tool: "pgark-test", Created: time.Now(), Database: archiveDB, Encoding: "UTF8"},
		format.WriterOptions{Codec: format.CodecZstd})
	require.NoError(t, err)
	var post []format.Entry
	for _, e := range f.entries {
		if e.Section == format.SectionPostData {
			post = append(post, e)
			continue
		}
		require.NoError(t, w.AddEntry(e))
	}
	// Interleave the tables' blocks.
	for i := range 3 {
		for _, table := range []string{"parent", "child", "big"} {
			if bs := f.blocks[table]; i < len(bs) {
				require.NoError(t, w.WriteBlock(f.byName["data "+table], bs[i].data, bs[i].rows))
			}
		}
	}
	for _, e := range post {
		require.NoError(t, w.AddEntry(e))
	}
	require.NoError(t, w.Close())
	f.archive = out.Bytes()
	return f
}

// schemaSummary describes the objects of schema app, sorted.
func schemaSummary(t *testing.T, c *testcluster.Cluster, db string) string {
	t.Helper()
	return c.QueryValue(t, db, `SELECT coalesce(string_agg(x, E'\n' ORDER BY x), '') FROM (
  SELECT format('ns %s owner=%s acl=%s', nspname, pg_get_userbyid(nspowner), nspacl) AS x FROM pg_namespace WHERE nspname = 'app'
  UNION ALL
  SELECT format('rel %s kind=%s owner=%s acl=%s comment=%s', c.relname, c.relkind, pg_get_userbyid(c.relowner), c.relacl,
                obj_description(c.oid, 'pg_class'))
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'app'
  UNION ALL
  SELECT format('con %s %s', conname, pg_get_constraintdef(oid)) FROM pg_constraint
   WHERE connamespace = (SELECT oid FROM pg_namespace WHERE nspname = 'app')
  UNION ALL
  SELECT format('trg %s enabled=%s', tgname, tgenabled) FROM pg_trigger
   WHERE NOT tgisinternal AND tgrelid IN (SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'app')
  UNION ALL
  SELECT format('fn %s owner=%s', proname, pg_get_userbyid(proowner)) FROM pg_proc
   WHERE pronamespace = (SELECT oid FROM pg_namespace WHERE nspname = 'app')
  UNION ALL
  SELECT format('mv %s populated=%s', matviewname, ispopulated) FROM pg_matviews WHERE schemaname = 'app'
) s`)
}

// dataSummary counts and hashes the sorted text of every table's rows,
// and reads the sequence and the materialized view.
func dataSummary(t *testing.T, c *testcluster.Cluster, db string) string {
	t.Helper()
	var parts []string
	for _, table := range []string{"parent", "child", "big"} {
		parts = append(parts, c.QueryValue(t, db, fmt.Sprintf(
			`SELECT '%[1]s ' || count(*) || ' ' || md5(coalesce(string_agg(h, ',' ORDER BY h), '')) FROM (SELECT md5(t::text) AS h FROM app.%[1]s t) s`, table)))
	}
	parts = append(parts, "seq "+c.QueryValue(t, db, `SELECT last_value || ' ' || is_called FROM app.seq`))
	if c.QueryValue(t, db, `SELECT ispopulated FROM pg_matviews WHERE schemaname = 'app' AND matviewname = 'mv'`) == "t" {
		parts = append(parts, "mv "+c.QueryValue(t, db, `SELECT n FROM app.mv`))
	}
	return strings.Join(parts, "\n")
}
