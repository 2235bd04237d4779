package dump

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pgark/pgark/format"
	"github.com/pgark/pgark/internal/copybin"
	"github.com/pgark/pgark/schema"
)

// table is one table whose rows the dump copies, or one part of it.
type table struct {
	entry    uint32
	relation string // quoted, qualified
	copyTo   string // COPY ... TO STDOUT
	pages    int64
	lo       bool // the contents of large objects: there is no table to lock
	// types are the column types when the rows go as COPY binary (see
	// binaryTypes), else nil.
	types []uint32

	// For splitting (see split): the columns and row filter, and which
	// part of the table this is ("" for a whole table).
	columns []string
	where   string
	part    string
}

// plan is what a dump writes: the entries in order, and the tables to copy,
// biggest first.
type plan struct {
	entries []format.Entry
	tables  []table
}

// wanted says whether o belongs in a dump with these options, as pg_dump
// decides: -s drops the data section and materialized view refreshes, -a
// keeps only the data section, --section keeps the sections named (a
// comment or ACL is in its target's section), -x and --no-comments drop
// ACLs and comments; --statistics-only keeps only STATISTICS DATA, which
// -s and -a keep. One difference, on purpose: -a keeps the refreshes
// of populated materialized views. pg_dump drops them from both -s and -a,
// so restoring a schema-only dump and then a data-only one leaves
// materialized views empty; with pgark the data brings them back.
func (o *Options) wanted(obj *schema.Object) bool {
	switch {
	case o.NoPrivileges && obj.Kind == schema.KindACL,
		o.NoComments && obj.Kind == schema.KindComment:
		return false
	}
	sec := obj.Section()
	stats := obj.Kind == schema.KindStatisticsData
	switch {
	case o.StatisticsOnly && !stats:
		return false
	case stats: // neither -s nor -a leaves them out
	case o.SchemaOnly && (sec == schema.SectionData || obj.Kind == schema.KindMatViewData):
		return false
	case o.DataOnly && sec != schema.SectionData && obj.Kind != schema.KindMatViewData:
		return false
	}
	if len(o.Sections) > 0 && !slices.Contains(o.Sections, sec) {
		return false
	}
	return true
}

// makePlan turns sorted objects into archive entries, leaving out what the
// options exclude.
func makePlan(objs []*schema.Object, o *Options) (*plan, error) {
	p := &plan{}
	present := make(map[int]bool, len(objs))
	for _, obj := range objs {
		if obj.ID <= 0 || uint64(obj.ID) > uint64(^uint32(0)) {
			return nil, fmt.Errorf("dump: %s has no valid dump id (%d); objects must come from schema.Sort", obj, obj.ID)
		}
		if present[obj.ID] {
			return nil, fmt.Errorf("dump: %s has dump id %d, which another object already has", obj, obj.ID)
		}
		present[obj.ID] = true
	}
	kept := make(map[int]bool, len(objs))
	for _, obj := range objs {
		if !o.wanted(obj) {
			continue
		}
		kept[obj.ID] = true
		e := format.Entry{
			ID:         uint32(obj.ID),
			Section:    formatSection(obj.Section()),
			Kind:       string(obj.Kind),
			Schema:     obj.Schema,
			Name:       obj.Name,
			Owner:      obj.Owner,
			Tablespace: obj.Tablespace,
			Ident:      obj.Ident,
			Create:     obj.CreateSQL(),
			Drop:       obj.Drop,
			Build:      obj.Build,
			Attach:     obj.Attach,
		}
		if o.NoOwner {
			e.Owner = ""
		}
		if o.NoTablespaces {
			e.Tablespace = ""
		}
		for _, d := range obj.DepIDs {
			if kept[d] && d != obj.ID && !slices.Contains(e.Deps, uint32(d)) {
				e.Deps = append(e.Deps, uint32(d))
			}
		}
		if obj.Kind == schema.KindTableData {
			t, err := tableOf(obj)
			if err != nil {
				return nil, err
			}
			e.Copy = copyStatement(t.relation, obj.Data.Columns, "FROM stdin;")
			if !o.TextCopy {
				t.types = binaryTypes(obj.Data)
				e.Types = t.types
			}
			p.tables = append(p.tables, t)
		}
		if obj.Kind == schema.KindBlobs {
			t, err := largeObjectsOf(obj)
			if err != nil {
				return nil, err
			}
			e.Copy = blobsCopyFrom
			p.tables = append(p.tables, t)
		}
		p.entries = append(p.entries, e)
	}
	slices.SortStableFunc(p.tables, func(a, b table) int { return cmp.Compare(b.pages, a.pages) })
	return p, nil
}

