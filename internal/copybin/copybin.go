package copybin

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// kind is how one column's values are converted.
type kind uint8

const (
	kindBool kind = iota + 1
	kindInt2
	kindInt4
	kindInt8
	kindOID
	kindFloat4
	kindFloat8
	kindText // text, varchar, bpchar, json: the bytes themselves
	kindName
	kindJSONB
	kindBytea
	kindUUID
	kindDate
	kindTimestamp
	kindTimestampTZ
	kindNumeric
	kindInet
	kindCIDR
)

// kindOf returns the kind of a built-in type OID, 0 when it is not supported.
func kindOf(typeOID uint32) kind {
	switch typeOID {
	case 16:
		return kindBool
	case 17:
		return kindBytea
	case 19:
		return kindName
	case 20:
		return kindInt8
	case 21:
		return kindInt2
	case 23:
		return kindInt4
	case 25, 114, 1042, 1043: // text, json, bpchar, varchar
		return kindText
	case 26:
		return kindOID
	case 650:
		return kindCIDR
	case 700:
		return kindFloat4
	case 701:
		return kindFloat8
	case 869:
		return kindInet
	case 1082:
		return kindDate
	case 1114:
		return kindTimestamp
	case 1184:
		return kindTimestampTZ
	case 1700:
		return kindNumeric
	case 2950:
		return kindUUID
	case 3802:
		return kindJSONB
	}
	return 0
}

// Supported reports whether columns of the built-in type with this OID can
// be converted. Arrays, domains, composite and every other type are not.
func Supported(typeOID uint32) bool { return kindOf(typeOID) != 0 }

// Converter converts COPY text rows of a fixed column list to COPY binary
// rows. It is reused across calls and is not safe for concurrent use.
type Converter struct {
	kinds   []kind
	scratch []byte // the current field after unescaping
}

// New returns a Converter for rows whose columns have these type OIDs, in
// order. It fails if any type is not Supported.
func New(typeOIDs []uint32) (*Converter, error) {
	c := &Converter{kinds: make([]kind, len(typeOIDs))}
	for i, oid := range typeOIDs {
		if c.kinds[i] = kindOf(oid); c.kinds[i] == 0 {
			return nil, fmt.Errorf("copybin: column %d: type OID %d is not supported", i, oid)
		}
	}
	return c, nil
}

// signature starts every binary COPY stream.
const signature = "PGCOPY\n\xff\r\n\x00"

// Header appends the binary COPY header: the signature, flags 0 and an
// empty header extension.
func Header(dst []byte) []byte {
	dst = append(dst, signature...)
	return append(dst, 0, 0, 0, 0, 0, 0, 0, 0)
}

// Trailer appends the binary COPY trailer, a field count of -1.
func Trailer(dst []byte) []byte { return append(dst, 0xff, 0xff) }

// RowError says which row and column of a block could not be converted.
type RowError struct {
	Row    int // 0-based, within the text passed to AppendRows
	Column int // 0-based; -1 when the row as a whole is at fault
	Err    error
}

func (e *RowError) Error() string {
	if e.Column < 0 {
		return fmt.Sprintf("copybin: row %d: %v", e.Row, e.Err)
	}
	return fmt.Sprintf("copybin: row %d column %d: %v", e.Row, e.Column, e.Err)
}

func (e *RowError) Unwrap() error { return e.Err }

var (
	errNoNewline     = errors.New("last row does not end with a newline")
	errCarriage      = errors.New("carriage return in row")
	errEndMarker     = errors.New(`end-of-data marker \.`)
	errTooFewFields  = errors.New("too few fields")
	errTooManyFields = errors.New("too many fields")
	errBackslashEnd  = errors.New("backslash at the end of a field")
	errEscapedDot    = errors.New(`escape \. in a field`)
	errNUL           = errors.New("NUL byte in a field")
)

// AppendRows appends the binary form of text, which is whole COPY text rows
// as COPY TO writes them: each ends with a newline, fields are separated by
// tabs, \N is NULL, and backslash escapes are undone as COPY FROM undoes
// them. On error it returns a *RowError and dst holds a partial row.
func (c *Converter) AppendRows(dst, text []byte) ([]byte, error) {
	for row := 0; len(text) > 0; row++ {
		nl := bytes.IndexByte(text, '\n')
		if nl < 0 {
			return dst, &RowError{Row: row, Column: -1, Err: errNoNewline}
		}
		var (
			col int
			err error
		)
		if dst, col, err = c.appendRow(dst, text[:nl]); err != nil {
			return dst, &RowError{Row: row, Column: col, Err: err}
		}
		text = text[nl+1:]
	}
	return dst, nil
}

