// Package receivewal streams write-ahead log from a server into a
// directory, as pg_receivewal does: Run streams (and follows timeline
// switches) until an end position, a cancelled context or, with NoLoop, a
// lost connection; CreateSlot and DropSlot manage the physical replication
// slot that makes the server keep WAL until it has been received.
//
// # The protocol sequence
//
// Run first checks, on one replication connection, that the server is
// PostgreSQL 15 or later (replication.CheckServerVersion), that the
// connection is not database specific, the segment size (SHOW
// wal_segment_size) and, with a slot, that the slot exists and is
// physical (READ_REPLICATION_SLOT). Failures there end Run. Then each
// session on a connection:
//
//  1. IDENTIFY_SYSTEM: the system must be the one first seen; the server's
//     timeline and WAL position are the last-resort start.
//  2. The start: what the directory already has (wal.FindStreamingStart:
//     just past the newest complete segment, or the start of the newest
//     .partial one, on that file's timeline); else the slot's restart_lsn
//     and restart_tli (READ_REPLICATION_SLOT); else the server's position
//     and timeline. It is rounded down to a segment start: a .partial
//     segment is streamed again from its start.
//  3. For a timeline after 1 whose history file the directory lacks,
//     TIMELINE_HISTORY, written durably (wal.WriteFileDurably).
//  4. START_REPLICATION [SLOT s] PHYSICAL start TIMELINE t, then WAL into
//     a wal.SegmentWriter, with standby status updates (below).
//  5. When the server ends the timeline (CopyDone, then the next timeline
//     and its start), the open segment stays .partial, and the session
//     goes back to step 3 with the next timeline from the segment holding
//     the switch point. When the server ends the stream without a next
//     timeline (it is shutting down), the session fails.
//
// With an end position the session stops, after a final status update,
// once WAL past it has been received and made durable; a segment it ends
// in stays .partial. A session that fails for any other reason than the
// context is retried on a new connection after ReconnectDelay, unless
// NoLoop.
//
// # What is durable when
//
// Segments are written as NAME.partial, created zero-filled and fsynced
// with the directory before WAL goes in, and renamed to NAME after an
// fsync once full, the directory fsynced again (see wal.SegmentWriter).
// The flush position reported to the server (and so the point up to which
// a slot lets the server remove WAL) is only ever what has been fsynced:
// with Synchronous the .partial is fsynced after every WAL message and a
// status update sent at once; otherwise it is fsynced when the segment is
// complete, before each periodic status update and when the server asks
// for a reply. When the stream stops (cancellation, a lost connection) the
// open .partial is fsynced and closed and stays: the next run resumes from
// its start.
//
// # Concurrency
//
// Run uses one connection at a time from one goroutine; it returns when
// ctx ends, interrupting network waits. Two runs must not share a
// directory.
package receivewal
