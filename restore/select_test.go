package restore

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/format"
)

// selectTOC is shaped like a pgark dump's table of contents: a serial
// column's sequence before its table and owned through SEQUENCE OWNED BY,
// an identity column's sequence after it, parts named "table part".
func selectTOC() []format.Entry {
	pre, data, post := format.SectionPreData, format.SectionData, format.SectionPostData
	e := func(id uint32, sec format.Section, kind, schema, name string, deps ...uint32) format.Entry {
		return format.Entry{ID: id, Section: sec, Kind: kind, Schema: schema, Name: name, Deps: deps, Create: "c"}
	}
	return []format.Entry{
		e(1, pre, "SCHEMA", "", "s"),
		e(2, pre, "COMMENT", "", "SCHEMA s", 1),
		e(3, pre, "SEQUENCE", "s", "t_id_seq", 1),
		e(4, pre, "TABLE", "s", "t", 1, 3),
		e(5, pre, "COMMENT", "s", "COLUMN t.v", 4),
		e(6, pre, "ACL", "s", "TABLE t", 4),
		e(7, pre, "SEQUENCE", "s", "t_ident", 1, 4),
		e(8, pre, "TABLE", "s", "u", 1),
		e(9, pre, "FUNCTION", "s", "f(integer, text)", 1),
		e(10, pre, "ACL", "s", "FUNCTION f(integer, text)", 9),
		e(11, pre, "VIEW", "public", "v", 4),
		e(12, pre, "SEQUENCE OWNED BY", "s", "t_id_seq", 3, 4),
		e(13, pre, "BLOB METADATA", "", "42"),
		e(14, data, "TABLE DATA", "s", "t", 4),
		e(15, data, "TABLE DATA", "s", "u", 8),
		e(16, data, "SEQUENCE SET", "s", "t_id_seq", 3),
		e(17, data, "SEQUENCE SET", "s", "t_ident", 7),
		e(18, data, "BLOBS", "", "42", 13),
		e(19, post, "CONSTRAINT", "s", "t t_pkey", 4),
		e(20, post, "INDEX", "s", "t_v", 4),
		e(21, post, "COMMENT", "s", "INDEX t_v", 20),
		e(22, post, "TRIGGER", "s", "t trg", 9, 4),
		e(23, post, "FK CONSTRAINT", "s", "u u_fk", 8, 4, 19),
		e(24, post, "FK CONSTRAINT", "s", "t t_fk", 4, 8),
		e(25, post, "POLICY", "s", "t p", 4),
		e(26, pre, "ACL", "public", "TABLE v", 11),
		e(27, pre, "ACL", "s", "COLUMN t.v", 4, 6), // a column privilege after the table's
		e(28, pre, "COMMENT", "", "SCHEMA public"), // of an object not in the archive
		e(29, post, "MATERIALIZED VIEW DATA", "s", "t"),
	}
}

func selected(t *testing.T, opts Options) []uint32 {
	t.Helper()
	entries := selectTOC()
	p, err := NewPlan(entries, nil, opts)
	require.NoError(t, err)
	var out []uint32
	for _, list := range [][]*format.Entry{p.Pre, p.Data, p.Post, p.ACL, p.Refresh} {
		out = append(out, ids(list)...)
	}
	// The stream's selector, shown the entries one by one, agrees.
	if len(opts.Select.WholeTables) == 0 {
		sel := newSelector(&opts, nil)
		var streamed []uint32
		for i := range entries {
			if sel.selects(&entries[i]) {
				streamed = append(streamed, entries[i].ID)
			}
		}
		assert.ElementsMatch(t, out, streamed, "stream selection")
	}
	return out
}

