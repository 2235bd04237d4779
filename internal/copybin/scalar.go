package copybin

import (
	"encoding/binary"
	"errors"
	"math"
	"strconv"
)

var (
	errBool  = errors.New("not a canonical bool")
	errInt   = errors.New("not a canonical integer in range")
	errOID   = errors.New("not a canonical oid")
	errFloat = errors.New("not a canonical float in range")
	errName  = errors.New("name of 64 bytes or more")
	errBytea = errors.New("not a canonical hex bytea")
	errUUID  = errors.New("not a canonical uuid")
)

// appendBool: boolout writes t or f; boolsend one byte.
func appendBool(dst, v []byte) ([]byte, error) {
	switch string(v) {
	case "t":
		return append(dst, 1), nil
	case "f":
		return append(dst, 0), nil
	}
	return dst, errBool
}

// parseUint parses canonical unsigned decimal: digits, no sign, no leading
// zero but for "0", at most max.
func parseUint(v []byte, max uint64) (uint64, bool) {
	if len(v) == 0 || len(v) > 20 || (v[0] == '0' && len(v) > 1) {
		return 0, false
	}
	var n uint64
	for _, b := range v {
		if b < '0' || b > '9' {
			return 0, false
		}
		d := uint64(b - '0')
		if n > (max-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// appendInt: int2out, int4out and int8out write canonical signed decimal
// (never "-0"); the send functions write size bytes big-endian.
func appendInt(dst, v []byte, size int) ([]byte, error) {
	bits := uint(size*8 - 1)
	neg := len(v) > 0 && v[0] == '-'
	digits, max := v, uint64(1)<<bits-1
	if neg {
		digits, max = v[1:], uint64(1)<<bits
	}
	u, ok := parseUint(digits, max)
	if !ok || (neg && u == 0) {
		return dst, errInt
	}
	n := int64(u)
	if neg {
		n = -n // wraps to the minimum for 1<<63, as intended
	}
	switch size {
	case 2:
		return binary.BigEndian.AppendUint16(dst, uint16(n)), nil
	case 4:
		return binary.BigEndian.AppendUint32(dst, uint32(n)), nil
	}
	return binary.BigEndian.AppendUint64(dst, uint64(n)), nil
}

// appendOID: oidout writes unsigned decimal; oidsend 4 bytes.
func appendOID(dst, v []byte) ([]byte, error) {
	u, ok := parseUint(v, math.MaxUint32)
	if !ok {
		return dst, errOID
	}
	return binary.BigEndian.AppendUint32(dst, uint32(u)), nil
}

// appendFloat: with extra_float_digits > 0, float4out and float8out write
// the shortest decimal that reads back exactly, NaN, Infinity or -Infinity.
// float4in and float8in read with strtof and strtod, correctly rounded as
// strconv.ParseFloat is, so the same digits give the same bits. The syntax
// is checked first so that ParseFloat's extras (hex, underscores, "inf")
// never get through, and a nonzero text that underflows to zero, which the
// server refuses, is refused.
func appendFloat(dst, v []byte, bitSize int) ([]byte, error) {
	var f float64
	switch string(v) {
	case "NaN":
		f = math.NaN()
	case "Infinity":
		f = math.Inf(1)
	case "-Infinity":
		f = math.Inf(-1)
	default:
		nonzero, ok := floatSyntax(v)
		if !ok {
			return dst, errFloat
		}
		var err error
		if f, err = strconv.ParseFloat(string(v), bitSize); err != nil || (f == 0 && nonzero) {
			return dst, errFloat
		}
	}
	if bitSize == 32 {
		bits := math.Float32bits(float32(f))
		if f != f {
			bits = 0x7fc00000
		}
		return binary.BigEndian.AppendUint32(dst, bits), nil
	}
	bits := math.Float64bits(f)
	if f != f {
		bits = 0x7ff8000000000000
	}
	return binary.BigEndian.AppendUint64(dst, bits), nil
}

// floatSyntax checks -?D+(.D+)?(e[+-]D+)? and reports whether the mantissa
// has a nonzero digit.
func floatSyntax(v []byte) (nonzero, ok bool) {
	i := 0
	if i < len(v) && v[i] == '-' {
		i++
	}
	digits := func() int {
		start := i
		for i < len(v) && v[i] >= '0' && v[i] <= '9' {
			nonzero = nonzero || v[i] != '0'
			i++
		}
		return i - start
	}
	if digits() == 0 {
		return false, false
	}
	if i < len(v) && v[i] == '.' {
		i++
		if digits() == 0 {
			return false, false
		}
	}
	if i < len(v) && v[i] == 'e' {
		i++
		if i == len(v) || (v[i] != '+' && v[i] != '-') {
			return false, false
		}
		i++
		mantissa := nonzero
		if digits() == 0 {
			return false, false
		}
		nonzero = mantissa
	}
	return nonzero, i == len(v)
}

// appendName: textsend and friends (text, varchar, bpchar, json, jsonb
// after its version byte, name) send the bytes as they are when the client
// encoding is the database encoding. namein truncates a name of NAMEDATALEN
// (64) bytes or more where namerecv fails; nameout never writes one.
func appendName(dst, v []byte) ([]byte, error) {
	if len(v) >= 64 {
		return dst, errName
	}
	return append(dst, v...), nil
}

// appendBytea: byteaout in hex mode writes \x and two lower-case hex digits
// a byte; bytearecv takes the raw bytes.
func appendBytea(dst, v []byte) ([]byte, error) {
	if len(v) < 2 || v[0] != '\\' || v[1] != 'x' || len(v)%2 != 0 {
		return dst, errBytea
	}
	for i := 2; i < len(v); i += 2 {
		hi, lo := lowerHex(v[i]), lowerHex(v[i+1])
		if hi < 0 || lo < 0 {
			return dst, errBytea
		}
		dst = append(dst, byte(hi<<4|lo))
	}
	return dst, nil
}

// lowerHex is the value of a lower-case hex digit, -1 for other bytes.
func lowerHex(b byte) int {
	if d := b - '0'; d < 10 {
		return int(d)
	}
	if d := b - 'a'; d < 6 {
		return int(d) + 10
	}
	return -1
}

// appendUUID: uuid_out writes 8-4-4-4-12 lower-case hex digits; uuid_send
// the 16 bytes.
func appendUUID(dst, v []byte) ([]byte, error) {
	if len(v) != 36 || v[8] != '-' || v[13] != '-' || v[18] != '-' || v[23] != '-' {
		return dst, errUUID
	}
	var u [16]byte
	var bad byte
	for k, i := range uuidDigits {
		hi, lo := hexDigit[v[i]], hexDigit[v[i+1]]
		bad |= hi | lo
		u[k] = hi<<4 | lo
	}
	if bad&0x80 != 0 {
		return dst, errUUID
	}
	return append(dst, u[:]...), nil
}

// uuidDigits are where the 16 pairs of hex digits of a uuid's text start.
var uuidDigits = [16]uint8{0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34}

// hexDigit maps a lower-case hex digit to its value and any other byte to
// 0xff.
var hexDigit = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := range 16 {
		t["0123456789abcdef"[i]] = byte(i)
	}
	return t
}()
