package catalog

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgark/pgark/internal/testcluster"
	"github.com/pgark/pgark/schema"
)

// selectFixture has what pg_dump's selection rules tell apart: a serial
// (owned) sequence, an identity, a free sequence, a foreign key between
// two tables, an index, a trigger and its function, comments and
// privileges on tables, columns and schemas, the public schema's comment,
// a large object, and an inheritance tree.
const selectFixture = `
CREATE ROLE reader LOGIN;
CREATE SCHEMA a;
COMMENT ON SCHEMA a IS 'schema a';
COMMENT ON SCHEMA public IS 'public';
CREATE TABLE a.t (id serial PRIMARY KEY, v text);
COMMENT ON TABLE a.t IS 'table t';
GRANT SELECT ON a.t TO reader;
CREATE TABLE a.u (id int GENERATED ALWAYS AS IDENTITY, t int REFERENCES a.t);
COMMENT ON COLUMN a.u.t IS 'column';
CREATE INDEX u_t ON a.u (t);
CREATE SEQUENCE a.free;
CREATE FUNCTION a.f() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
CREATE TRIGGER tr BEFORE INSERT ON a.u FOR EACH ROW EXECUTE FUNCTION a.f();
CREATE SCHEMA b;
CREATE TABLE b.parent (x int);
CREATE TABLE b.child () INHERITS (b.parent);
CREATE TABLE b.grandchild () INHERITS (b.child);
CREATE VIEW b.v AS SELECT x FROM b.parent;
SELECT lo_create(777);
GRANT USAGE ON SCHEMA a TO reader;
GRANT SELECT ON a.t_id_seq TO reader;
`

func TestSelection(t *testing.T) {
	testcluster.EachMajor(t, testSelection)
}

