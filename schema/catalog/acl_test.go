package catalog

import (
	"testing"

	"github.com/pgark/pgark/schema"
)

func TestCommentTarget(t *testing.T) {
	tbl := &schema.Object{Ref: schema.Ref{Class: schema.ClassPgClass, OID: 10}, Kind: schema.KindTable, Owner: "o"}
	chk := &schema.Object{Ref: schema.Ref{Class: schema.ClassPgConstraint, OID: 11}, Kind: schema.KindCheckConstraint}
	tbl.Parts = []*schema.Object{chk}
	data := &schema.Object{Ref: tbl.Ref, Kind: schema.KindTableData}
	idx := indexObjects([]*schema.Object{data, tbl})
	if got := idx[tbl.Ref]; got.obj != tbl {
		t.Fatalf("table indexed as %v", got.obj)
	}
	if got := idx[chk.Ref]; got.obj != chk || got.owner != "o" {
		t.Fatalf("part indexed as %v owner %q", got.obj, got.owner)
	}
	none := schema.Ref{}
	for _, tt := range []struct {
		ref, alt         schema.Ref
		kind, name, memb string
		want             *schema.Object
		what, tag        string
	}{
		{schema.Ref{Class: schema.ClassPgClass, OID: 10}, none, "r", "t", "", tbl, `TABLE "s"."t"`, "TABLE t"},
		{schema.Ref{Class: schema.ClassPgClass, OID: 10, Sub: 2}, none, "r", "t", "c c", tbl, `COLUMN "s"."t"."c c"`, "COLUMN t.c c"},
		{schema.Ref{Class: schema.ClassPgClass, OID: 10, Sub: 3}, none, "r", "t", "", nil, "", ""}, // dropped column
		{schema.Ref{Class: schema.ClassPgConstraint, OID: 11}, schema.Ref{Class: schema.ClassPgClass, OID: 10}, "c", "t", "k", chk,
			`CONSTRAINT "k" ON "s"."t"`, "CONSTRAINT k ON t"},
		// A constraint that is no object of its own goes with its table.
		{schema.Ref{Class: schema.ClassPgConstraint, OID: 12}, schema.Ref{Class: schema.ClassPgClass, OID: 10}, "n", "t", "t_a_not_null", tbl,
			`CONSTRAINT "t_a_not_null" ON "s"."t"`, "CONSTRAINT t_a_not_null ON t"},
		{schema.Ref{Class: schema.ClassPgTrigger, OID: 13}, schema.Ref{Class: schema.ClassPgClass, OID: 10}, "", "t", "tg", nil, "", ""},
		{schema.Ref{Class: schema.ClassPgClass, OID: 99}, none, "r", "other", "", nil, "", ""},
	} {
		got, what, tag := commentTarget(idx, tt.ref, tt.alt, tt.kind, "s", tt.name, tt.memb)
		if got.obj != tt.want || what != tt.what || tag != tt.tag {
			t.Errorf("commentTarget(%v) = %v, %q, %q; want %v, %q, %q", tt.ref, got.obj, what, tag, tt.want, tt.what, tt.tag)
		}
	}
	pub := schema.Ref{Class: schema.ClassPgNamespace, OID: 2200}
	got, what, _ := commentTarget(idx, pub, none, "", "", "public", "pg_database_owner")
	if got.obj == nil || got.owner != "pg_database_owner" || what != `SCHEMA "public"` {
		t.Errorf("public schema: %+v %q", got, what)
	}
	if got, _, _ := commentTarget(idx, schema.Ref{Class: schema.ClassPgNamespace, OID: 5}, none, "", "", "other", "o"); got.obj != nil {
		t.Errorf("schema not loaded: %+v", got)
	}
}

func TestGrantTarget(t *testing.T) {
	for _, tt := range []struct {
		r         aclRow
		typ, name string
		column    string
		tag       string
	}{
		{aclRow{ref: schema.Ref{Class: schema.ClassPgClass}, kind: "v", nsp: "s", name: "v"}, "TABLE", `"s"."v"`, "", "TABLE v"},
		{aclRow{ref: schema.Ref{Class: schema.ClassPgClass}, kind: "S", nsp: "s", name: "q"}, "SEQUENCE", `"s"."q"`, "", "SEQUENCE q"},
		{aclRow{ref: schema.Ref{Class: schema.ClassPgClass, Sub: 1}, kind: "r", nsp: "s", name: "t", member: "c"}, "TABLE", `"s"."t"`, "c", "TABLE t"},
		{aclRow{ref: schema.Ref{Class: schema.ClassPgNamespace}, name: "s"}, "SCHEMA", `"s"`, "", "SCHEMA s"},
		{aclRow{ref: schema.Ref{Class: schema.ClassPgProc}, kind: "p", nsp: "s", name: "p", member: "a integer"}, "PROCEDURE", `"s"."p"(a integer)`, "", "PROCEDURE p(a integer)"},
		{aclRow{ref: schema.Ref{Class: schema.ClassPgType}, kind: "d", nsp: "s", name: "d"}, "DOMAIN", `"s"."d"`, "", "DOMAIN d"},
	} {
		g, tag := grantTarget(tt.r)
		if g.Type != tt.typ || g.Name != tt.name || g.Column != tt.column || tag != tt.tag {
			t.Errorf("grantTarget(%+v) = %+v, %q", tt.r, g, tag)
		}
	}
}
