package restore

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/format"
	"github.com/pgark/pgark/internal/copybin"
	"github.com/pgark/pgark/internal/testcluster"
)

// TestBinaryTables: the tables whose rows go as COPY binary are those
// whose COPY names exactly their columns on the target, all of types
// copybin converts; and a block converted goes in unchanged.
func TestBinaryTables(t *testing.T) {
	c := testcluster.Start(t)
	c.CreateDB(t, "bin")
	c.Exec(t, "bin", `CREATE SCHEMA "S p";
		CREATE DOMAIN "S p".d AS integer;
		CREATE TABLE "S p"."T ""q""" (id bigint, "a b" text, g int GENERATED ALWAYS AS (id + 1) STORED, gone int);
		ALTER TABLE "S p"."T ""q""" DROP COLUMN gone;
		CREATE TABLE "S p".arr (id int, tags text[]);
		CREATE TABLE "S p".dom (id int, v "S p".d);
		CREATE TABLE "S p".sub (id int, v text);`)
	pc, err := c.Connect(t.Context(), "bin")
	require.NoError(t, err)
	s, err := newConnSession(t.Context(), pc.PgConn(), format.Info{Encoding: "UTF8"}, "")
	require.NoError(t, err)
	defer s.close(t.Context())

	data := []*format.Entry{
		{ID: 1, Kind: kindTableData, Schema: "S p", Name: `T "q"`, Copy: `COPY "S p"."T ""q""" ("id", "a b") FROM stdin;`},
		{ID: 2, Kind: kindTableData, Schema: "S p", Name: "arr", Copy: `COPY "S p"."arr" ("id", "tags") FROM stdin;`},
		{ID: 3, Kind: kindTableData, Schema: "S p", Name: "dom", Copy: `COPY "S p"."dom" ("id", "v") FROM stdin;`},
		// A column list other than the table's columns, in their order.
		{ID: 4, Kind: kindTableData, Schema: "S p", Name: "sub", Copy: `COPY "S p"."sub" ("v", "id") FROM stdin;`},
		{ID: 5, Kind: kindTableData, Schema: "S p", Name: "missing", Copy: `COPY "S p"."missing" ("id") FROM stdin;`},
		{ID: 6, Kind: "SEQUENCE SET", Schema: "S p", Name: "sub", Create: "SELECT 1;"},
	}
	got, err := binaryTables(t.Context(), s, data)
	require.NoError(t, err)
	require.Len(t, got, 1, "%v", got)
	require.Contains(t, got, uint32(1))
	bt := got[1]
	assert.Equal(t, []uint32{20, 25}, bt.types)
	assert.Equal(t, `COPY "S p"."T ""q""" ("id", "a b") FROM stdin WITH (FORMAT binary);`, bt.copySQL)

	conv := newCodecs()
	text := []byte("1\ttab\\there\n2\t\\N\n")
	rows, ok := conv.rows(copybin.Header(nil), 1, bt, text)
	require.True(t, ok)
	require.NoError(t, s.copyFrom(t.Context(), bt.copySQL, bytes.NewReader(copybin.Trailer(rows))))
	assert.Equal(t, "1|tab\there|2;2|<null>|3", c.QueryValue(t, "bin",
		`SELECT string_agg(id || '|' || coalesce("a b", '<null>') || '|' || g, ';' ORDER BY id) FROM "S p"."T ""q"""`))

	_, ok = conv.rows(nil, 1, bt, []byte("x\ty\n"))
	assert.False(t, ok, "a value not in canonical form goes as text")
	_, ok = conv.rows(nil, 4, got[4], text)
	assert.False(t, ok, "a table not found binary goes as text")
}

// TestCodecsText: binary tuples go as they are only into columns of the
// entry's types; otherwise they turn into the text rows a text COPY of the
// same values would have; tuples that do not decode are an error.
func TestCodecsText(t *testing.T) {
	e := &format.Entry{ID: 7, Kind: kindTableData, Copy: `COPY "t" ("id", "v") FROM stdin;`, Types: []uint32{20, 25}}
	assert.True(t, (&binaryTable{types: []uint32{20, 25}}).takes(e))
	assert.False(t, (&binaryTable{types: []uint32{23, 25}}).takes(e), "another type")
	assert.False(t, (*binaryTable)(nil).takes(e), "no binary table: a script, --text-copy")

	var bin []byte
	for _, row := range [][2][]byte{{{0, 0, 0, 0, 0, 0, 0, 1}, []byte("tab\there")}, {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}, nil}} {
		bin = append(bin, 0, 2, 0, 0, 0, 8)
		bin = append(bin, row[0]...)
		if row[1] == nil {
			bin = append(bin, 0xff, 0xff, 0xff, 0xff)
			continue
		}
		bin = append(bin, 0, 0, 0, byte(len(row[1])))
		bin = append(bin, row[1]...)
	}
	c := newCodecs()
	text, err := c.text([]byte("x"), e, bin)
	require.NoError(t, err)
	assert.Equal(t, "x1\ttab\\there\n-2\t\\N\n", string(text))
	_, err = c.text(nil, e, bin[:len(bin)-1])
	require.ErrorContains(t, err, "turn binary rows into text")
	_, err = c.text(nil, &format.Entry{ID: 8, Types: []uint32{1186}}, bin)
	require.ErrorContains(t, err, "not supported")

	// form: the form changes exactly when the result is in scratch.
	same := &binaryTable{types: []uint32{20, 25}}
	other := &binaryTable{types: []uint32{23, 25}}
	out, got, err := c.form([]byte("s"), e, true, same, bin)
	require.NoError(t, err)
	assert.Equal(t, same, got)
	assert.Equal(t, bin, out, "binary rows go as they are")
	for _, t2 := range []*binaryTable{other, nil} {
		out, got, err = c.form([]byte("s"), e, true, t2, bin)
		require.NoError(t, err)
		assert.Nil(t, got)
		assert.Equal(t, "s1\ttab\\there\n-2\t\\N\n", string(out), "binary rows turn into text")
	}
	_, got, err = c.form(nil, e, true, same, bin[:len(bin)-1])
	require.NoError(t, err, "binary rows going as they are are not decoded here")
	assert.Equal(t, same, got)
	_, _, err = c.form(nil, e, true, other, bin[:len(bin)-1])
	require.ErrorContains(t, err, "turn binary rows into text")
	text = []byte("1\tx\n")
	out, got, err = c.form(nil, e, false, nil, text)
	require.NoError(t, err)
	assert.Nil(t, got)
	assert.Equal(t, text, out, "text goes as it is without a binary table")
	out, got, err = c.form(nil, e, false, same, text)
	require.NoError(t, err)
	assert.Equal(t, same, got)
	assert.NotEqual(t, text, out, "text turns into binary rows")
}
