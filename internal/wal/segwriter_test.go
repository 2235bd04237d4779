package wal

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

func TestSegmentWriter(t *testing.T) {
	const size = MinSegmentSize
	dir := t.TempDir()
	wal := make([]byte, 3*size+size/2) // segments 2, 3, 4 and half of 5
	_, _ = rand.Read(wal)
	start := size.StartLSN(2)

	w, err := NewSegmentWriter(dir, size)
	require.NoError(t, err)
	require.NoError(t, w.Begin(1, start))
	// Pieces of odd sizes that cross segment boundaries.
	for off := 0; off < len(wal); {
		n := min(len(wal)-off, 300_001)
		require.NoError(t, w.Write(start.Add(uint64(off)), wal[off:off+n]))
		off += n
	}
	assert.Equal(t, start.Add(uint64(len(wal))), w.Position())
	assert.Equal(t, size.StartLSN(5), w.Flushed(), "complete segments are durable, the .partial is not yet")
	require.NoError(t, w.Sync())
	assert.Equal(t, w.Position(), w.Flushed())
	require.NoError(t, w.Close())

	assert.Equal(t, []string{
		"000000010000000000000002", "000000010000000000000003", "000000010000000000000004",
		"000000010000000000000005.partial",
	}, dirNames(t, dir))
	for i := range 3 {
		got := readFile(t, filepath.Join(dir, SegmentFileName(1, SegmentNo(2+i), size)))
		assert.True(t, bytes.Equal(wal[i*int(size):(i+1)*int(size)], got), "segment %d", 2+i)
	}
	partial := readFile(t, filepath.Join(dir, "000000010000000000000005.partial"))
	require.Len(t, partial, int(size), "zero-filled to the segment size")
	assert.True(t, bytes.Equal(wal[3*size:], partial[:size/2]))
	assert.True(t, bytes.Equal(make([]byte, size/2), partial[size/2:]))

	// Resume: the stream restarts at the .partial's start and rewrites it.
	ss, err := FindStreamingStart(dir, size)
	require.NoError(t, err)
	assert.Equal(t, StreamingStart{Start: size.StartLSN(5), Timeline: 1, Partial: true}, ss)
	more := make([]byte, size+100)
	copy(more, wal[3*size:])
	_, _ = rand.Read(more[size/2:])
	w, err = NewSegmentWriter(dir, size)
	require.NoError(t, err)
	require.NoError(t, w.Begin(ss.Timeline, ss.Start))
	require.NoError(t, w.Write(ss.Start, more))
	require.NoError(t, w.Close())
	assert.Equal(t, ss.Start.Add(uint64(len(more))), w.Flushed())
	assert.Equal(t, []string{
		"000000010000000000000002", "000000010000000000000003", "000000010000000000000004",
		"000000010000000000000005", "000000010000000000000006.partial",
	}, dirNames(t, dir))
	assert.True(t, bytes.Equal(more[:size], readFile(t, filepath.Join(dir, "000000010000000000000005"))))

	// A new timeline begins at a segment start: the old .partial stays.
	require.NoError(t, w.Begin(2, size.StartLSN(6)))
	require.NoError(t, w.Write(size.StartLSN(6), []byte("tl2")))
	require.NoError(t, w.Close())
	assert.Contains(t, dirNames(t, dir), "000000010000000000000006.partial")
	assert.Contains(t, dirNames(t, dir), "000000020000000000000006.partial")
	ss, err = FindStreamingStart(dir, size)
	require.NoError(t, err)
	assert.Equal(t, StreamingStart{Start: size.StartLSN(6), Timeline: 2, Partial: true}, ss)
}

func TestSegmentWriterErrors(t *testing.T) {
	const size = MinSegmentSize
	_, err := NewSegmentWriter(t.TempDir(), 12345)
	assert.Error(t, err)

	t.Run("not a segment start", func(t *testing.T) {
		w, err := NewSegmentWriter(t.TempDir(), size)
		require.NoError(t, err)
		assert.ErrorContains(t, w.Begin(1, size.StartLSN(1)+8), "not the start of a segment")
		assert.Error(t, w.Write(size.StartLSN(1), []byte("x")), "sticky")
	})

	t.Run("gap", func(t *testing.T) {
		dir := t.TempDir()
		w, err := NewSegmentWriter(dir, size)
		require.NoError(t, err)
		assert.ErrorContains(t, w.Write(0, []byte("x")), "before begin")
		w, err = NewSegmentWriter(dir, size)
		require.NoError(t, err)
		require.NoError(t, w.Begin(1, size.StartLSN(1)))
		require.NoError(t, w.Write(size.StartLSN(1), []byte("abc")))
		err = w.Write(size.StartLSN(1)+4, []byte("e"))
		assert.ErrorContains(t, err, "expected 0/100003")
		assert.Equal(t, err, w.Sync(), "sticky")
		assert.Equal(t, err, w.Close())
		assert.Equal(t, []string{"000000010000000000000001.partial"}, dirNames(t, dir))
	})

	t.Run("partial of a wrong size", func(t *testing.T) {
		dir := t.TempDir()
		name := filepath.Join(dir, "000000010000000000000001.partial")
		require.NoError(t, os.WriteFile(name, []byte("short"), 0o600))
		w, err := NewSegmentWriter(dir, size)
		require.NoError(t, err)
		require.NoError(t, w.Begin(1, size.StartLSN(1)))
		assert.ErrorContains(t, w.Write(size.StartLSN(1), []byte("x")), "has 5 bytes, should be 0 or 1048576")
		assert.Equal(t, []byte("short"), readFile(t, name), "left alone")
	})

	t.Run("empty partial is filled", func(t *testing.T) {
		dir := t.TempDir()
		name := filepath.Join(dir, "000000010000000000000001.partial")
		require.NoError(t, os.WriteFile(name, nil, 0o600))
		w, err := NewSegmentWriter(dir, size)
		require.NoError(t, err)
		require.NoError(t, w.Begin(1, size.StartLSN(1)))
		require.NoError(t, w.Write(size.StartLSN(1), []byte("x")))
		require.NoError(t, w.Close())
		got := readFile(t, name)
		require.Len(t, got, int(size))
		assert.Equal(t, byte('x'), got[0])
	})

	t.Run("directory gone", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "gone")
		w, err := NewSegmentWriter(dir, size)
		require.NoError(t, err)
		require.NoError(t, w.Begin(1, size.StartLSN(1)))
		assert.Error(t, w.Write(size.StartLSN(1), []byte("x")))
	})
}

