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

func typ(oid uint32) Ref { return Ref{Class: ClassPgType, OID: oid} }

// TestSortShellType: a base type and its I/O functions need each other.
// As pg_dump does, the functions follow the type's shell and the type
// follows the functions; a function the type needs that does not take or
// return it (typmod_in) stays where it is, and the shell of a type in no
// loop is left out.
func TestSortShellType(t *testing.T) {
	nsp := Ref{Class: ClassPgNamespace, OID: 5}
	shell := &Object{Kind: KindShellType, Name: "myint", Ref: typ(50),
		Deps: []Ref{nsp, proc(60), proc(61)}} // the catalog gives it the type's deps; only the schema counts
	objs := []*Object{
		{Kind: KindTable, Name: "uses", Ref: rel(10), Deps: []Ref{typ(50)}},
		{Kind: KindType, Name: "myint", Ref: typ(50), Deps: []Ref{nsp, proc(60), proc(61), proc(62)}},
		shell,
		{Kind: KindFunction, Name: "myint_in(cstring)", Ref: proc(60), Deps: []Ref{nsp, typ(50)}},
		{Kind: KindFunction, Name: "myint_out(myint)", Ref: proc(61), Deps: []Ref{nsp, typ(50)}},
		{Kind: KindFunction, Name: "myint_mod(cstring[])", Ref: proc(62), Deps: []Ref{nsp}},
		{Kind: KindFunction, Name: "twice(myint)", Ref: proc(63), Deps: []Ref{typ(50)}},
		{Kind: KindSchema, Name: "s", Ref: nsp},
		{Kind: KindComment, Name: "TYPE myint", Ref: typ(50), Deps: []Ref{typ(50)}},
		// A range type with a shell but no canonical function: no loop, no shell.
		{Kind: KindType, Name: "r", Ref: typ(70), Deps: []Ref{nsp}},
		{Kind: KindShellType, Name: "r", Ref: typ(70), Deps: []Ref{nsp}},
	}
	got, err := Sort(objs)
	require.NoError(t, err)
	require.Equal(t, []string{
		"SCHEMA s", "SHELL TYPE myint", "TYPE r",
		"FUNCTION myint_in(cstring)", "FUNCTION myint_mod(cstring[])", "FUNCTION myint_out(myint)",
		"TYPE myint", "COMMENT TYPE myint", "FUNCTION twice(myint)", "TABLE uses",
	}, names(got))
	require.Equal(t, []int{1}, got[1].DepIDs, "a shell needs only its schema")
	require.Equal(t, []int{1, 2}, got[3].DepIDs, "the input function follows the shell")
	require.Equal(t, []int{1, 4, 5, 6}, got[6].DepIDs, "the type follows its functions")
	require.Equal(t, []int{7}, got[8].DepIDs, "a function in no loop follows the type itself")
}

// TestSortRangeCanonical: a range type and its canonical function.
func TestSortRangeCanonical(t *testing.T) {
	objs := []*Object{
		{Kind: KindType, Name: "r", Ref: typ(70), Deps: []Ref{proc(71)}},
		{Kind: KindShellType, Name: "r", Ref: typ(70)},
		{Kind: KindFunction, Name: "r_canon(r)", Ref: proc(71), Deps: []Ref{typ(70)}},
	}
	got, err := Sort(objs)
	require.NoError(t, err)
	require.Equal(t, []string{"SHELL TYPE r", "FUNCTION r_canon(r)", "TYPE r"}, names(got))
}

func TestSortShellNeedsFunction(t *testing.T) {
	// A type and a function in a loop without a shell cannot be sorted.
	objs := []*Object{
		{Kind: KindType, Name: "b", Ref: typ(50), Deps: []Ref{proc(60)}},
		{Kind: KindFunction, Name: "b_in(cstring)", Ref: proc(60), Deps: []Ref{typ(50)}},
	}
	_, err := Sort(objs)
	require.ErrorContains(t, err, "loop")
}

