// Package bench measures pgark against pg_dump and pg_restore side by side,
// on one throwaway PostgreSQL server and one generated database, and says
// how far issue 6's targets are met. `make bench` runs it through
// bench/cmd/pgark-bench.
//
// # The dataset
//
// Dataset.Statements is plain SQL, generated server-side (generate_series,
// md5, random() after setseed), so the same Dataset gives the same rows on
// every run and machine. One dominant table, events, holds Dataset.Rows
// rows with realistic entropy: bigint id, uuid (md5), increasing
// timestamptz with jitter, skewed numeric(12,2), a skewed status text, inet
// (5% NULL), a jsonb of four keys and free text of 3 to 18 words drawn by a
// Zipf law from 8192 syllable-built words. It has a primary key and two
// secondary indexes. Dataset.SmallTables small tables (dim_000...,
// 200 to 1999 rows each) have a primary key, a unique key, indexes, a
// foreign key to events and one to their parent small table (a binary
// tree). Data is loaded first, then indexes and keys; VACUUM (FREEZE,
// ANALYZE) then sets hint bits so no dump is the first to write them.
//
// # What is measured
//
// Run builds pgark (CGO_ENABLED=0) unless given a binary, starts the
// server from Config.PGBinDir (PostgreSQL 15 by default: pg_dump and
// pg_restore 15 read servers and archives up to 15 only) with
// internal/testcluster, which runs it with fsync=off: both tools write
// through the same unsynced server, so the comparison is equal but absolute
// restore times are lower than on a durable server. Then, Config.Runs
// times each, rounds interleaved so drift hits every variant alike, and a
// CHECKPOINT and a sync(2) before each run (no run pays for writing out
// what the one before it left dirty):
//
//   - the single-stream limit: COPY events TO STDOUT into io.Discard, on one
//     pgconn connection in this process;
//   - pgark dump -j1 and -j2, pg_dump -Fc and pg_dump -Fd -j2, each into a
//     file or directory of the work dir, all with their default
//     compression (pgark zstd:1, pg_dump gzip 6);
//   - pgark restore -j1 and -j2 of the pgark -j2 archive, -j2 again with
//     --text-copy (COPY text only, to show what COPY binary gains), and
//     pg_restore -j2 of the pg_dump -Fd -j2 directory, each into a new empty
//     database,
//     which is then checked against the source (row counts of every table,
//     a checksum of events' rows, numbers of relations and constraints)
//     and dropped.
//
// Each client is timed from start to exit (wall clock), with its CPU time
// and peak RSS from wait4's rusage. For a tool that forks workers (pg_dump
// -Fd -j, pg_restore -j) the peak RSS is that of its largest single process,
// not their sum; pgark is always one process. The machine's CPU time
// during each run (server and client, from /proc/stat on Linux) shows how
// many cores a variant kept busy: a ratio that cannot improve because both
// tools already keep every core busy is limited by the CPU, not by pgark.
//
// # The report
//
// Report holds medians, each run's time, archive sizes and the ratios
// issue 6 sets goals for, each marked PASS or MISS: dump -j2 at least 2.5x
// faster than pg_dump -Fc, an archive at most 0.9x its size, restore -j2
// at least 1.4x faster than pg_restore -j2, dump -j1 within 1.3x of the
// COPY limit (the whole dump against the dominant table's COPY alone), and
// pgark's peak RSS under 300 MB. The verdicts are reported, never asserted:
// a MISS is a finding, not a failure. WriteText prints the tables,
// WriteJSON the same for machines.
//
// # Concurrency
//
// Run measures one variant at a time, so runs never compete; concurrent
// Runs would share the machine and distort each other. A Run uses only its
// own server and work directory, and the package has no global state.
package bench
