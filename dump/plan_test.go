package dump

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/format"
	"github.com/pgark/pgark/internal/conn"
	"github.com/pgark/pgark/schema"
)

// planObjects is a small dump sorted by schema.Sort: a table with a
// sequence, their data, comments and an ACL, an index and a materialized
// view.
func planObjects(t *testing.T) []*schema.Object {
	t.Helper()
	rel := func(oid uint32) schema.Ref { return schema.Ref{Class: schema.ClassPgClass, OID: oid} }
	tab, small, seq, mv, idx := rel(100), rel(101), rel(102), rel(103), rel(104)
	objs := []*schema.Object{
		{Ref: tab, Kind: schema.KindTable, Schema: "public", Name: "t", Owner: "alice", Ident: `TABLE "public"."t"`, Create: `CREATE TABLE "public"."t" (id int);`},
		{Ref: small, Kind: schema.KindTable, Schema: "public", Name: "small", Owner: "alice", Create: `CREATE TABLE "public"."small" (id int);`},
		{Ref: tab, Kind: schema.KindComment, Schema: "public", Name: "TABLE t", Owner: "alice", Create: `COMMENT ON TABLE "public"."t" IS 'x';`, Deps: []schema.Ref{tab}},
		{Ref: seq, Kind: schema.KindSequence, Schema: "public", Name: "s", Owner: "alice", Create: `CREATE SEQUENCE "public"."s";`},
		{Ref: mv, Kind: schema.KindMatView, Schema: "public", Name: "mv", Owner: "alice", Create: `CREATE MATERIALIZED VIEW "public"."mv" AS SELECT 1 WITH NO DATA;`, Deps: []schema.Ref{tab}},
		{Ref: small, Kind: schema.KindTableData, Schema: "public", Name: "small", Owner: "alice", Deps: []schema.Ref{small},
			Data: &schema.TableData{Relation: `"public"."small"`, Columns: []string{`"id"`}, Pages: 1}},
		{Ref: tab, Kind: schema.KindTableData, Schema: "public", Name: "t", Owner: "alice", Deps: []schema.Ref{tab, tab},
			Data: &schema.TableData{Columns: []string{`"id"`, `"v"`}, Pages: 100}},
		{Ref: seq, Kind: schema.KindSequenceSet, Schema: "public", Name: "s", Owner: "alice", Create: `SELECT pg_catalog.setval('"public"."s"', 1, false);`, Deps: []schema.Ref{seq}},
		{Ref: idx, Kind: schema.KindIndex, Schema: "public", Name: "t_id", Owner: "alice", Create: `CREATE INDEX ...;`, Deps: []schema.Ref{tab}},
		{Ref: idx, Kind: schema.KindComment, Schema: "public", Name: "INDEX t_id", Owner: "alice", Create: `COMMENT ON INDEX ...;`, Deps: []schema.Ref{idx}},
		{Ref: mv, Kind: schema.KindMatViewData, Schema: "public", Name: "mv", Owner: "alice", Create: `REFRESH MATERIALIZED VIEW "public"."mv";`, Deps: []schema.Ref{mv}},
		{Ref: tab, Kind: schema.KindACL, Schema: "public", Name: "TABLE t", Owner: "alice", Create: `GRANT ...;`, Deps: []schema.Ref{tab}},
	}
	sorted, err := schema.Sort(objs)
	require.NoError(t, err)
	return sorted
}

func kinds(p *plan) []string {
	var out []string
	for _, e := range p.entries {
		out = append(out, e.Kind)
	}
	return out
}