// tableOf describes how to copy a TABLE DATA object's rows: all of them,
// or with a row filter (--where) those of a query with the same columns,
// in the same snapshot. The entry's COPY ... FROM stays the table's.
func tableOf(obj *schema.Object) (table, error) {
	if obj.Data == nil {
		return table{}, fmt.Errorf("dump: %s (id %d) has no table data description", obj, obj.ID)
	}
	rel := obj.Data.Relation
	if rel == "" {
		rel = schema.Qualified(obj.Schema, obj.Name)
	}
	copyTo := copyStatement(rel, obj.Data.Columns, "TO STDOUT")
	if obj.Data.Where != "" {
		copyTo = "COPY (SELECT " + strings.Join(obj.Data.Columns, ", ") + " FROM ONLY " + rel +
			" WHERE " + obj.Data.Where + ") TO STDOUT"
	}
	return table{
		entry:    uint32(obj.ID),
		relation: rel,
		copyTo:   copyTo,
		pages:    obj.Data.Pages,
		columns:  obj.Data.Columns,
		where:    obj.Data.Where,
	}, nil
}

// binaryTypes returns the column types of d when its rows can go as COPY
// binary: it has columns, one type for each, and copybin converts every
// type (built-in types, whose binary forms PostgreSQL 13 to 18 share, so
// that a restore can send them as they are or turn them into text).
// Otherwise it returns nil and the rows go as text.
func binaryTypes(d *schema.TableData) []uint32 {
	if len(d.Columns) == 0 || len(d.Types) != len(d.Columns) {
		return nil
	}
	for _, t := range d.Types {
		if !copybin.Supported(t) {
			return nil
		}
	}
	return d.Types
}

// minSplitPages is the smallest part split makes: 32 MiB of heap in 8 kB
// pages. Below it, the cost of a part (a scan start, a COPY) is not worth
// the parallelism.
const minSplitPages = 4096

// split cuts the tables of at least two parts' worth of pages into page
// ranges that workers copy at once, each with a TID range scan (SELECT
// ... WHERE ctid >= '(a,0)' AND ctid < '(b,0)', PostgreSQL 14 and later;
// the last range is open, as the table may have more pages than its size
// said). A part is at least minPart pages and at most a (4 x jobs)th of the
// table, so the biggest table keeps every worker busy with room to
// balance. The result is ordered biggest part first; rows of all parts go
// to the table's one entry.
func split(tables []table, jobs int, minPart int64) []table {
	out := make([]table, 0, len(tables))
	for _, t := range tables {
		size := max(minPart, (t.pages+int64(4*jobs)-1)/int64(4*jobs))
		if jobs < 2 || t.lo || len(t.columns) == 0 || t.pages < 2*size {
			out = append(out, t)
			continue
		}
		n := (t.pages + size - 1) / size
		for i := range n {
			p := t
			cond := fmt.Sprintf("ctid >= '(%d,0)'::pg_catalog.tid", i*size)
			if i == 0 {
				cond = ""
			}
			if i < n-1 {
				if cond != "" {
					cond += " AND "
				}
				cond += fmt.Sprintf("ctid < '(%d,0)'::pg_catalog.tid", (i+1)*size)
			}
			if t.where != "" {
				cond = "(" + t.where + ") AND " + cond
			}
			p.copyTo = "COPY (SELECT " + strings.Join(t.columns, ", ") + " FROM ONLY " + t.relation +
				" WHERE " + cond + ") TO STDOUT"
			p.pages = min(size, t.pages-i*size)
			p.part = fmt.Sprintf("part %d of %d", i+1, n)
			out = append(out, p)
		}
	}
	slices.SortStableFunc(out, func(a, b table) int { return cmp.Compare(b.pages, a.pages) })
	return out
}

