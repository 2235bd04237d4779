package wal

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// LSN is a position in the write-ahead log (PostgreSQL's XLogRecPtr). Its
// text form is two hex numbers, the high and low 32 bits: "16/B374D848".
type LSN uint64

// InvalidLSN is PostgreSQL's InvalidXLogRecPtr, "0/0".
const InvalidLSN LSN = 0

// ErrSyntax is wrapped by the Parse functions' errors.
var ErrSyntax = errors.New("wal: invalid syntax")

// String formats l as pg_lsn_out does up to PostgreSQL 18: "%X/%X", so
// "0/16B3740". (PostgreSQL 19 pads the low half to 8 digits; ParseLSN
// reads both.)
func (l LSN) String() string {
	return fmt.Sprintf("%X/%X", uint32(l>>32), uint32(l))
}

// ParseLSN parses the text form of an LSN as pg_lsn_in does: one to eight
// hex digits, a slash, one to eight hex digits, in either case.
func ParseLSN(s string) (LSN, error) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok || !isHex(hi, 1, 8) || !isHex(lo, 1, 8) {
		return 0, fmt.Errorf("%w: LSN %q", ErrSyntax, s)
	}
	h, _ := strconv.ParseUint(hi, 16, 32)
	l, _ := strconv.ParseUint(lo, 16, 32)
	return LSN(h<<32 | l), nil
}

// MarshalText implements encoding.TextMarshaler.
func (l LSN) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (l *LSN) UnmarshalText(b []byte) error {
	v, err := ParseLSN(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// Add returns l advanced by n bytes. It panics on overflow past the end of
// the WAL address space, which no server reaches.
func (l LSN) Add(n uint64) LSN {
	if uint64(l)+n < uint64(l) {
		panic("wal: LSN overflow")
	}
	return l + LSN(n)
}

// Sub returns the number of bytes from o to l, as pg_wal_lsn_diff does; it
// is negative when o is after l.
func (l LSN) Sub(o LSN) int64 { return int64(uint64(l) - uint64(o)) }

// isHex reports whether s is min..max hex digits.
func isHex(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// TimelineID is a WAL timeline; the first is 1, and each promotion (or
// point-in-time recovery that ends) starts a new one. Zero is invalid.
type TimelineID uint32

// String is the decimal form, as IDENTIFY_SYSTEM and pg_controldata show it.
func (t TimelineID) String() string { return strconv.FormatUint(uint64(t), 10) }

// ParseTimelineID parses a decimal timeline ID; zero is refused.
func ParseTimelineID(s string) (TimelineID, error) {
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil || v == 0 || s[0] == '+' {
		return 0, fmt.Errorf("%w: timeline ID %q", ErrSyntax, s)
	}
	return TimelineID(v), nil
}
