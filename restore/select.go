package restore

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pgark/pgark/format"
)

// Selection picks entries by name, as pg_restore's -t, -n, -N, -T, -I and
// -P do (_tocEntryRequired in pg_backup_archiver.c): names are compared
// with the entries' Schema and Name exactly, as pg_dump's table of
// contents spells them (no quoting, no patterns). The zero value selects
// everything.
//
// Tables, Triggers, Indexes, Functions and WholeTables select only the
// entries they name; Schemas then restricts every entry that is not a
// comment or a privilege to those schemas (an entry of no schema, such as
// a SCHEMA or a large object, is left out), and ExcludeSchemas leaves out
// the entries of those schemas. With any of them set, a COMMENT, ACL or
// SECURITY LABEL goes with its object: it is restored only if an entry it
// depends on (not counting other ACLs) is.
type Selection struct {
	// Tables (-t) are the names of tables, views, materialized views,
	// foreign tables and sequences, each restored alone with its data
	// (TABLE DATA, the refresh of a materialized view, a SEQUENCE SET):
	// not its indexes, constraints, triggers or owned sequences.
	Tables []string
	// Schemas (-n) and ExcludeSchemas (-N) are schema names.
	Schemas        []string
	ExcludeSchemas []string
	// Triggers (-T) are TRIGGER entry names, which pg_dump makes
	// "table trigger".
	Triggers []string
	// Indexes (-I) are INDEX entry names (not the indexes of PRIMARY KEY
	// or UNIQUE constraints, which are CONSTRAINT entries).
	Indexes []string
	// Functions (-P) are FUNCTION, PROCEDURE and AGGREGATE entry names:
	// the name and the argument types, "f(integer, text)".
	Functions []string
	// WholeTables (--whole-table, pgark's own) are relation names as in
	// Tables, each restored with what belongs to it, as pg_dump -t dumps a
	// table: its data, indexes, constraints (foreign keys included),
	// triggers, rules, policies and row security, separate column
	// defaults, owned sequences with their values, and (through the rule
	// for comments and privileges) the comments and privileges of all
	// these; not its extended statistics, which pg_dump -t leaves out too.
	// It needs the whole table of contents: it is refused on a stream
	// (ErrWholeTableStream).
	WholeTables []string
	// StrictNames (--strict-names) makes every name of Schemas, Tables,
	// Indexes, Functions, Triggers and WholeTables select at least one
	// entry, as pg_restore's does: otherwise NewPlan fails ("table "x" not
	// found") and nothing is restored. It too is refused on a stream
	// (ErrStrictNamesStream).
	StrictNames bool
}

// ErrWholeTableStream is returned for --whole-table on a stream: the
// sequences a table owns come before the table in the archive, and only
// the entries after it say that the table owns them.
var ErrWholeTableStream = errors.New("restore: --whole-table needs the whole table of contents first: restore from a file, not a stream")

// ErrStrictNamesStream is returned for --strict-names on a stream, where
// entries run as they arrive, before the last of them could say that a
// name selects nothing.
var ErrStrictNamesStream = errors.New("restore: --strict-names needs the whole table of contents first: restore from a file, not a stream")

// byKind reports whether s selects entries by kind and name (pg_restore's
// selTypes): only the entries named are restored.
func (s *Selection) byKind() bool {
	return len(s.Tables) > 0 || len(s.Triggers) > 0 || len(s.Indexes) > 0 || len(s.Functions) > 0 || len(s.WholeTables) > 0
}

// active reports whether s selects anything by name.
func (s *Selection) active() bool {
	return s.byKind() || len(s.Schemas) > 0 || len(s.ExcludeSchemas) > 0
}

// relationKinds are the entries -t names (pg_restore's list): the
// relations and their data.
var relationKinds = []string{"TABLE", "TABLE DATA", "VIEW", "FOREIGN TABLE", "MATERIALIZED VIEW",
	"MATERIALIZED VIEW DATA", "SEQUENCE", "SEQUENCE SET"}

// dependentKinds are the entries that take a comment's or a privilege's
// place: they go with the object they depend on.
var dependentKinds = []string{kindACL, kindComment, "SECURITY LABEL", kindStatistics}

// The parts of a table for WholeTables. A part of the first kinds is named
// "table part" by pg_dump and depends on its table (a foreign key also on
// the table it references); one of the second depends on its table alone
// among relations.
var (
	namedParts = []string{"CONSTRAINT", "CHECK CONSTRAINT", "FK CONSTRAINT", "DEFAULT", "TRIGGER", "RULE", "POLICY"}
	otherParts = []string{kindIndex, kindTableData, kindMatViewData, "ROW SECURITY", "SEQUENCE OWNED BY", "SEQUENCE"}
)

// selector applies Options' selection to the entries of an archive, which
// it must be shown in archive order (so that an object comes before its
// comments and privileges).
type selector struct {
	o      *Options
	kinds  map[uint32]string // the kind of every entry shown so far
	chosen map[uint32]bool   // the entries selected so far
	whole  map[uint32]bool   // entries that belong to a table of WholeTables
	// matched are the names that selected an entry, by kind of name
	// ("table", "schema"...): what StrictNames checks.
	matched map[string]map[string]bool
}

// newSelector returns a selector for opts; entries is the whole table of
// contents, or nil on a stream (where WholeTables is refused).
func newSelector(opts *Options, entries []format.Entry) *selector {
	s := &selector{o: opts, kinds: map[uint32]string{}, chosen: map[uint32]bool{}, matched: map[string]map[string]bool{}}
	if len(opts.Select.WholeTables) > 0 {
		s.whole = wholeTables(entries, opts.Select.WholeTables)
	}
	return s
}