func TestFindStreamingStart(t *testing.T) {
	const size = DefaultSegmentSize
	full := int64(size)
	tests := []struct {
		name  string
		files map[string]int64 // name -> size
		want  StreamingStart
	}{
		{"empty", nil, StreamingStart{}},
		{"other files only", map[string]int64{
			"00000002.history": 40, "000000010000000000000003.partial.tmp": full, "README": 3,
			"000000010000000000000002.00000028.backup": 300,
		}, StreamingStart{}},
		{"complete segments", map[string]int64{
			"000000010000000000000001": full, "000000010000000000000002": full,
		}, StreamingStart{Start: size.StartLSN(3), Timeline: 1}},
		{"a partial after them", map[string]int64{
			"000000010000000000000002": full, "000000010000000000000003.partial": full,
		}, StreamingStart{Start: size.StartLSN(3), Timeline: 1, Partial: true}},
		{"the higher timeline of a segment", map[string]int64{
			"000000010000000000000003.partial": full, "000000020000000000000003.partial": full,
			"000000010000000000000002": full,
		}, StreamingStart{Start: size.StartLSN(3), Timeline: 2, Partial: true}},
		{"complete over partial", map[string]int64{
			"000000010000000000000003.partial": full, "000000010000000000000003": full,
		}, StreamingStart{Start: size.StartLSN(4), Timeline: 1}},
		{"a wrong size is skipped", map[string]int64{
			"000000010000000000000002": full, "000000010000000000000003": 100,
		}, StreamingStart{Start: size.StartLSN(3), Timeline: 1, Skipped: []string{"000000010000000000000003"}}},
		{"log id boundary", map[string]int64{
			"0000000100000001000000FF": full, "000000010000000200000000": full,
		}, StreamingStart{Start: size.StartLSN(2*256 + 1), Timeline: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, n := range tt.files {
				require.NoError(t, os.WriteFile(filepath.Join(dir, name), nil, 0o600))
				require.NoError(t, os.Truncate(filepath.Join(dir, name), n))
			}
			got, err := FindStreamingStart(dir, size)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}

	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "000000010000000000000100.partial"), nil, 0o600))
	_, err := FindStreamingStart(dir, size)
	assert.ErrorContains(t, err, "not a valid name for 16MB segments")
	_, err = FindStreamingStart(filepath.Join(dir, "missing"), size)
	assert.Error(t, err)
}

func TestWriteFileDurably(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, WriteFileDurably(dir, "00000002.history", []byte("1\t0/3000000\tno recovery target specified\n")))
	require.NoError(t, WriteFileDurably(dir, "00000002.history", []byte("again\n")))
	assert.Equal(t, []string{"00000002.history"}, dirNames(t, dir), "replaced, no .tmp left")
	assert.Equal(t, "again\n", string(readFile(t, filepath.Join(dir, "00000002.history"))))

	require.NoError(t, os.Mkdir(filepath.Join(dir, "00000003.history"), 0o700))
	err := WriteFileDurably(dir, "00000003.history", []byte("x"))
	assert.Error(t, err, "a directory is in the way")
	assert.Equal(t, []string{"00000002.history", "00000003.history"}, dirNames(t, dir), "no .tmp left")
}

func TestSegmentWriterFinish(t *testing.T) {
	dir := t.TempDir()
	seg := MinSegmentSize // 1 MiB
	w, err := NewSegmentWriter(dir, seg)
	require.NoError(t, err)
	require.NoError(t, w.Begin(2, seg.StartLSN(5)))
	data := bytes.Repeat([]byte{0xAB}, int(seg)+100)
	require.NoError(t, w.Write(seg.StartLSN(5), data))
	partial := filepath.Join(dir, PartialFileName(2, 6, seg))
	require.FileExists(t, partial)

	// Finish completes the segment holding the end: full size,
	// zero-padded, renamed, durable.
	require.NoError(t, w.Finish())
	assert.NoFileExists(t, partial)
	b, err := os.ReadFile(filepath.Join(dir, SegmentFileName(2, 6, seg)))
	require.NoError(t, err)
	require.Len(t, b, int(seg))
	assert.Equal(t, data[seg:], b[:100])
	assert.Equal(t, make([]byte, int(seg)-100), b[100:])
	assert.Equal(t, w.Position(), w.Flushed())
	require.NoError(t, w.Finish(), "nothing open: nothing to do")
	require.NoError(t, w.Close())
}