// appendRow appends one row, line being its text without the newline. On
// error it also returns the column at fault (-1 for the row).
func (c *Converter) appendRow(dst, line []byte) ([]byte, int, error) {
	if bytes.IndexByte(line, '\r') >= 0 {
		return dst, -1, errCarriage
	}
	if bytes.IndexByte(line, 0) >= 0 {
		return dst, -1, errNUL
	}
	escaped := bytes.IndexByte(line, '\\') >= 0
	if string(line) == `\.` {
		return dst, -1, errEndMarker
	}
	if len(c.kinds) == 0 && len(line) > 0 {
		return dst, -1, errTooManyFields
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(c.kinds)))
	last := len(c.kinds) - 1
	for i, k := range c.kinds {
		tab := bytes.IndexByte(line, '\t')
		field := line
		switch {
		case i < last && tab < 0:
			return dst, -1, errTooFewFields
		case i < last:
			field, line = line[:tab], line[tab+1:]
		case tab >= 0:
			return dst, -1, errTooManyFields
		}
		if string(field) == `\N` {
			dst = append(dst, 0xff, 0xff, 0xff, 0xff)
			continue
		}
		if escaped && bytes.IndexByte(field, '\\') >= 0 {
			var err error
			if c.scratch, err = unescape(c.scratch[:0], field); err != nil {
				return dst, i, err
			}
			field = c.scratch
		}
		at := len(dst)
		dst = append(dst, 0, 0, 0, 0)
		var err error
		if dst, err = appendValue(dst, k, field); err != nil {
			return dst, i, err
		}
		binary.BigEndian.PutUint32(dst[at:], uint32(len(dst)-at-4))
	}
	return dst, 0, nil
}

// unescape appends field with the backslash escapes of COPY text format
// undone, as CopyReadAttributesText undoes them: \b \f \n \r \t \v, 1 to 3
// octal digits, x and 1 or 2 hex digits, and a backslash before any other
// byte stands for that byte. A trailing backslash (before a tab, the
// newline or nothing) and \. are refused: COPY TO writes neither, and the
// server would read them differently. So is an escaped NUL, which no type's
// text holds (the input functions would stop there).
func unescape(dst, field []byte) ([]byte, error) {
	for i := 0; i < len(field); i++ {
		b := field[i]
		if b != '\\' {
			dst = append(dst, b)
			continue
		}
		i++
		if i == len(field) {
			return dst, errBackslashEnd
		}
		b = field[i]
		switch b {
		case 'b':
			b = '\b'
		case 'f':
			b = '\f'
		case 'n':
			b = '\n'
		case 'r':
			b = '\r'
		case 't':
			b = '\t'
		case 'v':
			b = '\v'
		case '.':
			return dst, errEscapedDot
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := b - '0'
			for n := 0; n < 2 && i+1 < len(field) && field[i+1] >= '0' && field[i+1] <= '7'; n++ {
				i++
				v = v<<3 | (field[i] - '0') // wraps to the low 8 bits, as COPY does
			}
			b = v
		case 'x':
			if i+1 < len(field) && hexValue(field[i+1]) >= 0 {
				i++
				v := hexValue(field[i])
				if i+1 < len(field) && hexValue(field[i+1]) >= 0 {
					i++
					v = v<<4 | hexValue(field[i])
				}
				b = byte(v)
			}
		}
		if b == 0 {
			return dst, errNUL
		}
		dst = append(dst, b)
	}
	return dst, nil
}

// hexValue is the value of a hex digit of either case, -1 for other bytes.
func hexValue(b byte) int {
	switch {
	case b >= '0' && b <= '9':
		return int(b - '0')
	case b >= 'a' && b <= 'f':
		return int(b-'a') + 10
	case b >= 'A' && b <= 'F':
		return int(b-'A') + 10
	}
	return -1
}

// appendValue appends the binary form of one non-NULL value in text form.
func appendValue(dst []byte, k kind, v []byte) ([]byte, error) {
	switch k {
	case kindBool:
		return appendBool(dst, v)
	case kindInt2:
		return appendInt(dst, v, 2)
	case kindInt4:
		return appendInt(dst, v, 4)
	case kindInt8:
		return appendInt(dst, v, 8)
	case kindOID:
		return appendOID(dst, v)
	case kindFloat4:
		return appendFloat(dst, v, 32)
	case kindFloat8:
		return appendFloat(dst, v, 64)
	case kindText:
		return append(dst, v...), nil
	case kindName:
		return appendName(dst, v)
	case kindJSONB:
		return append(append(dst, 1), v...), nil
	case kindBytea:
		return appendBytea(dst, v)
	case kindUUID:
		return appendUUID(dst, v)
	case kindDate:
		return appendDate(dst, v)
	case kindTimestamp:
		return appendTimestamp(dst, v, false)
	case kindTimestampTZ:
		return appendTimestamp(dst, v, true)
	case kindNumeric:
		return appendNumeric(dst, v)
	case kindInet:
		return appendInet(dst, v, false)
	case kindCIDR:
		return appendInet(dst, v, true)
	}
	panic(fmt.Sprintf("copybin: unknown kind %d", k))
}
