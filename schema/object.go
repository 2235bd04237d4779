package schema

import "fmt"

// Section is where an object is restored: before the data, as data, or
// after it (as pg_dump's --section).
type Section uint8

// Sections.
const (
	SectionNone Section = iota
	SectionPreData
	SectionData
	SectionPostData
)

func (s Section) String() string {
	switch s {
	case SectionPreData:
		return "pre-data"
	case SectionData:
		return "data"
	case SectionPostData:
		return "post-data"
	}
	return "none"
}

// Kind names an object kind the way pg_dump's table of contents does
// ("TABLE", "FK CONSTRAINT", ...), so that archive listings read alike.
type Kind string

// Kinds. Their order of restore, when dependencies do not decide, is
// kindInfo's priority.
const (
	KindSchema          Kind = "SCHEMA"
	KindShellType       Kind = "SHELL TYPE"
	KindType            Kind = "TYPE"
	KindDomain          Kind = "DOMAIN"
	KindFunction        Kind = "FUNCTION"
	KindProcedure       Kind = "PROCEDURE"
	KindTable           Kind = "TABLE"
	KindView            Kind = "VIEW"
	KindMatView         Kind = "MATERIALIZED VIEW"
	KindSequence        Kind = "SEQUENCE"
	KindSequenceOwnedBy Kind = "SEQUENCE OWNED BY"
	KindDefault         Kind = "DEFAULT"
	KindTableData       Kind = "TABLE DATA"
	KindSequenceSet     Kind = "SEQUENCE SET"
	KindConstraint      Kind = "CONSTRAINT"
	KindCheckConstraint Kind = "CHECK CONSTRAINT"
	KindIndex           Kind = "INDEX"
	KindRule            Kind = "RULE"
	KindTrigger         Kind = "TRIGGER"
	KindFKConstraint    Kind = "FK CONSTRAINT"
	KindMatViewData     Kind = "MATERIALIZED VIEW DATA"
	KindComment         Kind = "COMMENT"
	KindACL             Kind = "ACL"
	// KindBlobMetadata is a group of large objects of one owner and one
	// ACL: lo_create of each (pg_dump 17's "BLOB METADATA"). Its Ident has
	// one line per large object, "LARGE OBJECT <oid>".
	KindBlobMetadata Kind = "BLOB METADATA"
	// KindBlobs is the contents of a group of large objects, which the
	// dump reads in chunks (pg_dump's "BLOBS").
	KindBlobs Kind = "BLOBS"
	// KindTableAttach attaches a partition to its partitioned table
	// (ALTER TABLE ... ATTACH PARTITION), with the partition's Ref.
	KindTableAttach Kind = "TABLE ATTACH"
	// KindIndexAttach attaches a partition's index to its partitioned
	// index (ALTER INDEX ... ATTACH PARTITION), with the partition index's Ref.
	KindIndexAttach Kind = "INDEX ATTACH"
	KindStatistics  Kind = "STATISTICS" // CREATE STATISTICS (extended statistics)
	KindPolicy      Kind = "POLICY"
	// KindRowSecurity enables row level security on a table (with the
	// table's Ref), after its data, as pg_dump's "ROW SECURITY".
	KindRowSecurity Kind = "ROW SECURITY"
)

// kindInfo holds each kind's section and sort priority, after pg_dump's
// pg_dump_sort.c: schemas, then types and functions, then relations and
// their pre-data parts, then data, then constraints, indexes, triggers and
// foreign keys, and last materialized view refreshes. Comments and ACLs
// carry the priority of nothing: they sort right after the object they
// belong to, by dependency, and ACLs are applied in a pass of their own.
var kindInfo = map[Kind]struct {
	section  Section
	priority int
}{
	KindSchema:          {SectionPreData, 1},
	KindShellType:       {SectionPreData, 6},
	KindType:            {SectionPreData, 6},
	KindDomain:          {SectionPreData, 6},
	KindFunction:        {SectionPreData, 8},
	KindProcedure:       {SectionPreData, 8},
	KindTable:           {SectionPreData, 20},
	KindView:            {SectionPreData, 20},
	KindMatView:         {SectionPreData, 20},
	KindSequence:        {SectionPreData, 20},
	KindSequenceOwnedBy: {SectionPreData, 21},
	KindTableAttach:     {SectionPreData, 22},
	KindDefault:         {SectionPreData, 23},
	KindBlobMetadata:    {SectionPreData, 24}, // pg_dump's PRIO_LARGE_OBJECT
	KindTableData:       {SectionData, 30},
	KindSequenceSet:     {SectionData, 31},
	KindBlobs:           {SectionData, 32}, // PRIO_LARGE_OBJECT_DATA
	KindConstraint:      {SectionPostData, 40},
	KindCheckConstraint: {SectionPostData, 40},
	KindIndex:           {SectionPostData, 41},
	KindIndexAttach:     {SectionPostData, 42},
	KindStatistics:      {SectionPostData, 42},
	KindRule:            {SectionPostData, 43},
	KindTrigger:         {SectionPostData, 45},
	KindFKConstraint:    {SectionPostData, 46},
	KindPolicy:          {SectionPostData, 47},
	KindRowSecurity:     {SectionPostData, 47},
	KindMatViewData:     {SectionPostData, 60},
	KindComment:         {SectionPreData, 0}, // Sort gives them their target's section
	KindACL:             {SectionPreData, 0},
}

