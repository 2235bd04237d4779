package copybin

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
)

// Decoder converts COPY binary rows of a fixed column list back to the COPY
// text rows that COPY TO writes in pgark's dump sessions (see the package
// documentation), with timestamptz in UTC. It is the inverse of Converter:
// for every value a Converter accepts, decoding its binary form yields the
// same text, but for a timestamptz's offset. It keeps no state between
// calls.
type Decoder struct {
	kinds []kind
}

// NewDecoder returns a Decoder for rows whose columns have these type
// OIDs, in order. It fails if any type is not Supported.
func NewDecoder(typeOIDs []uint32) (*Decoder, error) {
	d := &Decoder{kinds: make([]kind, len(typeOIDs))}
	for i, oid := range typeOIDs {
		if d.kinds[i] = kindOf(oid); d.kinds[i] == 0 {
			return nil, fmt.Errorf("copybin: column %d: type OID %d is not supported", i, oid)
		}
	}
	return d, nil
}

var (
	errFieldCount = errors.New("field count does not match the columns")
	errTruncated  = errors.New("row is cut short")
	errValue      = errors.New("value is not a valid binary form of its type")
)

// AppendRows appends the COPY text form of bin, whole binary COPY rows
// without the stream's header and trailer. On error it returns a *RowError
// and dst holds a partial row.
func (d *Decoder) AppendRows(dst, bin []byte) ([]byte, error) {
	for row := 0; len(bin) > 0; row++ {
		if len(bin) < 2 {
			return dst, &RowError{Row: row, Column: -1, Err: errTruncated}
		}
		if int(int16(binary.BigEndian.Uint16(bin))) != len(d.kinds) {
			return dst, &RowError{Row: row, Column: -1, Err: errFieldCount}
		}
		bin = bin[2:]
		for col, k := range d.kinds {
			if col > 0 {
				dst = append(dst, '\t')
			}
			if len(bin) < 4 {
				return dst, &RowError{Row: row, Column: col, Err: errTruncated}
			}
			n := int32(binary.BigEndian.Uint32(bin))
			bin = bin[4:]
			if n == -1 {
				dst = append(dst, '\\', 'N')
				continue
			}
			if n < 0 || int(n) > len(bin) {
				return dst, &RowError{Row: row, Column: col, Err: errTruncated}
			}
			var err error
			if dst, err = appendText(dst, k, bin[:n]); err != nil {
				return dst, &RowError{Row: row, Column: col, Err: err}
			}
			bin = bin[n:]
		}
		dst = append(dst, '\n')
	}
	return dst, nil
}

// appendText appends the COPY text field of v, the binary form of a value
// of kind k.
func appendText(dst []byte, k kind, v []byte) ([]byte, error) {
	fixed := func(n int) bool { return len(v) == n }
	switch k {
	case kindBool:
		if !fixed(1) || v[0] > 1 {
			return dst, errValue
		}
		return append(dst, "ft"[v[0]]), nil
	case kindInt2:
		if !fixed(2) {
			return dst, errValue
		}
		return strconv.AppendInt(dst, int64(int16(binary.BigEndian.Uint16(v))), 10), nil
	case kindInt4:
		if !fixed(4) {
			return dst, errValue
		}
		return strconv.AppendInt(dst, int64(int32(binary.BigEndian.Uint32(v))), 10), nil
	case kindInt8:
		if !fixed(8) {
			return dst, errValue
		}
		return strconv.AppendInt(dst, int64(binary.BigEndian.Uint64(v)), 10), nil
	case kindOID:
		if !fixed(4) {
			return dst, errValue
		}
		return strconv.AppendUint(dst, uint64(binary.BigEndian.Uint32(v)), 10), nil
	case kindFloat4:
		if !fixed(4) {
			return dst, errValue
		}
		return appendFloatText(dst, float64(math.Float32frombits(binary.BigEndian.Uint32(v))), 32), nil
	case kindFloat8:
		if !fixed(8) {
			return dst, errValue
		}
		return appendFloatText(dst, math.Float64frombits(binary.BigEndian.Uint64(v)), 64), nil
	case kindText, kindName:
		return appendEscaped(dst, v), nil
	case kindJSONB:
		if len(v) == 0 || v[0] != 1 {
			return dst, errValue
		}
		return appendEscaped(dst, v[1:]), nil
	case kindBytea:
		// "\x" and the hex digits; COPY doubles the backslash.
		dst = append(dst, '\\', '\\', 'x')
		return appendHex(dst, v), nil
	case kindUUID:
		if !fixed(16) {
			return dst, errValue
		}
		for i, part := range [][]byte{v[:4], v[4:6], v[6:8], v[8:10], v[10:]} {
			if i > 0 {
				dst = append(dst, '-')
			}
			dst = appendHex(dst, part)
		}
		return dst, nil
	case kindDate:
		if !fixed(4) {
			return dst, errValue
		}
		return appendDateText(dst, int64(int32(binary.BigEndian.Uint32(v))))
	case kindTimestamp, kindTimestampTZ:
		if !fixed(8) {
			return dst, errValue
		}
		return appendTimestampText(dst, int64(binary.BigEndian.Uint64(v)), k == kindTimestampTZ)
	case kindNumeric:
		return appendNumericText(dst, v)
	case kindInet, kindCIDR:
		return appendInetText(dst, v, k == kindCIDR)
	}
	return dst, errValue
}

