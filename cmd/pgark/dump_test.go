package main

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/dump"
	"github.com/pgark/pgark/format"
	"github.com/pgark/pgark/internal/testcluster"
	"github.com/pgark/pgark/schema"
)

func TestParseCompress(t *testing.T) {
	for _, tc := range []struct {
		in    string
		codec format.Codec
		level int
		err   string
	}{
		{"", format.CodecZstd, 0, ""},
		{"zstd", format.CodecZstd, 0, ""},
		{"zstd:3", format.CodecZstd, 3, ""},
		{"zstd:level=7", format.CodecZstd, 7, ""},
		{"ZSTD:22", format.CodecZstd, 22, ""},
		{"none", format.CodecNone, 0, ""},
		{"0", format.CodecNone, 0, ""},
		{"5", format.CodecZstd, 5, ""},
		{"zstd:0", 0, 0, "levels are 1 to 22"},
		{"zstd:23", 0, 0, "levels are 1 to 22"},
		{"23", 0, 0, "levels are 1 to 22"},
		{"none:3", 0, 0, "takes no level"},
		{"gzip:6", 0, 0, "unsupported compression"},
		{"brotli", 0, 0, "invalid compression"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			codec, level, err := parseCompress(tc.in)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.codec, codec)
			assert.Equal(t, tc.level, level)
		})
	}
}

func TestDumpUsage(t *testing.T) {
	for _, args := range [][]string{
		{"dump", "-s", "-a", "db"},
		{"dump", "-j", "0", "db"},
		{"dump", "-Z", "gzip", "db"},
		{"dump", "--section", "everything", "db"},
		{"dump", "-Fd", "db"},
		{"dump", "db", "extra"},
		{"dump", "--no-such-flag"},
	} {
		r := pgark(t, nil, args...)
		assert.Equal(t, exitUsage, r.code, "%v: %s", args, r.stderr)
		assert.Empty(t, r.stdout, args)
	}
}

// dirNames lists what is in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.pgark")

	boom := errors.New("boom")
	var tmp string
	err := writeFileAtomic(path, func(w io.Writer) error {
		_, err := io.WriteString(w, "partial")
		names := dirNames(t, dir)
		require.Len(t, names, 1)
		tmp = names[0]
		assert.Regexp(t, `^\.out\.pgark\.pgark-tmp-`, tmp)
		return errors.Join(err, boom)
	})
	require.ErrorIs(t, err, boom)
	assert.Empty(t, dirNames(t, dir), "the temporary file is removed and nothing is at the final path")

	require.NoError(t, writeFileAtomic(path, func(w io.Writer) error {
		_, err := io.WriteString(w, "complete")
		return err
	}))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "complete", string(b))
	assert.Equal(t, []string{"out.pgark"}, dirNames(t, dir))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	// A failure leaves an earlier archive at the path alone.
	require.Error(t, writeFileAtomic(path, func(io.Writer) error { return boom }))
	b, err = os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "complete", string(b))
	assert.Equal(t, []string{"out.pgark"}, dirNames(t, dir))

	// A relative name is written in the working directory.
	t.Chdir(dir)
	require.NoError(t, writeFileAtomic("rel.pgark", func(w io.Writer) error { return nil }))
	assert.FileExists(t, filepath.Join(dir, "rel.pgark"))
}

// TestDumpFailureLeavesNoFile: a dump that cannot connect exits 1 and
// leaves nothing behind.
func TestDumpFailureLeavesNoFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.pgark")
	r := pgark(t, nil, "dump", "-w", "-h", filepath.Join(dir, "no-socket-here"), "-p", "1", "-f", path, "db")
	assert.Equal(t, exitFailure, r.code, r.stderr)
	t.Log(r.stderr)
	assert.Contains(t, r.stderr, "pgark: dump: ")
	assert.Empty(t, dirNames(t, dir))
}

