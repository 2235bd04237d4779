// Package catalog reads a database's pg_catalog into pgark's object model
// (package schema): one schema.Object per thing a dump creates or loads,
// with the dependencies pg_depend records, on PostgreSQL 13 through 18.
//
// Every difference between server versions is behind one type, features,
// computed once from server_version_num. Queries run through a Querier, in
// practice the dump's snapshot transaction, so the catalog is read at the
// same point in time as the data. Load is not safe for concurrent use of
// one Querier (a PostgreSQL connection runs one query at a time).
package catalog
