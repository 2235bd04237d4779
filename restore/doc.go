// Package restore loads a pgark archive into a database, or writes it out
// as a psql script, the way pg_restore does. It works from the archive's
// table of contents (format.Entry: kind, section, SQL, owner, deps) and
// its blocks of COPY rows, text or binary; it knows nothing of how the
// dump made them.
//
// # Plan
//
// NewPlan (pure) selects entries (sections, the -L list, -x,
// --no-comments, and by name as pg_restore's -t, -n, -N, -T, -I, -P do:
// Selection) and sorts them into phases (PhaseOf), which run one after the
// other:
//
//  1. With -c, the Drop statements of the selected entries, in reverse
//     archive order (IfExists rewrites them for --if-exists). With -C -c
//     the database is dropped and created instead.
//  2. Pre-data, in archive order (which is dependency order) on one
//     connection. Comments on pre-data objects come right after them.
//  3. Data: the data section's statements (SEQUENCE SET) on that
//     connection, then the table data with Jobs workers, each on its own
//     connection, a table after the other. A worker takes the next run of
//     a table's blocks, half of what is left of the table with two
//     workers (a 1/Jobs share; at most 256 MiB), and sends it as one
//     COPY: several workers load one table at once, and the last runs
//     are short, so they end it together. A COPY per 1 MiB block cost the
//     benchmark's main table (2M rows, 405 MiB) about 3 CPU-seconds more
//     and 1.5 s more with two workers: each COPY sets up anew (its tuple
//     slots, memory the backend gives back to the system, its ring of
//     shared buffers).
//     A run goes as several COPYs where its blocks change form (COPY
//     binary or text, below) and around a chain of blocks (one row larger
//     than a block), which is one COPY of its own. With
//     --disable-triggers the tables' triggers are disabled before and
//     enabled after.
//  4. Post-data with Jobs workers: an entry starts once the entries it
//     depends on (directly, or through entries left out of the restore)
//     are done, and no running entry holds a lock on one of its tables
//     that conflicts with the one it takes, as pg_restore decides (see
//     newTasks and lockMode): indexes of a table build together, the
//     foreign keys to one table validate together, a foreign key waits for
//     the key it references. Of the entries that can start, a key's
//     attach and a foreign key's ADD ... NOT VALID go first (they read no
//     table), then those on the tables with the most data. One of the
//     first kind that must wait for a running index build holds back the
//     other index builds on its tables (heldLocks.pick), so the foreign
//     keys to a big table are added as soon as its key is, and validate
//     while its last indexes build. Comments on post-data objects run
//     after them.
//  5. Privileges (ACL entries), in archive order, once everything exists.
//  6. REFRESH MATERIALIZED VIEW, by dependencies, last.
//
// From a file into a database with more than one worker (and without
// --disable-triggers), phases 3 and 4 run as one, as pg_restore -j runs
// them (parallel): the blocks go biggest table first, and an index, a key
// or a foreign key starts as soon as the data of the tables it locks is
// loaded, ahead of the blocks of smaller tables (waitForData); the blocks
// of a small table that a foreign key to a big one waits for weigh as the
// big table (gateWeights); everything else in post-data waits for all
// the data.
//
// Every session sets synchronous_commit off (but with -1; the restore
// ends with one durable commit) and, as a superuser, deadlock_timeout to
// 10ms, so that an autovacuum holding a table just loaded gives way to
// its index build at once instead of after a second. Other settings stay
// as the server has them, measured on the benchmark (PostgreSQL 15, two
// cores, restore -j2): maintenance_work_mem at 256MB or 1GB restored in
// the time the default 64MB did (medians of 5: 5.59 and 5.63 s against
// 5.73 s); max_parallel_maintenance_workers at 0 instead of 2 was 0.4 s
// slower (a big index build takes a core the other worker leaves idle).
//
// After each Create, an entry with an owner and an Ident gets
// ALTER <Ident> OWNER TO <owner> as a statement of its own (unless -O), so
// a missing role fails that statement only; an Ident of several lines (a
// BLOB METADATA group of large objects) gets one ALTER per line, sent
// together.
//
// # Large objects
//
// BLOB METADATA entries (pre-data) create large objects with lo_create;
// their BLOBS entries (data) carry the contents as rows (OID, offset,
// bytes). A worker loads each block of them in a transaction of its own:
// CREATE TEMP TABLE IF NOT EXISTS pgark_lo, COPY the block into it,
// SELECT lo_put(...) of every row, TRUNCATE; so blocks of large objects
// load in parallel like table data, a failed block writes nothing, and
// memory stays one block per worker. Scripts hold the same statements.
// With -c, lo_unlink drops them (--if-exists: only those that exist, as
// pg_restore writes it); --disable-triggers leaves BLOBS alone.
//
// # COPY binary
//
// Into a database (not with --text-copy), a table whose columns on the
// target are exactly those its COPY names, all of built-in types that
// internal/copybin knows, takes COPY binary (binaryTables, one catalog
// query). A binary block of the archive goes into it as it is when the
// target's column types are the entry's Types; any other binary block
// (a script, --text-copy, columns of other types) is turned into the
// text COPY would have written (codecs.text), which the server reads into
// whatever the target's types are. A text block goes as COPY binary where
// copybin converts it exactly (codecs.rows), else as text. The conversions
// run while a worker reads ahead, so they cost the server nothing.
//
// # Errors
//
// As pg_restore does, a failed statement is reported (Options.OnError, and
// Result.Errors: entry, first line of the statement, server message) and
// the restore goes on; it then ends with an *IgnoredError ("errors
// ignored on restore: N"). A failed COPY counts once, and nothing of it is
// loaded (its blocks: "blocks 4-9 not loaded"); the run goes on with the
// next block in a new COPY. A damaged block is never sent: it ends the
// COPY before it, is reported and skipped, and the run goes on after it.
// In a chain it fails the chain's COPY before the damaged part reaches
// the server (CopyFail), and the rest of the chain is skipped. With ExitOnError the first
// failure stops everything; with SingleTransaction (one connection, BEGIN
// ... COMMIT) it also rolls everything back. A lost connection always
// stops the restore. The Result says what was done and what was not.
//
// # Streams
//
// RunStream restores from a pipe with a format.Scanner: pre-data entries
// run as they arrive; each block is copied out of the scanner and handed to
// a worker over a channel as small as the worker pool, so a slow database
// slows the reading and memory stays bounded. A worker keeps its COPY open
// for the next block it receives while that block is of the same table,
// in the same form, and the COPY holds less than 256 MiB (runReader), so
// a table goes as about one COPY per worker; post-data entries, which a
// pgark dump writes after the data, are collected and run once the stream
// has ended cleanly. A stream cut short ends the restore with the
// scanner's error after the blocks handed out are loaded; nothing after
// them runs. -c needs the whole table of contents up front and is refused
// on streams (ErrCleanStream).
//
// # Scripts
//
// With Target.Script the same phases are written as a psql script (one
// connection, Jobs = 1): the session settings, each entry's SQL and owner,
// and each block as COPY ... FROM stdin; followed by its rows and \. —
// which psql -X -v ON_ERROR_STOP=1 -f replays.
//
// # Concurrency
//
// Run and RunStream may be called concurrently for different restores. In
// one restore, each worker owns one connection; Options.OnError and
// Options.Verbose are called from one goroutine at a time.
package restore
