package schema

import (
	"errors"
	"testing"
)

func TestParseACLItem(t *testing.T) {
	tests := []struct {
		in   string
		want ACLItem
	}{
		{"postgres=arwdDxt/postgres", ACLItem{Grantee: "postgres", Grantor: "postgres", Privs: "arwdDxt"}},
		{"=X/owner", ACLItem{Grantee: "", Grantor: "owner", Privs: "X"}},
		{"alice=a*r*w/bob", ACLItem{Grantee: "alice", Grantor: "bob", Privs: "arw", GrantOption: "ar"}},
		{`"Ro le""x"=U*C/"Own er"`, ACLItem{Grantee: `Ro le"x`, Grantor: "Own er", Privs: "UC", GrantOption: "U"}},
		{`"välja"=r/"a=b/c"`, ACLItem{Grantee: "välja", Grantor: "a=b/c", Privs: "r"}},
		{"pg_database_owner=UC/pg_database_owner", ACLItem{Grantee: "pg_database_owner", Grantor: "pg_database_owner", Privs: "UC"}},
		{"m=arwdDxtm/m", ACLItem{Grantee: "m", Grantor: "m", Privs: "arwdDxtm"}},
		{"a=sA/b", ACLItem{Grantee: "a", Grantor: "b", Privs: "sA"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseACLItem(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("ParseACLItem(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if s := got.String(); s != tt.in {
				t.Fatalf("String() = %q, want %q", s, tt.in)
			}
		})
	}
}

func TestParseACLItemErrors(t *testing.T) {
	for _, in := range []string{
		"", "alice", "alice=r", "alice=r/", "alice=q/bob", "alice=rr/bob", `"alice=r/bob`,
		"alice=r/bob/carol", `alice=r/"bob"x`, "=/",
	} {
		if _, err := ParseACLItem(in); !errors.Is(err, ErrBadACL) {
			t.Errorf("ParseACLItem(%q) = %v, want ErrBadACL", in, err)
		}
	}
}

func TestACLStatements(t *testing.T) {
	tbl := GrantTarget{Type: "TABLE", Name: `"s"."t"`, Owner: "o"}
	col := tbl
	col.Column = `B "c`
	fn := GrantTarget{Type: "FUNCTION", Name: `"s"."f"(integer)`, Owner: "o"}
	seq := GrantTarget{Type: "SEQUENCE", Name: `"s"."q"`, Owner: "o"}
	sch := GrantTarget{Type: "SCHEMA", Name: `"s"`, Owner: "o"}
	typ := GrantTarget{Type: "TYPE", Name: `"s"."e"`, Owner: "o"}
	m17 := tbl
	m17.Maintain = true
	tests := []struct {
		name      string
		target    GrantTarget
		acl, base []string
		want      string
	}{
		{"default", tbl, []string{"o=arwdDxt/o"}, []string{"o=arwdDxt/o"}, ""},
		{"grants", tbl, []string{"o=arwdDxt/o", "alice=a*r*/o", `"Ro le"=r/o`, "=w/o"}, []string{"o=arwdDxt/o"},
			"GRANT SELECT,INSERT ON TABLE \"s\".\"t\" TO \"alice\" WITH GRANT OPTION;\n" +
				"GRANT SELECT ON TABLE \"s\".\"t\" TO \"Ro le\";\n" +
				"GRANT UPDATE ON TABLE \"s\".\"t\" TO PUBLIC;"},
		{"owner lost some", tbl, []string{"o=arwDxt/o"}, []string{"o=arwdDxt/o"},
			"REVOKE ALL ON TABLE \"s\".\"t\" FROM \"o\";\n" +
				"GRANT SELECT,INSERT,REFERENCES,TRIGGER,TRUNCATE,UPDATE ON TABLE \"s\".\"t\" TO \"o\";"},
		{"owner lost all", tbl, []string{}, []string{"o=arwdDxt/o"}, "REVOKE ALL ON TABLE \"s\".\"t\" FROM \"o\";"},
		{"all", tbl, []string{"o=arwdDxt/o", "a=arwdDxt/o", "b=a*r*w*d*D*x*t*/o"}, []string{"o=arwdDxt/o"},
			"GRANT ALL ON TABLE \"s\".\"t\" TO \"a\";\nGRANT ALL ON TABLE \"s\".\"t\" TO \"b\" WITH GRANT OPTION;"},
		{"mixed grant option", tbl, []string{"o=arwdDxt/o", "a=r*w/o"}, []string{"o=arwdDxt/o"},
			"GRANT UPDATE ON TABLE \"s\".\"t\" TO \"a\";\nGRANT SELECT ON TABLE \"s\".\"t\" TO \"a\" WITH GRANT OPTION;"},
		{"maintain not all", m17, []string{"o=arwdDxtm/o", "a=arwdDxt/o"}, []string{"o=arwdDxtm/o"},
			"GRANT SELECT,INSERT,REFERENCES,DELETE,TRIGGER,TRUNCATE,UPDATE ON TABLE \"s\".\"t\" TO \"a\";"},
		{"maintain all", m17, []string{"o=arwdDxtm/o", "a=arwdDxtm/o"}, []string{"o=arwdDxtm/o"},
			"GRANT ALL ON TABLE \"s\".\"t\" TO \"a\";"},
		{"other grantor", tbl, []string{"o=arwdDxt/o", "a=r*/o", "b=r/a"}, []string{"o=arwdDxt/o"},
			"GRANT SELECT ON TABLE \"s\".\"t\" TO \"a\" WITH GRANT OPTION;\n" +
				"SET SESSION AUTHORIZATION \"a\";\nGRANT SELECT ON TABLE \"s\".\"t\" TO \"b\";\nRESET SESSION AUTHORIZATION;"},
		{"column", col, []string{"a=rw/o", "b=x*/o"}, []string{},
			"GRANT SELECT(\"B \"\"c\"),UPDATE(\"B \"\"c\") ON TABLE \"s\".\"t\" TO \"a\";\n" +
				"GRANT REFERENCES(\"B \"\"c\") ON TABLE \"s\".\"t\" TO \"b\" WITH GRANT OPTION;"},
		{"column all", col, []string{"a=arwx/o"}, nil, "GRANT ALL(\"B \"\"c\") ON TABLE \"s\".\"t\" TO \"a\";"},
		{"function revoke public", fn, []string{"o=X/o", "alice=X/o"}, []string{"=X/o", "o=X/o"},
			"REVOKE ALL ON FUNCTION \"s\".\"f\"(integer) FROM PUBLIC;\nGRANT ALL ON FUNCTION \"s\".\"f\"(integer) TO \"alice\";"},
		{"sequence", seq, []string{"o=rwU/o", "a=rUw/o", "b=rw/o"}, []string{"o=rwU/o"},
			"GRANT ALL ON SEQUENCE \"s\".\"q\" TO \"a\";\nGRANT SELECT,UPDATE ON SEQUENCE \"s\".\"q\" TO \"b\";"},
		{"schema", sch, []string{"o=UC/o", "a=U*/o", "=C/o"}, []string{"o=UC/o"},
			"GRANT USAGE ON SCHEMA \"s\" TO \"a\" WITH GRANT OPTION;\nGRANT CREATE ON SCHEMA \"s\" TO PUBLIC;"},
		{"public schema pg15", GrantTarget{Type: "SCHEMA", Name: `"public"`, Owner: "pg_database_owner"},
			[]string{"pg_database_owner=UC/pg_database_owner", "=UC/pg_database_owner"},
			[]string{"pg_database_owner=UC/pg_database_owner", "=U/pg_database_owner"},
			"REVOKE USAGE ON SCHEMA \"public\" FROM PUBLIC;\nGRANT ALL ON SCHEMA \"public\" TO PUBLIC;"},
		{"type", typ, []string{"o=U/o"}, []string{"=U/o", "o=U/o"}, "REVOKE ALL ON TYPE \"s\".\"e\" FROM PUBLIC;"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ACLStatements(tt.target, tt.acl, tt.base)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestACLStatementsErrors(t *testing.T) {
	if _, err := ACLStatements(GrantTarget{Type: "WIDGET", Name: "x"}, nil, nil); err == nil {
		t.Error("unknown type: no error")
	}
	if _, err := ACLStatements(GrantTarget{Type: "TABLE", Name: "x"}, []string{"bad"}, nil); !errors.Is(err, ErrBadACL) {
		t.Errorf("bad item: %v", err)
	}
}

func FuzzParseACLItem(f *testing.F) {
	for _, s := range []string{"postgres=arwdDxt/postgres", "=X/o", `"a""b"=r*/"c d"`, "a=/b", `"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseACLItem(s)
		if err != nil {
			return
		}
		b, err := ParseACLItem(a.String())
		if err != nil || b != a {
			t.Fatalf("%q -> %+v -> %q -> %+v, %v", s, a, a.String(), b, err)
		}
	})
}
