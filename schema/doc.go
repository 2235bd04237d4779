// Package schema is pgark's model of what a logical dump holds: objects
// (tables, indexes, functions, comments, a table's data...) with their
// SQL, owners and dependencies, sorted into a safe restore order the way
// pg_dump sorts them (Sort), and the quoting every generated statement uses.
//
// It is pure: no database access and no imports of pgark's other packages.
// package schema/catalog fills the model from a live server. Values are
// not safe for concurrent mutation; Sort mutates the objects it is given
// (IDs, DepIDs, parts split off).
package schema
