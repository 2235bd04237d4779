package catalog

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/schema"
)

func TestStartsGroup(t *testing.T) {
	a := loRow{oid: 1, owner: "alice"}
	full := make([]loRow, largeObjectGroup)
	for i := range full {
		full[i] = a
	}
	for _, tc := range []struct {
		name  string
		group []loRow
		r     loRow
		want  bool
	}{
		{"first", nil, a, false},
		{"same owner and ACL", []loRow{a}, loRow{oid: 2, owner: "alice"}, false},
		{"other owner", []loRow{a}, loRow{oid: 2, owner: "bob"}, true},
		{"other ACL", []loRow{a}, loRow{oid: 2, owner: "alice", acl: []string{"alice=rw/alice"}}, true},
		{"empty ACL is not the default", []loRow{a}, loRow{oid: 2, owner: "alice", acl: []string{}}, true},
		{"full", full, loRow{oid: 2, owner: "alice"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, startsGroup(tc.group, tc.r))
		})
	}
}

func TestLargeObjectGroup(t *testing.T) {
	c := "it's"
	def := []string{"alice=rw/alice"}
	acl := []string{"alice=rw/alice", `"Bob Smith"=r/alice`}
	var objs []*schema.Object
	add := func(o *schema.Object) { objs = append(objs, o) }
	require.NoError(t, addLargeObjectGroup([]loRow{
		{oid: 16385, owner: "alice", acl: acl, def: def},
		{oid: 16390, owner: "alice", acl: acl, def: def, comment: &c},
	}, add))
	require.Len(t, objs, 4)
	meta, comment, grant, blobs := objs[0], objs[1], objs[2], objs[3]
	ref := schema.Ref{Class: schema.ClassPgLargeObject, OID: 16385}

	assert.Equal(t, schema.KindBlobMetadata, meta.Kind)
	assert.Equal(t, ref, meta.Ref)
	assert.Equal(t, "16385..16390", meta.Name)
	assert.Equal(t, "alice", meta.Owner)
	assert.Equal(t, "SELECT pg_catalog.lo_create('16385');\nSELECT pg_catalog.lo_create('16390');", meta.Create)
	assert.Equal(t, "SELECT pg_catalog.lo_unlink('16385');\nSELECT pg_catalog.lo_unlink('16390');", meta.Drop)
	assert.Equal(t, "LARGE OBJECT 16385\nLARGE OBJECT 16390", meta.Ident)
	assert.Equal(t, []uint32{16385, 16390}, meta.LargeObjects)

	assert.Equal(t, schema.KindComment, comment.Kind)
	assert.Equal(t, "LARGE OBJECTS 16385..16390", comment.Name)
	assert.Equal(t, `COMMENT ON LARGE OBJECT 16390 IS 'it''s';`, comment.Create)
	assert.Equal(t, []schema.Ref{ref}, comment.Deps)

	assert.Equal(t, schema.KindACL, grant.Kind)
	assert.Equal(t, "GRANT SELECT ON LARGE OBJECT 16385 TO \"Bob Smith\";\nGRANT SELECT ON LARGE OBJECT 16390 TO \"Bob Smith\";", grant.Create)

	assert.Equal(t, schema.KindBlobs, blobs.Kind)
	assert.Equal(t, ref, blobs.Ref, "the data shares the group's identity; Sort knows BLOBS as derived")
	assert.Equal(t, []schema.Ref{ref}, blobs.Deps)
	assert.Equal(t, []uint32{16385, 16390}, blobs.LargeObjects)

	// One large object of default privileges: no comment, no ACL.
	objs = nil
	require.NoError(t, addLargeObjectGroup([]loRow{{oid: 7, owner: "bob", def: def}}, add))
	require.Len(t, objs, 2)
	assert.Equal(t, "7", objs[0].Name)
	assert.Equal(t, schema.KindBlobs, objs[1].Kind)
}

// Sorted with a table: the metadata after the table (pre-data), its comment
// and ACL after it in its section, the contents after the table data.
func TestLargeObjectsSort(t *testing.T) {
	tab := schema.Ref{Class: schema.ClassPgClass, OID: 100}
	objs := []*schema.Object{
		{Ref: tab, Kind: schema.KindTableData, Schema: "public", Name: "t", Data: &schema.TableData{}, Deps: []schema.Ref{tab}},
	}
	add := func(o *schema.Object) { objs = append(objs, o) }
	c := "c"
	require.NoError(t, addLargeObjectGroup([]loRow{{oid: 5, owner: "a", comment: &c, acl: []string{"a=rw/a", "=r/a"}, def: []string{"a=rw/a"}}}, add))
	objs = append(objs, &schema.Object{Ref: tab, Kind: schema.KindTable, Schema: "public", Name: "t"})
	sorted, err := schema.Sort(objs)
	require.NoError(t, err)
	var got []string
	for _, o := range sorted {
		got = append(got, string(o.Kind)+" "+o.Section().String())
	}
	assert.Equal(t, []string{
		"TABLE pre-data", "BLOB METADATA pre-data", "COMMENT pre-data", "ACL pre-data",
		"TABLE DATA data", "BLOBS data",
	}, got, strings.Join(got, "\n"))
	assert.Equal(t, []int{2}, sorted[5].DepIDs)
}
