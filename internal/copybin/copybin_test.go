package copybin

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
)

const (
	oidText  = 25
	oidInt4  = 23
	oidInt8  = 20
	oidBytea = 17
)

func TestSupported(t *testing.T) {
	for _, oid := range []uint32{16, 17, 19, 20, 21, 23, 25, 26, 114, 650, 700, 701, 869, 1042, 1043, 1082, 1114, 1184, 1700, 2950, 3802} {
		if !Supported(oid) {
			t.Errorf("Supported(%d) = false", oid)
		}
	}
	// time, timetz, interval, money, int4[], text[], record, xml, macaddr, bit.
	for _, oid := range []uint32{0, 1083, 1266, 1186, 790, 1007, 1009, 2249, 142, 829, 1560} {
		if Supported(oid) {
			t.Errorf("Supported(%d) = true", oid)
		}
	}
	if _, err := New([]uint32{23, 1186}); err == nil {
		t.Error("New accepted interval")
	}
}

func TestHeaderTrailer(t *testing.T) {
	got := Trailer(Header([]byte("x")))
	want := "x" + "PGCOPY\n\xff\r\n\x00" + "\x00\x00\x00\x00" + "\x00\x00\x00\x00" + "\xff\xff"
	if string(got) != want {
		t.Fatalf("header+trailer = %q, want %q", got, want)
	}
}

// row builds one expected binary row from fields given as hex, nil for NULL.
func row(fields ...*string) []byte {
	out := binary.BigEndian.AppendUint16(nil, uint16(len(fields)))
	for _, f := range fields {
		if f == nil {
			out = binary.BigEndian.AppendUint32(out, 0xffffffff)
			continue
		}
		b, err := hex.DecodeString(*f)
		if err != nil {
			panic(err)
		}
		out = binary.BigEndian.AppendUint32(out, uint32(len(b)))
		out = append(out, b...)
	}
	return out
}

func h(s string) *string { return &s }

func hexOf(s string) *string { return h(hex.EncodeToString([]byte(s))) }

func TestAppendRows(t *testing.T) {
	c, err := New([]uint32{oidInt4, oidText, oidBytea})
	if err != nil {
		t.Fatal(err)
	}
	text := "1\tabc\t\\\\x00ff\n" +
		"\\N\t\t\\N\n" + // empty string is not NULL
		"-2\t\\\\N\t\\\\x\n" + // \\N is the text \N
		"3\t\\N\t\\\\x41\n"
	want := slicesConcat(
		row(h("00000001"), hexOf("abc"), h("00ff")),
		row(nil, h(""), nil),
		row(h("fffffffe"), hexOf(`\N`), h("")),
		row(h("00000003"), nil, h("41")),
	)
	got, err := c.AppendRows([]byte("prefix"), []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, append([]byte("prefix"), want...)) {
		t.Fatalf("got  %x\nwant %x", got, want)
	}
	// Reuse: the same converter gives the same bytes.
	again, err := c.AppendRows(nil, []byte(text))
	if err != nil || !bytes.Equal(again, want) {
		t.Fatalf("second call: %v, %x", err, again)
	}
	if got, err := c.AppendRows(nil, nil); err != nil || len(got) != 0 {
		t.Fatalf("empty text: %x, %v", got, err)
	}
}

