package schema

import (
	"strings"
	"testing"
)

func intp(n int) *int { return &n }

func TestTableCreateSQL(t *testing.T) {
	tref := Ref{Class: ClassPgClass, OID: 100}
	newTable := func() (*Table, *Object, *Object) {
		tb := &Table{
			Schema: `Sch "1"`,
			Name:   "select",
			Columns: []*Column{
				{Name: "id", Type: "integer", NotNull: true, Identity: 'a'},
				{Name: `Mixed "Case"`, Type: "text", Collation: `"pg_catalog"."C"`, Default: "'x'::text"},
				{Name: "größe", Type: "numeric(10,2)", Storage: 'm', Statistics: intp(0), Options: []string{"n_distinct=-1"}, Compression: 'p'},
				{Name: "g", Type: "integer", Generated: 's', Default: "(id * 2)"},
			},
		}
		def := tb.DefaultPart(Ref{Class: ClassPgAttrdef, OID: 7}, tref, tb.Columns[1])
		chk := tb.CheckPart(Ref{Class: ClassPgConstraint, OID: 8}, tref, "id > 0", "CHECK ((id > 0))")
		return tb, def, chk
	}

	tests := []struct {
		name    string
		split   bool
		options []string
		want    string
	}{
		{
			name: "inline",
			want: `CREATE TABLE "Sch ""1"""."select" (
    "id" integer NOT NULL,
    "Mixed ""Case""" text COLLATE "pg_catalog"."C" DEFAULT 'x'::text,
    "größe" numeric(10,2),
    "g" integer GENERATED ALWAYS AS ((id * 2)) STORED,
    CONSTRAINT "id > 0" CHECK ((id > 0))
);
ALTER TABLE ONLY "Sch ""1"""."select" ALTER COLUMN "größe" SET STATISTICS 0;
ALTER TABLE ONLY "Sch ""1"""."select" ALTER COLUMN "größe" SET STORAGE MAIN;
ALTER TABLE ONLY "Sch ""1"""."select" ALTER COLUMN "größe" SET ("n_distinct"='-1');
ALTER TABLE ONLY "Sch ""1"""."select" ALTER COLUMN "größe" SET COMPRESSION pglz;`,
		},
		{
			name:    "split",
			split:   true,
			options: []string{"fillfactor=70", "toast.autovacuum_enabled=false"},
			want: `CREATE TABLE "Sch ""1"""."select" (
    "id" integer NOT NULL,
    "Mixed ""Case""" text COLLATE "pg_catalog"."C",
    "größe" numeric(10,2),
    "g" integer GENERATED ALWAYS AS ((id * 2)) STORED
)
WITH ("fillfactor"='70', "toast"."autovacuum_enabled"='false');
ALTER TABLE ONLY "Sch ""1"""."select" ALTER COLUMN "größe" SET STATISTICS 0;
ALTER TABLE ONLY "Sch ""1"""."select" ALTER COLUMN "größe" SET STORAGE MAIN;
ALTER TABLE ONLY "Sch ""1"""."select" ALTER COLUMN "größe" SET ("n_distinct"='-1');
ALTER TABLE ONLY "Sch ""1"""."select" ALTER COLUMN "größe" SET COMPRESSION pglz;`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb, def, chk := newTable()
			tb.Options = tt.options
			def.Separate, chk.Separate = tt.split, tt.split
			obj := &Object{Kind: KindTable, Definer: tb, Parts: []*Object{def, chk}}
			if got := obj.CreateSQL(); got != tt.want {
				t.Errorf("CreateSQL:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}

	tb, def, chk := newTable()
	if want := `ALTER TABLE ONLY "Sch ""1"""."select" ALTER COLUMN "Mixed ""Case""" SET DEFAULT 'x'::text;`; def.Create != want {
		t.Errorf("default part:\n%s\nwant:\n%s", def.Create, want)
	}
	if def.Kind != KindDefault || def.Name != `select Mixed "Case"` || len(def.Deps) != 1 || def.Deps[0] != tref {
		t.Errorf("default part: %+v", def)
	}
	if want := `ALTER TABLE "Sch ""1"""."select" ADD CONSTRAINT "id > 0" CHECK ((id > 0));`; chk.Create != want {
		t.Errorf("check part:\n%s\nwant:\n%s", chk.Create, want)
	}
	if chk.Kind != KindCheckConstraint || chk.Separate {
		t.Errorf("check part: %+v", chk)
	}
	nv := tb.CheckPart(Ref{Class: ClassPgConstraint, OID: 9}, tref, "nv", "CHECK ((id < 10)) NOT VALID")
	if !nv.Separate {
		t.Error("a NOT VALID check must be separate")
	}
	if got := tb.CreateSQL(); strings.Contains(got, "nv") {
		t.Errorf("NOT VALID check rendered inline:\n%s", got)
	}
}

func TestTableEmptyAndUnlogged(t *testing.T) {
	tb := &Table{Schema: "public", Name: "Empty", Unlogged: true}
	want := "CREATE UNLOGGED TABLE \"public\".\"Empty\" (\n);"
	if got := tb.CreateSQL(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	tb.Columns = []*Column{{Name: "v", Type: "integer", Generated: 'v', Default: "1"}}
	want = "CREATE UNLOGGED TABLE \"public\".\"Empty\" (\n    \"v\" integer GENERATED ALWAYS AS (1) VIRTUAL\n);"
	if got := tb.CreateSQL(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestRelOptions(t *testing.T) {
	got := RelOptions([]string{"fillfactor=70", "security_barrier=true", "toast.vacuum_truncate=false", "x=a'b=c", "flag"})
	want := `"fillfactor"='70', "security_barrier"='true', "toast"."vacuum_truncate"='false', "x"='a''b=c', "flag"`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestSequenceSQL(t *testing.T) {
	tests := []struct {
		name string
		seq  Sequence
		want string
	}{
		{
			name: "serial",
			seq:  Sequence{Schema: "s", Name: "t_id_seq", Type: "integer", Start: 1, Increment: 1, Min: 1, Max: 1<<31 - 1, Cache: 1},
			want: "CREATE SEQUENCE \"s\".\"t_id_seq\"\n    AS integer\n    START WITH 1\n    INCREMENT BY 1\n    NO MINVALUE\n    NO MAXVALUE\n    CACHE 1;",
		},
		{
			name: "bigint descending cycle",
			seq:  Sequence{Schema: "s", Name: `We"ird`, Type: "bigint", Start: -1, Increment: -5, Min: -1 << 63, Max: -1, Cache: 20, Cycle: true, Unlogged: true},
			want: "CREATE UNLOGGED SEQUENCE \"s\".\"We\"\"ird\"\n    START WITH -1\n    INCREMENT BY -5\n    NO MINVALUE\n    NO MAXVALUE\n    CACHE 20\n    CYCLE;",
		},
		{
			name: "smallint bounds",
			seq:  Sequence{Schema: "s", Name: "q", Type: "smallint", Start: 10, Increment: 2, Min: 10, Max: 1000, Cache: 1},
			want: "CREATE SEQUENCE \"s\".\"q\"\n    AS smallint\n    START WITH 10\n    INCREMENT BY 2\n    MINVALUE 10\n    MAXVALUE 1000\n    CACHE 1;",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.seq.CreateSQL(); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
	s := Sequence{Schema: "My Schema", Name: "it's", Type: "integer", Start: 1, Increment: 1, Min: 1, Max: 1<<31 - 1, Cache: 1}
	want := "ALTER TABLE \"My Schema\".\"T\" ALTER COLUMN \"id\" ADD GENERATED ALWAYS AS IDENTITY (\n    SEQUENCE NAME \"My Schema\".\"it's\"\n    START WITH 1\n    INCREMENT BY 1\n    NO MINVALUE\n    NO MAXVALUE\n    CACHE 1\n);"
	if got := s.IdentitySQL("My Schema", "T", "id", 'a'); got != want {
		t.Errorf("identity:\n%s\nwant:\n%s", got, want)
	}
	if got, want := s.SetvalSQL(42, true), `SELECT pg_catalog.setval('"My Schema"."it''s"', 42, true);`; got != want {
		t.Errorf("setval: %s, want %s", got, want)
	}
	if got, want := s.OwnedBySQL("My Schema", "T", "id"), `ALTER SEQUENCE "My Schema"."it's" OWNED BY "My Schema"."T"."id";`; got != want {
		t.Errorf("owned by: %s, want %s", got, want)
	}
}

func TestTableTypedAndInherits(t *testing.T) {
	tref := Ref{Class: ClassPgClass, OID: 1}
	typed := &Table{Schema: "s", Name: "t", OfType: `"s"."Comp"`, Columns: []*Column{
		{Name: "a", Type: "integer", NotNull: true, Default: "3"},
		{Name: "b", Type: "text"},
	}}
	want := "CREATE TABLE \"s\".\"t\" OF \"s\".\"Comp\" (\n    \"a\" WITH OPTIONS DEFAULT 3 NOT NULL\n);"
	if got := typed.CreateSQL(); got != want {
		t.Errorf("typed:\n%s\nwant:\n%s", got, want)
	}
	typed.Columns[0].NotNull = false
	typed.DefaultPart(Ref{Class: ClassPgAttrdef, OID: 2}, tref, typed.Columns[0]).Separate = true
	want = "CREATE TABLE \"s\".\"t\" OF \"s\".\"Comp\";"
	if got := typed.CreateSQL(); got != want {
		t.Errorf("typed, nothing to add:\n%s\nwant:\n%s", got, want)
	}

	child := &Table{Schema: "s", Name: "child", Inherits: []string{`"s"."p1"`, `"o"."P 2"`}, Columns: []*Column{
		{Name: "a", Type: "integer", NotNull: true, Inherited: true},
		{Name: "c", Type: "integer"},
	}}
	want = "CREATE TABLE \"s\".\"child\" (\n    \"c\" integer\n)\nINHERITS (\"s\".\"p1\", \"o\".\"P 2\");\n" +
		"ALTER TABLE ONLY \"s\".\"child\" ALTER COLUMN \"a\" SET NOT NULL;"
	if got := child.CreateSQL(); got != want {
		t.Errorf("child:\n%s\nwant:\n%s", got, want)
	}
}

func TestTablePartitionedAndSecurity(t *testing.T) {
	tb := &Table{Schema: "s", Name: "p", PartitionBy: `RANGE ("at")`, ReplicaIdentity: 'f', ForceRowSecurity: true,
		Columns: []*Column{{Name: "at", Type: "date", NotNull: true}}}
	want := "CREATE TABLE \"s\".\"p\" (\n    \"at\" date NOT NULL\n)\nPARTITION BY RANGE (\"at\");\n" +
		"ALTER TABLE ONLY \"s\".\"p\" REPLICA IDENTITY FULL;\n" +
		"ALTER TABLE ONLY \"s\".\"p\" FORCE ROW LEVEL SECURITY;"
	if got := tb.CreateSQL(); got != want {
		t.Errorf("partitioned:\n%s\nwant:\n%s", got, want)
	}
	tb = &Table{Schema: "s", Name: "t", ReplicaIdentity: 'n', Options: []string{"fillfactor=50"}}
	want = "CREATE TABLE \"s\".\"t\" (\n)\nWITH (\"fillfactor\"='50');\nALTER TABLE ONLY \"s\".\"t\" REPLICA IDENTITY NOTHING;"
	if got := tb.CreateSQL(); got != want {
		t.Errorf("replica identity nothing:\n%s\nwant:\n%s", got, want)
	}
}
