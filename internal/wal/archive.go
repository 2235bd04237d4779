package wal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/zstd"
)

// ArchiveExt is appended to a WAL file's name in the archive.
const ArchiveExt = ".zst"

var (
	// ErrNotFound means the archive does not hold the requested file.
	ErrNotFound = errors.New("wal: not in archive")
	// ErrConflict means Push found a different file of the same name
	// already archived. It never overwrites.
	ErrConflict = errors.New("wal: a different file of the same name is already archived")
	// ErrCorrupt means an archived file fails its checks: not a valid zstd
	// frame with a content checksum, a checksum mismatch, or a size no
	// segment can have.
	ErrCorrupt = errors.New("wal: corrupt archived file")
)

// maxArchivedSize bounds what Fetch decompresses: the largest segment.
// History files are far smaller.
const maxArchivedSize = int64(MaxSegmentSize)

// Push archives the WAL file at src (a segment, partial segment, timeline
// history or backup history file, judged by its base name) into archiveDir,
// as archive_command does. See the package documentation for the
// guarantees: durable on success, idempotent for identical content,
// ErrConflict for different content, never an overwrite.
func Push(ctx context.Context, src, archiveDir string) error {
	name := filepath.Base(src)
	if err := push(ctx, src, name, archiveDir); err != nil {
		return fmt.Errorf("wal: archive %s: %w", name, err)
	}
	return nil
}

func push(ctx context.Context, src, name, archiveDir string) error {
	fn, err := ParseFileName(name)
	if err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", src)
	}
	if st.Size() == 0 || st.Size() > maxArchivedSize {
		return fmt.Errorf("%s: size %d is not that of a WAL file", src, st.Size())
	}
	if err := checkSize(fn, st.Size()); err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	final := filepath.Join(archiveDir, name+ArchiveExt)

	if _, err := os.Lstat(final); err == nil {
		return pushExisting(ctx, in, fn, final, archiveDir)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}

	tmp, err := os.CreateTemp(archiveDir, "."+name+".tmp-*")
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // after a successful link, only the extra name goes
	if err := compressTo(ctx, tmp, in, st.Size()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// Decode what we just wrote before reporting success.
	if err := sameContent(ctx, in, fn, tmpName); err != nil {
		return fmt.Errorf("verify %s: %w", tmpName, err)
	}
	if err := linkNoReplace(tmpName, final); err != nil {
		if errors.Is(err, fs.ErrExist) {
			// Another push won the race: compare with what it wrote.
			return pushExisting(ctx, in, fn, final, archiveDir)
		}
		return err
	}
	return syncDir(archiveDir)
}

// pushExisting handles a Push whose name is already archived: success if
// the content is the same (after making sure the earlier push is durable),
// ErrConflict if not.
func pushExisting(ctx context.Context, in *os.File, fn FileName, final, archiveDir string) error {
	err := sameContent(ctx, in, fn, final)
	if errors.Is(err, errDiffer) {
		return ErrConflict
	}
	if err != nil {
		return fmt.Errorf("compare with archived %s: %w", final, err)
	}
	// The earlier push may have died between its link and its fsyncs.
	f, err := os.Open(final)
	if err != nil {
		return err
	}
	err = f.Sync()
	f.Close()
	if err != nil {
		return err
	}
	return syncDir(archiveDir)
}

// linkNoReplace gives tmp the name final, failing with fs.ErrExist if final
// exists. Hard links cannot replace, unlike rename; on a file system
// without them it falls back to a check and a rename.
func linkNoReplace(tmp, final string) error {
	err := os.Link(tmp, final)
	if err == nil || errors.Is(err, fs.ErrExist) {
		return err
	}
	var le *os.LinkError
	if !errors.As(err, &le) {
		return err
	}
	if _, serr := os.Lstat(final); serr == nil {
		return fs.ErrExist
	}
	return os.Rename(tmp, final)
}

var errDiffer = errors.New("contents differ")

// sameContent compares the whole of in (from its start) with the
// decompressed archived file at path: nil if equal, errDiffer if not,
// ErrCorrupt or an I/O error if the archived file cannot be read.
func sameContent(ctx context.Context, in *os.File, fn FileName, path string) error {
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	dec, err := openArchived(f, fn)
	if err != nil {
		return err
	}
	defer dec.Close()
	a := &ctxReader{ctx: ctx, r: in}
	b := &ctxReader{ctx: ctx, r: dec}
	bufA, bufB := make([]byte, 256<<10), make([]byte, 256<<10)
	for {
		na, errA := readFull(a, bufA)
		nb, errB := readFull(b, bufB)
		if errB != nil && errB != io.EOF {
			return archiveReadError(errB)
		}
		if errA != nil && errA != io.EOF {
			return errA
		}
		if na != nb || !bytes.Equal(bufA[:na], bufB[:nb]) {
			// Different, unless the archived file is corrupt: read it to
			// its end (and checksum) to tell which.
			if _, err := io.Copy(io.Discard, b); err != nil {
				return archiveReadError(err)
			}
			return errDiffer
		}
		if errA == io.EOF && errB == io.EOF {
			return nil
		}
		// If only one said EOF (it may come with the last bytes), the next
		// round reads nothing from it and tells.
	}
}