// Ref is an object's identity in the catalog, as pg_depend names it:
// the OID of the catalog holding it (pg_class's OID for relations), its
// OID there, and a column number for a column (0 for the whole object).
type Ref struct {
	Class uint32
	OID   uint32
	Sub   int32
}

func (r Ref) String() string { return fmt.Sprintf("%d/%d/%d", r.Class, r.OID, r.Sub) }

// Whole is the reference to the object a column belongs to.
func (r Ref) Whole() Ref { return Ref{Class: r.Class, OID: r.OID} }

// Catalog OIDs, fixed in every PostgreSQL release.
const (
	ClassPgClass       uint32 = 1259 // tables, views, sequences, indexes...
	ClassPgType        uint32 = 1247
	ClassPgProc        uint32 = 1255
	ClassPgNamespace   uint32 = 2615
	ClassPgConstraint  uint32 = 2606
	ClassPgAttrdef     uint32 = 2604
	ClassPgTrigger     uint32 = 2620
	ClassPgRewrite     uint32 = 2618
	ClassPgCollation   uint32 = 3456
	ClassPgExtension   uint32 = 3079
	ClassPgLargeObject uint32 = 2613
	ClassPgPolicy      uint32 = 3256
	ClassPgStatExt     uint32 = 3381 // pg_statistic_ext
)

// Object is one item of a dump: something to create (a table, an index, a
// comment...) or to load (a table's data, a sequence's value).
type Object struct {
	// Ref is the catalog identity. Objects pgark makes up (a table's data,
	// a comment, an ACL) have the Ref of what they belong to and a Kind of
	// their own; Sort tells them apart by Kind.
	Ref  Ref
	Kind Kind
	// Schema, Name and Owner are as pg_restore -l shows them. Name is the
	// tag pg_dump uses: "t" for a table, "t t_pkey" for a constraint,
	// "TABLE t" for a comment on a table.
	Schema, Name, Owner string
	Tablespace          string
	// Ident is how ALTER ... OWNER TO, COMMENT ON and GRANT name the
	// object: "TABLE "s"."t"", "FUNCTION "s"."f"(integer)". Empty for kinds
	// that have no owner of their own.
	Ident string
	// Create and Drop are the SQL that creates and drops the object,
	// statements ending in ";". When Definer is set, Create is ignored and
	// the definer renders it, honouring parts split off by Sort.
	Create, Drop string
	Definer      Definer
	// Deps are what this object needs to exist first. References to
	// objects that are not in the dump are ignored; a reference to a
	// column means the object that column belongs to.
	Deps []Ref
	// Parts are pieces rendered inside this object's Create (a table's
	// CHECK constraints and column defaults, a domain's constraints) that
	// Sort may split off into objects of their own to break a dependency
	// loop. Each part is an Object with its own Kind, Create (the separate
	// form, e.g. ALTER TABLE ... ADD CONSTRAINT), Deps and Separate flag.
	Parts    []*Object
	Separate bool // for a part: dumped as its own object
	// Data describes a table's rows, for KindTableData.
	Data *TableData
	// LargeObjects are the OIDs of the large objects of a
	// KindBlobMetadata or KindBlobs object, ascending.
	LargeObjects []uint32
	// ID is the dump id Sort assigns: 1, 2, 3... in restore order.
	ID int
	// DepIDs are the IDs of the objects in the dump this one must follow,
	// as Sort resolved Deps (and the deps of parts rendered inside it).
	DepIDs []int

	section Section // set by Sort for comments and ACLs: their target's
}

// Definer renders an object's CREATE statements from structured data. It
// is consulted after Sort, so parts marked Separate are left out.
type Definer interface {
	CreateSQL() string
}

// TableData says how to read and load a table's rows.
type TableData struct {
	Table Ref
	// Relation is the quoted, schema-qualified table name.
	Relation string
	// Columns are the quoted names of the columns COPY reads and writes, in
	// order: every column but generated and dropped ones.
	Columns []string
	// Where, if set, is a condition on the rows (an SQL boolean
	// expression): only the rows for which it is true are dumped.
	Where string
	// Pages and Tuples are the planner's estimates (relpages, reltuples),
	// used to schedule the biggest tables first and to split them.
	Pages  int64
	Tuples float64
}

// Section is the object's section; comments and ACLs take their target's
// (known once Sort has run).
func (o *Object) Section() Section {
	if o.section != SectionNone {
		return o.section
	}
	return kindInfo[o.Kind].section
}

// Priority orders kinds when dependencies do not.
func (o *Object) Priority() int { return kindInfo[o.Kind].priority }

// CreateSQL is the object's CREATE statements as they stand now.
func (o *Object) CreateSQL() string {
	if o.Definer != nil {
		return o.Definer.CreateSQL()
	}
	return o.Create
}

func (o *Object) String() string {
	if o.Schema != "" {
		return fmt.Sprintf("%s %s.%s", o.Kind, o.Schema, o.Name)
	}
	return fmt.Sprintf("%s %s", o.Kind, o.Name)
}
