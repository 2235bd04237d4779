package catalog

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgark/pgark/schema"
)

// Planner statistics, read only when Options.Statistics asks for them, as
// pg_dump 18 dumps them with --statistics: one STATISTICS DATA object per
// table, materialized view and index, whose SQL calls
// pg_catalog.pg_restore_relation_stats with pg_class's relpages,
// reltuples, relallvisible (and relallfrozen from PostgreSQL 18), then
// pg_catalog.pg_restore_attribute_stats once per pg_stats row: the
// columns of tables and materialized views (inherited or not) by name, the
// expression columns of indexes by number. Values are passed as text, as
// the source prints them (anyarray columns too); a NULL is left out.
//
// A table's statistics are in the data section, an index's and a
// materialized view's in post-data, the latter after its refresh (which
// resets them): pg_dump 18's sections. They can be read from PostgreSQL 13
// and newer, whose pg_stats the functions take as they are, but only a
// PostgreSQL 18 target has those functions. Statistics are read outside
// the snapshot's rules: pg_class and pg_statistic hold their latest
// values, as pg_dump reads them.

// relAllFrozen reports whether pg_class has relallfrozen (18+).
func (f *features) relAllFrozen() bool { return f.atLeast(180000) }

// rangeStats reports whether pg_stats has the range histograms (17+).
func (f *features) rangeStats() bool { return f.atLeast(170000) }

// attributeStats are pg_stats's columns that pg_restore_attribute_stats
// takes, with the type each is passed as, after inherited.
var attributeStats = []struct{ name, typ string }{
	{"null_frac", "real"},
	{"avg_width", "integer"},
	{"n_distinct", "real"},
	{"most_common_vals", "text"},
	{"most_common_freqs", "real[]"},
	{"histogram_bounds", "text"},
	{"correlation", "real"},
	{"most_common_elems", "text"},
	{"most_common_elem_freqs", "real[]"},
	{"elem_count_histogram", "real[]"},
	{"range_length_histogram", "text"},
	{"range_empty_frac", "real"},
	{"range_bounds_histogram", "text"},
}

// relStats is the STATISTICS DATA object of one relation being built.
type relStats struct {
	obj   *schema.Object
	index bool
	sql   strings.Builder
}

func loadStatistics(ctx context.Context, q Querier, f *features, add func(*schema.Object)) error {
	frozen := func(alias string) string {
		if f.relAllFrozen() {
			return alias + ".relallfrozen::int4"
		}
		return "NULL::int4"
	}
	// Tables (partitioned too) and materialized views, then the indexes of
	// those that a dump creates (those of constraints too).
	rows, err := q.Query(ctx, `SELECT c.oid, n.nspname, c.relname, c.relkind::text,
			c.relpages::int4, c.reltuples::text, c.relallvisible::int4, `+frozen("c")+`, 0::oid
		FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE `+userRelation(`'r', 'p', 'm'`)+`
		UNION ALL
		SELECT ic.oid, n.nspname, ic.relname, 'i',
			ic.relpages::int4, ic.reltuples::text, ic.relallvisible::int4, `+frozen("ic")+`, COALESCE(co.oid, 0)
		FROM pg_catalog.pg_index i
		JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
		JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_catalog.pg_constraint co ON co.conrelid = i.indrelid AND co.conindid = i.indexrelid
			AND co.contype IN ('p', 'u', 'x')
		WHERE `+userRelation(`'r', 'p', 'm'`)+` AND i.indisvalid AND i.indislive
		ORDER BY 1`)
	if err != nil {
		return fmt.Errorf("catalog: read relation statistics: %w", err)
	}
	version := strconv.Itoa(f.num)
	rels := map[uint32]*relStats{}
	var order []*relStats
	var (
		oid, con                     uint32
		nsp, name, kind, tuples      string
		pages, allVisible, allFrozen *int32
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &nsp, &name, &kind, &pages, &tuples, &allVisible, &allFrozen, &con}, func() error {
		dep := schema.Ref{Class: schema.ClassPgClass, OID: oid}
		if con != 0 {
			dep = schema.Ref{Class: schema.ClassPgConstraint, OID: con}
		}
		s := &relStats{index: kind == "i", obj: &schema.Object{
			Ref:  schema.Ref{Class: schema.ClassPgStatistic, OID: oid},
			Kind: schema.KindStatisticsData, Schema: nsp, Name: name,
			Deps: []schema.Ref{dep}, PostData: kind == "m" || kind == "i",
		}}
		s.sql.WriteString(restoreStatsCall("pg_restore_relation_stats", version, nsp, name, [][3]string{
			{"relpages", intText(pages), "integer"},
			{"reltuples", tuples, "real"},
			{"relallvisible", intText(allVisible), "integer"},
			{"relallfrozen", intText(allFrozen), "integer"},
		}))
		rels[oid] = s
		order = append(order, s)
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read relation statistics: %w", err)
	}
	if err := loadAttributeStatistics(ctx, q, f, version, rels); err != nil {
		return err
	}
	for _, s := range order {
		s.obj.Create = s.sql.String()
		add(s.obj)
	}
	return nil
}

