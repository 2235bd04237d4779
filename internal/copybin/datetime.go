package copybin

import (
	"encoding/binary"
	"errors"
	"math"
)

var (
	errDate      = errors.New("not a canonical ISO date in range")
	errTimestamp = errors.New("not a canonical ISO timestamp in range")
)

// Days are counted from 2000-01-01 (PostgreSQL's epoch) in the proleptic
// Gregorian calendar, astronomical years (1 BC is year 0).
const (
	usecsPerDay = 86_400_000_000
	// minDays is Julian day 0, 4714-11-24 BC: the first valid date and
	// timestamp (IS_VALID_JULIAN, MIN_TIMESTAMP).
	minDays = -2_451_545
	// dateEndDays is the first date past the date range (DATE_END_JULIAN,
	// 5874898-01-01).
	dateEndDays = 2_147_483_494 + minDays
	// timestampEndDays is the first day past the timestamp range
	// (TIMESTAMP_END_JULIAN, 294277-01-01).
	timestampEndDays = 109_203_528 + minDays
)

// daysFromCivil returns the days from 2000-01-01 to y-m-d (astronomical
// year), by the usual era/day-of-era decomposition (Howard Hinnant's).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12 // March is 0
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146_097 + doe - 730_425 // 0000-03-01 to 2000-01-01
}

func isLeap(y int64) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// digits2 parses exactly two decimal digits.
func digits2(v []byte) (int64, bool) {
	if len(v) < 2 || v[0] < '0' || v[0] > '9' || v[1] < '0' || v[1] > '9' {
		return 0, false
	}
	return int64(v[0]-'0')*10 + int64(v[1]-'0'), true
}

// parseDate parses YYYY-MM-DD as EncodeDateOnly writes it in ISO style
// (the year zero-padded to 4 digits, more for years past 9999, never with a
// leading zero then) at the start of v, and returns the displayed year,
// month and day and the rest of v. The day is checked by daysOf.
func parseDate(v []byte) (year, month, day int64, rest []byte, ok bool) {
	n := 0
	for n < len(v) && v[n] >= '0' && v[n] <= '9' {
		year = year*10 + int64(v[n]-'0')
		n++
		if n > 7 { // past every valid year
			return 0, 0, 0, nil, false
		}
	}
	if n < 4 || (n > 4 && v[0] == '0') || year == 0 || len(v) < n+6 || v[n] != '-' || v[n+3] != '-' {
		return 0, 0, 0, nil, false
	}
	month, ok1 := digits2(v[n+1:])
	day, ok2 := digits2(v[n+4:])
	if !ok1 || !ok2 || month < 1 || month > 12 || day < 1 {
		return 0, 0, 0, nil, false
	}
	return year, month, day, v[n+6:], true
}

// daysOf validates a calendar date (astronomical year) and returns its days
// from 2000-01-01.
func daysOf(year, month, day int64) (int64, bool) {
	dim := int64(31)
	switch month {
	case 4, 6, 9, 11:
		dim = 30
	case 2:
		dim = 28
		if isLeap(year) {
			dim = 29
		}
	}
	if day > dim {
		return 0, false
	}
	return daysFromCivil(year, month, day), true
}

// bcSuffix strips a trailing " BC" and reports whether it was there.
func bcSuffix(v []byte) ([]byte, bool) {
	if n := len(v); n >= 3 && string(v[n-3:]) == " BC" {
		return v[:n-3], true
	}
	return v, false
}

// appendDate: date_out writes infinity, -infinity or an ISO date with " BC"
// for years before 1; date_send the days from 2000-01-01 as int32, the
// infinities as its extremes.
func appendDate(dst, v []byte) ([]byte, error) {
	var days int64
	switch string(v) {
	case "infinity":
		days = math.MaxInt32
	case "-infinity":
		days = math.MinInt32
	default:
		v, bc := bcSuffix(v)
		year, month, day, rest, ok := parseDate(v)
		if !ok || len(rest) != 0 {
			return dst, errDate
		}
		if bc {
			year = 1 - year
		}
		if days, ok = daysOf(year, month, day); !ok || days < minDays || days >= dateEndDays {
			return dst, errDate
		}
	}
	return binary.BigEndian.AppendUint32(dst, uint32(int32(days))), nil
}

