package basebackup

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/internal/wal"
)

// makeManifest writes a manifest as the server does: one file per line,
// the last line the SHA-256 of everything before it.
func makeManifest(version int, files []string, ranges string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "{ \"PostgreSQL-Backup-Manifest-Version\": %d,\n", version)
	if version == 2 {
		b.WriteString("\"System-Identifier\": 7300000000000000001,\n")
	}
	b.WriteString("\"Files\": [\n")
	b.WriteString(strings.Join(files, ",\n"))
	b.WriteString(" ],\n\"WAL-Ranges\": [\n" + ranges + "\n],\n")
	sum := sha256.Sum256([]byte(b.String()))
	fmt.Fprintf(&b, "\"Manifest-Checksum\": \"%s\"}\n", hex.EncodeToString(sum[:]))
	return []byte(b.String())
}

func TestChecksumEncoding(t *testing.T) {
	// The check value of CRC-32C is 0xE3069283; the server prints the
	// bytes of the uint32 as they lie in memory.
	c, err := checksumAlgorithm("crc32c")
	require.NoError(t, err)
	h := c.new()
	h.Write([]byte("123456789"))
	assert.Equal(t, "839206e3", c.encode(h))
	c, err = checksumAlgorithm("SHA256")
	require.NoError(t, err)
	h = c.new()
	h.Write([]byte("abc"))
	assert.Equal(t, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", c.encode(h))
	c, err = checksumAlgorithm("NONE")
	require.NoError(t, err)
	assert.Nil(t, c)
	_, err = checksumAlgorithm("MD5")
	assert.Error(t, err)
}

func TestManifestCheck(t *testing.T) {
	const rng = `{ "Timeline": 1, "Start-LSN": "0/2000028", "End-LSN": "0/2000100" }`
	start, end := wal.LSN(0x2000028), wal.LSN(0x2000100)
	files := []string{
		`{ "Path": "backup_label", "Size": 9, "Last-Modified": "2026-11-24 05:00:00 GMT", "Checksum-Algorithm": "CRC32C", "Checksum": "839206e3" }`,
		`{ "Encoded-Path": "706731", "Size": 3, "Last-Modified": "2026-11-24 05:00:00 GMT", "Checksum-Algorithm": "CRC32C", "Checksum": "%s" }`,
		`{ "Path": "pg_tblspc/16385/PG_15/x", "Size": 0, "Last-Modified": "2026-11-24 05:00:00 GMT" }`,
	}
	sums := func(t *testing.T, contents map[string]string) *fileSums {
		s, err := newFileSums("")
		require.NoError(t, err)
		for name, body := range contents {
			_, err := s.copy(name, io.Discard, strings.NewReader(body))
			require.NoError(t, err)
		}
		return s
	}
	h := castagnoliSum("abc")
	good := []string{files[0], fmt.Sprintf(files[1], h), files[2]}
	contents := map[string]string{"backup_label": "123456789", "pg1": "abc", "pg_tblspc/16385/PG_15/x": "",
		"pg_wal/000000010000000000000002": "wal is not listed"}

	for _, version := range []int{1, 2} {
		raw := makeManifest(version, good, rng)
		require.NoError(t, sums(t, contents).check(raw, "7300000000000000001", 1, start, end), "version %d", version)
	}
	raw := makeManifest(1, good, rng)
	tests := []struct {
		name string
		raw  []byte
		edit func(map[string]string)
		tli  wal.TimelineID
		sys  string
		want string
	}{
		{name: "size", edit: func(m map[string]string) { m["pg1"] = "abcd" }, want: "pg1 has size 4, the manifest says 3"},
		{name: "content", edit: func(m map[string]string) { m["backup_label"] = "123456780" }, want: "backup_label has CRC32C checksum"},
		{name: "missing", edit: func(m map[string]string) { delete(m, "pg_tblspc/16385/PG_15/x") }, want: "is in the manifest but was not received"},
		{name: "extra", edit: func(m map[string]string) { m["base/1/99"] = "" }, want: "base/1/99 was received but is not in the manifest"},
		{name: "wal range", tli: 2, want: "WAL range 0/2000028 to 0/2000100 on timeline 1"},
		{name: "system id", raw: makeManifest(2, good, rng), sys: "1", want: "system identifier 7300000000000000001"},
		{name: "tampered", raw: []byte(strings.Replace(string(raw), `"Size": 3`, `"Size": 4`, 1)), want: "Manifest-Checksum is"},
		{name: "no checksum line", raw: []byte(`{"PostgreSQL-Backup-Manifest-Version": 1}`), want: "no Manifest-Checksum line"},
		{name: "version", raw: makeManifest(3, good, rng), want: "unknown manifest version 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := map[string]string{}
			for k, v := range contents {
				c[k] = v
			}
			if tt.edit != nil {
				tt.edit(c)
			}
			r := raw
			if tt.raw != nil {
				r = tt.raw
			}
			tli, sys := wal.TimelineID(1), "7300000000000000001"
			if tt.tli != 0 {
				tli = tt.tli
			}
			if tt.sys != "" {
				sys = tt.sys
			}
			err := sums(t, c).check(r, sys, tli, start, end)
			require.ErrorIs(t, err, ErrManifest)
			assert.ErrorContains(t, err, tt.want)
		})
	}

	// A different algorithm than the one computed is reported, not
	// silently passed.
	s, err := newFileSums("SHA256")
	require.NoError(t, err)
	for name, body := range contents {
		_, err := s.copy(name, io.Discard, strings.NewReader(body))
		require.NoError(t, err)
	}
	assert.ErrorContains(t, s.check(raw, "7300000000000000001", 1, start, end), "the backup computed SHA256")
}

func castagnoliSum(s string) string {
	c, _ := checksumAlgorithm("CRC32C")
	h := c.new()
	h.Write([]byte(s))
	return c.encode(h)
}