// blobsCopyFrom is the Copy of every BLOBS entry: its blocks are rows of
// (large object OID, offset, bytes), which restore loads into a temporary
// table of that name and writes into the large objects with lo_put (see
// format/SPEC.md, "Entry kinds").
const blobsCopyFrom = "COPY pg_temp.pgark_lo (loid, off, data) FROM stdin;"

// loChunk is how many bytes of a large object one row holds: 512 KiB of
// COPY text in hex, so that a block of about 1 MiB holds a few rows.
const loChunk = 256 << 10

// largeObjectsOf describes how to copy the contents of a BLOBS object's
// large objects: one query that yields each large object in chunks of
// loChunk bytes, (loid, off, data), read with lo_get, which reads as of the
// transaction's snapshot. The chunks are produced on the server by a
// recursive query, so a group of a thousand small large objects is one
// round trip and a large one never sits whole in memory on either side.
// Empty large objects yield no row: lo_create made them.
func largeObjectsOf(obj *schema.Object) (table, error) {
	if len(obj.LargeObjects) == 0 {
		return table{}, fmt.Errorf("dump: %s (id %d) names no large objects", obj, obj.ID)
	}
	var list strings.Builder
	for i, oid := range obj.LargeObjects {
		if i > 0 {
			list.WriteByte(',')
		}
		list.WriteString(strconv.FormatUint(uint64(oid), 10))
	}
	chunk := strconv.Itoa(loChunk)
	q := `COPY (WITH RECURSIVE c(loid, off, data) AS (
	SELECT m.loid, 0::pg_catalog.int8, pg_catalog.lo_get(m.loid, 0, ` + chunk + `)
	FROM pg_catalog.unnest('{` + list.String() + `}'::pg_catalog.oid[]) AS m(loid)
	UNION ALL
	SELECT c.loid, c.off + ` + chunk + `, pg_catalog.lo_get(c.loid, c.off + ` + chunk + `, ` + chunk + `)
	FROM c WHERE pg_catalog.length(c.data) = ` + chunk + `)
SELECT loid, off, data FROM c WHERE pg_catalog.length(data) > 0) TO STDOUT`
	return table{
		entry:    uint32(obj.ID),
		relation: "large objects " + obj.Name,
		copyTo:   q,
		lo:       true,
	}, nil
}

// copyStatement is COPY rel (cols) <tail>, without a column list when
// there are no columns, as pg_dump writes it.
func copyStatement(rel string, cols []string, tail string) string {
	if len(cols) == 0 {
		return "COPY " + rel + " " + tail
	}
	return "COPY " + rel + " (" + strings.Join(cols, ", ") + ") " + tail
}

// lockTargets lists the relations of every table and TABLE DATA object,
// each once: what the leader locks, whatever the options leave out of the
// archive. A table whose data the loader left out (--exclude-table-data)
// is locked all the same, as pg_dump locks every table it dumps.
func lockTargets(objs []*schema.Object) []string {
	seen := map[string]bool{}
	var out []string
	for _, obj := range objs {
		var rel string
		switch obj.Kind {
		case schema.KindTable:
			rel = schema.Qualified(obj.Schema, obj.Name)
		case schema.KindTableData:
			t, err := tableOf(obj)
			if err != nil {
				continue
			}
			rel = t.relation
		default:
			continue
		}
		if !seen[rel] {
			seen[rel] = true
			out = append(out, rel)
		}
	}
	return out
}

func formatSection(s schema.Section) format.Section {
	switch s {
	case schema.SectionPreData:
		return format.SectionPreData
	case schema.SectionData:
		return format.SectionData
	case schema.SectionPostData:
		return format.SectionPostData
	}
	return format.SectionNone
}