// TestSortSplitsViewDefinition: view v reads f(), which returns v's rows.
// As pg_dump does, v is created with a dummy definition and its real one
// (the RULE part) replaces it in post-data.
func TestSortSplitsViewDefinition(t *testing.T) {
	rule := &Object{Kind: KindRule, Name: "v _RETURN", Ref: Ref{Class: ClassPgRewrite, OID: 2},
		Deps: []Ref{{Class: ClassPgClass, OID: 10, Sub: 1}, proc(30), {Class: ClassPgClass, OID: 1, Sub: 1}}}
	view := &Object{Kind: KindView, Name: "v", Ref: rel(1), Parts: []*Object{rule}}
	other := &Object{Kind: KindRule, Name: "w _RETURN", Ref: Ref{Class: ClassPgRewrite, OID: 4}, Deps: []Ref{rel(10)}}
	objs := []*Object{
		{Kind: KindFunction, Name: "f()", Ref: proc(30), Deps: []Ref{rel(1)}},
		view,
		{Kind: KindTable, Name: "t", Ref: rel(10)},
		{Kind: KindView, Name: "w", Ref: rel(3), Parts: []*Object{other}},
		{Kind: KindTrigger, Name: "v trg", Ref: Ref{Class: ClassPgTrigger, OID: 5}, Deps: []Ref{rel(1)}},
	}
	got, err := Sort(objs)
	require.NoError(t, err)
	require.True(t, rule.Separate)
	require.False(t, other.Separate, "a view in no loop keeps its definition")
	require.Equal(t, []string{"TABLE t", "VIEW v", "FUNCTION f()", "VIEW w", "RULE v _RETURN", "TRIGGER v trg"}, names(got))
	require.Equal(t, SectionPostData, got[4].Section())
	require.Equal(t, []int{1, 2, 3}, got[4].DepIDs)
}

// TestSortSplitsTwoViews: two views that read each other through functions.
func TestSortSplitsTwoViews(t *testing.T) {
	ra := &Object{Kind: KindRule, Name: "a _RETURN", Ref: Ref{Class: ClassPgRewrite, OID: 11}, Deps: []Ref{proc(31)}}
	rb := &Object{Kind: KindRule, Name: "b _RETURN", Ref: Ref{Class: ClassPgRewrite, OID: 12}, Deps: []Ref{proc(30)}}
	objs := []*Object{
		{Kind: KindView, Name: "a", Ref: rel(1), Parts: []*Object{ra}},
		{Kind: KindView, Name: "b", Ref: rel(2), Parts: []*Object{rb}},
		{Kind: KindFunction, Name: "fa()", Ref: proc(30), Deps: []Ref{rel(1)}},
		{Kind: KindFunction, Name: "fb()", Ref: proc(31), Deps: []Ref{rel(2)}},
	}
	got, err := Sort(objs)
	require.NoError(t, err)
	require.True(t, ra.Separate != rb.Separate, "one split breaks the loop")
	for _, o := range got {
		for _, d := range o.DepIDs {
			require.Less(t, d, o.ID)
		}
	}
}

// TestSortSplitsAcrossSections: a view that groups by a table's primary
// key needs the constraint, which is post-data: its definition is split
// off, as pg_dump does.
func TestSortSplitsAcrossSections(t *testing.T) {
	pk := Ref{Class: ClassPgConstraint, OID: 20}
	rule := &Object{Kind: KindRule, Name: "v _RETURN", Ref: Ref{Class: ClassPgRewrite, OID: 2}, Deps: []Ref{rel(10), pk}}
	objs := []*Object{
		{Kind: KindView, Name: "v", Ref: rel(1), Parts: []*Object{rule}},
		{Kind: KindTable, Name: "t", Ref: rel(10)},
		{Kind: KindConstraint, Name: "t t_pkey", Ref: pk, Deps: []Ref{rel(10)}},
	}
	got, err := Sort(objs)
	require.NoError(t, err)
	require.True(t, rule.Separate)
	require.Equal(t, []string{"TABLE t", "VIEW v", "CONSTRAINT t t_pkey", "RULE v _RETURN"}, names(got))
}
