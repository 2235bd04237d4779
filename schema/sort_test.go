package schema

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func rel(oid uint32) Ref  { return Ref{Class: ClassPgClass, OID: oid} }
func proc(oid uint32) Ref { return Ref{Class: ClassPgProc, OID: oid} }

func names(objs []*Object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, string(o.Kind)+" "+o.Name)
	}
	return out
}

func TestSortPriorityOrder(t *testing.T) {
	objs := []*Object{
		{Kind: KindIndex, Name: "t_i", Ref: rel(12), Deps: []Ref{rel(10)}},
		{Kind: KindTableData, Name: "t", Ref: rel(10), Deps: []Ref{rel(10)}},
		{Kind: KindTable, Name: "t", Ref: rel(10), Deps: []Ref{{Class: ClassPgNamespace, OID: 5}}},
		{Kind: KindSchema, Name: "s", Ref: Ref{Class: ClassPgNamespace, OID: 5}},
		{Kind: KindFKConstraint, Name: "t fk", Ref: Ref{Class: ClassPgConstraint, OID: 20}, Deps: []Ref{rel(10), rel(11)}},
		{Kind: KindConstraint, Name: "t pk", Ref: Ref{Class: ClassPgConstraint, OID: 21}, Deps: []Ref{rel(10)}},
		{Kind: KindComment, Name: "TABLE t", Ref: rel(10), Deps: []Ref{rel(10)}},
		{Kind: KindTable, Name: "a", Ref: rel(11)},
	}
	got, err := Sort(objs)
	require.NoError(t, err)
	require.Equal(t, []string{
		"SCHEMA s", "TABLE a", "TABLE t", "COMMENT TABLE t", "TABLE DATA t",
		"CONSTRAINT t pk", "INDEX t_i", "FK CONSTRAINT t fk",
	}, names(got))
	for i, o := range got {
		require.Equal(t, i+1, o.ID)
		for _, d := range o.DepIDs {
			require.Less(t, d, o.ID, "%s follows its dependencies", o)
		}
	}
	require.Equal(t, SectionPreData, got[3].Section(), "a comment takes its table's section")
	require.Equal(t, []int{3}, got[4].DepIDs, "table data depends on its table")
}

func TestSortDependencyOverridesPriority(t *testing.T) {
	// A function (priority before tables) that takes a table's row type.
	objs := []*Object{
		{Kind: KindFunction, Name: "f(t)", Ref: proc(30), Deps: []Ref{rel(10)}},
		{Kind: KindTable, Name: "t", Ref: rel(10)},
		{Kind: KindFunction, Name: "g()", Ref: proc(31)},
	}
	got, err := Sort(objs)
	require.NoError(t, err)
	require.Equal(t, []string{"FUNCTION g()", "TABLE t", "FUNCTION f(t)"}, names(got))
}

// TestSortSplitsCheckConstraint: a CHECK constraint calls a function that
// takes the table's row type: table -> check -> function -> table. As
// pg_dump does, the constraint is split off the table.
func TestSortSplitsCheckConstraint(t *testing.T) {
	check := &Object{Kind: KindCheckConstraint, Name: "t c", Ref: Ref{Class: ClassPgConstraint, OID: 40},
		Deps: []Ref{rel(10), proc(30)}}
	def := &Object{Kind: KindDefault, Name: "t d", Ref: Ref{Class: ClassPgAttrdef, OID: 41}, Deps: []Ref{{Class: ClassPgClass, OID: 10, Sub: 2}}}
	table := &Object{Kind: KindTable, Name: "t", Ref: rel(10), Parts: []*Object{check, def}}
	fn := &Object{Kind: KindFunction, Name: "f(t)", Ref: proc(30), Deps: []Ref{rel(10)}}
	got, err := Sort([]*Object{table, fn})
	require.NoError(t, err)
	require.True(t, check.Separate)
	require.False(t, def.Separate, "a part that makes no loop stays inline")
	require.Equal(t, []string{"TABLE t", "FUNCTION f(t)", "CHECK CONSTRAINT t c"}, names(got))
	require.Equal(t, []int{1, 2}, got[2].DepIDs)
}

func TestSortSplitsDefault(t *testing.T) {
	def := &Object{Kind: KindDefault, Name: "t d", Ref: Ref{Class: ClassPgAttrdef, OID: 41}, Deps: []Ref{proc(30)}}
	table := &Object{Kind: KindTable, Name: "t", Ref: rel(10), Parts: []*Object{def}}
	fn := &Object{Kind: KindFunction, Name: "f(t)", Ref: proc(30), Deps: []Ref{rel(10)}}
	got, err := Sort([]*Object{fn, table})
	require.NoError(t, err)
	require.True(t, def.Separate)
	require.Equal(t, []string{"TABLE t", "FUNCTION f(t)", "DEFAULT t d"}, names(got))
}

func TestSortUnbreakableLoop(t *testing.T) {
	objs := []*Object{
		{Kind: KindView, Name: "a", Ref: rel(1), Deps: []Ref{rel(2)}},
		{Kind: KindView, Name: "b", Ref: rel(2), Deps: []Ref{rel(1)}},
	}
	_, err := Sort(objs)
	require.Error(t, err)
	require.True(t, strings.Contains(err.Error(), "VIEW a") && strings.Contains(err.Error(), "VIEW b"), err.Error())
}

func TestSortMatViewRefreshOrder(t *testing.T) {
	// mv "a" reads mv "b": b's refresh must come before a's, whatever the names say.
	objs := []*Object{
		{Kind: KindMatView, Name: "a", Ref: rel(1), Deps: []Ref{rel(2)}},
		{Kind: KindMatView, Name: "b", Ref: rel(2)},
		{Kind: KindMatViewData, Name: "a", Ref: rel(1), Deps: []Ref{rel(1)}},
		{Kind: KindMatViewData, Name: "b", Ref: rel(2), Deps: []Ref{rel(2)}},
	}
	got, err := Sort(objs)
	require.NoError(t, err)
	require.Equal(t, []string{"MATERIALIZED VIEW b", "MATERIALIZED VIEW a", "MATERIALIZED VIEW DATA b", "MATERIALIZED VIEW DATA a"}, names(got))
}

func TestSortDeterministic(t *testing.T) {
	mk := func() []*Object {
		return []*Object{
			{Kind: KindTable, Schema: "s", Name: "b", Ref: rel(2)},
			{Kind: KindTable, Schema: "s", Name: "a", Ref: rel(1)},
			{Kind: KindTable, Schema: "r", Name: "z", Ref: rel(3)},
		}
	}
	a, err := Sort(mk())
	require.NoError(t, err)
	objs := mk()
	objs[0], objs[2] = objs[2], objs[0]
	b, err := Sort(objs)
	require.NoError(t, err)
	require.Equal(t, names(a), names(b))
	require.Equal(t, []string{"TABLE z", "TABLE a", "TABLE b"}, names(a))
}

func TestQuote(t *testing.T) {
	require.Equal(t, `"a ""b"""`, Ident(`a "b"`))
	require.Equal(t, `"S"."select"`, Qualified("S", "select"))
	require.Equal(t, `'it''s \n'`, Literal(`it's \n`))
}
