package wal

import (
	"fmt"
	"strconv"
	"strings"
)

// FileKind says what a WAL file name names.
type FileKind int

const (
	// KindSegment is a complete segment: 000000010000000000000001.
	KindSegment FileKind = iota + 1
	// KindPartial is the incomplete last segment of a timeline, as the
	// server archives it at promotion and pg_receivewal writes it:
	// 000000010000000000000001.partial.
	KindPartial
	// KindHistory is a timeline history file: 00000002.history.
	KindHistory
	// KindBackupHistory is a backup history file, written at the end of a
	// base backup: 000000010000000000000002.00000028.backup.
	KindBackupHistory
)

func (k FileKind) String() string {
	switch k {
	case KindSegment:
		return "segment"
	case KindPartial:
		return "partial segment"
	case KindHistory:
		return "timeline history"
	case KindBackupHistory:
		return "backup history"
	}
	return "FileKind(" + strconv.Itoa(int(k)) + ")"
}

// FileName is a parsed WAL file name. LogID and LogSeg are the name's
// second and third hex fields as written; which SegmentNo they mean depends
// on the segment size (see Segment).
type FileName struct {
	Kind     FileKind
	Timeline TimelineID
	LogID    uint32 // not for KindHistory
	LogSeg   uint32 // not for KindHistory
	Offset   uint32 // KindBackupHistory only: the backup's start offset in the segment
}

// ParseFileName parses the name of a segment, partial segment, timeline
// history or backup history file (a base name, no directory). Hex digits
// must be upper case, as the server writes them; the timeline must not be 0.
func ParseFileName(name string) (FileName, error) {
	bad := func() (FileName, error) {
		return FileName{}, fmt.Errorf("%w: WAL file name %q", ErrSyntax, name)
	}
	hex32 := func(s string) (uint32, bool) {
		if len(s) != 8 || !isUpperHex(s) {
			return 0, false
		}
		v, _ := strconv.ParseUint(s, 16, 32)
		return uint32(v), true
	}
	var f FileName
	base, ext, _ := strings.Cut(name, ".")
	switch {
	case len(name) == 24 && ext == "" && base == name:
		f.Kind = KindSegment
	case ext == "partial" && len(base) == 24:
		f.Kind = KindPartial
	case ext == "history" && len(base) == 8:
		f.Kind = KindHistory
	case len(base) == 24 && len(ext) == 8+len(".backup") && strings.HasSuffix(ext, ".backup"):
		f.Kind = KindBackupHistory
		off, ok := hex32(ext[:8])
		if !ok {
			return bad()
		}
		f.Offset = off
	default:
		return bad()
	}
	tli, ok := hex32(base[:8])
	if !ok || tli == 0 {
		return bad()
	}
	f.Timeline = TimelineID(tli)
	if f.Kind == KindHistory {
		return f, nil
	}
	if f.LogID, ok = hex32(base[8:16]); !ok {
		return bad()
	}
	if f.LogSeg, ok = hex32(base[16:24]); !ok {
		return bad()
	}
	return f, nil
}

// String formats f back into its file name.
func (f FileName) String() string {
	base := fmt.Sprintf("%08X%08X%08X", uint32(f.Timeline), f.LogID, f.LogSeg)
	switch f.Kind {
	case KindPartial:
		return base + ".partial"
	case KindHistory:
		return HistoryFileName(f.Timeline)
	case KindBackupHistory:
		return fmt.Sprintf("%s.%08X.backup", base, f.Offset)
	}
	return base
}

// Segment returns the segment number f names for segment size s; it fails
// when LogSeg is out of range for that size (as 000000010000000000000100 is
// for 16 MiB segments) or for a history file.
func (f FileName) Segment(s SegmentSize) (SegmentNo, error) {
	if f.Kind == KindHistory {
		return 0, fmt.Errorf("wal: %s names no segment", f)
	}
	if err := s.Check(); err != nil {
		return 0, err
	}
	per := s.SegmentsPerID()
	if uint64(f.LogSeg) >= per {
		return 0, fmt.Errorf("wal: %s is not a valid name for %s segments", f, s)
	}
	return SegmentNo(uint64(f.LogID)*per + uint64(f.LogSeg)), nil
}

// SegmentFileName names segment seg of timeline tli (XLogFileName).
func SegmentFileName(tli TimelineID, seg SegmentNo, s SegmentSize) string {
	return segmentFileName(tli, seg, s).String()
}

func segmentFileName(tli TimelineID, seg SegmentNo, s SegmentSize) FileName {
	per := s.SegmentsPerID()
	return FileName{Kind: KindSegment, Timeline: tli,
		LogID: uint32(uint64(seg) / per), LogSeg: uint32(uint64(seg) % per)}
}

// PartialFileName is SegmentFileName plus ".partial".
func PartialFileName(tli TimelineID, seg SegmentNo, s SegmentSize) string {
	return SegmentFileName(tli, seg, s) + ".partial"
}

// HistoryFileName names the history file of timeline tli (TLHistoryFileName).
func HistoryFileName(tli TimelineID) string { return fmt.Sprintf("%08X.history", uint32(tli)) }

// BackupHistoryFileName names the backup history file of a base backup
// that started at start on timeline tli (BackupHistoryFileName).
func BackupHistoryFileName(tli TimelineID, start LSN, s SegmentSize) string {
	f := segmentFileName(tli, s.Segment(start), s)
	f.Kind, f.Offset = KindBackupHistory, uint32(s.Offset(start))
	return f.String()
}

func isUpperHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