// selects reports whether e is to be restored: by -x, --no-comments,
// --no-statistics and --statistics-only, by section (an entry of section
// none counts as pre-data), by the -L list, and by name (Options.Select).
func (s *selector) selects(e *format.Entry) bool {
	s.kinds[e.ID] = e.Kind
	ok := s.o.selectsAlone(e) && s.byName(e)
	if ok {
		s.chosen[e.ID] = true
	}
	return ok
}

// selectsAlone is the part of the selection that needs no other entry.
func (o *Options) selectsAlone(e *format.Entry) bool {
	if o.skipsDatabaseEntry(e) {
		return false
	}
	if o.NoACL && e.Kind == kindACL {
		return false
	}
	if o.NoComments && e.Kind == kindComment {
		return false
	}
	if (o.NoStatistics && e.Kind == kindStatistics) || (o.StatisticsOnly && e.Kind != kindStatistics) {
		return false
	}
	if len(o.Sections) > 0 {
		sec := e.Section
		if sec == format.SectionNone {
			sec = format.SectionPreData
		}
		if !slices.Contains(o.Sections, sec) {
			return false
		}
	}
	return o.List == nil || o.List[e.ID]
}

func (s *selector) byName(e *format.Entry) bool {
	sel := &s.o.Select
	if !sel.active() {
		return true
	}
	if slices.Contains(dependentKinds, e.Kind) {
		for _, d := range e.Deps {
			if s.chosen[d] && s.kinds[d] != kindACL {
				return true
			}
		}
		return false
	}
	if len(sel.Schemas) > 0 && !s.match("schema", sel.Schemas, e.Schema) {
		return false
	}
	if e.Schema != "" && slices.Contains(sel.ExcludeSchemas, e.Schema) {
		return false
	}
	if s.whole[e.ID] && slices.Contains(relationKinds, e.Kind) {
		s.match("table", sel.WholeTables, e.Name)
	}
	switch {
	case !sel.byKind():
		return true
	case s.whole[e.ID]:
		return true
	case slices.Contains(relationKinds, e.Kind):
		return s.match("table", sel.Tables, e.Name)
	case e.Kind == kindIndex:
		return s.match("index", sel.Indexes, e.Name)
	case e.Kind == "FUNCTION" || e.Kind == "PROCEDURE" || e.Kind == "AGGREGATE":
		return s.match("function", sel.Functions, e.Name)
	case e.Kind == "TRIGGER":
		return s.match("trigger", sel.Triggers, e.Name)
	}
	return false
}

// match says whether names holds name (never ""), and remembers it as a
// name of kind what that selected an entry.
func (s *selector) match(what string, names []string, name string) bool {
	if name == "" || !slices.Contains(names, name) {
		return false
	}
	if s.matched[what] == nil {
		s.matched[what] = map[string]bool{}
	}
	s.matched[what][name] = true
	return true
}

// strictNames is the error of StrictNames: the first name that selected
// no entry, in pg_restore's order of checks (StrictNamesCheck).
func (s *selector) strictNames() error {
	sel := &s.o.Select
	for _, c := range []struct {
		what  string
		names []string
	}{
		{"schema", sel.Schemas}, {"table", sel.Tables}, {"table", sel.WholeTables},
		{"index", sel.Indexes}, {"function", sel.Functions}, {"trigger", sel.Triggers},
	} {
		for _, n := range c.names {
			if !s.matched[c.what][n] {
				return fmt.Errorf("restore: %s \"%s\" not found", c.what, n)
			}
		}
	}
	return nil
}

// wholeTables finds the relations names calls for and the entries that
// belong to them (Selection.WholeTables). The schema options apply to
// them later, entry by entry.
func wholeTables(entries []format.Entry, names []string) map[uint32]bool {
	out := map[uint32]bool{}
	tables := map[uint32]*format.Entry{}
	sequences := map[uint32]bool{} // the sequences named, and those the tables own
	for i := range entries {
		e := &entries[i]
		if e.Kind != kindTableData && e.Kind != kindMatViewData && e.Kind != "SEQUENCE SET" &&
			slices.Contains(relationKinds, e.Kind) && slices.Contains(names, e.Name) {
			tables[e.ID] = e
			out[e.ID] = true
			if e.Kind == "SEQUENCE" {
				sequences[e.ID] = true
			}
		}
	}
	// owner finds the table of WholeTables that part e belongs to.
	owner := func(e *format.Entry) *format.Entry {
		for _, d := range e.Deps {
			t := tables[d]
			switch {
			case t == nil:
			case slices.Contains(otherParts, e.Kind):
				return t
			case slices.Contains(namedParts, e.Kind) && e.Schema == t.Schema && strings.HasPrefix(e.Name, t.Name+" "):
				return t
			}
		}
		return nil
	}
	for i := range entries {
		e := &entries[i]
		if owner(e) == nil {
			continue
		}
		out[e.ID] = true
		switch e.Kind {
		case "SEQUENCE": // an identity column's sequence
			sequences[e.ID] = true
		case "SEQUENCE OWNED BY": // a serial column's, created before the table
			for _, d := range e.Deps {
				if tables[d] == nil {
					sequences[d] = true
					out[d] = true
				}
			}
		}
	}
	for i := range entries {
		e := &entries[i]
		if e.Kind == "SEQUENCE SET" && slices.ContainsFunc(e.Deps, func(d uint32) bool { return sequences[d] }) {
			out[e.ID] = true
		}
	}
	return out
}