func TestSelection(t *testing.T) {
	all := make([]uint32, 29)
	for i := range all {
		all[i] = uint32(i + 1)
	}
	for _, tc := range []struct {
		name string
		opts Options
		want []uint32
	}{
		{"nothing by name", Options{}, all},
		{"table alone with its data, comment and privileges", Options{Select: Selection{Tables: []string{"t"}}},
			[]uint32{4, 5, 6, 14, 27, 29}},
		{"names are not patterns", Options{Select: Selection{Tables: []string{"T", "t*", `"t"`, "s.t"}}}, nil},
		{"sequence with its value", Options{Select: Selection{Tables: []string{"t_id_seq"}}}, []uint32{3, 16}},
		{"schema: no entry without one", Options{Select: Selection{Schemas: []string{"s"}}},
			[]uint32{3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 15, 16, 17, 19, 20, 21, 22, 23, 24, 25, 27, 29}},
		{"exclude schema", Options{Select: Selection{ExcludeSchemas: []string{"s"}}}, []uint32{1, 2, 11, 13, 18, 26}},
		{"schema restricts tables", Options{Select: Selection{Tables: []string{"t", "v"}, Schemas: []string{"public"}}}, []uint32{11, 26}},
		{"exclude schema and tables", Options{Select: Selection{Tables: []string{"t", "v"}, ExcludeSchemas: []string{"public"}}},
			[]uint32{4, 5, 6, 14, 27, 29}},
		{"index", Options{Select: Selection{Indexes: []string{"t_v", "t_pkey"}}}, []uint32{20, 21}},
		{"trigger by its tag", Options{Select: Selection{Triggers: []string{"t trg"}}}, []uint32{22}},
		{"trigger by its bare name", Options{Select: Selection{Triggers: []string{"trg"}}}, nil},
		{"function", Options{Select: Selection{Functions: []string{"f(integer, text)", "f(integer,text)"}}}, []uint32{9, 10}},
		{"kinds add up", Options{Select: Selection{Functions: []string{"f(integer, text)"}, Tables: []string{"u"}}}, []uint32{8, 9, 10, 15}},
		{"no comments", Options{NoComments: true, NoACL: true, Select: Selection{Tables: []string{"t"}}}, []uint32{4, 14, 29}},
		{"section", Options{Sections: []format.Section{format.SectionData}, Select: Selection{Tables: []string{"t"}}}, []uint32{14}},
		{"comment of an object left out by the list", Options{List: map[uint32]bool{5: true, 14: true}, Select: Selection{Tables: []string{"t"}}},
			[]uint32{14}},
		{"whole table", Options{Select: Selection{WholeTables: []string{"t"}}},
			[]uint32{3, 4, 5, 6, 7, 12, 14, 16, 17, 19, 20, 21, 22, 24, 25, 27}},
		{"whole table, data only", Options{Sections: []format.Section{format.SectionData}, Select: Selection{WholeTables: []string{"t"}}},
			[]uint32{14, 16, 17}},
		{"whole table in another schema", Options{Select: Selection{WholeTables: []string{"t"}, Schemas: []string{"public"}}}, nil},
		{"whole sequence", Options{Select: Selection{WholeTables: []string{"t_ident"}}}, []uint32{7, 17}},
		{"whole table and another alone", Options{Select: Selection{WholeTables: []string{"u"}, Tables: []string{"t"}}},
			[]uint32{4, 5, 6, 8, 14, 15, 23, 27, 29}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.ElementsMatch(t, tc.want, selected(t, tc.opts))
		})
	}
}

func TestWholeTableStream(t *testing.T) {
	_, err := RunStream(context.Background(), strings.NewReader(""), Target{}, Options{Select: Selection{WholeTables: []string{"t"}}})
	assert.ErrorIs(t, err, ErrWholeTableStream)
}

// TestStrictNames: with StrictNames, a name that selects no entry fails
// the plan, as pg_restore --strict-names does, in pg_restore's order:
// schemas, tables, indexes, functions, triggers.
func TestStrictNames(t *testing.T) {
	strict := func(sel Selection) error {
		sel.StrictNames = true
		_, err := NewPlan(selectTOC(), nil, Options{Select: sel})
		return err
	}
	require.NoError(t, strict(Selection{}))
	require.NoError(t, strict(Selection{Schemas: []string{"s"}, Tables: []string{"t", "u"}, Indexes: []string{"t_v"},
		Functions: []string{"f(integer, text)"}, Triggers: []string{"t trg"}, WholeTables: []string{"t_ident"}}))
	for _, tc := range []struct {
		sel  Selection
		want string
	}{
		{Selection{Schemas: []string{"s", "nope"}}, `restore: schema "nope" not found`},
		{Selection{Tables: []string{"t", "nope"}, Indexes: []string{"x"}}, `restore: table "nope" not found`},
		{Selection{Tables: []string{"v"}, Schemas: []string{"s"}}, `restore: table "v" not found`}, // v is in public
		{Selection{WholeTables: []string{"nope"}}, `restore: table "nope" not found`},
		{Selection{Indexes: []string{"t_pkey"}}, `restore: index "t_pkey" not found`}, // a CONSTRAINT
		{Selection{Functions: []string{"f(integer,text)"}}, `restore: function "f(integer,text)" not found`},
		{Selection{Triggers: []string{"trg"}}, `restore: trigger "trg" not found`},
		{Selection{Schemas: []string{"nope"}, Tables: []string{"nope2"}}, `restore: schema "nope" not found`},
	} {
		assert.EqualError(t, strict(tc.sel), tc.want, "%+v", tc.sel)
	}
	// Without StrictNames, the same selections only select less.
	_, err := NewPlan(selectTOC(), nil, Options{Select: Selection{Tables: []string{"nope"}}})
	require.NoError(t, err)

	_, err = RunStream(context.Background(), strings.NewReader(""), Target{}, Options{Select: Selection{StrictNames: true}})
	assert.ErrorIs(t, err, ErrStrictNamesStream)
}