func testSelection(t *testing.T, c *testcluster.Cluster) {
	ctx := t.Context()
	c.CreateDB(t, "sel")
	c.Exec(t, "sel", selectFixture)
	conn := connect(t, ctx, c, "sel")

	rel := func(s string) TablePattern {
		p, err := schema.ParseRelationPattern(s)
		if err != nil {
			t.Fatal(err)
		}
		return TablePattern{Pattern: p}
	}
	children := func(s string) TablePattern {
		p := rel(s)
		p.WithChildren = true
		return p
	}
	nsp := func(s string) schema.NamePattern {
		p, err := schema.ParseSchemaPattern(s)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name string
		sel  Selection
		want []string // every object, as Object.String, sorted
	}{
		{"table", Selection{Tables: []TablePattern{rel("a.t")}}, []string{
			"ACL a.SEQUENCE t_id_seq", "ACL a.TABLE t", "COMMENT a.TABLE t", "CONSTRAINT a.t t_pkey",
			"SEQUENCE OWNED BY a.t_id_seq", "SEQUENCE SET a.t_id_seq", "SEQUENCE a.t_id_seq",
			"TABLE DATA a.t", "TABLE a.t"}},
		{"table with a foreign key, an identity, a trigger", Selection{Tables: []TablePattern{rel("a.u")}}, []string{
			"COMMENT a.COLUMN u.t", "FK CONSTRAINT a.u u_t_fkey", "INDEX a.u_t",
			"SEQUENCE SET a.u_id_seq", "SEQUENCE a.u_id_seq", "TABLE DATA a.u", "TABLE a.u", "TRIGGER a.u tr"}},
		{"sequences alone", Selection{Tables: []TablePattern{rel("a.t_id_seq"), rel("a.u_id_seq")}}, []string{
			"ACL a.SEQUENCE t_id_seq", "SEQUENCE SET a.t_id_seq", "SEQUENCE a.t_id_seq"}},
		{"schema minus a table", Selection{Schemas: []schema.NamePattern{nsp("A")}, ExcludeTables: []TablePattern{rel("a.t")}}, []string{
			"ACL SCHEMA a", "ACL a.SEQUENCE t_id_seq", "COMMENT SCHEMA a", "COMMENT a.COLUMN u.t", "FK CONSTRAINT a.u u_t_fkey", "FUNCTION a.f()", "INDEX a.u_t",
			"SCHEMA a", "SEQUENCE SET a.free", "SEQUENCE SET a.t_id_seq", "SEQUENCE SET a.u_id_seq",
			"SEQUENCE a.free", "SEQUENCE a.t_id_seq", "SEQUENCE a.u_id_seq", "TABLE DATA a.u", "TABLE a.u", "TRIGGER a.u tr"}},
		{"exclude schema and data", Selection{ExcludeSchemas: []schema.NamePattern{nsp("a")},
			ExcludeTableData: []TablePattern{rel("b.c*")}}, []string{
			"BLOB METADATA 777", "BLOBS 777", "COMMENT SCHEMA public", "SCHEMA b",
			"TABLE DATA b.grandchild", "TABLE DATA b.parent", "TABLE b.child", "TABLE b.grandchild", "TABLE b.parent", "VIEW b.v"}},
		{"table and children", Selection{Tables: []TablePattern{children("b.child")}}, []string{
			"TABLE DATA b.child", "TABLE DATA b.grandchild", "TABLE b.child", "TABLE b.grandchild"}},
		{"exclude table and children", Selection{Schemas: []schema.NamePattern{nsp("b")},
			ExcludeTables: []TablePattern{children("b.parent")}}, []string{
			"SCHEMA b", "VIEW b.v"}},
		{"exclude table data and children", Selection{Schemas: []schema.NamePattern{nsp("b")},
			ExcludeTableData: []TablePattern{children("b.child")}}, []string{
			"SCHEMA b", "TABLE DATA b.parent", "TABLE b.child", "TABLE b.grandchild",
			"TABLE b.parent", "VIEW b.v"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := selectedObjects(t, ctx, conn, tc.sel)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}

	t.Run("where", func(t *testing.T) {
		cat, err := Load(ctx, conn, Options{Select: Selection{
			Tables: []TablePattern{rel("a.*")},
			Where: []RowFilter{{Table: rel("a.t").Pattern, Condition: "id > 1"},
				{Table: rel("a.?").Pattern, Condition: "true OR false"}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		wheres := map[string]string{}
		for _, o := range cat.Objects {
			if o.Kind == schema.KindTableData {
				wheres[o.Name] = o.Data.Where
			}
		}
		want := map[string]string{"t": "(id > 1) AND (true OR false)", "u": "(true OR false)"}
		if len(wheres) != 2 || wheres["t"] != want["t"] || wheres["u"] != want["u"] {
			t.Errorf("row filters %q, want %q", wheres, want)
		}
	})

	t.Run("search_path restored", func(t *testing.T) {
		if _, err := Load(ctx, conn, Options{Select: Selection{Tables: []TablePattern{rel("nosuch")}}}); err == nil ||
			err.Error() != "catalog: no matching tables were found" {
			t.Fatalf("error %v", err)
		}
		// The failed Load aborted nothing (there is no transaction), and
		// the next one must find search_path empty.
		var path string
		if err := conn.QueryRow(ctx, "SHOW search_path").Scan(&path); err != nil {
			t.Fatal(err)
		}
		if path != `""` && path != "" {
			t.Fatalf("search_path is %q after Load", path)
		}
	})

	// A role that may read a.t and its sequence only can dump -t a.t: the
	// sequences it may not read are not read, as with pg_dump.
	t.Run("unreadable sequences", func(t *testing.T) {
		reader, err := pgx.Connect(ctx, strings.Replace(c.ConnString("sel"), "user=postgres", "user=reader", 1))
		if err != nil {
			t.Fatal(err)
		}
		defer reader.Close(context.Background())
		if _, err := Load(ctx, reader, Options{}); err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Fatalf("a full load as reader: %v, want permission denied", err)
		}
		cat, err := Load(ctx, reader, Options{Select: Selection{Tables: []TablePattern{rel("a.t")}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(cat.Objects) != 9 {
			t.Errorf("%d objects, want 9", len(cat.Objects))
		}
	})
}

func selectedObjects(t *testing.T, ctx context.Context, q Querier, sel Selection) []string {
	t.Helper()
	cat, err := Load(ctx, q, Options{Select: sel})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, o := range cat.Objects {
		out = append(out, o.String())
	}
	slices.Sort(out)
	return out
}
