// Package wal holds PostgreSQL's write-ahead log as pgark sees it: the
// domain types (LSN, TimelineID, SegmentNo, SegmentSize), the names of the
// files in pg_wal and in a WAL archive, and the archive itself (Push and
// Fetch, behind archive_command and restore_command).
//
// # Names
//
// A segment is named TTTTTTTTXXXXXXXXYYYYYYYY: the timeline, then the
// segment number split into the "log id" (high part) and the segment within
// it, each as 8 upper-case hex digits. How a SegmentNo maps to XXXXXXXX and
// YYYYYYYY depends on the segment size (initdb --wal-segsize, any power of
// two from 1 MiB to 1 GiB, 16 MiB by default), so every conversion between
// LSNs, segment numbers and names takes a SegmentSize. Other names are a
// segment name plus ".partial" (an incomplete last segment of a timeline),
// TTTTTTTT.history (a timeline history file) and
// TTTTTTTTXXXXXXXXYYYYYYYY.OOOOOOOO.backup (a backup history file; OOOOOOOO
// is the backup's start offset in its segment). ParseFileName recognises
// all four and nothing else.
//
// # The archive
//
// An archive directory holds one file per archived WAL file: its name plus
// ".zst", the content compressed as a single zstd frame that carries the
// frame content checksum (XXH64 of the content) and, but for contents under
// 256 bytes, the content size; `zstd -d` reads it. Every kind is
// compressed, history and backup history files too, so that every archived
// file is checked the same way on the way out; they are tiny, so nothing is
// lost. Empty files are never WAL files and are refused.
//
// Push (archive_command) never overwrites: if the name is already archived
// with the same content it succeeds without writing (the server may retry a
// segment whose first archiving succeeded but was not acknowledged), and
// with a different content it fails with ErrConflict. A new file is written
// to a temporary file in the archive directory, fsynced, decompressed again
// and compared with the source, linked into place under its final name
// (which fails rather than replaces if the name appeared meanwhile), and the
// directory is fsynced: after Push returns nil the file survives a crash.
//
// Fetch (restore_command) decompresses into a temporary file beside the
// target, checks the zstd checksum and the size of segments, fsyncs, and
// renames it into place, so the server never sees a partial or corrupt file.
// A name the archive does not hold is ErrNotFound, which restore_command
// must report differently from every other failure (ErrCorrupt, I/O).
//
// # Concurrency
//
// The types are values. Push and Fetch keep no state between calls; several
// may run at once on one archive, even from different processes: two
// pushes of one name race to link it, and the loser compares.
package wal
