package wal

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const seg1 = "000000010000000000000001"

// segment writes a 1 MiB segment file named name into dir, filled with a
// repeated pattern and some random bytes, and returns its path and content.
func segment(t *testing.T, dir, name string) (string, []byte) {
	t.Helper()
	data := bytes.Repeat([]byte("pgark wal "), (1<<20)/10+1)[:1<<20]
	_, _ = rand.Read(data[:4096])
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, data, 0o600))
	return path, data
}

// dirNames lists dir, failing on temporary files left behind.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range ents {
		assert.False(t, strings.HasPrefix(e.Name(), "."), "temporary file left behind: %s", e.Name())
		names = append(names, e.Name())
	}
	return names
}

func TestPushFetch(t *testing.T) {
	ctx := context.Background()
	src, archive, restore := t.TempDir(), t.TempDir(), t.TempDir()
	for _, name := range []string{seg1, seg1 + ".partial", "00000002.history", "000000010000000000000002.00000028.backup"} {
		t.Run(name, func(t *testing.T) {
			var path string
			var data []byte
			if strings.HasPrefix(name, "00000001000000000000000") && !strings.HasSuffix(name, ".backup") {
				path, data = segment(t, src, name)
			} else {
				data = []byte("1\t0/3000000\tno recovery target specified\n")
				path = filepath.Join(src, name)
				require.NoError(t, os.WriteFile(path, data, 0o600))
			}
			require.NoError(t, Push(ctx, path, archive))
			stored, err := os.ReadFile(filepath.Join(archive, name+ArchiveExt))
			require.NoError(t, err)
			if len(data) > 1000 {
				assert.Less(t, len(stored), len(data)/2, "compressed")
			}

			// Pushing the same content again succeeds and changes nothing.
			require.NoError(t, Push(ctx, path, archive))
			again, err := os.ReadFile(filepath.Join(archive, name+ArchiveExt))
			require.NoError(t, err)
			assert.Equal(t, stored, again)

			target := filepath.Join(restore, "RECOVERYXLOG")
			require.NoError(t, os.WriteFile(target, []byte("old"), 0o600))
			require.NoError(t, Fetch(ctx, name, target, archive))
			got, err := os.ReadFile(target)
			require.NoError(t, err)
			assert.True(t, bytes.Equal(data, got), "restored content differs")
		})
	}
	assert.Len(t, dirNames(t, archive), 4)
	assert.Equal(t, []string{"RECOVERYXLOG"}, dirNames(t, restore))
}

func TestPushConflict(t *testing.T) {
	ctx := context.Background()
	a, b, archive := t.TempDir(), t.TempDir(), t.TempDir()
	pa, _ := segment(t, a, seg1)
	pb, _ := segment(t, b, seg1) // different random prefix
	require.NoError(t, Push(ctx, pa, archive))
	before, _ := os.ReadFile(filepath.Join(archive, seg1+ArchiveExt))
	err := Push(ctx, pb, archive)
	require.ErrorIs(t, err, ErrConflict)
	assert.Contains(t, err.Error(), seg1)
	after, _ := os.ReadFile(filepath.Join(archive, seg1+ArchiveExt))
	assert.Equal(t, before, after, "never overwritten")

	// A same-named file that is a prefix of the archived one is different too.
	hist := filepath.Join(a, "00000002.history")
	require.NoError(t, os.WriteFile(hist, []byte("1\t0/3000000\tx\n"), 0o600))
	require.NoError(t, Push(ctx, hist, archive))
	require.NoError(t, os.WriteFile(hist, []byte("1\t0/3000000\t"), 0o600))
	assert.ErrorIs(t, Push(ctx, hist, archive), ErrConflict)
	require.NoError(t, os.WriteFile(hist, []byte("1\t0/3000000\tx\nmore"), 0o600))
	assert.ErrorIs(t, Push(ctx, hist, archive), ErrConflict)
	dirNames(t, archive)
}

func TestPushConcurrent(t *testing.T) {
	ctx := context.Background()
	src, archive := t.TempDir(), t.TempDir()
	p, _ := segment(t, src, seg1)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { errs[i] = Push(ctx, p, archive) })
	}
	wg.Wait()
	for _, err := range errs {
		assert.NoError(t, err)
	}
	assert.Equal(t, []string{seg1 + ArchiveExt}, dirNames(t, archive))
}

