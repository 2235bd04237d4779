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
	// KindStatisticsData restores a relation's planner statistics with
	// pg_restore_relation_stats and pg_restore_attribute_stats (pg_dump
	// 18's "STATISTICS DATA"), with a Ref of class ClassPgStatistic and
	// the relation's OID. It is in the data section for a table, in
	// post-data (PostData) for an index or a materialized view, whose
	// refresh resets them: Sort makes it follow the refresh.
	KindStatisticsData Kind = "STATISTICS DATA"
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

	// Kinds of objects that are no relation nor part of one.
	KindExtension        Kind = "EXTENSION"
	KindAggregate        Kind = "AGGREGATE"
	KindOperator         Kind = "OPERATOR"
	KindOpClass          Kind = "OPERATOR CLASS"
	KindOpFamily         Kind = "OPERATOR FAMILY"
	KindCast             Kind = "CAST"
	KindCollation        Kind = "COLLATION"
	KindConversion       Kind = "CONVERSION"
	KindTSParser         Kind = "TEXT SEARCH PARSER"
	KindTSTemplate       Kind = "TEXT SEARCH TEMPLATE"
	KindTSDictionary     Kind = "TEXT SEARCH DICTIONARY"
	KindTSConfig         Kind = "TEXT SEARCH CONFIGURATION"
	KindLanguage         Kind = "PROCEDURAL LANGUAGE"
	KindTransform        Kind = "TRANSFORM"
	KindAccessMethod     Kind = "ACCESS METHOD"
	KindFDW              Kind = "FOREIGN DATA WRAPPER"
	KindServer           Kind = "SERVER"
	KindUserMapping      Kind = "USER MAPPING"
	KindForeignTable     Kind = "FOREIGN TABLE"
	KindPublication      Kind = "PUBLICATION"
	KindPublicationTable Kind = "PUBLICATION TABLE"
	// KindPublicationSchema adds a schema's tables to a publication
	// (pg_dump's "PUBLICATION TABLES IN SCHEMA", PostgreSQL 15+).
	KindPublicationSchema Kind = "PUBLICATION TABLES IN SCHEMA"
	KindSubscription      Kind = "SUBSCRIPTION"
	KindEventTrigger      Kind = "EVENT TRIGGER"
	// KindDefaultACL is ALTER DEFAULT PRIVILEGES for one role, schema and
	// object type; like pg_dump's "DEFAULT ACL" it is in no section.
	KindDefaultACL Kind = "DEFAULT ACL"
	// KindSecLabel is a SECURITY LABEL on another object, which it
	// follows as a comment does.
	KindSecLabel Kind = "SECURITY LABEL"

	// The database itself, as pg_dump's: CREATE DATABASE with its
	// encoding and locale (run by a restore with -C, before it connects
	// to the database), and its settings (ALTER DATABASE ... SET, ALTER
	// ROLE ... IN DATABASE ... SET, connection limit, template flag),
	// restored only with -C. Its comment and privileges are COMMENT and
	// ACL objects named "DATABASE <name>".
	KindDatabase           Kind = "DATABASE"
	KindDatabaseProperties Kind = "DATABASE PROPERTIES"
	// Cluster globals, as pg_dumpall writes them: a role (CREATE ROLE and
	// ALTER ROLE ... WITH its attributes), the grants of a role to its
	// members, a role's settings (ALTER ROLE ... SET) and a tablespace.
	KindRole           Kind = "ROLE"
	KindRoleMembership Kind = "ROLE MEMBERSHIP"
	KindRoleSettings   Kind = "ROLE SETTINGS"
	KindTablespace     Kind = "TABLESPACE"
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
	KindStatisticsData:  {SectionData, 33}, // PRIO_STATISTICS_DATA_DATA
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

	// The kinds that are no relation nor part of one, at pg_dump's
	// priorities (PRIO_PROCLANG 2 ... PRIO_EVENT_TRIGGER).
	KindLanguage:          {SectionPreData, 2},
	KindCollation:         {SectionPreData, 3},
	KindTransform:         {SectionPreData, 4},
	KindExtension:         {SectionPreData, 5},
	KindCast:              {SectionPreData, 7},
	KindAggregate:         {SectionPreData, 9},
	KindAccessMethod:      {SectionPreData, 10},
	KindOperator:          {SectionPreData, 11},
	KindOpFamily:          {SectionPreData, 12},
	KindOpClass:           {SectionPreData, 12},
	KindConversion:        {SectionPreData, 13},
	KindTSParser:          {SectionPreData, 14},
	KindTSTemplate:        {SectionPreData, 15},
	KindTSDictionary:      {SectionPreData, 16},
	KindTSConfig:          {SectionPreData, 17},
	KindFDW:               {SectionPreData, 18},
	KindServer:            {SectionPreData, 19},
	KindUserMapping:       {SectionPreData, 19},
	KindForeignTable:      {SectionPreData, 20},
	KindPublication:       {SectionPostData, 48},
	KindPublicationTable:  {SectionPostData, 49},
	KindPublicationSchema: {SectionPostData, 50},
	KindSubscription:      {SectionPostData, 51},
	// Default privileges come after every object they could give
	// privileges to when it is created, as in pg_dump's ACL pass.
	KindDefaultACL:   {SectionNone, 53},
	KindEventTrigger: {SectionPostData, 55},
	KindSecLabel:     {SectionPreData, 0}, // as comments

	// Written first, in an order of their own (never sorted).
	KindDatabase:           {SectionPreData, 0},
	KindDatabaseProperties: {SectionPreData, 0},
	KindRole:               {SectionPreData, 0},
	KindRoleMembership:     {SectionPreData, 0},
	KindRoleSettings:       {SectionPreData, 0},
	KindTablespace:         {SectionPreData, 0},
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

	ClassPgOperator     uint32 = 2617
	ClassPgOpClass      uint32 = 2616
	ClassPgOpFamily     uint32 = 2753
	ClassPgCast         uint32 = 2605
	ClassPgConversion   uint32 = 2607
	ClassPgTSParser     uint32 = 3601
	ClassPgTSTemplate   uint32 = 3764
	ClassPgTSDict       uint32 = 3600
	ClassPgTSConfig     uint32 = 3602
	ClassPgLanguage     uint32 = 2612
	ClassPgTransform    uint32 = 3576
	ClassPgAm           uint32 = 2601
	ClassPgFDW          uint32 = 2328 // pg_foreign_data_wrapper
	ClassPgServer       uint32 = 1417 // pg_foreign_server
	ClassPgUserMapping  uint32 = 1418
	ClassPgPublication  uint32 = 6104
	ClassPgPubRel       uint32 = 6106 // pg_publication_rel
	ClassPgPubSchema    uint32 = 6237 // pg_publication_namespace
	ClassPgSubscription uint32 = 6100
	ClassPgEventTrigger uint32 = 3466
	ClassPgDefaultACL   uint32 = 826
	ClassPgStatistic    uint32 = 2619

	// Shared catalogs: cluster globals and databases.
	ClassPgAuthID     uint32 = 1260
	ClassPgDatabase   uint32 = 1262
	ClassPgTablespace uint32 = 1213
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
	// Build and Attach, when set, do together what Create does for a
	// PRIMARY KEY or UNIQUE constraint on a plain b-tree index: Build
	// creates the index alone (CREATE UNIQUE INDEX, a SHARE lock that the
	// table's other index builds share) and Attach makes it the constraint
	// (ADD CONSTRAINT ... USING INDEX, an exclusive lock for an instant).
	Build, Attach string
	Definer       Definer
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
	// PostData puts an object of a data-section kind in post-data (the
	// STATISTICS DATA of an index or a materialized view).
	PostData bool
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
	// Types are the type OIDs (atttypid) of Columns, in the same order:
	// what decides whether the rows can go as COPY binary.
	Types []uint32
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
	if o.PostData {
		return SectionPostData
	}
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
