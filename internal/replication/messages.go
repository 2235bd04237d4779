package replication

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/pgark/pgark/internal/wal"
)

// pgEpoch is PostgreSQL's timestamp epoch; protocol times count
// microseconds from it.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// pgTime converts protocol microseconds to a time, exactly for any value
// (a time.Duration would overflow past 292 years).
func pgTime(us int64) time.Time {
	sec, rem := us/1e6, us%1e6
	if rem < 0 {
		sec, rem = sec-1, rem+1e6
	}
	return time.Unix(pgEpoch.Unix()+sec, rem*1000).UTC()
}

// pgMicros converts a time to protocol microseconds; the zero time is 0.
func pgMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return (t.Unix()-pgEpoch.Unix())*1e6 + int64(t.Nanosecond()/1000)
}

// Message type bytes, the first byte of each CopyData payload.
const (
	TypeXLogData             = 'w'
	TypePrimaryKeepalive     = 'k'
	TypeStandbyStatusUpdate  = 'r'
	TypeBaseBackupNewArchive = 'n'
	TypeBaseBackupData       = 'd'
	TypeBaseBackupProgress   = 'p'
	TypeBaseBackupManifest   = 'm'
)

func protoErr(what string, b []byte, format string, args ...any) error {
	return fmt.Errorf("%w: %s message of %d bytes: %s", ErrProtocol, what, len(b), fmt.Sprintf(format, args...))
}

// XLogData is a 'w' message of a START_REPLICATION stream: WAL from
// WALStart on.
type XLogData struct {
	WALStart     wal.LSN   // LSN of Data's first byte
	ServerWALEnd wal.LSN   // the end of WAL on the server
	ServerTime   time.Time // when the server sent it
	Data         []byte    // aliases the parsed message
}

// End is the LSN just past Data.
func (x XLogData) End() wal.LSN { return x.WALStart.Add(uint64(len(x.Data))) }

// ParseXLogData decodes a 'w' CopyData payload (type byte included):
// Int64 start, Int64 end, Int64 send time, then the WAL bytes.
func ParseXLogData(b []byte) (XLogData, error) {
	const hdr = 1 + 8 + 8 + 8
	if len(b) < hdr || b[0] != TypeXLogData {
		return XLogData{}, protoErr("XLogData", b, "want type 'w' and at least %d bytes", hdr)
	}
	x := XLogData{
		WALStart:     wal.LSN(binary.BigEndian.Uint64(b[1:])),
		ServerWALEnd: wal.LSN(binary.BigEndian.Uint64(b[9:])),
		ServerTime:   pgTime(int64(binary.BigEndian.Uint64(b[17:]))),
		Data:         b[hdr:],
	}
	if uint64(x.WALStart)+uint64(len(x.Data)) < uint64(x.WALStart) {
		return XLogData{}, protoErr("XLogData", b, "WAL past the end of the address space")
	}
	return x, nil
}

// PrimaryKeepalive is a 'k' message of a START_REPLICATION stream.
type PrimaryKeepalive struct {
	ServerWALEnd   wal.LSN
	ServerTime     time.Time
	ReplyRequested bool // the server wants a status update now
}

// ParsePrimaryKeepalive decodes a 'k' CopyData payload (type byte
// included): Int64 end of WAL, Int64 send time, Byte1 reply requested.
func ParsePrimaryKeepalive(b []byte) (PrimaryKeepalive, error) {
	const size = 1 + 8 + 8 + 1
	if len(b) != size || b[0] != TypePrimaryKeepalive {
		return PrimaryKeepalive{}, protoErr("primary keepalive", b, "want type 'k' and %d bytes", size)
	}
	if b[17] > 1 {
		return PrimaryKeepalive{}, protoErr("primary keepalive", b, "reply flag %d", b[17])
	}
	return PrimaryKeepalive{
		ServerWALEnd:   wal.LSN(binary.BigEndian.Uint64(b[1:])),
		ServerTime:     pgTime(int64(binary.BigEndian.Uint64(b[9:]))),
		ReplyRequested: b[17] == 1,
	}, nil
}

// StandbyStatus is an 'r' standby status update: how far the client has
// written, flushed (durably) and applied WAL. A physical WAL receiver that
// applies nothing reports InvalidLSN as Apply, as pg_receivewal does.
type StandbyStatus struct {
	Write, Flush, Apply wal.LSN
	ClientTime          time.Time // zero means now is not sent: 0 on the wire
	ReplyRequested      bool      // ask the server for a keepalive at once
}

// StandbyStatusSize is the length of an encoded standby status update.
const StandbyStatusSize = 1 + 8 + 8 + 8 + 8 + 1

