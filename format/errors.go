package format

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Test with errors.Is.
var (
	// ErrNotArchive means the input does not start with a pgark archive header.
	ErrNotArchive = errors.New("format: not a pgark archive")
	// ErrCorrupt is matched by every *CorruptError.
	ErrCorrupt = errors.New("format: corrupt archive")
	// ErrTruncated means the archive ends before it should; it is reported
	// inside a *CorruptError, so errors.Is(err, ErrCorrupt) holds as well.
	ErrTruncated = errors.New("format: archive truncated")
	// ErrClosed is returned by a Writer used after Close.
	ErrClosed = errors.New("format: writer closed")
)

// VersionError reports an archive whose format version this build cannot read.
type VersionError struct {
	Version uint16
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("format: archive format version %d is not supported (this build reads %v); use a newer pgark", e.Version, SupportedVersions)
}

// CorruptError says what is wrong with an archive and where.
type CorruptError struct {
	Offset int64      // byte offset of the record (or field) at fault
	Record RecordKind // kind of record, 0 when unknown
	Entry  uint32     // entry id, 0 when none
	Seq    uint32     // block sequence within the entry (data blocks) or index part
	Reason string
	Err    error // a more specific cause such as ErrTruncated, or nil
}

func (e *CorruptError) Error() string {
	var b strings.Builder
	b.WriteString("format: corrupt archive: ")
	switch {
	case e.Record == RecordData:
		fmt.Fprintf(&b, "entry %d data block %d at offset %d", e.Entry, e.Seq, e.Offset)
	case e.Record == RecordEntry:
		fmt.Fprintf(&b, "entry %d at offset %d", e.Entry, e.Offset)
	case e.Record == RecordIndex:
		fmt.Fprintf(&b, "index part %d at offset %d", e.Seq, e.Offset)
	case e.Record != 0:
		fmt.Fprintf(&b, "%s at offset %d", e.Record, e.Offset)
	default:
		fmt.Fprintf(&b, "offset %d", e.Offset)
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	// Truncation is the likeliest damage (a copy or a pipe cut short);
	// say so in words even where the reason only says where input ended.
	if errors.Is(e.Err, ErrTruncated) && !strings.Contains(e.Reason, "truncated") {
		b.WriteString(": the archive is truncated")
	}
	return b.String()
}

// Is makes errors.Is(err, ErrCorrupt) true for every CorruptError.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

func (e *CorruptError) Unwrap() error { return e.Err }
