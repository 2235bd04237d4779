package wal

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLSN(t *testing.T) {
	tests := []struct {
		in   string
		want LSN
		text string // canonical form
	}{
		{"0/0", 0, "0/0"},
		{"16/B374D848", 0x16_B374D848, "16/B374D848"},
		{"16/b374d848", 0x16_B374D848, "16/B374D848"},
		{"0/016B3740", 0x16B3740, "0/16B3740"},
		{"0/1", 1, "0/1"},
		{"FFFFFFFF/FFFFFFFF", ^LSN(0), "FFFFFFFF/FFFFFFFF"},
		{"00000001/00000000", 1 << 32, "1/0"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseLSN(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.text, got.String())
			var u LSN
			require.NoError(t, u.UnmarshalText([]byte(tt.in)))
			assert.Equal(t, tt.want, u)
		})
	}
	for _, bad := range []string{"", "/", "0/", "/0", "0", "1/2/3", "123456789/0", "0/123456789", "g/0", " 0/0", "0/0 ", "-1/0", "+1/0", "0x1/0"} {
		t.Run("bad "+bad, func(t *testing.T) {
			_, err := ParseLSN(bad)
			assert.ErrorIs(t, err, ErrSyntax)
		})
	}
}

func TestLSNArithmetic(t *testing.T) {
	a := LSN(0x1_FFFFFFF0)
	assert.Equal(t, LSN(0x2_00000000), a.Add(0x10))
	assert.Equal(t, int64(0x10), a.Add(0x10).Sub(a))
	assert.Equal(t, int64(-0x10), a.Sub(a.Add(0x10)))
	assert.Panics(t, func() { (^LSN(0)).Add(1) })
}

func TestTimelineID(t *testing.T) {
	for in, want := range map[string]TimelineID{"1": 1, "42": 42, "4294967295": 0xFFFFFFFF} {
		got, err := ParseTimelineID(in)
		require.NoError(t, err)
		assert.Equal(t, want, got)
		assert.Equal(t, in, got.String())
	}
	for _, bad := range []string{"", "0", "-1", "+1", "4294967296", "1a", "0x1"} {
		_, err := ParseTimelineID(bad)
		assert.ErrorIs(t, err, ErrSyntax, bad)
	}
}

func TestSegmentSize(t *testing.T) {
	tests := []struct {
		in   string
		want SegmentSize
	}{
		{"16MB", 16 << 20},
		{"1MB", 1 << 20},
		{"1GB", 1 << 30},
		{"64MB", 64 << 20},
		{"1024kB", 1 << 20},
		{"16777216", 16 << 20},
		{"16777216B", 16 << 20},
	}
	for _, tt := range tests {
		got, err := ParseSegmentSize(tt.in)
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
		back, err := ParseSegmentSize(got.String())
		require.NoError(t, err)
		assert.Equal(t, got, back)
	}
	assert.Equal(t, "16MB", DefaultSegmentSize.String())
	for _, bad := range []string{"", "MB", "512kB", "2GB", "24MB", "0", "-16MB", "+16MB", "16 MB", "16mb", "99999999999999999999GB"} {
		_, err := ParseSegmentSize(bad)
		assert.Error(t, err, bad)
	}
	for s := MinSegmentSize; s <= MaxSegmentSize; s *= 2 {
		assert.True(t, s.Valid(), s)
		assert.NoError(t, s.Check())
	}
	assert.False(t, SegmentSize(0).Valid())
	assert.False(t, SegmentSize(3<<20).Valid())
	assert.Error(t, SegmentSize(2<<30).Check())
}

func TestSegmentMath(t *testing.T) {
	s := DefaultSegmentSize
	l, _ := ParseLSN("16/B374D848")
	assert.Equal(t, uint64(256), s.SegmentsPerID())
	assert.Equal(t, SegmentNo(0x16*256+0xB3), s.Segment(l))
	assert.Equal(t, uint64(0x74D848), s.Offset(l))
	assert.Equal(t, LSN(0x16_B3000000), s.StartLSN(s.Segment(l)))
	assert.Equal(t, "0000000100000016000000B3", SegmentFileName(1, s.Segment(l), s))

	g := SegmentSize(1 << 30)
	assert.Equal(t, uint64(4), g.SegmentsPerID())
	assert.Equal(t, "000000020000001600000002", SegmentFileName(2, g.Segment(l), g))
	m := SegmentSize(1 << 20)
	assert.Equal(t, "000000010000001600000B37", SegmentFileName(1, m.Segment(l), m))
}