func TestPlanFilters(t *testing.T) {
	all := []string{"TABLE", "TABLE", "COMMENT", "SEQUENCE", "MATERIALIZED VIEW", "TABLE DATA", "TABLE DATA", "SEQUENCE SET", "INDEX", "COMMENT", "MATERIALIZED VIEW DATA", "ACL"}
	for _, tc := range []struct {
		name string
		opts Options
		want []string
	}{
		{"all", Options{}, all},
		// As pg_dump 15: -s drops the data section and REFRESH.
		{"schema-only", Options{SchemaOnly: true}, []string{"TABLE", "TABLE", "COMMENT", "SEQUENCE", "MATERIALIZED VIEW", "INDEX", "COMMENT", "ACL"}},
		// -a keeps the data section only, no comments, but (unlike pg_dump)
		// the REFRESH of populated materialized views.
		{"data-only", Options{DataOnly: true}, []string{"TABLE DATA", "TABLE DATA", "SEQUENCE SET", "MATERIALIZED VIEW DATA"}},
		{"section data", Options{Sections: []schema.Section{schema.SectionData}}, []string{"TABLE DATA", "TABLE DATA", "SEQUENCE SET"}},
		// Comments and ACLs are in their target's section.
		{"section pre-data", Options{Sections: []schema.Section{schema.SectionPreData}}, []string{"TABLE", "TABLE", "COMMENT", "SEQUENCE", "MATERIALIZED VIEW", "ACL"}},
		{"section post-data", Options{Sections: []schema.Section{schema.SectionPostData}}, []string{"INDEX", "COMMENT", "MATERIALIZED VIEW DATA"}},
		{"pre and post", Options{Sections: []schema.Section{schema.SectionPreData, schema.SectionPostData}},
			[]string{"TABLE", "TABLE", "COMMENT", "SEQUENCE", "MATERIALIZED VIEW", "INDEX", "COMMENT", "MATERIALIZED VIEW DATA", "ACL"}},
		{"no privileges, no comments", Options{NoPrivileges: true, NoComments: true},
			[]string{"TABLE", "TABLE", "SEQUENCE", "MATERIALIZED VIEW", "TABLE DATA", "TABLE DATA", "SEQUENCE SET", "INDEX", "MATERIALIZED VIEW DATA"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := makePlan(planObjects(t), &tc.opts)
			require.NoError(t, err)
			assert.ElementsMatch(t, tc.want, kinds(p))
		})
	}
}

func TestPlanEntries(t *testing.T) {
	objs := planObjects(t)
	p, err := makePlan(objs, &Options{NoOwner: true})
	require.NoError(t, err)
	require.Len(t, p.entries, len(objs))
	byName := map[string]format.Entry{}
	for i, e := range p.entries {
		assert.Equal(t, uint32(objs[i].ID), e.ID, "order and ids kept")
		assert.Empty(t, e.Owner, "-O")
		byName[e.Kind+" "+e.Name] = e
	}
	tab := byName["TABLE t"]
	assert.Equal(t, format.Entry{ID: tab.ID, Section: format.SectionPreData, Kind: "TABLE", Schema: "public", Name: "t",
		Ident: `TABLE "public"."t"`, Create: `CREATE TABLE "public"."t" (id int);`}, tab)
	data := byName["TABLE DATA t"]
	assert.Equal(t, format.SectionData, data.Section)
	assert.Equal(t, []uint32{tab.ID}, data.Deps, "duplicates dropped")
	assert.Equal(t, `COPY "public"."t" ("id", "v") FROM stdin;`, data.Copy, "relation from schema and name")
	assert.Equal(t, format.SectionPostData, byName["COMMENT INDEX t_id"].Section)
	assert.Equal(t, format.SectionPreData, byName["ACL TABLE t"].Section)
	assert.Equal(t, `REFRESH MATERIALIZED VIEW "public"."mv";`, byName["MATERIALIZED VIEW DATA mv"].Create)
	// Biggest table first.
	require.Len(t, p.tables, 2)
	assert.Equal(t, `COPY "public"."t" ("id", "v") TO STDOUT`, p.tables[0].copyTo)
	assert.Equal(t, data.ID, p.tables[0].entry)
	assert.Equal(t, `"public"."small"`, p.tables[1].relation)

	// Dependencies on entries left out are dropped.
	p, err = makePlan(planObjects(t), &Options{DataOnly: true})
	require.NoError(t, err)
	for _, e := range p.entries {
		assert.Empty(t, e.Deps, e.Kind)
	}
	assert.ElementsMatch(t, []string{`"public"."small"`, `"public"."t"`}, lockTargets(planObjects(t)))
}

func TestPlanErrors(t *testing.T) {
	objs := planObjects(t)
	objs[2].ID = 0
	_, err := makePlan(objs, &Options{})
	assert.ErrorContains(t, err, "no valid dump id")

	objs = planObjects(t)
	objs[2].ID = 1
	_, err = makePlan(objs, &Options{})
	assert.ErrorContains(t, err, "already has")

	objs = planObjects(t)
	for _, o := range objs {
		if o.Kind == schema.KindTableData {
			o.Data = nil
		}
	}
	_, err = makePlan(objs, &Options{})
	assert.ErrorContains(t, err, "no table data description")
}

