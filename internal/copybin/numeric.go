package copybin

import (
	"encoding/binary"
	"errors"
)

var errNumeric = errors.New("not a canonical finite numeric in range")

// Numeric signs as numeric_send writes them.
const (
	numericPos = 0x0000
	numericNeg = 0x4000
	numericNaN = 0xC000
	// PostgreSQL 14 and later: infinities.
	numericPInf = 0xD000
	numericNInf = 0xF000
)

// appendNumeric: numeric_out writes NaN, or an optional "-", the integer
// digits without leading zeros ("0" when there are none), and when the
// display scale is positive a point and exactly that many digits; zero is
// never negative. numeric_send writes int16 ndigits, int16 weight, uint16
// sign, uint16 dscale and then the base-10000 digits, the first of which
// is worth 10000^weight, with no leading or trailing zero digits; zero has
// no digits and weight 0. Infinity and -Infinity (PostgreSQL 14+) are
// refused. Values with more than 32767 base-10000 digits are refused too,
// so that ndigits stays a positive int16.
func appendNumeric(dst, v []byte) ([]byte, error) {
	if string(v) == "NaN" {
		return append(dst, 0, 0, 0, 0, numericNaN>>8, 0, 0, 0), nil
	}
	sign := uint16(numericPos)
	if len(v) > 0 && v[0] == '-' {
		sign, v = numericNeg, v[1:]
	}
	intPart, frac := v, []byte(nil)
	for i, b := range v {
		if b == '.' {
			intPart, frac = v[:i], v[i+1:]
			if len(frac) == 0 {
				return dst, errNumeric
			}
			break
		}
	}
	if len(intPart) == 0 || (intPart[0] == '0' && len(intPart) > 1) || !allDigits(intPart) || !allDigits(frac) ||
		len(frac) > 0x3FFF || len(intPart) > 131072 {
		return dst, errNumeric
	}
	if string(intPart) == "0" {
		intPart = nil
	}
	// Place the digits in groups of 4 aligned on the decimal point: pad
	// zeros on the left of the integer part and on the right of the
	// fraction. Digit p of intPart then frac is in group (p+pad)/4.
	n := len(intPart) + len(frac)
	digit := func(p int) byte {
		if p < len(intPart) {
			return intPart[p] - '0'
		}
		return frac[p-len(intPart)] - '0'
	}
	lo, hi := 0, n-1 // first and last nonzero digit
	for lo < n && digit(lo) == 0 {
		lo++
	}
	for hi >= lo && digit(hi) == 0 {
		hi--
	}
	dscale := uint16(len(frac))
	if lo > hi { // zero
		if sign == numericNeg {
			return dst, errNumeric
		}
		return append(dst, 0, 0, 0, 0, 0, 0, byte(dscale>>8), byte(dscale)), nil
	}
	pad := (4 - len(intPart)%4) % 4
	first, last := (lo+pad)/4, (hi+pad)/4
	ndigits := last - first + 1
	if ndigits > 32767 {
		return dst, errNumeric
	}
	weight := (pad+len(intPart))/4 - 1 - first
	dst = binary.BigEndian.AppendUint16(dst, uint16(ndigits))
	dst = binary.BigEndian.AppendUint16(dst, uint16(int16(weight)))
	dst = binary.BigEndian.AppendUint16(dst, sign)
	dst = binary.BigEndian.AppendUint16(dst, dscale)
	for g := first; g <= last; g++ {
		var v uint16
		for p := g*4 - pad; p < g*4-pad+4; p++ {
			v *= 10
			if p >= 0 && p < n {
				v += uint16(digit(p))
			}
		}
		dst = binary.BigEndian.AppendUint16(dst, v)
	}
	return dst, nil
}

func allDigits(v []byte) bool {
	for _, b := range v {
		if b < '0' || b > '9' {
			return false
		}
	}
	return true
}