// appendEscaped appends v as a COPY text field: a backslash and the
// characters COPY TO escapes (backspace, form feed, newline, carriage
// return, tab, vertical tab) become backslash sequences, all else is kept.
func appendEscaped(dst, v []byte) []byte {
	for len(v) > 0 {
		i := 0
		for i < len(v) && escapes[v[i]] == 0 {
			i++
		}
		dst = append(dst, v[:i]...)
		if i == len(v) {
			break
		}
		dst = append(dst, '\\', escapes[v[i]])
		v = v[i+1:]
	}
	return dst
}

// escapes maps each byte COPY TO escapes to the letter after its
// backslash; 0 for the others.
var escapes = [256]byte{'\\': '\\', '\b': 'b', '\f': 'f', '\n': 'n', '\r': 'r', '\t': 't', '\v': 'v'}

func appendHex(dst, v []byte) []byte {
	const digits = "0123456789abcdef"
	for _, b := range v {
		dst = append(dst, digits[b>>4], digits[b&15])
	}
	return dst
}

// appendFloatText writes f as float4out and float8out do with
// extra_float_digits above 0: the shortest decimal that reads back as f,
// in fixed notation when its decimal exponent is from -4 to below 15 (6
// for float4), else as d.ddde+XX with at least two exponent digits; NaN,
// Infinity and -Infinity by name.
func appendFloatText(dst []byte, f float64, bitSize int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	}
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, bitSize) // [-]d[.ddd]e±XX
	if isTie(e, f, bitSize) {
		// Ryu as PostgreSQL has it never takes a decimal that lies
		// exactly half way to a neighbour, which Go's shortest may: take
		// the first longer correctly rounded one that is not.
		sig := bytes.IndexByte(e, 'e') - bytes.Count(e[:1], []byte("-")) - bytes.Count(e, []byte("."))
		for prec := sig; prec <= 17; prec++ { // prec digits after the point
			e = trimZeros(strconv.AppendFloat(buf[:0], f, 'e', prec, bitSize))
			if !isTie(e, f, bitSize) {
				break
			}
		}
	}
	fixedBelow := 15
	if bitSize == 32 {
		fixedBelow = 6
	}
	mant, expText := e, []byte(nil)
	for i, c := range e {
		if c == 'e' {
			mant, expText = e[:i], e[i+1:]
			break
		}
	}
	exp, _ := strconv.Atoi(string(expText))
	if exp < -4 || exp >= fixedBelow {
		return append(dst, e...)
	}
	if mant[0] == '-' {
		dst = append(dst, '-')
		mant = mant[1:]
	}
	digits := make([]byte, 0, len(mant))
	for _, c := range mant {
		if c != '.' {
			digits = append(digits, c)
		}
	}
	if exp < 0 {
		dst = append(dst, '0', '.')
		for range -exp - 1 {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	for i := 0; i <= exp || i < len(digits); i++ {
		if i == exp+1 {
			dst = append(dst, '.')
		}
		if i < len(digits) {
			dst = append(dst, digits[i])
		} else {
			dst = append(dst, '0')
		}
	}
	return dst
}

// isTie says whether the decimal s lies exactly half way between f and a
// neighbouring float of its size. Such a decimal is a binary fraction of at
// most 54 bits, so parsing it at 256 bits is exact; any other is not equal
// to a midpoint at that precision either.
func isTie(s []byte, f float64, bitSize int) bool {
	d, _, err := big.ParseFloat(string(s), 10, 256, big.ToNearestEven)
	if err != nil {
		return false
	}
	for _, dir := range []float64{math.Inf(1), math.Inf(-1)} {
		n := math.Nextafter(f, dir)
		if bitSize == 32 {
			n = float64(math.Nextafter32(float32(f), float32(dir)))
		}
		if math.IsInf(n, 0) {
			continue
		}
		mid := new(big.Float).SetPrec(256).SetFloat64(f)
		mid.Add(mid, new(big.Float).SetPrec(256).SetFloat64(n))
		mid.Quo(mid, big.NewFloat(2))
		if d.Cmp(mid) == 0 {
			return true
		}
	}
	return false
}

// trimZeros drops the trailing zeros of the mantissa of [-]d.ddde±XX, and
// the point if no digit is left after it.
func trimZeros(e []byte) []byte {
	i := bytes.IndexByte(e, 'e')
	m := bytes.TrimRight(e[:i], "0")
	m = bytes.TrimSuffix(m, []byte("."))
	return append(m[:len(m):len(m)], e[i:]...)
}

// civilFromDays is the inverse of daysFromCivil: the astronomical year,
// month and day that is days from 2000-01-01.
func civilFromDays(days int64) (y, m, d int64) {
	z := days + 730_425 // from 0000-03-01
	era := z / 146_097
	if z < 0 && z%146_097 != 0 {
		era--
	}
	doe := z - era*146_097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	y = yoe + era*400
	if m <= 2 {
		y++
	}
	return y, m, d
}

// appendYMD writes a date as EncodeDateOnly does in ISO style, and says
// whether its year is before 1 (written as a positive year, with " BC"
// to follow).
func appendYMD(dst []byte, days int64) ([]byte, bool) {
	y, m, d := civilFromDays(days)
	bc := y <= 0
	if bc {
		y = 1 - y
	}
	dst = appendPadded(dst, y, 4)
	dst = append(dst, '-')
	dst = appendPadded(dst, m, 2)
	dst = append(dst, '-')
	return appendPadded(dst, d, 2), bc
}

func appendPadded(dst []byte, v int64, width int) []byte {
	var buf [20]byte
	s := strconv.AppendInt(buf[:0], v, 10)
	for range width - len(s) {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

func appendDateText(dst []byte, days int64) ([]byte, error) {
	switch days {
	case math.MaxInt32:
		return append(dst, "infinity"...), nil
	case math.MinInt32:
		return append(dst, "-infinity"...), nil
	}
	if days < minDays || days >= dateEndDays {
		return dst, errValue
	}
	dst, bc := appendYMD(dst, days)
	if bc {
		dst = append(dst, " BC"...)
	}
	return dst, nil
}

// appendTimestampText writes microseconds from 2000-01-01 as
// timestamp_out does in ISO style, or timestamptz_out with TimeZone UTC
// (the offset "+00").
func appendTimestampText(dst []byte, t int64, withTZ bool) ([]byte, error) {
	switch t {
	case math.MaxInt64:
		return append(dst, "infinity"...), nil
	case math.MinInt64:
		return append(dst, "-infinity"...), nil
	}
	if t < minDays*usecsPerDay || t >= timestampEndDays*usecsPerDay {
		return dst, errValue
	}
	days, usec := t/usecsPerDay, t%usecsPerDay
	if usec < 0 {
		days, usec = days-1, usec+usecsPerDay
	}
	dst, bc := appendYMD(dst, days)
	secs := usec / 1_000_000
	dst = append(dst, ' ')
	dst = appendPadded(dst, secs/3600, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, secs/60%60, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, secs%60, 2)
	if frac := usec % 1_000_000; frac != 0 {
		n := 6
		for frac%10 == 0 {
			frac /= 10
			n--
		}
		dst = append(dst, '.')
		dst = appendPadded(dst, frac, n)
	}
	if withTZ {
		dst = append(dst, "+00"...)
	}
	if bc {
		dst = append(dst, " BC"...)
	}
	return dst, nil
}

// appendNumericText writes numeric_send's form (see appendNumeric) as
// numeric_out does, infinities too (PostgreSQL 14 and later send them;
// the Converter never makes them, so that its output loads on 13).
func appendNumericText(dst, v []byte) ([]byte, error) {
	if len(v) < 8 {
		return dst, errValue
	}
	ndigits := int(int16(binary.BigEndian.Uint16(v)))
	weight := int(int16(binary.BigEndian.Uint16(v[2:])))
	sign := binary.BigEndian.Uint16(v[4:])
	dscale := int(binary.BigEndian.Uint16(v[6:]))
	if special, ok := numericSpecials[sign]; ok {
		if len(v) != 8 {
			return dst, errValue
		}
		return append(dst, special...), nil
	}
	if (sign != numericPos && sign != numericNeg) || ndigits < 0 || len(v) != 8+2*ndigits || dscale > 0x3fff {
		return dst, errValue
	}
	digit := func(i int) int64 {
		if i < 0 || i >= ndigits {
			return 0
		}
		return int64(binary.BigEndian.Uint16(v[8+2*i:]))
	}
	for i := range ndigits {
		if digit(i) > 9999 {
			return dst, errValue
		}
	}
	if sign == numericNeg {
		dst = append(dst, '-')
	}
	if weight < 0 {
		dst = append(dst, '0')
	} else {
		for i := 0; i <= weight; i++ {
			if i == 0 {
				dst = strconv.AppendInt(dst, digit(0), 10)
			} else {
				dst = appendPadded(dst, digit(i), 4)
			}
		}
	}
	if dscale > 0 {
		dst = append(dst, '.')
		for i, left := weight+1, dscale; left > 0; i, left = i+1, left-4 {
			var four [4]byte
			s := appendPadded(four[:0], digit(i), 4)
			dst = append(dst, s[:min(4, left)]...)
		}
	}
	return dst, nil
}

// numericSpecials are the numeric values without digits, by sign word.
var numericSpecials = map[uint16]string{numericNaN: "NaN", numericPInf: "Infinity", numericNInf: "-Infinity"}

// appendInetText writes inet_send's form (see appendInet) as network_out
// does.
func appendInetText(dst, v []byte, cidr bool) ([]byte, error) {
	if len(v) < 4 {
		return dst, errValue
	}
	family, bits, nb := v[0], int(v[1]), int(v[3])
	addr := v[4:]
	var maxBits int
	switch {
	case family == pgsqlAFInet && nb == 4 && len(addr) == 4:
		maxBits = 32
		dst = appendIPv4Text(dst, addr)
	case family == pgsqlAFInet6 && nb == 16 && len(addr) == 16:
		maxBits = 128
		var w [8]uint16
		for i := range w {
			w[i] = binary.BigEndian.Uint16(addr[2*i:])
		}
		dst = appendIPv6Text(dst, w)
	default:
		return dst, errValue
	}
	if bits > maxBits {
		return dst, errValue
	}
	if cidr || bits != maxBits {
		dst = append(dst, '/')
		dst = strconv.AppendInt(dst, int64(bits), 10)
	}
	return dst, nil
}