// EncodeStandbyStatusUpdate appends the 'r' CopyData payload (type byte
// included) for s to dst.
func EncodeStandbyStatusUpdate(dst []byte, s StandbyStatus) []byte {
	dst = append(dst, TypeStandbyStatusUpdate)
	dst = binary.BigEndian.AppendUint64(dst, uint64(s.Write))
	dst = binary.BigEndian.AppendUint64(dst, uint64(s.Flush))
	dst = binary.BigEndian.AppendUint64(dst, uint64(s.Apply))
	dst = binary.BigEndian.AppendUint64(dst, uint64(pgMicros(s.ClientTime)))
	reply := byte(0)
	if s.ReplyRequested {
		reply = 1
	}
	return append(dst, reply)
}

// ParseStandbyStatusUpdate decodes what EncodeStandbyStatusUpdate writes;
// tests and fakes of a server use it.
func ParseStandbyStatusUpdate(b []byte) (StandbyStatus, error) {
	if len(b) != StandbyStatusSize || b[0] != TypeStandbyStatusUpdate {
		return StandbyStatus{}, protoErr("standby status update", b, "want type 'r' and %d bytes", StandbyStatusSize)
	}
	if b[33] > 1 {
		return StandbyStatus{}, protoErr("standby status update", b, "reply flag %d", b[33])
	}
	s := StandbyStatus{
		Write:          wal.LSN(binary.BigEndian.Uint64(b[1:])),
		Flush:          wal.LSN(binary.BigEndian.Uint64(b[9:])),
		Apply:          wal.LSN(binary.BigEndian.Uint64(b[17:])),
		ReplyRequested: b[33] == 1,
	}
	if us := int64(binary.BigEndian.Uint64(b[25:])); us != 0 {
		s.ClientTime = pgTime(us)
	}
	return s, nil
}

// BaseBackupMessage is one CopyData message of a PostgreSQL 15+
// BASE_BACKUP stream: *NewArchive, *ArchiveData, *Progress or
// *ManifestStart.
type BaseBackupMessage interface{ baseBackupMessage() }

// NewArchive ('n') starts an archive: the main data directory's
// (base.tar, TablespaceLocation "") or a tablespace's (<oid>.tar). The
// data messages that follow, until the next NewArchive or ManifestStart,
// belong to it.
type NewArchive struct {
	Name               string
	TablespaceLocation string // "" for the main data directory
}

// ArchiveData ('d') is a piece of the current archive, or of the manifest
// after ManifestStart.
type ArchiveData struct {
	Data []byte // aliases the parsed message
}

// Progress ('p') reports how many bytes of the current archive the server
// has sent, when PROGRESS was asked for.
type Progress struct {
	Bytes int64
}

// ManifestStart ('m') says the data messages that follow are the backup
// manifest.
type ManifestStart struct{}

func (*NewArchive) baseBackupMessage()    {}
func (*ArchiveData) baseBackupMessage()   {}
func (*Progress) baseBackupMessage()      {}
func (*ManifestStart) baseBackupMessage() {}

// ParseBaseBackupMessage decodes a CopyData payload (type byte included)
// of a PostgreSQL 15+ BASE_BACKUP stream:
//
//	'n' String archive name, String tablespace location
//	'd' Byten data
//	'p' Int64 bytes done
//	'm' (nothing)
func ParseBaseBackupMessage(b []byte) (BaseBackupMessage, error) {
	if len(b) == 0 {
		return nil, protoErr("base backup", b, "empty")
	}
	switch b[0] {
	case TypeBaseBackupNewArchive:
		rest := b[1:]
		name, rest, ok := cString(rest)
		if !ok {
			return nil, protoErr("base backup new archive", b, "unterminated archive name")
		}
		loc, rest, ok := cString(rest)
		if !ok {
			return nil, protoErr("base backup new archive", b, "unterminated tablespace location")
		}
		if len(rest) != 0 {
			return nil, protoErr("base backup new archive", b, "%d trailing bytes", len(rest))
		}
		if name == "" {
			return nil, protoErr("base backup new archive", b, "empty archive name")
		}
		return &NewArchive{Name: name, TablespaceLocation: loc}, nil
	case TypeBaseBackupData:
		return &ArchiveData{Data: b[1:]}, nil
	case TypeBaseBackupProgress:
		if len(b) != 9 {
			return nil, protoErr("base backup progress", b, "want 9 bytes")
		}
		n := int64(binary.BigEndian.Uint64(b[1:]))
		if n < 0 {
			return nil, protoErr("base backup progress", b, "negative byte count %d", n)
		}
		return &Progress{Bytes: n}, nil
	case TypeBaseBackupManifest:
		if len(b) != 1 {
			return nil, protoErr("base backup manifest start", b, "want 1 byte")
		}
		return &ManifestStart{}, nil
	}
	return nil, protoErr("base backup", b, "unknown type %q", b[0])
}

// cString splits a NUL-terminated string off b.
func cString(b []byte) (s string, rest []byte, ok bool) {
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return "", nil, false
	}
	return string(b[:i]), b[i+1:], true
}