// loadAttributeStatistics adds the pg_restore_attribute_stats calls of
// every pg_stats row to the relations' SQL.
func loadAttributeStatistics(ctx context.Context, q Querier, f *features, version string, rels map[uint32]*relStats) error {
	cols := make([]string, 0, len(attributeStats))
	for _, a := range attributeStats {
		if !f.rangeStats() && strings.HasPrefix(a.name, "range_") {
			cols = append(cols, "NULL::text")
			continue
		}
		cols = append(cols, "s."+a.name+"::text")
	}
	rows, err := q.Query(ctx, `SELECT c.oid, a.attname, a.attnum::int4, s.inherited, `+strings.Join(cols, ", ")+`
		FROM pg_catalog.pg_stats s
		JOIN pg_catalog.pg_namespace n ON n.nspname = s.schemaname
		JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = s.tablename
		JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = s.attname
		WHERE `+userNamespace("n")+` AND c.relkind IN ('r', 'p', 'm', 'i', 'I')
		ORDER BY c.oid, a.attnum, s.inherited`)
	if err != nil {
		return fmt.Errorf("catalog: read column statistics: %w", err)
	}
	var (
		oid       uint32
		attname   string
		attnum    int32
		inherited bool
	)
	values := make([]*string, len(attributeStats))
	dest := []any{&oid, &attname, &attnum, &inherited}
	for i := range values {
		dest = append(dest, &values[i])
	}
	_, err = pgx.ForEachRow(rows, dest, func() error {
		s := rels[oid]
		if s == nil {
			return nil
		}
		// Index columns are named after their expressions, and a restore
		// may name them otherwise: pg_dump 18 names them by number.
		col := [3]string{"attname", attname, ""}
		if s.index {
			col = [3]string{"attnum", strconv.Itoa(int(attnum)), "smallint"}
		}
		args := [][3]string{col, {"inherited", strconv.FormatBool(inherited), "boolean"}}
		for i, a := range attributeStats {
			if values[i] != nil {
				args = append(args, [3]string{a.name, *values[i], a.typ})
			}
		}
		s.sql.WriteString("\n" + restoreStatsCall("pg_restore_attribute_stats", version, s.obj.Schema, s.obj.Name, args))
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read column statistics: %w", err)
	}
	return nil
}

// restoreStatsCall renders SELECT * FROM pg_catalog.fn(...) with the
// source's version, the relation, and args (name, value as text, type;
// an empty value is left out, an empty type passes the value as text),
// one argument pair a line, as pg_dump 18 writes it.
func restoreStatsCall(fn, version, nsp, rel string, args [][3]string) string {
	var b strings.Builder
	b.WriteString("SELECT * FROM pg_catalog." + fn + "(\n")
	b.WriteString("\t'version', '" + version + "'::integer,\n")
	b.WriteString("\t'schemaname', " + schema.Literal(nsp) + ",\n")
	b.WriteString("\t'relname', " + schema.Literal(rel))
	for _, a := range args {
		if a[1] == "" {
			continue
		}
		b.WriteString(",\n\t" + schema.Literal(a[0]) + ", " + schema.Literal(a[1]))
		if a[2] != "" {
			b.WriteString("::" + a[2])
		}
	}
	b.WriteString("\n);")
	return b.String()
}

// intText is a nullable integer as text, "" for NULL.
func intText(v *int32) string {
	if v == nil {
		return ""
	}
	return strconv.Itoa(int(*v))
}
