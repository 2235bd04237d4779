package replication

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/internal/wal"
)

func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

var (
	t0   = time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)
	t0us = uint64(t0.Sub(pgEpoch).Microseconds())
)

func TestParseXLogData(t *testing.T) {
	msg := cat([]byte{'w'}, be64(0x16_B374D848), be64(0x16_B4000000), be64(t0us), []byte("walbytes"))
	x, err := ParseXLogData(msg)
	require.NoError(t, err)
	assert.Equal(t, wal.LSN(0x16_B374D848), x.WALStart)
	assert.Equal(t, wal.LSN(0x16_B4000000), x.ServerWALEnd)
	assert.True(t, t0.Equal(x.ServerTime), x.ServerTime)
	assert.Equal(t, "walbytes", string(x.Data))
	assert.Equal(t, wal.LSN(0x16_B374D848+8), x.End())

	empty, err := ParseXLogData(msg[:25])
	require.NoError(t, err)
	assert.Empty(t, empty.Data)

	for name, bad := range map[string][]byte{
		"empty":      nil,
		"short":      msg[:24],
		"wrong type": append([]byte{'k'}, msg[1:]...),
		"overflow":   cat([]byte{'w'}, be64(^uint64(0)), be64(0), be64(0), []byte("x")),
	} {
		_, err := ParseXLogData(bad)
		assert.ErrorIs(t, err, ErrProtocol, name)
	}
}

func TestParsePrimaryKeepalive(t *testing.T) {
	for _, reply := range []byte{0, 1} {
		msg := cat([]byte{'k'}, be64(0x3_00000028), be64(t0us), []byte{reply})
		k, err := ParsePrimaryKeepalive(msg)
		require.NoError(t, err)
		assert.Equal(t, wal.LSN(0x3_00000028), k.ServerWALEnd)
		assert.True(t, t0.Equal(k.ServerTime))
		assert.Equal(t, reply == 1, k.ReplyRequested)
	}
	good := cat([]byte{'k'}, be64(1), be64(1), []byte{0})
	for name, bad := range map[string][]byte{
		"empty":      nil,
		"short":      good[:17],
		"long":       append(good, 0),
		"wrong type": append([]byte{'w'}, good[1:]...),
		"bad flag":   cat([]byte{'k'}, be64(1), be64(1), []byte{2}),
	} {
		_, err := ParsePrimaryKeepalive(bad)
		assert.ErrorIs(t, err, ErrProtocol, name)
	}
}

func TestStandbyStatusUpdate(t *testing.T) {
	s := StandbyStatus{Write: 0x1_00000010, Flush: 0x1_00000008, Apply: 0, ClientTime: t0, ReplyRequested: true}
	b := EncodeStandbyStatusUpdate(nil, s)
	want := cat([]byte{'r'}, be64(0x1_00000010), be64(0x1_00000008), be64(0), be64(t0us), []byte{1})
	assert.Equal(t, want, b)
	assert.Len(t, b, StandbyStatusSize)
	back, err := ParseStandbyStatusUpdate(b)
	require.NoError(t, err)
	assert.True(t, s.ClientTime.Equal(back.ClientTime))
	back.ClientTime = s.ClientTime
	assert.Equal(t, s, back)

	zero := EncodeStandbyStatusUpdate([]byte("prefix"), StandbyStatus{})
	assert.Equal(t, cat([]byte("prefix"), []byte{'r'}, make([]byte, 33)), zero)

	_, err = ParseStandbyStatusUpdate(b[:33])
	assert.ErrorIs(t, err, ErrProtocol)
}