func TestFileNames(t *testing.T) {
	tests := []struct {
		name string
		want FileName
	}{
		{"000000010000000000000001", FileName{Kind: KindSegment, Timeline: 1, LogSeg: 1}},
		{"0000000A00000016000000B3", FileName{Kind: KindSegment, Timeline: 10, LogID: 0x16, LogSeg: 0xB3}},
		{"000000010000000000000001.partial", FileName{Kind: KindPartial, Timeline: 1, LogSeg: 1}},
		{"00000002.history", FileName{Kind: KindHistory, Timeline: 2}},
		{"000000010000000000000002.00000028.backup", FileName{Kind: KindBackupHistory, Timeline: 1, LogSeg: 2, Offset: 0x28}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFileName(tt.name)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.name, got.String())
		})
	}
	for _, bad := range []string{
		"", "00000001000000000000001", "0000000100000000000000011", "000000000000000000000001",
		"00000001000000000000000a", "000000010000000000000001.", "000000010000000000000001.zst",
		"000000010000000000000001.partial.zst", "00000000.history", "0000000a.history", "1.history",
		"000000010000000000000002.28.backup", "000000010000000000000002.00000028.backupx",
		"000000010000000000000002.0000002G.backup", "RECOVERYXLOG", "archive_status", "../000000010000000000000001",
		"00000001.history.backup",
	} {
		t.Run("bad "+bad, func(t *testing.T) {
			_, err := ParseFileName(bad)
			assert.ErrorIs(t, err, ErrSyntax)
		})
	}

	s := DefaultSegmentSize
	start, _ := ParseLSN("0/2000028")
	assert.Equal(t, "000000010000000000000002.00000028.backup", BackupHistoryFileName(1, start, s))
	assert.Equal(t, "000000030000000000000002.partial", PartialFileName(3, 2, s))
	assert.Equal(t, "0000000A.history", HistoryFileName(10))

	f, _ := ParseFileName("000000010000000100000000")
	seg, err := f.Segment(s)
	require.NoError(t, err)
	assert.Equal(t, SegmentNo(256), seg)
	f, _ = ParseFileName("000000010000000000000100") // LogSeg 256: too big for 16MB
	_, err = f.Segment(s)
	assert.Error(t, err)
	seg, err = f.Segment(1 << 20)
	require.NoError(t, err)
	assert.Equal(t, SegmentNo(256), seg)
	f, _ = ParseFileName("00000002.history")
	_, err = f.Segment(s)
	assert.Error(t, err)
}

func FuzzParseLSN(f *testing.F) {
	for _, s := range []string{"0/0", "16/B374D848", "FFFFFFFF/FFFFFFFF", "1/2/3", "", "a/b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLSN(s)
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("error %v does not wrap ErrSyntax", err)
			}
			return
		}
		back, err := ParseLSN(l.String())
		if err != nil || back != l {
			t.Fatalf("%q -> %v -> %v, %v", s, l, back, err)
		}
	})
}

func FuzzParseFileName(f *testing.F) {
	for _, s := range []string{"000000010000000000000001", "000000010000000000000001.partial", "00000002.history",
		"000000010000000000000002.00000028.backup", "", ".", "0000000100000000000000010.backup"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fn, err := ParseFileName(s)
		if err != nil {
			return
		}
		// Accepted names are canonical: they format back to themselves.
		if fn.String() != s {
			t.Fatalf("%q parsed as %+v, formats as %q", s, fn, fn.String())
		}
		if fn.Timeline == 0 {
			t.Fatalf("%q: timeline 0 accepted", s)
		}
	})
}

func FuzzParseSegmentSize(f *testing.F) {
	for _, s := range []string{"16MB", "1GB", "1024kB", "16777216", "3MB", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		size, err := ParseSegmentSize(s)
		if err != nil {
			return
		}
		if !size.Valid() {
			t.Fatalf("%q accepted as invalid size %d", s, size)
		}
		if back, err := ParseSegmentSize(size.String()); err != nil || back != size {
			t.Fatalf("%q -> %d -> %q -> %d, %v", s, size, size.String(), back, err)
		}
	})
}
