package catalog

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgark/pgark/schema"
)

// Selection chooses what Load returns by name, as pg_dump's -t, -T, -n,
// -N, --exclude-table-data and their -and-children forms do; the zero
// value selects everything. Patterns are matched on the server, in the
// Querier's snapshot, with the regular expressions schema.NamePattern
// compiles, as pg_dump matches them:
//
//   - With Tables, only the relations they match (tables, views,
//     materialized views, sequences) are dumped, with what belongs to them;
//     no schema, type, function or large object is, and Schemas and
//     ExcludeSchemas have no effect.
//   - Else with Schemas, only the objects of the schemas they match are,
//     and no large object; else every object but those of ExcludeSchemas.
//   - ExcludeTables leaves out the relations it matches, in any case.
//   - A relation pattern that names no schema matches the relations
//     visible on the session's default search_path (pg_table_is_visible
//     after RESET search_path), not those of every schema.
//   - What belongs to a relation goes with it: its data, columns'
//     defaults, constraints, indexes, triggers, rules, policies, row level
//     security, comments and privileges. A partition is a relation of its
//     own: -t on a partitioned table selects it alone, the -and-children
//     forms its partitions too, at any depth. A partition's TABLE ATTACH,
//     and the INDEX ATTACH of an index of it, go with the partition, as
//     pg_dump 15 decides (restoring them needs the parent). Extended
//     statistics go with their schema, as pg_dump 15's do.
//     A sequence owned by a column (serial) is dumped when either it or its
//     table is selected, its OWNED BY only when both are; an identity
//     sequence goes with its table only. A constraint of a dumped table is
//     dumped even when the table it references is not, as pg_dump does.
//   - ExcludeTableData leaves out the data of what it matches: a table's
//     rows, a sequence's value, a materialized view's refresh.
//   - Dependencies on what is left out are dropped (schema.Sort ignores
//     them), as pg_dump does: restoring the result may need them.
//   - With Extensions (-e), only the extensions they match are dumped
//     (never plpgsql, which initdb makes), whatever -t and -n say, and the
//     objects that are in no schema (casts, languages, foreign data
//     wrappers, publications...) and large objects are not, as with -n.
//     Without it, extensions are dumped when everything is. The rows of an
//     extension's configuration tables go with the extension.
type Selection struct {
	Tables           []TablePattern       // -t, --table-and-children
	ExcludeTables    []TablePattern       // -T, --exclude-table-and-children
	Schemas          []schema.NamePattern // -n
	ExcludeSchemas   []schema.NamePattern // -N
	ExcludeTableData []TablePattern       // --exclude-table-data[-and-children]
	Extensions       []schema.NamePattern // -e (see ParseExtensionPattern)
	// StrictNames (--strict-names) makes each pattern of Tables, Schemas
	// and Extensions an error when it matches nothing.
	StrictNames bool
	// Where dumps only the rows of a table that satisfy a condition.
	Where []RowFilter
	// LargeObjects (-b) dumps large objects even when a selection leaves
	// them out (they are dumped when everything is); NoLargeObjects (-B)
	// leaves them out. -b wins when both are given, as in pg_dump.
	LargeObjects, NoLargeObjects bool
}

// dropLargeObjects reports whether -B leaves large objects out.
func (s *Selection) dropLargeObjects() bool { return s.NoLargeObjects && !s.LargeObjects }

// TablePattern is a relation pattern, with the relations that inherit
// from those it matches, at any depth, when WithChildren is set.
type TablePattern struct {
	Pattern      schema.NamePattern
	WithChildren bool
}

// RowFilter is a --where: the tables Table matches (tables only, at least
// one, else Load fails) are dumped with only the rows for which Condition,
// an SQL boolean expression on their columns, is true. It is checked
// against each table before anything is dumped. It is evaluated with an
// empty search_path, so it must qualify what is not in pg_catalog. Several
// filters on one table are ANDed.
type RowFilter struct {
	Table     schema.NamePattern
	Condition string
}

func (s *Selection) isZero() bool {
	return len(s.Tables) == 0 && len(s.ExcludeTables) == 0 && len(s.Schemas) == 0 &&
		len(s.ExcludeSchemas) == 0 && len(s.ExcludeTableData) == 0 && len(s.Where) == 0 && len(s.Extensions) == 0
}

