// Package basebackup takes physical base backups over the replication
// protocol (internal/replication), PostgreSQL 15 and later, in two
// formats: Backup writes a pgark backup directory (compressed tar files,
// the backup's WAL, the manifest and a description written last; see
// DescriptionFile), which Unpack lays out as a data directory; Plain
// writes a data directory directly. Both check every file received
// against the server's manifest as the backup streams.
//
// # Sequence
//
// Plain is described; Backup differs where noted. Plain writes a data
// directory that a server can start on, as pg_basebackup -F plain does:
//
//  1. A replication connection checks the server version, runs
//     IDENTIFY_SYSTEM and reads wal_segment_size and data_directory_mode
//     (the mode the copy's directories get).
//  2. The target directory is created, or must be empty; so must every
//     tablespace's (after -T remapping).
//  3. With WALStream, a second connection creates a TEMPORARY physical
//     slot with RESERVE_WAL before the backup starts, so no WAL the backup
//     needs can be recycled; it dies with the connection.
//  4. BASE_BACKUP (no WAL, a manifest unless NoManifest, PROGRESS when
//     progress is reported) returns the start LSN; the WAL connection then
//     streams (START_REPLICATION SLOT ... PHYSICAL from the start LSN's
//     segment, on the backup's timeline) into pg_wal, each segment written
//     as NAME.partial, zero-filled, fsynced and renamed to NAME when full.
//  5. Each archive's tar stream is extracted as it arrives: the main one
//     into the target, each tablespace's into its (remapped) directory;
//     pg_tblspc's symbolic links point at the remapped directories.
//     (Backup instead writes each stream as it is, zstd-compressed, to
//     base.tar.zst or OID.tar.zst, walking its tar headers on the way.)
//     Every regular file's size and checksum (the manifest's algorithm)
//     is computed as it passes. The manifest is read whole, checked (its
//     own SHA-256, every file listed received with that size and
//     checksum, nothing received unlisted outside pg_wal, the system
//     identifier, the WAL range) and written byte for byte to
//     backup_manifest.
//  6. The end LSN result set and the command's completion are read; any
//     server error, data checksum failures (SQLSTATE XX001, which the
//     server reports after the end position) included, fails the backup.
//     The WAL receiver stops once it has the WAL up to the end LSN,
//     completes its last segment and ends the stream with CopyDone.
//  7. Every file and directory written is fsynced.
//  8. (Backup: the streamed WAL is stored under wal/ as archive-wal
//     stores it, everything fsynced, and pgark-backup.json written through
//     a temporary file, which marks the backup complete.)
//     Completion is marked last: the server's global/pg_control is
//     written as global/pg_control.pgark-incomplete and renamed into place
//     only now, and the directory fsynced. A directory without pg_control
//     is refused by every PostgreSQL server and by pg_verifybackup, so an
//     unfinished backup cannot be started by mistake.
//
// On failure (an interruption included) Plain removes what it wrote: the
// directories it created, or the contents of the empty ones it was given;
// with Options.NoClean it leaves them, still without pg_control.
//
// # Concurrency
//
// A backup runs two goroutines: one reads the backup stream and writes files,
// the other receives WAL. They share nothing but the end LSN, handed over
// once. The Progress and Warn callbacks are called from the first.
package basebackup