func TestOptionsValidate(t *testing.T) {
	base := func() Options {
		return Options{Connector: &conn.Connector{}, Out: io.Discard,
			Load: func(context.Context, Querier) ([]*schema.Object, error) { return nil, nil }}
	}
	o := base()
	require.NoError(t, o.validate())
	for _, tc := range []struct {
		change func(*Options)
		err    string
	}{
		{func(o *Options) { o.Connector = nil }, "no connector"},
		{func(o *Options) { o.Out = nil }, "no output"},
		{func(o *Options) { o.Load = nil }, "no catalog loader"},
		{func(o *Options) { o.Jobs = -1 }, "invalid number of jobs"},
		{func(o *Options) { o.SchemaOnly, o.DataOnly = true, true }, "cannot be used together"},
		{func(o *Options) { o.BlockSize = format.MaxPayload + 1 }, "block size"},
		{func(o *Options) { o.Sections = []schema.Section{schema.SectionNone} }, "invalid section"},
	} {
		o := base()
		tc.change(&o)
		assert.ErrorContains(t, o.validate(), tc.err)
	}
}

func TestPlanLargeObjects(t *testing.T) {
	lo := schema.Ref{Class: schema.ClassPgLargeObject, OID: 5}
	objs, err := schema.Sort([]*schema.Object{
		{Ref: lo, Kind: schema.KindBlobMetadata, Name: "5..6", Owner: "alice", Ident: "LARGE OBJECT 5\nLARGE OBJECT 6",
			Create: "SELECT pg_catalog.lo_create('5');\nSELECT pg_catalog.lo_create('6');", LargeObjects: []uint32{5, 6}},
		{Ref: lo, Kind: schema.KindACL, Name: "LARGE OBJECTS 5..6", Owner: "alice", Create: "GRANT ...;", Deps: []schema.Ref{lo}},
		{Ref: schema.Ref{Class: lo.Class, OID: 5, Sub: -1}, Kind: schema.KindBlobs, Name: "5..6", Owner: "alice",
			Deps: []schema.Ref{lo}, LargeObjects: []uint32{5, 6}},
	})
	require.NoError(t, err)

	p, err := makePlan(objs, &Options{})
	require.NoError(t, err)
	assert.Equal(t, []string{"BLOB METADATA", "ACL", "BLOBS"}, kinds(p))
	blobs := p.entries[2]
	assert.Equal(t, format.SectionData, blobs.Section)
	assert.Equal(t, blobsCopyFrom, blobs.Copy)
	assert.Equal(t, []uint32{p.entries[0].ID}, blobs.Deps)
	assert.Equal(t, "LARGE OBJECT 5\nLARGE OBJECT 6", p.entries[0].Ident)
	require.Len(t, p.tables, 1)
	assert.True(t, p.tables[0].lo, "no table to lock")
	assert.Contains(t, p.tables[0].copyTo, `pg_catalog.unnest('{5,6}'::pg_catalog.oid[])`)
	assert.Contains(t, p.tables[0].copyTo, "pg_catalog.lo_get(")
	assert.Empty(t, lockTargets(objs))

	// -s keeps the metadata (and privileges), -a the contents.
	p, err = makePlan(objs, &Options{SchemaOnly: true})
	require.NoError(t, err)
	assert.Equal(t, []string{"BLOB METADATA", "ACL"}, kinds(p))
	assert.Empty(t, p.tables)
	p, err = makePlan(objs, &Options{DataOnly: true})
	require.NoError(t, err)
	assert.Equal(t, []string{"BLOBS"}, kinds(p))

	objs[2].LargeObjects = nil
	_, err = makePlan(objs, &Options{})
	assert.ErrorContains(t, err, "names no large objects")
}

