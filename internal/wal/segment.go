package wal

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// SegmentSize is the size of a WAL segment file in bytes (the server's
// wal_segment_size): a power of two from MinSegmentSize to MaxSegmentSize.
type SegmentSize uint64

const (
	MinSegmentSize     SegmentSize = 1 << 20
	MaxSegmentSize     SegmentSize = 1 << 30
	DefaultSegmentSize SegmentSize = 16 << 20
)

// Valid reports whether s is a size initdb accepts.
func (s SegmentSize) Valid() bool {
	return s >= MinSegmentSize && s <= MaxSegmentSize && bits.OnesCount64(uint64(s)) == 1
}

// Check returns an error when s is not Valid.
func (s SegmentSize) Check() error {
	if !s.Valid() {
		return fmt.Errorf("wal: invalid WAL segment size %d: want a power of two from 1MB to 1GB", uint64(s))
	}
	return nil
}

// String is the size as SHOW wal_segment_size prints it: "16MB", "1GB".
func (s SegmentSize) String() string {
	switch {
	case s >= 1<<30 && s%(1<<30) == 0:
		return strconv.FormatUint(uint64(s>>30), 10) + "GB"
	case s >= 1<<20 && s%(1<<20) == 0:
		return strconv.FormatUint(uint64(s>>20), 10) + "MB"
	case s >= 1<<10 && s%(1<<10) == 0:
		return strconv.FormatUint(uint64(s>>10), 10) + "kB"
	}
	return strconv.FormatUint(uint64(s), 10) + "B"
}

// ParseSegmentSize parses wal_segment_size as SHOW reports it ("16MB",
// "1GB", "1024kB") or a plain number of bytes, and checks it is Valid.
func ParseSegmentSize(s string) (SegmentSize, error) {
	num, mult := s, uint64(1)
	for _, u := range []struct {
		suffix string
		mult   uint64
	}{{"kB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"B", 1}} {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			num, mult = n, u.mult
			break
		}
	}
	v, err := strconv.ParseUint(num, 10, 64)
	if err != nil || num == "" || num[0] == '+' || v > uint64(MaxSegmentSize)/mult {
		return 0, fmt.Errorf("%w: WAL segment size %q", ErrSyntax, s)
	}
	size := SegmentSize(v * mult)
	if err := size.Check(); err != nil {
		return 0, err
	}
	return size, nil
}

// SegmentsPerID is the number of segments per "log id", the high 32 bits
// of an LSN (XLogSegmentsPerXLogId): 256 for 16 MiB segments.
func (s SegmentSize) SegmentsPerID() uint64 { return (1 << 32) / uint64(s) }

// Segment returns the segment that holds l (XLByteToSeg).
func (s SegmentSize) Segment(l LSN) SegmentNo { return SegmentNo(uint64(l) / uint64(s)) }

// Offset returns l's offset in its segment (XLogSegmentOffset).
func (s SegmentSize) Offset(l LSN) uint64 { return uint64(l) & (uint64(s) - 1) }

// StartLSN returns the LSN of the first byte of seg (XLogSegNoOffsetToRecPtr
// with offset 0).
func (s SegmentSize) StartLSN(seg SegmentNo) LSN { return LSN(uint64(seg) * uint64(s)) }

// SegmentNo numbers WAL segments from the start of the WAL address space
// (XLogSegNo); the segment holding LSN l is l / segment size.
type SegmentNo uint64

// String is the decimal form.
func (n SegmentNo) String() string { return strconv.FormatUint(uint64(n), 10) }
