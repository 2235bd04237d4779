// Package dump is pgark's logical dump engine: given the objects of one
// database in restore order, it writes them and the data of every table
// into a pgark archive (package format) at one point in time, as pg_dump
// does.
//
// # One point in time
//
// A leader connection sets pg_dump's session settings, opens a REPEATABLE
// READ, READ ONLY transaction (SERIALIZABLE, READ ONLY, DEFERRABLE with
// Options.SerializableDeferrable), reads the catalog through Options.Load
// inside it, takes an ACCESS SHARE lock on every table whose data is dumped
// (so that no one can drop or rewrite it until the dump ends) and exports
// its snapshot with pg_export_snapshot(), or adopts Options.Snapshot. With
// more than one job, each worker connection opens its own transaction with
// SET TRANSACTION SNAPSHOT and so sees exactly what the leader sees. Before
// copying a table a worker takes its own ACCESS SHARE lock with NOWAIT: if
// someone queued an ACCESS EXCLUSIVE lock on the table after the leader
// locked it, waiting would deadlock (the leader holds its lock until the
// end), so the dump fails at once with a *LockError, as pg_dump does.
//
// # Archive
//
// Every object becomes an archive entry, all of them written first, in the
// order given; then the data: COPY ... TO STDOUT of each table, biggest
// first, cut at row boundaries into blocks of about BlockSize bytes. A row
// longer than a block becomes one block of its own, which the format
// writer chains. Blocks of different tables interleave in the archive.
//
// Tables under 1 MiB of heap (pg_relation_size, measured in the snapshot)
// go in batches of up to 64: one Query message with all their COPY
// statements (a worker's LOCK ... NOWAIT before each), whose answers come
// back in order. A batch costs one round trip where a COPY each cost one
// per table, which is most of a small table's time: a database of many
// small tables, or a server far away, dumps faster, and with several jobs
// a worker takes a whole batch at once.
//
// A table whose columns all have built-in types that internal/copybin
// converts is copied as COPY binary (unless Options.TextCopy): the server
// writes integers, timestamps, numerics and uuids in binary at a fraction
// of the CPU of their text, and the blocks hold whole binary tuples. Its
// entry carries the column types, so that a restore can send the tuples as
// they are or turn them into text (format/SPEC.md, "Data record"). A
// binary block never continues: a tuple larger than a record is turned
// into text here and written as a text chain.
//
// # Large objects
//
// Large objects come from the catalog in groups of up to a thousand of one
// owner and ACL: a BLOB METADATA entry (pre-data: lo_create of each, so -s
// keeps it, with its comments and privileges) and a BLOBS entry (data, so
// -a keeps it), whose contents are copied like a table's: one
// COPY (query) TO STDOUT per group yields rows (OID, offset, 256 KiB of
// bytes) read with lo_get, which reads as of the dump's snapshot. A
// recursive query cuts each large object into chunks on the server, so a
// group is one round trip however small its members, and no large object
// is ever held whole, however big. The rows are cut into blocks like table
// rows (format/SPEC.md, "Entry kinds"). Unlike pg_dump 15, -s keeps the
// large objects' metadata and -a leaves it out: a schema-only dump
// restored, then a data-only one, gives every large object back. Reading
// a large object needs the SELECT privilege on it, as with pg_dump. Groups
// are copied after the tables, their size being unknown.
//
// # Concurrency and memory
//
// Run uses Jobs worker connections (the leader itself with one job). Each
// worker streams its COPY into one block while the previous one is
// compressed and appended to the archive by a second goroutine, so memory
// is bounded by about three blocks per worker (more only for a single row
// longer than a block) and a slow output slows the COPY streams down
// rather than growing memory. The first error cancels every worker; Run
// returns it, wrapped with what was being done.
//
// Options.Progress, if set, is called synchronously from the goroutine
// that reached each stage, possibly from several at once.
package dump
