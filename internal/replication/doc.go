// Package replication speaks PostgreSQL's streaming replication protocol
// on a pgconn connection opened in replication mode (see Connect and
// conn.ReplicationConfig): the commands IDENTIFY_SYSTEM, SHOW,
// TIMELINE_HISTORY, CREATE/READ/DROP_REPLICATION_SLOT, the BASE_BACKUP
// command and its PostgreSQL 15+ CopyData stream, and START_REPLICATION's
// CopyBoth stream of WAL.
//
// # Pure decoders beside thin network calls
//
// Every wire message is decoded or encoded by a pure function on a byte
// slice that includes the message's type byte: ParseXLogData ('w'),
// ParsePrimaryKeepalive ('k'), EncodeStandbyStatusUpdate ('r'),
// ParseBaseBackupMessage ('n', 'd', 'p', 'm'), and BaseBackupCommand builds
// the command text. They are table-tested and fuzzed. The network functions
// only move messages: they send a command through pgconn's Frontend, read
// with pgconn's ReceiveMessage (so ctx cancels them) and call the decoders.
// Decoded Data fields alias the input slice; the network functions copy,
// so what they return stays valid.
//
// # Server versions
//
// The commands work on PostgreSQL 10 and later, except BASE_BACKUP and
// READ_REPLICATION_SLOT, which this package supports only from 15 on (the
// CopyData framing of BASE_BACKUP changed in 15: older servers send one
// CopyOutResponse per tablespace); older servers get an error wrapping
// ErrUnsupportedServer from CheckServerVersion. Version differences are
// decided in that function and in slotCommand only.
//
// # Concurrency
//
// As with pgconn, a connection is used by one goroutine at a time. While a
// replication stream is open (between StartReplication and the end of
// Stop) the connection carries nothing else; Stream is not safe for
// concurrent use, but one goroutine may receive while no other touches it.
package replication
