package restore

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pgark/pgark/format"
	"github.com/pgark/pgark/internal/copybin"
	"github.com/pgark/pgark/schema"
)

// binaryTable is a table whose rows a restore into a database sends as
// COPY binary: every column the archive's COPY names has a built-in type
// that copybin converts, on the target. Parsing binary values costs the
// server much less than parsing text (uuids, timestamps, numerics, inet).
type binaryTable struct {
	types   []uint32 // the columns' type OIDs, in COPY order
	copySQL string   // the entry's COPY with (FORMAT binary)
}

// binaryTables finds, among the data entries, the tables whose rows go as
// COPY binary, by entry id: those whose COPY statement is exactly the one
// their table's columns on the target make (so the columns and their order
// are known) and whose column types copybin supports. One query on s,
// after the pre-data.
func binaryTables(ctx context.Context, s *session, data []*format.Entry) (map[uint32]*binaryTable, error) {
	var entries []*format.Entry
	var schemas, names []string
	for _, e := range data {
		if e.Kind == kindTableData && e.Copy != "" {
			entries = append(entries, e)
			schemas = append(schemas, schema.Literal(e.Schema))
			names = append(names, schema.Literal(e.Name))
		}
	}
	if len(entries) == 0 {
		return nil, nil
	}
	rows, err := s.query(ctx, `SELECT x.i, a.attname, a.atttypid
		FROM ROWS FROM (pg_catalog.unnest(ARRAY[`+strings.Join(schemas, ", ")+`]::pg_catalog.text[]),
			pg_catalog.unnest(ARRAY[`+strings.Join(names, ", ")+`]::pg_catalog.text[])) WITH ORDINALITY AS x(s, t, i)
		JOIN pg_catalog.pg_namespace n ON n.nspname = x.s
		JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = x.t
		JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid
		WHERE a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
		ORDER BY x.i, a.attnum`)
	if err != nil {
		return nil, fmt.Errorf("read the column types of the tables to load: %w", err)
	}
	cols := make([][]string, len(entries))
	types := make([][]uint32, len(entries))
	for _, row := range rows {
		i, err := strconv.Atoi(row[0])
		if err != nil || i < 1 || i > len(entries) {
			return nil, fmt.Errorf("read the column types of the tables to load: bad row %q", row)
		}
		oid, err := strconv.ParseUint(row[2], 10, 32)
		if err != nil {
			return nil, fmt.Errorf("read the column types of the tables to load: bad type OID %q", row[2])
		}
		cols[i-1] = append(cols[i-1], schema.Ident(row[1]))
		types[i-1] = append(types[i-1], uint32(oid))
	}
	out := map[uint32]*binaryTable{}
	for i, e := range entries {
		if len(cols[i]) == 0 || !allSupported(types[i]) {
			continue
		}
		text := "COPY " + schema.Qualified(e.Schema, e.Name) + " (" + strings.Join(cols[i], ", ") + ") FROM stdin;"
		if e.Copy != text {
			continue
		}
		out[e.ID] = &binaryTable{types: types[i], copySQL: strings.TrimSuffix(text, ";") + " WITH (FORMAT binary);"}
	}
	return out, nil
}

func allSupported(types []uint32) bool {
	for _, t := range types {
		if !copybin.Supported(t) {
			return false
		}
	}
	return true
}

// takes says whether the binary tuples of entry e go into t as they are:
// t's columns have the entry's types.
func (t *binaryTable) takes(e *format.Entry) bool {
	return t != nil && slices.Equal(t.types, e.Types)
}

// codecs are one goroutine's copybin converters and decoders, by entry
// id: neither is safe for concurrent use.
type codecs struct {
	conv map[uint32]*copybin.Converter
	dec  map[uint32]*copybin.Decoder
}

func newCodecs() codecs {
	return codecs{conv: map[uint32]*copybin.Converter{}, dec: map[uint32]*copybin.Decoder{}}
}

// form returns data, a block of whole rows of entry e (COPY binary rows
// when binary is set, else text), in the form it is sent in, with t when
// that is COPY binary rows of t (nil: text). Binary rows go as they are
// where t takes them, else they turn into text; text rows turn into COPY
// binary rows of t where t is set and copybin converts them exactly, else
// they go as they are. A conversion appends to scratch: the result is in
// scratch when the form changed (binary != (bin != nil)), else it is
// data. err says binary rows do not turn into text.
func (c codecs) form(scratch []byte, e *format.Entry, binary bool, t *binaryTable, data []byte) (out []byte, bin *binaryTable, err error) {
	switch {
	case binary && t.takes(e):
		return data, t, nil
	case binary:
		out, err = c.text(scratch, e, data)
		return out, nil, err
	}
	if out, ok := c.rows(scratch, e.ID, t, data); ok {
		return out, t, nil
	}
	return data, nil, nil
}

// rows appends to dst the COPY binary rows of text, a block of whole rows
// of entry id, whose table is t, and says whether it could: t is nil (the
// table goes as text), or a value is not in a form copybin converts
// exactly (the block then goes as text).
func (c codecs) rows(dst []byte, id uint32, t *binaryTable, text []byte) ([]byte, bool) {
	if t == nil {
		return dst, false
	}
	conv := c.conv[id]
	if conv == nil {
		var err error
		if conv, err = copybin.New(t.types); err != nil {
			return dst, false // binaryTables checked the types
		}
		c.conv[id] = conv
	}
	out, err := conv.AppendRows(dst, text)
	if err != nil {
		return out, false
	}
	return out, true
}

// text appends to dst the COPY text rows of bin, a binary block of entry
// e: for a script, --text-copy, or a table whose columns have other types
// than the archive's.
func (c codecs) text(dst []byte, e *format.Entry, bin []byte) ([]byte, error) {
	dec := c.dec[e.ID]
	if dec == nil {
		var err error
		if dec, err = copybin.NewDecoder(e.Types); err != nil {
			return dst, fmt.Errorf("turn binary rows into text: %w", err)
		}
		c.dec[e.ID] = dec
	}
	out, err := dec.AppendRows(dst, bin)
	if err != nil {
		return out, fmt.Errorf("turn binary rows into text: %w", err)
	}
	return out, nil
}