// selected is a Selection resolved against the database: which schemas
// and relations are dumped, by OID.
type selected struct {
	everything bool            // no -t, no -n, no -e: large objects and namespace-less objects too
	lo         bool            // large objects: everything, or -b
	ext        map[uint32]bool // the extensions -e selects, nil without -e
	nsp        map[uint32]bool
	nspByName  map[string]uint32
	rel        map[uint32]bool // every relation of a -t kind: dumped or not
	seqOwner   map[uint32]uint32
	noData     map[uint32]bool
	where      map[uint32][]string
	// owner maps constraints, indexes, triggers, rules and policies to
	// their relation.
	owner map[schema.Ref]uint32
}

// keepRelation reports whether the relation with this OID is dumped; a
// nil selected keeps everything.
func (s *selected) keepRelation(oid uint32) bool {
	return s == nil || s.rel[oid]
}

// resolveSelection matches sel's patterns in the database db that q is
// connected to. It returns nil when sel selects everything.
func resolveSelection(ctx context.Context, q Querier, db string, sel Selection) (_ *selected, err error) {
	if sel.isZero() {
		return nil, nil
	}
	for _, list := range [][]TablePattern{sel.Tables, sel.ExcludeTables, sel.ExcludeTableData} {
		for _, p := range list {
			if p.Pattern.Database != "" && p.Pattern.Database != db {
				return nil, fmt.Errorf("catalog: cross-database references are not implemented: %s", p.Pattern)
			}
		}
	}
	for _, w := range sel.Where {
		if w.Table.Database != "" && w.Table.Database != db {
			return nil, fmt.Errorf("catalog: cross-database references are not implemented: %s", w.Table)
		}
	}
	// Unqualified relation patterns match what is visible on the default
	// search_path, as pg_dump's do after RESET search_path; the catalog
	// queries after this need it empty again.
	var path string
	if err := q.QueryRow(ctx, `SELECT pg_catalog.set_config('search_path', s.reset_val, false)
		FROM pg_catalog.pg_settings s WHERE s.name = 'search_path'`).Scan(&path); err != nil {
		return nil, fmt.Errorf("catalog: reset search_path: %w", err)
	}
	defer func() {
		rerr := q.QueryRow(ctx, `SELECT pg_catalog.set_config('search_path', '', false)`).Scan(&path)
		if rerr != nil && err == nil {
			err = fmt.Errorf("catalog: clear search_path: %w", rerr)
		}
	}()

	s := &selected{
		everything: len(sel.Tables) == 0 && len(sel.Schemas) == 0 && len(sel.Extensions) == 0,
		nsp:        map[uint32]bool{}, nspByName: map[string]uint32{}, rel: map[uint32]bool{},
		seqOwner: map[uint32]uint32{}, noData: map[uint32]bool{}, where: map[uint32][]string{},
		owner: map[schema.Ref]uint32{},
	}
	s.lo = s.everything || sel.LargeObjects

	// Schemas, as pg_dump's expand_schema_name_patterns.
	inclNsp, exclNsp := map[uint32]bool{}, map[uint32]bool{}
	for _, p := range sel.Schemas {
		n, err := matchSchemas(ctx, q, p, inclNsp)
		if err != nil {
			return nil, err
		}
		if n == 0 && sel.StrictNames {
			return nil, fmt.Errorf("catalog: no matching schemas were found for pattern %q", p.Text)
		}
	}
	if len(sel.Schemas) > 0 && len(inclNsp) == 0 {
		return nil, fmt.Errorf("catalog: no matching schemas were found")
	}
	for _, p := range sel.ExcludeSchemas {
		if _, err := matchSchemas(ctx, q, p, exclNsp); err != nil {
			return nil, err
		}
	}

	// Extensions, as expand_extension_name_patterns.
	if len(sel.Extensions) > 0 {
		s.ext = map[uint32]bool{}
		for _, p := range sel.Extensions {
			n, err := matchExtensions(ctx, q, p, s.ext)
			if err != nil {
				return nil, err
			}
			if n == 0 && sel.StrictNames {
				return nil, fmt.Errorf("catalog: no matching extensions were found for pattern %q", p.Text)
			}
		}
		if len(s.ext) == 0 {
			return nil, fmt.Errorf("catalog: no matching extensions were found")
		}
	}

	// Relations, as expand_table_name_patterns.
	inclRel, exclRel := map[uint32]bool{}, map[uint32]bool{}
	for _, p := range sel.Tables {
		n, err := matchRelations(ctx, q, p, relationKinds, inclRel)
		if err != nil {
			return nil, err
		}
		if n == 0 && sel.StrictNames {
			return nil, fmt.Errorf("catalog: no matching tables were found for pattern %q", p.Pattern.Text)
		}
	}
	if len(sel.Tables) > 0 && len(inclRel) == 0 {
		return nil, fmt.Errorf("catalog: no matching tables were found")
	}
	for _, p := range sel.ExcludeTables {
		if _, err := matchRelations(ctx, q, p, relationKinds, exclRel); err != nil {
			return nil, err
		}
	}
	for _, p := range sel.ExcludeTableData {
		if _, err := matchRelations(ctx, q, p, relationKinds, s.noData); err != nil {
			return nil, err
		}
	}
	for _, w := range sel.Where {
		m := map[uint32]bool{}
		n, err := matchRelations(ctx, q, TablePattern{Pattern: w.Table}, `'r'`, m)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, fmt.Errorf("catalog: no table matches the pattern %q of --where %q", w.Table.Text, w.Table.Text+":"+w.Condition)
		}
		for oid := range m {
			s.where[oid] = append(s.where[oid], w.Condition)
		}
	}

	// Which schemas' contents are dumped (selectDumpableNamespace).
	rows, err := q.Query(ctx, `SELECT n.oid, n.nspname FROM pg_catalog.pg_namespace n`)
	if err != nil {
		return nil, fmt.Errorf("catalog: read schemas: %w", err)
	}
	var (
		oid  uint32
		name string
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &name}, func() error {
		s.nspByName[name] = oid
		s.nsp[oid] = len(sel.Tables) == 0 && (len(sel.Schemas) == 0 || inclNsp[oid]) && !exclNsp[oid]
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: read schemas: %w", err)
	}

	// Which relations are (selectDumpableTable, then getOwnedSeqs).
	rows, err = q.Query(ctx, `SELECT c.oid, c.relnamespace, COALESCE(d.refobjid, 0), COALESCE(d.deptype::text, '')
		FROM pg_catalog.pg_class c
		LEFT JOIN pg_catalog.pg_depend d ON c.relkind = 'S' AND d.classid = 1259 AND d.objid = c.oid
			AND d.refclassid = 1259 AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')
		WHERE c.relkind IN (`+relationKinds+`)`)
	if err != nil {
		return nil, fmt.Errorf("catalog: read relations: %w", err)
	}
	type ownedSeq struct {
		table    uint32
		identity bool
	}
	owned := map[uint32]ownedSeq{}
	var (
		nsp, table uint32
		deptype    string
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &nsp, &table, &deptype}, func() error {
		if len(sel.Tables) > 0 {
			s.rel[oid] = inclRel[oid]
		} else {
			s.rel[oid] = s.nsp[nsp]
		}
		if exclRel[oid] {
			s.rel[oid] = false
		}
		if table != 0 {
			owned[oid] = ownedSeq{table: table, identity: deptype == "i"}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: read relations: %w", err)
	}
	base := make(map[uint32]bool, len(owned))
	for seq := range owned {
		base[seq] = s.rel[seq]
	}
	for seq, o := range owned {
		s.seqOwner[seq] = o.table
		if o.identity {
			s.rel[seq] = s.rel[o.table]
		} else {
			s.rel[seq] = base[seq] || s.rel[o.table]
		}
	}

	// What constraints, indexes, triggers, rules and policies belong to.
	rows, err = q.Query(ctx, `SELECT 2606::oid, co.oid, co.conrelid FROM pg_catalog.pg_constraint co WHERE co.conrelid <> 0
		UNION ALL SELECT 1259::oid, i.indexrelid, i.indrelid FROM pg_catalog.pg_index i
		UNION ALL SELECT 2620::oid, t.oid, t.tgrelid FROM pg_catalog.pg_trigger t
		UNION ALL SELECT 2618::oid, r.oid, r.ev_class FROM pg_catalog.pg_rewrite r
		UNION ALL SELECT 3256::oid, p.oid, p.polrelid FROM pg_catalog.pg_policy p`)
	if err != nil {
		return nil, fmt.Errorf("catalog: read what belongs to relations: %w", err)
	}
	var ref schema.Ref
	_, err = pgx.ForEachRow(rows, []any{&ref.Class, &ref.OID, &table}, func() error {
		s.owner[ref] = table
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: read what belongs to relations: %w", err)
	}
	return s, nil
}

// relationKinds are the relkinds -t matches, as pg_dump's: tables,
// sequences, views, materialized views, foreign and partitioned tables.
const relationKinds = `'r', 'S', 'v', 'm', 'f', 'p'`

// matchSchemas adds the OIDs of the schemas p matches to into and returns
// how many it matched.
func matchSchemas(ctx context.Context, q Querier, p schema.NamePattern, into map[uint32]bool) (int, error) {
	rows, err := q.Query(ctx, `SELECT n.oid FROM pg_catalog.pg_namespace n
		WHERE n.nspname OPERATOR(pg_catalog.~) $1::pg_catalog.text COLLATE pg_catalog.default`, p.Name)
	if err != nil {
		return 0, fmt.Errorf("catalog: match schema pattern %q: %w", p.Text, err)
	}
	return collectOIDs(rows, into, "schema pattern "+p.Text)
}

// matchExtensions adds the OIDs of the extensions p matches to into and
// returns how many it matched.
func matchExtensions(ctx context.Context, q Querier, p schema.NamePattern, into map[uint32]bool) (int, error) {
	rows, err := q.Query(ctx, `SELECT e.oid FROM pg_catalog.pg_extension e
		WHERE e.extname OPERATOR(pg_catalog.~) $1::pg_catalog.text COLLATE pg_catalog.default`, p.Name)
	if err != nil {
		return 0, fmt.Errorf("catalog: match extension pattern %q: %w", p.Text, err)
	}
	return collectOIDs(rows, into, "extension pattern "+p.Text)
}

// matchRelations adds the OIDs of the relations of the given relkinds
// that p matches (and their inheritance children, at any depth, when
// p.WithChildren) to into and returns how many it matched.
func matchRelations(ctx context.Context, q Querier, p TablePattern, kinds string, into map[uint32]bool) (int, error) {
	var cond strings.Builder
	args := []any{p.Pattern.Name}
	cond.WriteString(`c.relkind OPERATOR(pg_catalog.=) ANY (ARRAY[` + kinds + `]::pg_catalog."char"[])
		AND c.relname OPERATOR(pg_catalog.~) $1::pg_catalog.text COLLATE pg_catalog.default`)
	if p.Pattern.Schema != "" {
		args = append(args, p.Pattern.Schema)
		cond.WriteString(` AND n.nspname OPERATOR(pg_catalog.~) $2::pg_catalog.text COLLATE pg_catalog.default`)
	} else {
		cond.WriteString(` AND pg_catalog.pg_table_is_visible(c.oid)`)
	}
	sql := `SELECT c.oid FROM pg_catalog.pg_class c
		LEFT JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
		WHERE ` + cond.String()
	if p.WithChildren {
		sql = `WITH RECURSIVE tree (relid) AS (` + sql + `
			UNION SELECT i.inhrelid FROM tree t JOIN pg_catalog.pg_inherits i ON t.relid OPERATOR(pg_catalog.=) i.inhparent)
			SELECT relid FROM tree`
	}
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return 0, fmt.Errorf("catalog: match relation pattern %q: %w", p.Pattern.Text, err)
	}
	return collectOIDs(rows, into, "relation pattern "+p.Pattern.Text)
}