// testDumpOptions is a dumpOptions against database db of c whose catalog
// is one table's data.
func testDumpOptions(c *testcluster.Cluster, db string) *dumpOptions {
	o := &dumpOptions{jobs: 2, stdout: io.Discard, stderr: io.Discard}
	o.conn.DBName = c.ConnString(db)
	o.conn.NoPassword = true
	o.load = func(context.Context, dump.Querier) ([]*schema.Object, error) {
		return []*schema.Object{
			{ID: 1, Kind: schema.KindTable, Schema: "public", Name: "t", Create: `CREATE TABLE "public"."t" (id int, v text);`},
			{ID: 2, Kind: schema.KindTableData, Schema: "public", Name: "t", DepIDs: []int{1},
				Data: &schema.TableData{Relation: `"public"."t"`, Columns: []string{`"id"`, `"v"`}}},
		}, nil
	}
	return o
}

// TestDumpFile: a dump to -f is complete and verifiable; one interrupted
// midway (as by SIGINT) or failing midway leaves nothing at the path.
func TestDumpFile(t *testing.T) {
	c := testcluster.Start(t)
	c.CreateDB(t, "shop")
	c.Exec(t, "shop", "CREATE TABLE t (id int, v text); INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 100000) g")
	dir := t.TempDir()
	path := filepath.Join(dir, "shop.pgark")

	o := testDumpOptions(c, "shop")
	o.file = path
	require.NoError(t, runDump(t.Context(), o, nil))
	r := pgark(t, nil, "verify", path)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "2 entries")
	assert.Contains(t, r.stdout, "100000 rows")
	require.NoError(t, os.Remove(path))

	// Interrupted: the context is cancelled while a worker copies.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	o = testDumpOptions(c, "shop")
	o.file = path
	o.verbose = true
	o.stderr = &cancelOnWrite{cancel: cancel, when: "dumping contents of table"}
	err := runDump(ctx, o, nil)
	require.Error(t, err)
	t.Log(err)
	assert.Equal(t, exitInterrupted, exitCode(ctx, err), "%v", err)
	assert.Empty(t, dirNames(t, dir))

	// Failing midway: the table's COPY fails.
	o = testDumpOptions(c, "shop")
	o.file = path
	o.load = func(context.Context, dump.Querier) ([]*schema.Object, error) {
		return []*schema.Object{{ID: 1, Kind: schema.KindTableData, Schema: "public", Name: "gone",
			Data: &schema.TableData{Relation: `"public"."t"`, Columns: []string{`"no_such_column"`}}}}, nil
	}
	o.jobs = 1
	err = runDump(t.Context(), o, nil)
	require.ErrorContains(t, err, `dump: copy "public"."t"`)
	assert.Equal(t, exitFailure, exitCode(t.Context(), err))
	assert.Empty(t, dirNames(t, dir))

	// To stdout, with progress on stderr.
	var stdout, stderr bytesBuffer
	o = testDumpOptions(c, "shop")
	o.stdout, o.stderr, o.verbose = &stdout, &stderr, true
	require.NoError(t, runDump(t.Context(), o, nil))
	ar, err := format.NewReader(&stdout, int64(stdout.Len()))
	require.NoError(t, err)
	assert.Len(t, ar.Entries(), 2)
	assert.Contains(t, stderr.String(), `pgark: dump: dumping contents of table "public"."t"`)
	assert.Contains(t, stderr.String(), "pgark: dump: dump complete: 100000 rows")
}

// cancelOnWrite cancels a context when a line with when is written.
type cancelOnWrite struct {
	cancel context.CancelFunc
	when   string
}

func (w *cancelOnWrite) Write(p []byte) (int, error) {
	if strings.Contains(string(p), w.when) {
		w.cancel()
	}
	return len(p), nil
}

// bytesBuffer is a bytes.Buffer that is also an io.ReaderAt.
type bytesBuffer struct{ b []byte }

func (w *bytesBuffer) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }
func (w *bytesBuffer) Len() int                    { return len(w.b) }
func (w *bytesBuffer) String() string              { return string(w.b) }
func (w *bytesBuffer) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(w.b)) {
		return 0, io.EOF
	}
	n := copy(p, w.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
