package schema

import (
	"regexp"
	"testing"
)

func TestParseRelationPattern(t *testing.T) {
	// Expected values were checked against PostgreSQL 15's
	// patternToSQLRegex (psql -E '\dt PATTERN' prints them) and pg_dump -t.
	tests := []struct {
		in               string
		db, schema, name string
		err              string
	}{
		{in: "foo", name: `^(foo)$`},
		{in: "Foo", name: `^(foo)$`},
		{in: `"Foo"`, name: `^(Foo)$`},
		{in: `"Foo"Bar`, name: `^(Foobar)$`},
		{in: "s.t", schema: `^(s)$`, name: `^(t)$`},
		{in: "S.*", schema: `^(s)$`, name: `^(.*)$`},
		{in: "*.t?", schema: `^(.*)$`, name: `^(t.)$`},
		{in: `"a.b"."x.y"`, schema: `^(a\.b)$`, name: `^(x\.y)$`},
		{in: `"with space".t`, schema: `^(with space)$`, name: `^(t)$`},
		{in: `"it""s"`, name: `^(it"s)$`},
		{in: `"*?"`, name: `^(\*\?)$`},
		{in: `a+b`, name: `^(a+b)$`},      // operators pass through outside quotes
		{in: `"a+b"`, name: `^(a\+b)$`},   // and are escaped inside
		{in: `a|B`, name: `^(a|b)$`},      // alternation stays inside the anchors
		{in: `a$b`, name: `^(a\$b)$`},     // $ is always literal
		{in: `"a$b"`, name: `^(a\$b)$`},   // even inside quotes, once
		{in: `int[]`, name: `^(int\[])$`}, // [] is an array's name
		{in: `[ab]c`, name: `^([ab]c)$`},  // a bracket expression otherwise
		{in: `"(|)[]{}^\"`, name: `^(\(\|\)\[\]\{\}\^\\)$`},
		{in: `t_1`, name: `^(t_1)$`},              // _ is no wildcard here
		{in: `.t`, schema: `^()$`, name: `^(t)$`}, // an empty schema part matches nothing
		{in: `t.`, schema: `^(t)$`, name: `^()$`},
		{in: "Db.S.T", db: "db", schema: `^(s)$`, name: `^(t)$`},
		{in: `"My Db".s.t`, db: "My Db", schema: `^(s)$`, name: `^(t)$`},
		{in: `d*?.s.t`, db: "d*?", schema: `^(s)$`, name: `^(t)$`},
		{in: `"unterminated`, name: `^(unterminated)$`},
		{in: "é", name: `^(é)$`},
		{in: "a.b.c.d", err: "improper relation name (too many dotted names): a.b.c.d"},
		{in: "dot.ted.x.y", err: "improper relation name (too many dotted names): dot.ted.x.y"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			p, err := ParseRelationPattern(tc.in)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Text != tc.in || p.Database != tc.db || p.Schema != tc.schema || p.Name != tc.name {
				t.Fatalf("got db %q schema %q name %q, want %q %q %q", p.Database, p.Schema, p.Name, tc.db, tc.schema, tc.name)
			}
		})
	}
}

func TestParseSchemaPattern(t *testing.T) {
	tests := []struct {
		in, name, err string
	}{
		{in: "s1", name: `^(s1)$`},
		{in: "S*", name: `^(s.*)$`},
		{in: `"S1"`, name: `^(S1)$`},
		{in: `"dot.ted"`, name: `^(dot\.ted)$`},
		{in: "src.s1", err: "cross-database references are not implemented: src.s1"},
		{in: "a.b.c", err: "improper qualified name (too many dotted names): a.b.c"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			p, err := ParseSchemaPattern(tc.in)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Schema != "" || p.Database != "" || p.Name != tc.name {
				t.Fatalf("got %+v, want name %q", p, tc.name)
			}
		})
	}
}

// TestPatternMatches checks what the compiled expressions match, with Go's
// regexp standing in for PostgreSQL's (they agree on these).
func TestPatternMatches(t *testing.T) {
	tests := []struct {
		pattern string
		match   []string // schema.name pairs as "schema\x00name"
		miss    []string
	}{
		{"foo", []string{"\x00foo"}, []string{"\x00Foo", "\x00foox", "\x00xfoo"}},
		{`"Foo"`, []string{"\x00Foo"}, []string{"\x00foo"}},
		{"*.foo", []string{"a\x00foo", "b\x00foo"}, []string{"a\x00Foo"}},
		{"s?.t*", []string{"s1\x00t", "s2\x00tab"}, []string{"s\x00t", "s12\x00t", "s1\x00at"}},
		{"a+b", []string{"\x00ab", "\x00aab"}, []string{"\x00a+b"}},
		{`"a+b"`, []string{"\x00a+b"}, []string{"\x00ab"}},
		{"ab|foo", []string{"\x00ab", "\x00foo"}, []string{"\x00abfoo"}},
		{`"dot.ted"."x.y"`, []string{"dot.ted\x00x.y"}, []string{"dotxted\x00x.y", "dot.ted\x00xzy"}},
		{`"quo""te".*`, []string{"quo\"te\x00anything"}, []string{"quote\x00x"}},
		{`"with space"."a table"`, []string{"with space\x00a table"}, []string{"with space\x00A table"}},
	}
	for _, tc := range tests {
		p, err := ParseRelationPattern(tc.pattern)
		if err != nil {
			t.Fatal(err)
		}
		nameRE := regexp.MustCompile("(?s)" + p.Name)
		var schemaRE *regexp.Regexp
		if p.Schema != "" {
			schemaRE = regexp.MustCompile("(?s)" + p.Schema)
		}
		matches := func(pair string) bool {
			var s, n string
			for i := range len(pair) {
				if pair[i] == 0 {
					s, n = pair[:i], pair[i+1:]
				}
			}
			return nameRE.MatchString(n) && (schemaRE == nil || schemaRE.MatchString(s))
		}
		for _, m := range tc.match {
			if !matches(m) {
				t.Errorf("%s does not match %q", tc.pattern, m)
			}
		}
		for _, m := range tc.miss {
			if matches(m) {
				t.Errorf("%s matches %q", tc.pattern, m)
			}
		}
	}
}