func TestPushRefuses(t *testing.T) {
	ctx := context.Background()
	src, archive := t.TempDir(), t.TempDir()
	tests := map[string][]byte{
		"RECOVERYXLOG":             make([]byte, 1<<20),
		"000000010000000000000001": make([]byte, 1000), // not a segment size
		"000000010000000000000100": make([]byte, 16<<20),
	}
	for name, data := range tests {
		p := filepath.Join(src, name)
		require.NoError(t, os.WriteFile(p, data, 0o600))
		assert.Error(t, Push(ctx, p, archive), name)
	}
	assert.Error(t, Push(ctx, filepath.Join(src, "000000010000000000000009"), archive), "missing source")
	assert.Error(t, Push(ctx, p0(t, src), filepath.Join(src, "no-such-dir")))
	assert.Empty(t, dirNames(t, archive))
}

func p0(t *testing.T, dir string) string {
	p, _ := segment(t, dir, "000000010000000000000003")
	return p
}

func TestFetchErrors(t *testing.T) {
	ctx := context.Background()
	src, archive, restore := t.TempDir(), t.TempDir(), t.TempDir()
	target := filepath.Join(restore, "RECOVERYXLOG")

	err := Fetch(ctx, seg1, target, archive)
	require.ErrorIs(t, err, ErrNotFound)
	assert.NotErrorIs(t, err, ErrCorrupt)
	assert.Error(t, Fetch(ctx, "../etc/passwd", target, archive))
	assert.NotErrorIs(t, Fetch(ctx, seg1, target, filepath.Join(archive, "missing-dir")), ErrCorrupt)

	p, data := segment(t, src, seg1)
	require.NoError(t, Push(ctx, p, archive))
	stored, err := os.ReadFile(filepath.Join(archive, seg1+ArchiveExt))
	require.NoError(t, err)

	frame := func(content []byte, opts ...zstd.EOption) []byte {
		enc, err := zstd.NewWriter(nil, opts...)
		require.NoError(t, err)
		return enc.EncodeAll(content, nil)
	}
	flipped := bytes.Clone(stored)
	flipped[len(flipped)/2] ^= 0x55
	badSum := bytes.Clone(stored)
	badSum[len(badSum)-1] ^= 1
	corrupt := map[string][]byte{
		"empty":              {},
		"not zstd":           data[:100],
		"truncated":          stored[:len(stored)/2],
		"checksum cut off":   stored[:len(stored)-4],
		"bit flip":           flipped,
		"checksum mismatch":  badSum,
		"no checksum":        frame(data, zstd.WithEncoderCRC(false)),
		"wrong segment size": frame(data[:1000], zstd.WithEncoderCRC(true)),
		"trailing garbage":   append(bytes.Clone(stored), 1, 2, 3, 4, 5, 6, 7, 8),
		"two frames":         append(bytes.Clone(stored), stored...),
	}
	for name, content := range corrupt {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(filepath.Join(archive, seg1+ArchiveExt), content, 0o600))
			require.NoError(t, os.WriteFile(target, []byte("untouched"), 0o600))
			err := Fetch(ctx, seg1, target, archive)
			require.ErrorIs(t, err, ErrCorrupt)
			assert.NotErrorIs(t, err, ErrNotFound)
			got, _ := os.ReadFile(target)
			assert.Equal(t, "untouched", string(got), "target must not change")
			assert.Equal(t, []string{"RECOVERYXLOG"}, dirNames(t, restore))

			// Push of the real file does not accept a corrupt archived one.
			err = Push(ctx, p, archive)
			require.Error(t, err)
			if name != "wrong segment size" && name != "two frames" {
				assert.NotErrorIs(t, err, ErrConflict)
			}
		})
	}
}

func TestFetchCanceled(t *testing.T) {
	src, archive, restore := t.TempDir(), t.TempDir(), t.TempDir()
	p, _ := segment(t, src, seg1)
	require.NoError(t, Push(context.Background(), p, archive))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Fetch(ctx, seg1, filepath.Join(restore, "x"), archive)
	require.True(t, errors.Is(err, context.Canceled), err)
	assert.Empty(t, dirNames(t, restore))
}

// FuzzFetch feeds arbitrary bytes as an archived file: Fetch either fails
// and leaves nothing behind, or restores content that Push, given that
// content, considers identical.
func FuzzFetch(f *testing.F) {
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderCRC(true))
	f.Add(enc.EncodeAll([]byte("1\t0/3000000\tno recovery target specified\n"), nil))
	f.Add(enc.EncodeAll(bytes.Repeat([]byte{'x'}, 300), nil))
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x00})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, stored []byte) {
		archive, restore := t.TempDir(), t.TempDir()
		const name = "00000002.history"
		require.NoError(t, os.WriteFile(filepath.Join(archive, name+ArchiveExt), stored, 0o600))
		target := filepath.Join(restore, name)
		err := Fetch(context.Background(), name, target, archive)
		if err != nil {
			require.ErrorIs(t, err, ErrCorrupt)
			assert.Empty(t, dirNames(t, restore))
			return
		}
		require.NoError(t, Push(context.Background(), target, archive), "restored content must match the archive")
	})
}