func TestParseBaseBackupMessage(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want BaseBackupMessage
	}{
		{"new archive base", []byte("nbase.tar\x00\x00"), &NewArchive{Name: "base.tar"}},
		{"new archive tablespace", []byte("n16384.tar\x00/srv/ts1\x00"), &NewArchive{Name: "16384.tar", TablespaceLocation: "/srv/ts1"}},
		{"data", []byte("dsome tar bytes"), &ArchiveData{Data: []byte("some tar bytes")}},
		{"empty data", []byte("d"), &ArchiveData{Data: []byte{}}},
		{"progress", cat([]byte{'p'}, be64(123456789)), &Progress{Bytes: 123456789}},
		{"manifest", []byte("m"), &ManifestStart{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseBaseBackupMessage(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	for name, bad := range map[string][]byte{
		"empty":             nil,
		"unknown type":      []byte("x"),
		"unterminated name": []byte("nbase.tar"),
		"no location":       []byte("nbase.tar\x00"),
		"trailing bytes":    []byte("nbase.tar\x00\x00x"),
		"empty name":        []byte("n\x00\x00"),
		"short progress":    cat([]byte{'p'}, be64(1)[:7]),
		"long progress":     cat([]byte{'p'}, be64(1), []byte{0}),
		"negative progress": cat([]byte{'p'}, be64(^uint64(0))),
		"manifest payload":  []byte("mx"),
	} {
		_, err := ParseBaseBackupMessage(bad)
		assert.ErrorIs(t, err, ErrProtocol, name)
	}
}

func TestBaseBackupCommand(t *testing.T) {
	tests := []struct {
		name string
		opts BaseBackupOptions
		want string
	}{
		{"defaults", BaseBackupOptions{}, "BASE_BACKUP"},
		{"pg_basebackup-like", BaseBackupOptions{
			Label: "pgark base backup", Progress: true, Checkpoint: CheckpointFast, WAL: true, NoWait: true,
			Manifest: "yes", ManifestChecksums: "sha256", TablespaceMap: true,
		}, "BASE_BACKUP (LABEL 'pgark base backup', PROGRESS, CHECKPOINT 'fast', WAL, WAIT false, MANIFEST 'yes', " +
			"MANIFEST_CHECKSUMS 'SHA256', TABLESPACE_MAP)"},
		{"quotes", BaseBackupOptions{Label: `it's a "label" \ ok`}, `BASE_BACKUP (LABEL 'it''s a "label" \ ok')`},
		{"rate and compression", BaseBackupOptions{MaxRate: 1024, Compression: "zstd", CompressionDetail: "level=3,workers=2", Checkpoint: CheckpointSpread},
			"BASE_BACKUP (CHECKPOINT 'spread', MAX_RATE 1024, COMPRESSION 'zstd', COMPRESSION_DETAIL 'level=3,workers=2')"},
		{"no verify", BaseBackupOptions{NoVerifyChecksums: true, Manifest: "no"}, "BASE_BACKUP (MANIFEST 'no', VERIFY_CHECKSUMS false)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := BaseBackupCommand(tt.opts)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	for name, bad := range map[string]BaseBackupOptions{
		"checkpoint":         {Checkpoint: "immediate"},
		"manifest":           {Manifest: "true"},
		"checksums":          {ManifestChecksums: "MD5"},
		"rate low":           {MaxRate: 31},
		"rate high":          {MaxRate: 1048577},
		"rate negative":      {MaxRate: -1},
		"compression":        {Compression: "brotli"},
		"detail alone":       {CompressionDetail: "level=1"},
		"label newline":      {Label: "a\nb"},
		"label NUL":          {Label: "a\x00b"},
		"label long":         {Label: strings.Repeat("x", 1024)},
		"compression detail": {Compression: "gzip", CompressionDetail: "level=1\x00"},
	} {
		_, err := BaseBackupCommand(bad)
		assert.Error(t, err, name)
	}
}

func TestCheckServerVersion(t *testing.T) {
	assert.NoError(t, CheckServerVersion(150000, "BASE_BACKUP"))
	assert.NoError(t, CheckServerVersion(180001, "READ_REPLICATION_SLOT"))
	assert.NoError(t, CheckServerVersion(130020, "IDENTIFY_SYSTEM"))
	err := CheckServerVersion(140011, "BASE_BACKUP")
	require.ErrorIs(t, err, ErrUnsupportedServer)
	assert.Equal(t, "replication: server version not supported: BASE_BACKUP needs PostgreSQL 15 or later, the server is 14.11", err.Error())
	assert.ErrorIs(t, CheckServerVersion(130000, "READ_REPLICATION_SLOT"), ErrUnsupportedServer)
	err = CheckServerVersion(90624, "IDENTIFY_SYSTEM")
	require.ErrorIs(t, err, ErrUnsupportedServer)
	assert.Contains(t, err.Error(), "9.6.24")
}

func TestSlotNamesAndCommands(t *testing.T) {
	for _, ok := range []string{"a", "pgark_1", strings.Repeat("x", 63)} {
		assert.NoError(t, ValidateSlotName(ok), ok)
	}
	for _, bad := range []string{"", "A", "a-b", "a b", "a;DROP", strings.Repeat("x", 64), "é"} {
		assert.Error(t, ValidateSlotName(bad), bad)
	}
	assert.Equal(t, "CREATE_REPLICATION_SLOT s TEMPORARY PHYSICAL (RESERVE_WAL)", slotCommand(150000, "s", SlotOptions{Temporary: true, ReserveWAL: true}))
	assert.Equal(t, "CREATE_REPLICATION_SLOT s PHYSICAL RESERVE_WAL", slotCommand(140000, "s", SlotOptions{ReserveWAL: true}))
	assert.Equal(t, "CREATE_REPLICATION_SLOT s PHYSICAL", slotCommand(180000, "s", SlotOptions{}))

	for _, ok := range []string{"wal_segment_size", "server_version_num", "my.setting", "A$1"} {
		assert.True(t, validIdent(ok, true), ok)
	}
	for _, bad := range []string{"", "1a", "a b", "a;b", "a.", ".a", "a..b", `"a"`} {
		assert.False(t, validIdent(bad, true), bad)
	}
}

func TestParseSystemInfo(t *testing.T) {
	info, err := parseSystemInfo(map[string][]byte{
		"systemid": []byte("7301234567890123456"), "timeline": []byte("3"), "xlogpos": []byte("0/3000148"),
	})
	require.NoError(t, err)
	assert.Equal(t, SystemInfo{SystemID: "7301234567890123456", Timeline: 3, XLogPos: 0x3000148}, info)
	for _, bad := range []map[string][]byte{
		nil,
		{"systemid": []byte("x"), "timeline": []byte("1"), "xlogpos": []byte("0/0")},
		{"systemid": []byte("1"), "timeline": []byte("0"), "xlogpos": []byte("0/0")},
		{"systemid": []byte("1"), "timeline": []byte("1"), "xlogpos": []byte("0")},
	} {
		_, err := parseSystemInfo(bad)
		assert.ErrorIs(t, err, ErrProtocol)
	}

	_, err = parseSlotInfo("s", map[string][]byte{})
	assert.ErrorIs(t, err, ErrSlotNotFound)
	si, err := parseSlotInfo("s", map[string][]byte{"slot_type": []byte("physical"), "restart_lsn": []byte("0/1000000"), "restart_tli": []byte("1")})
	require.NoError(t, err)
	assert.Equal(t, SlotInfo{Type: "physical", RestartLSN: 0x1000000, RestartTLI: 1}, si)
}

func FuzzParseXLogData(f *testing.F) {
	f.Add(cat([]byte{'w'}, be64(0x16_B374D848), be64(0x16_B4000000), be64(t0us), []byte("walbytes")))
	f.Add([]byte("w"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := ParseXLogData(b)
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatal(err)
			}
			return
		}
		if len(x.Data) != len(b)-25 || x.End() < x.WALStart {
			t.Fatalf("bad decode %+v of %d bytes", x, len(b))
		}
	})
}

func FuzzParsePrimaryKeepalive(f *testing.F) {
	f.Add(cat([]byte{'k'}, be64(0x3_00000028), be64(t0us), []byte{1}))
	f.Add([]byte("k"))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParsePrimaryKeepalive(b)
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatal(err)
			}
			return
		}
		if b[17] == 1 != k.ReplyRequested {
			t.Fatalf("reply flag %d decoded as %v", b[17], k.ReplyRequested)
		}
	})
}