func TestTableOfWhere(t *testing.T) {
	obj := &schema.Object{ID: 3, Kind: schema.KindTableData, Schema: "s", Name: "t", Data: &schema.TableData{
		Relation: `"s"."t"`, Columns: []string{`"a"`, `"B c"`}, Where: "(a > 1)",
	}}
	tb, err := tableOf(obj)
	if err != nil {
		t.Fatal(err)
	}
	if want := `COPY (SELECT "a", "B c" FROM ONLY "s"."t" WHERE (a > 1)) TO STDOUT`; tb.copyTo != want {
		t.Errorf("copy %q, want %q", tb.copyTo, want)
	}
	p, err := makePlan([]*schema.Object{obj}, &Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := `COPY "s"."t" ("a", "B c") FROM stdin;`; p.entries[0].Copy != want {
		t.Errorf("entry copy %q, want %q: restore loads the table as usual", p.entries[0].Copy, want)
	}
}

func TestSplit(t *testing.T) {
	big := table{entry: 1, relation: `"s"."big"`, pages: 10000, columns: []string{`"a"`, `"b"`}}
	small := table{entry: 2, relation: `"s"."small"`, pages: 1999, columns: []string{`"a"`}}
	lo := table{entry: 3, relation: "large objects", pages: 0, lo: true}
	nocols := table{entry: 4, relation: `"s"."nocols"`, pages: 50000}
	filtered := table{entry: 5, relation: `"s"."f"`, pages: 3000, columns: []string{`"a"`}, where: "a > 1"}

	assert.Equal(t, []table{big}, split([]table{big}, 1, 1000), "one job: nothing to share")
	out := split([]table{small, lo, big, nocols, filtered}, 2, 1000)
	// big: parts of max(1000, 10000/8) = 1250 pages, 8 of them.
	var parts []table
	for _, p := range out {
		if p.entry == 1 {
			parts = append(parts, p)
		}
	}
	require.Len(t, parts, 8)
	for i, p := range parts {
		assert.Equal(t, fmt.Sprintf("part %d of 8", i+1), p.part)
		assert.Equal(t, int64(1250), p.pages)
	}
	assert.Equal(t, `COPY (SELECT "a", "b" FROM ONLY "s"."big" WHERE ctid < '(1250,0)'::pg_catalog.tid) TO STDOUT`, parts[0].copyTo)
	assert.Equal(t, `COPY (SELECT "a", "b" FROM ONLY "s"."big" WHERE ctid >= '(1250,0)'::pg_catalog.tid AND ctid < '(2500,0)'::pg_catalog.tid) TO STDOUT`, parts[1].copyTo)
	assert.Equal(t, `COPY (SELECT "a", "b" FROM ONLY "s"."big" WHERE ctid >= '(8750,0)'::pg_catalog.tid) TO STDOUT`, parts[7].copyTo,
		"the last part is open: the table may be bigger than measured")
	// Under two parts' worth, without columns, or large objects: whole.
	for _, e := range []uint32{2, 3, 4} {
		n := 0
		for _, p := range out {
			if p.entry == e {
				n++
				assert.Empty(t, p.part)
			}
		}
		assert.Equal(t, 1, n, "entry %d", e)
	}
	// A row filter is kept in every part.
	var f []table
	for _, p := range out {
		if p.entry == 5 {
			f = append(f, p)
		}
	}
	require.Len(t, f, 3)
	assert.Equal(t, `COPY (SELECT "a" FROM ONLY "s"."f" WHERE (a > 1) AND ctid >= '(1000,0)'::pg_catalog.tid AND ctid < '(2000,0)'::pg_catalog.tid) TO STDOUT`, f[1].copyTo)
	// Biggest first.
	for i := 1; i < len(out); i++ {
		assert.GreaterOrEqual(t, out[i-1].pages, out[i].pages)
	}
}

func TestBatchLen(t *testing.T) {
	small := table{pages: batchPages - 1}
	big := table{pages: batchPages}
	part := table{pages: 1, part: "1/2"}
	lo := table{lo: true}
	many := make([]table, maxBatch+3)
	for i := range many {
		many[i] = small
	}
	for _, tc := range []struct {
		name   string
		tables []table
		want   int
	}{
		{"big", []table{big, small, small}, 1},
		{"small then big", []table{small, small, big, small}, 2},
		{"one small", []table{small}, 1},
		{"part of a split table", []table{part, small}, 1},
		{"small then part", []table{small, part}, 1},
		{"large objects", []table{small, lo, small}, 1},
		{"at most maxBatch", many, maxBatch},
		{"the rest", many[maxBatch:], 3},
	} {
		assert.Equal(t, tc.want, batchLen(tc.tables), tc.name)
	}
}