func collectOIDs(rows pgx.Rows, into map[uint32]bool, what string) (int, error) {
	var oid uint32
	n, err := pgx.ForEachRow(rows, []any{&oid}, func() error {
		into[oid] = true
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("catalog: match %s: %w", what, err)
	}
	return int(n.RowsAffected()), nil
}

// apply keeps the objects s selects, in their order, and sets the row
// filters of the tables whose data is kept, after checking each condition
// against its table.
func (s *selected) apply(ctx context.Context, q Querier, objs []*schema.Object) ([]*schema.Object, error) {
	if s == nil {
		return objs, nil
	}
	// The decision on each object that others belong to: comments and
	// privileges name their target by its Ref (their first dependency).
	decided := map[schema.Ref]bool{}
	for _, o := range objs {
		if derived(o.Kind) {
			continue
		}
		keep := s.keep(o)
		decided[o.Ref.Whole()] = keep
		for _, p := range o.Parts {
			decided[p.Ref.Whole()] = keep
		}
	}
	out := objs[:0:0]
	for _, o := range objs {
		var keep bool
		switch o.Kind {
		case schema.KindTableData, schema.KindMatViewData, schema.KindSequenceSet:
			keep = s.rel[o.Ref.OID] && !s.noData[o.Ref.OID]
			if ext, ok := extensionOf(o); ok {
				keep = decided[ext] && !s.noData[o.Ref.OID]
			}
		case schema.KindSequenceOwnedBy:
			keep = s.rel[o.Ref.OID] && s.rel[s.seqOwner[o.Ref.OID]]
		case schema.KindTableAttach, schema.KindRowSecurity:
			keep = s.rel[o.Ref.OID]
		case schema.KindIndexAttach: // with the partition's index, as pg_dump 15
			keep = s.rel[s.owner[o.Ref.Whole()]]
		case schema.KindBlobs:
			keep = s.lo
		case schema.KindComment, schema.KindACL, schema.KindSecLabel:
			target := o.Ref.Whole()
			if len(o.Deps) > 0 {
				target = o.Deps[0].Whole()
			}
			k, ok := decided[target]
			switch {
			case ok:
				keep = k
			case target.Class == schema.ClassPgNamespace: // the public schema, which is no object
				keep = s.nsp[target.OID]
			default:
				keep = s.inSchema(o.Schema)
			}
		default:
			keep = s.keep(o)
		}
		if keep {
			out = append(out, o)
		}
	}
	for _, o := range out {
		conds := s.where[o.Ref.OID]
		if o.Kind != schema.KindTableData || len(conds) == 0 || o.Data == nil {
			continue
		}
		parts := make([]string, len(conds))
		for i, c := range conds {
			parts[i] = "(" + c + ")"
		}
		o.Data.Where = strings.Join(parts, " AND ")
		rows, err := q.Query(ctx, "SELECT 1 FROM "+o.Data.Relation+" WHERE "+o.Data.Where+" LIMIT 0")
		if err == nil {
			rows.Close()
			err = rows.Err()
		}
		if err != nil {
			return nil, fmt.Errorf("catalog: row filter on %s (--where %s): %w", o.Data.Relation, strings.Join(conds, " AND "), err)
		}
	}
	return out, nil
}

// derived reports whether objects of kind k share the Ref of another
// object they belong to.
func derived(k schema.Kind) bool {
	switch k {
	case schema.KindTableData, schema.KindSequenceSet, schema.KindMatViewData, schema.KindComment, schema.KindSecLabel,
		schema.KindACL, schema.KindSequenceOwnedBy, schema.KindBlobs,
		schema.KindTableAttach, schema.KindIndexAttach, schema.KindRowSecurity:
		return true
	}
	return false
}

// keep decides on an object that is not derived from another.
func (s *selected) keep(o *schema.Object) bool {
	switch o.Kind {
	case schema.KindSchema:
		return s.nsp[o.Ref.OID]
	case schema.KindTable, schema.KindView, schema.KindMatView, schema.KindSequence, schema.KindForeignTable:
		return s.rel[o.Ref.OID]
	case schema.KindBlobMetadata:
		return s.lo
	case schema.KindPublicationTable, schema.KindPublicationSchema:
		return s.everything
	case schema.KindExtension:
		if s.ext != nil {
			return s.ext[o.Ref.OID]
		}
		return s.everything
	case schema.KindStatisticsData: // a table's, a materialized view's or an index's: Ref.OID
		if rel, ok := s.owner[schema.Ref{Class: schema.ClassPgClass, OID: o.Ref.OID}]; ok {
			return s.rel[rel]
		}
		return s.rel[o.Ref.OID]
	}
	if rel, ok := s.owner[o.Ref.Whole()]; ok {
		return s.rel[rel]
	}
	return s.inSchema(o.Schema)
}

// inSchema is pg_dump's default for other objects: that of their schema's
// contents, or for those in no schema, whether everything is dumped.
func (s *selected) inSchema(name string) bool {
	if name == "" {
		return s.everything
	}
	oid, ok := s.nspByName[name]
	return ok && s.nsp[oid]
}