func FuzzStandbyStatusUpdate(f *testing.F) {
	f.Add(EncodeStandbyStatusUpdate(nil, StandbyStatus{Write: 5, Flush: 4, Apply: 3, ClientTime: t0, ReplyRequested: true}))
	f.Add([]byte("r"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseStandbyStatusUpdate(b)
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatal(err)
			}
			return
		}
		if again := EncodeStandbyStatusUpdate(nil, s); string(again) != string(b) {
			t.Fatalf("%x decodes to %+v, encodes to %x", b, s, again)
		}
	})
}

func FuzzParseBaseBackupMessage(f *testing.F) {
	for _, s := range [][]byte{
		[]byte("nbase.tar\x00\x00"), []byte("n16384.tar\x00/srv/ts1\x00"), []byte("dtar"), cat([]byte{'p'}, be64(42)), []byte("m"), {},
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseBaseBackupMessage(b)
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatal(err)
			}
			return
		}
		switch m := m.(type) {
		case *NewArchive:
			if again := "n" + m.Name + "\x00" + m.TablespaceLocation + "\x00"; again != string(b) {
				t.Fatalf("%q decodes to %+v", b, m)
			}
		case *ArchiveData:
			if len(m.Data) != len(b)-1 {
				t.Fatalf("%d bytes of data from %d", len(m.Data), len(b))
			}
		case *Progress:
			if m.Bytes < 0 {
				t.Fatal("negative progress")
			}
		case *ManifestStart:
		default:
			t.Fatalf("unknown message %T", m)
		}
	})
}