func slicesConcat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestEscapes(t *testing.T) {
	tests := []struct {
		raw, want string // want "" with err set means refused
		err       bool
	}{
		{raw: `\b\f\n\r\t\v\\`, want: "\b\f\n\r\t\v\\"},
		{raw: `a\101b`, want: "aAb"},
		{raw: `\1010`, want: "A0"},
		{raw: `\7`, want: "\a"},
		{raw: `\08`, err: true}, // NUL
		{raw: `\477`, want: "\x3f"},
		{raw: `\x41`, want: "A"},
		{raw: `\x4`, want: "\x04"},
		{raw: `\x4G`, want: "\x04G"},
		{raw: `\x414`, want: "A4"},
		{raw: `\xg`, want: "xg"},
		{raw: `\x`, want: "x"},
		{raw: `\q\"\N\ `, want: `q"N `},
		{raw: `\N`, want: "NULL"}, // exactly \N is NULL
		{raw: `\N\N`, want: "NN"},
		{raw: `\\N`, want: `\N`},
		{raw: `é\303\251`, want: "éé"},
		{raw: `\x00`, err: true},
		{raw: `ab\`, err: true},
		{raw: `\.`, err: true},
		{raw: `a\.b`, err: true},
		{raw: "a\rb", err: true},
	}
	c, err := New([]uint32{oidText})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := c.AppendRows(nil, []byte(tt.raw+"\n"))
			if tt.err {
				if err == nil {
					t.Fatalf("accepted: %x", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := row(hexOf(tt.want))
			if tt.want == "NULL" {
				want = row(nil)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("got %q, want %q", got, want)
			}
		})
	}
}

func TestRowErrors(t *testing.T) {
	tests := []struct {
		oids     []uint32
		text     string
		row, col int
		err      error
	}{
		{[]uint32{oidInt4, oidInt4}, "1\t2\n3\n", 1, -1, errTooFewFields},
		{[]uint32{oidInt4, oidInt4}, "1\t2\t3\n", 0, -1, errTooManyFields},
		{[]uint32{oidInt4}, "1\n2", 1, -1, errNoNewline},
		{[]uint32{oidInt4}, "1\n\\.\n", 1, -1, errEndMarker},
		{[]uint32{oidInt4}, "1\r\n", 0, -1, errCarriage},
		{[]uint32{oidInt4, oidText}, "1\tx\n2\ty\\\n", 1, 1, errBackslashEnd},
		{[]uint32{oidInt4, oidText}, "1\tx\\\tz\n", 0, -1, errTooManyFields}, // a backslash before a tab
		{[]uint32{oidInt4, oidInt8}, "1\t2\n1\t9223372036854775808\n", 1, 1, errInt},
		{[]uint32{oidInt4}, "\n", 0, 0, errInt}, // empty string
		{nil, "\n\nx\n", 2, -1, errTooManyFields},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			c, err := New(tt.oids)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.AppendRows(nil, []byte(tt.text))
			var re *RowError
			if !errors.As(err, &re) {
				t.Fatalf("error %v is not a *RowError", err)
			}
			if re.Row != tt.row || re.Column != tt.col || !errors.Is(err, tt.err) {
				t.Fatalf("got %v (row %d column %d), want row %d column %d: %v", err, re.Row, re.Column, tt.row, tt.col, tt.err)
			}
		})
	}
}

func TestZeroColumns(t *testing.T) {
	c, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.AppendRows(nil, []byte("\n\n"))
	if err != nil || !bytes.Equal(got, []byte{0, 0, 0, 0}) {
		t.Fatalf("got %x, %v", got, err)
	}
}

// TestDecoderRefuses: a malformed binary row is an error naming its row and
// column, never text.
func TestDecoderRefuses(t *testing.T) {
	d, err := NewDecoder([]uint32{16, 1700, 869})
	if err != nil {
		t.Fatal(err)
	}
	good := []byte{0, 3, 0, 0, 0, 1, 1, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 2, 32, 0, 4, 1, 2, 3, 4}
	got, err := d.AppendRows(nil, good)
	if err != nil || string(got) != "t\t0\t1.2.3.4\n" {
		t.Fatalf("good row: %q, %v", got, err)
	}
	for _, tt := range []struct {
		name   string
		row    []byte
		column int
	}{
		{"field count", append([]byte{0, 2}, good[2:]...), -1},
		{"cut in a count", good[:1], -1},
		{"cut in a length", good[:8], 1},
		{"cut in a value", good[:len(good)-1], 2},
		{"bool 2", append([]byte{0, 3, 0, 0, 0, 1, 2}, good[7:]...), 0},
		{"numeric digit over 9999", append([]byte{0, 3, 0, 0, 0, 1, 1, 0, 0, 0, 10, 0, 1, 0, 0, 0, 0, 0, 0, 0x27, 0x10}, good[19:]...), 1},
		{"inet bits over 32", append(append([]byte{}, good[:23]...), 2, 33, 0, 4, 1, 2, 3, 4), 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := d.AppendRows(nil, tt.row)
			var re *RowError
			if !errors.As(err, &re) || re.Column != tt.column {
				t.Fatalf("got %v, want an error in column %d", err, tt.column)
			}
		})
	}
	if _, err := NewDecoder([]uint32{1007}); err == nil {
		t.Fatal("int4[] accepted")
	}
}
