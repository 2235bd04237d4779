package basebackup

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTablespaceMapping(t *testing.T) {
	tests := []struct {
		in, old, dir, err string
	}{
		{in: "/a=/b", old: "/a", dir: "/b"},
		{in: "/a/=/b//c", old: "/a", dir: "/b/c"},
		{in: `/x\=y=/z`, old: "/x=y", dir: "/z"},
		{in: "/a", err: "must be"},
		{in: "/a=/b=/c", err: "multiple"},
		{in: "=/b", err: "empty"},
		{in: "a=/b", err: "old directory is not an absolute path"},
		{in: "/a=b", err: "new directory is not an absolute path"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			old, dir, err := ParseTablespaceMapping(tt.in)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.old, old)
			assert.Equal(t, tt.dir, dir)
		})
	}
}

func TestParseMaxRate(t *testing.T) {
	for in, want := range map[string]int{"32": 32, "100k": 100, "1M": 1024, "1024M": 1048576, "1.5M": 1536} {
		got, err := ParseMaxRate(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "31", "1025M", "-5", "x", "5G"} {
		_, err := ParseMaxRate(in)
		assert.Error(t, err, in)
	}
}

func TestEntryName(t *testing.T) {
	for in, want := range map[string]string{"base/1/2": "base/1/2", "./global/": "global", ".": ".", "a/../b": "b"} {
		got, err := entryName(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got)
	}
	for _, in := range []string{"/etc/passwd", "..", "../x", "a/../../x", "a\x00b"} {
		_, err := entryName(in)
		assert.Error(t, err, in)
	}
}

type tarEntry struct {
	name, link string
	typ        byte
	mode       int64
	body       string
}

func makeTar(t *testing.T, entries []tarEntry) []byte {
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: e.mode,
			Size: int64(len(e.body)), ModTime: time.Unix(1700000000, 0)}
		require.NoError(t, w.WriteHeader(h))
		_, err := w.Write([]byte(e.body))
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	return b.Bytes()
}

func TestExtract(t *testing.T) {
	root := t.TempDir()
	x := &extractor{sync: newSyncer(), dirMode: 0o700, mapDir: func(s string) string {
		if s == "/old/ts" {
			return "/new/ts"
		}
		return s
	}}
	archive := makeTar(t, []tarEntry{
		{name: "global", typ: tar.TypeDir, mode: 0o700},
		{name: "base/1/1259", typ: tar.TypeReg, mode: 0o600, body: "relation"}, // parent made on the way
		{name: "pg_tblspc/16385", typ: tar.TypeSymlink, link: "/old/ts"},
		{name: "pg_tblspc/16386", typ: tar.TypeSymlink, link: "/kept/ts"},
		{name: "global/pg_control", typ: tar.TypeReg, mode: 0o600, body: "control"},
	})
	require.NoError(t, x.extract(bytes.NewReader(archive), root, "", true))

	b, err := os.ReadFile(filepath.Join(root, "base/1/1259"))
	require.NoError(t, err)
	assert.Equal(t, "relation", string(b))
	fi, err := os.Stat(filepath.Join(root, "base/1/1259"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	assert.Equal(t, int64(1700000000), fi.ModTime().Unix())
	// pg_control waits under its temporary name.
	assert.NoFileExists(t, filepath.Join(root, "global/pg_control"))
	assert.FileExists(t, filepath.Join(root, controlTemp))
	link, err := os.Readlink(filepath.Join(root, "pg_tblspc/16385"))
	require.NoError(t, err)
	assert.Equal(t, "/new/ts", link)
	link, err = os.Readlink(filepath.Join(root, "pg_tblspc/16386"))
	require.NoError(t, err)
	assert.Equal(t, "/kept/ts", link)
	assert.Len(t, x.sync.files, 2)
	require.NoError(t, x.sync.sync())

	// In a tablespace's archive pg_control is nothing special, and links
	// or escaping names are refused.
	ts := t.TempDir()
	require.NoError(t, x.extract(bytes.NewReader(makeTar(t, []tarEntry{
		{name: "global/pg_control", typ: tar.TypeReg, mode: 0o600, body: "x"},
	})), ts, "", false))
	assert.FileExists(t, filepath.Join(ts, "global/pg_control"))
	for _, bad := range []tarEntry{
		{name: "pg_tblspc/1", typ: tar.TypeSymlink, link: "/x"},
		{name: "../escape", typ: tar.TypeReg, body: "x"},
		{name: "fifo", typ: tar.TypeFifo},
	} {
		err := x.extract(bytes.NewReader(makeTar(t, []tarEntry{bad})), t.TempDir(), "", false)
		assert.Error(t, err, bad.name)
	}
	// Files already there are never overwritten.
	err = x.extract(bytes.NewReader(makeTar(t, []tarEntry{{name: "base/1/1259", typ: tar.TypeReg, body: "y"}})), root, "", true)
	assert.ErrorIs(t, err, os.ErrExist)
}

func TestPrepareDir(t *testing.T) {
	base := t.TempDir()
	// Missing: created, and removed whole.
	d := filepath.Join(base, "a", "b")
	tg, err := prepareDir(d, 0o750)
	require.NoError(t, err)
	fi, err := os.Stat(d)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o750), fi.Mode().Perm())
	require.NoError(t, os.WriteFile(filepath.Join(d, "f"), nil, 0o600))
	require.NoError(t, tg.remove())
	assert.NoDirExists(t, d)
	// Empty: kept, only its contents removed.
	e := filepath.Join(base, "empty")
	require.NoError(t, os.Mkdir(e, 0o755))
	tg, err = prepareDir(e, 0o700)
	require.NoError(t, err)
	require.NoError(t, os.Mkdir(filepath.Join(e, "sub"), 0o700))
	require.NoError(t, tg.remove())
	entries, err := os.ReadDir(e)
	require.NoError(t, err)
	assert.Empty(t, entries)
	// Not empty, or a file: refused.
	require.NoError(t, os.WriteFile(filepath.Join(e, "f"), nil, 0o600))
	_, err = prepareDir(e, 0o700)
	assert.ErrorIs(t, err, ErrNotEmpty)
	_, err = prepareDir(filepath.Join(e, "f"), 0o700)
	assert.ErrorContains(t, err, "not a directory")
}