func TestParseBaseBackupPosition(t *testing.T) {
	p, err := ParseBaseBackupPosition([][][]byte{{[]byte("0/2000028"), []byte("1")}})
	require.NoError(t, err)
	assert.Equal(t, BaseBackupPosition{LSN: 0x2000028, Timeline: 1}, p)
	for _, rows := range [][][][]byte{
		nil,
		{{[]byte("0/2000028")}},
		{{[]byte("x"), []byte("1")}},
		{{[]byte("0/1"), []byte("0")}},
		{{[]byte("0/1"), []byte("1")}, {[]byte("0/1"), []byte("1")}},
	} {
		_, err := ParseBaseBackupPosition(rows)
		assert.ErrorIs(t, err, ErrProtocol, "%q", rows)
	}
}

func TestParseTablespaceHeaders(t *testing.T) {
	hs, err := ParseTablespaceHeaders([][][]byte{
		{[]byte("16385"), []byte("/srv/ts"), []byte("120")},
		{nil, nil, nil},
	})
	require.NoError(t, err)
	assert.Equal(t, []TablespaceHeader{{OID: 16385, Location: "/srv/ts", SizeKB: 120}, {SizeKB: -1}}, hs)
	for name, rows := range map[string][][][]byte{
		"no main":       {{[]byte("1"), []byte("/a"), nil}},
		"two mains":     {{nil, nil, nil}, {nil, nil, nil}},
		"short row":     {{nil, nil}},
		"bad oid":       {{[]byte("x"), []byte("/a"), nil}, {nil, nil, nil}},
		"no location":   {{[]byte("1"), nil, nil}, {nil, nil, nil}},
		"main location": {{nil, []byte("/a"), nil}},
		"bad size":      {{nil, nil, []byte("-1")}},
	} {
		_, err := ParseTablespaceHeaders(rows)
		assert.ErrorIs(t, err, ErrProtocol, name)
	}
}