// appendTimestamp: timestamp_out and timestamptz_out write infinity,
// -infinity or, in ISO style, the date, a space, HH:MM:SS, a fraction of 1
// to 6 digits without trailing zeros when not whole, for timestamptz the
// UTC offset (EncodeTimezone: +HH, +HH:MM or +HH:MM:SS, "+" for zero), and
// " BC" for years before 1. The send functions write int64 microseconds
// from 2000-01-01 00:00:00 (UTC for timestamptz), the infinities as its
// extremes. The range checks are the input functions': the local date must
// be a valid Julian date and the instant within the timestamp range.
func appendTimestamp(dst, v []byte, withTZ bool) ([]byte, error) {
	switch string(v) {
	case "infinity":
		return binary.BigEndian.AppendUint64(dst, math.MaxInt64), nil
	case "-infinity":
		return binary.BigEndian.AppendUint64(dst, 1<<63), nil
	}
	v, bc := bcSuffix(v)
	year, month, day, rest, ok := parseDate(v)
	if !ok || len(rest) < 9 || rest[0] != ' ' || rest[3] != ':' || rest[6] != ':' {
		return dst, errTimestamp
	}
	hh, ok1 := digits2(rest[1:])
	mm, ok2 := digits2(rest[4:])
	ss, ok3 := digits2(rest[7:])
	if !ok1 || !ok2 || !ok3 || hh > 23 || mm > 59 || ss > 59 {
		return dst, errTimestamp
	}
	usec := ((hh*60+mm)*60 + ss) * 1_000_000
	rest = rest[9:]
	if len(rest) > 0 && rest[0] == '.' {
		n, scale := 1, int64(100_000)
		for ; n < len(rest) && rest[n] >= '0' && rest[n] <= '9'; n++ {
			if scale == 0 {
				return dst, errTimestamp
			}
			usec += int64(rest[n]-'0') * scale
			scale /= 10
		}
		if n == 1 || rest[n-1] == '0' {
			return dst, errTimestamp
		}
		rest = rest[n:]
	}
	var offset int64
	if withTZ {
		if offset, rest, ok = parseOffset(rest); !ok {
			return dst, errTimestamp
		}
	}
	if len(rest) != 0 {
		return dst, errTimestamp
	}
	if bc {
		year = 1 - year
	}
	days, ok := daysOf(year, month, day)
	if !ok || days < minDays || days > timestampEndDays {
		return dst, errTimestamp
	}
	t := days*usecsPerDay + usec - offset*1_000_000
	if t < minDays*usecsPerDay || t >= timestampEndDays*usecsPerDay {
		return dst, errTimestamp
	}
	return binary.BigEndian.AppendUint64(dst, uint64(t)), nil
}

// parseOffset parses a UTC offset as EncodeTimezone writes it and returns
// it in seconds east of UTC. Minutes are written when minutes or seconds
// are nonzero, seconds when they are nonzero; a zero offset is "+00". The
// hours are at most 15, the most the input functions take.
func parseOffset(v []byte) (int64, []byte, bool) {
	if len(v) < 3 || (v[0] != '+' && v[0] != '-') {
		return 0, nil, false
	}
	hh, ok := digits2(v[1:])
	if !ok || hh > 15 {
		return 0, nil, false
	}
	var mm, ss int64
	n := 3
	if len(v) >= n+3 && v[n] == ':' {
		if mm, ok = digits2(v[n+1:]); !ok || mm > 59 {
			return 0, nil, false
		}
		n += 3
		if len(v) >= n+3 && v[n] == ':' {
			if ss, ok = digits2(v[n+1:]); !ok || ss == 0 || ss > 59 {
				return 0, nil, false
			}
			n += 3
		} else if mm == 0 {
			return 0, nil, false
		}
	}
	off := (hh*60+mm)*60 + ss
	if v[0] == '-' {
		if off == 0 {
			return 0, nil, false
		}
		off = -off
	}
	return off, v[n:], true
}