// readFull is io.ReadFull, except that the error is exactly io.EOF only
// when r ended cleanly (io.ReadFull also turns a clean end into
// io.ErrUnexpectedEOF, which a truncated zstd frame returns too).
func readFull(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Fetch restores the archived WAL file name into target, as
// restore_command does: decompressed into a temporary file in target's
// directory, checked, fsynced and renamed over target. It returns an error
// wrapping ErrNotFound if the archive does not hold name, and never leaves
// a partial or unchecked target behind.
func Fetch(ctx context.Context, name, target, archiveDir string) error {
	if err := fetch(ctx, name, target, archiveDir); err != nil {
		return fmt.Errorf("wal: restore %s: %w", name, err)
	}
	return nil
}

func fetch(ctx context.Context, name, target, archiveDir string) error {
	fn, err := ParseFileName(name)
	if err != nil {
		return err
	}
	f, err := os.Open(filepath.Join(archiveDir, name+ArchiveExt))
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	defer f.Close()
	dec, err := openArchived(f, fn)
	if err != nil {
		return err
	}
	defer dec.Close()

	dir := filepath.Dir(target)
	tmp, err := os.CreateTemp(dir, ".pgark-restore-"+name+".tmp-*")
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()
	n, err := io.Copy(tmp, &ctxReader{ctx: ctx, r: dec})
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) && pe.Path == tmpName {
			return err // writing the target failed
		}
		return archiveReadError(err)
	}
	if err := checkSize(fn, n); err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmpName, target); err != nil {
		return err
	}
	ok = true
	return syncDir(dir)
}

// checkSize checks the size of a segment (complete or partial: the server
// and pg_receivewal both write partial segments at full size).
func checkSize(fn FileName, size int64) error {
	if fn.Kind != KindSegment && fn.Kind != KindPartial {
		return nil
	}
	s := SegmentSize(size)
	if !s.Valid() {
		return fmt.Errorf("%d bytes is not a WAL segment size", size)
	}
	if _, err := fn.Segment(s); err != nil {
		return err
	}
	return nil
}

// compressTo writes the size bytes of r to w as one zstd frame that
// declares its content size and ends with a content checksum.
func compressTo(ctx context.Context, w io.Writer, r io.Reader, size int64) error {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderCRC(true), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return err
	}
	enc.ResetContentSize(w, size)
	n, err := io.Copy(enc, &ctxReader{ctx: ctx, r: r})
	if err == nil && n != size {
		err = fmt.Errorf("source changed size while being read: %d bytes, %d expected", n, size)
	}
	if err != nil {
		enc.Close()
		return err
	}
	return enc.Close()
}

// archived is an open archived file: a decoder of its zstd frame that
// fails with ErrCorrupt unless the frame's checksum matches and, when the
// frame declares its content size, the content has exactly that size.
type archived struct {
	dec  *zstd.Decoder
	size int64 // declared in the frame header; -1 if not
	n    int64 // read so far
}

// openArchived checks that f starts with a zstd frame header that has a
// content checksum (Push always writes one, so that neither truncation nor
// corruption can go unnoticed) and, for segments, declares the content size
// (the encoder omits it only for contents under 256 bytes), and returns a
// reader of the content.
func openArchived(f *os.File, fn FileName) (*archived, error) {
	buf := make([]byte, zstd.HeaderMaxSize)
	n, err := io.ReadFull(f, buf)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, err
	}
	var h zstd.Header
	if err := h.Decode(buf[:n]); err != nil {
		return nil, fmt.Errorf("%w: %s: not a zstd frame: %v", ErrCorrupt, f.Name(), err)
	}
	switch {
	case h.Skippable:
		return nil, fmt.Errorf("%w: %s: skippable zstd frame", ErrCorrupt, f.Name())
	case !h.HasCheckSum:
		return nil, fmt.Errorf("%w: %s: zstd frame without a content checksum", ErrCorrupt, f.Name())
	case h.HasFCS && (h.FrameContentSize == 0 || h.FrameContentSize > uint64(maxArchivedSize)),
		!h.HasFCS && (fn.Kind == KindSegment || fn.Kind == KindPartial):
		return nil, fmt.Errorf("%w: %s: zstd frame without a valid content size", ErrCorrupt, f.Name())
	}
	size := int64(-1)
	if h.HasFCS {
		size = int64(h.FrameContentSize)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	dec, err := zstd.NewReader(f, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(uint64(maxArchivedSize)+1))
	if err != nil {
		return nil, err
	}
	return &archived{dec: dec, size: size}, nil
}

func (a *archived) Read(p []byte) (int, error) {
	n, err := a.dec.Read(p)
	a.n += int64(n)
	if a.size < 0 {
		if a.n > maxArchivedSize {
			return n, fmt.Errorf("%w: more than %d bytes of content", ErrCorrupt, maxArchivedSize)
		}
		return n, err
	}
	if a.n > a.size {
		return n, fmt.Errorf("%w: more content than the %d bytes declared", ErrCorrupt, a.size)
	}
	if err == io.EOF && a.n != a.size {
		return n, fmt.Errorf("%w: %d bytes of content, %d declared", ErrCorrupt, a.n, a.size)
	}
	return n, err
}

func (a *archived) Close() { a.dec.Close() }

// archiveReadError classifies an error from reading a decoder: the
// decoder's own errors (bad data, checksum mismatch, truncation) mean the
// archived file is corrupt; I/O and context errors pass through.
func archiveReadError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrCorrupt, err)
}

// syncDir fsyncs a directory, making the names in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// ctxReader makes a long copy stop when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
