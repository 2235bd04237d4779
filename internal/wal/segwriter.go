package wal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// partialSuffix marks a segment that is still being written, as
// pg_receivewal names it.
const partialSuffix = ".partial"

// tmpSuffix marks a file being prepared (a .partial being zero-filled, a
// history file being written) before it is renamed into place. The names
// are fixed, so a run after a crash overwrites what a crashed run left.
const tmpSuffix = ".tmp"

// SegmentWriter writes streamed WAL into a directory of segment files, as
// pg_receivewal does: a segment is written as NAME.partial, created
// zero-filled to the full segment size and fsynced with its directory
// before any WAL goes in; WAL is written at its offset in the segment;
// once the segment is full it is fsynced, renamed to NAME and the
// directory fsynced. An incomplete segment stays NAME.partial: a later
// stream from the segment's start (see FindStreamingStart) reopens it and
// writes it again from offset 0.
//
// What is durable: everything before Flushed. It advances when a segment
// is completed, and on Sync and Close.
//
// Errors are sticky: after a failure every call returns the first error.
// A SegmentWriter is not safe for concurrent use.
type SegmentWriter struct {
	dir  string
	size SegmentSize

	tli     TimelineID
	pos     LSN // next byte expected
	flushed LSN // durable up to here
	f       *os.File
	path    string    // f's name: its .partial
	seg     SegmentNo // f's segment
	zeros   []byte
	err     error
}

// NewSegmentWriter returns a writer into dir (which must exist) for
// segments of size. Call Begin before the first Write.
func NewSegmentWriter(dir string, size SegmentSize) (*SegmentWriter, error) {
	if err := size.Check(); err != nil {
		return nil, err
	}
	return &SegmentWriter{dir: dir, size: size}, nil
}

// Begin starts a stream of timeline tli at start, which must be the start
// of a segment (where the server starts a physical stream it is asked
// for). A segment left open by an earlier stream is closed first, as Close
// does.
func (w *SegmentWriter) Begin(tli TimelineID, start LSN) error {
	if err := w.Close(); err != nil {
		return err
	}
	if tli == 0 {
		return w.fail(errors.New("wal: begin stream: invalid timeline 0"))
	}
	if w.size.Offset(start) != 0 {
		return w.fail(fmt.Errorf("wal: begin stream at %s: not the start of a segment", start))
	}
	w.tli, w.pos, w.flushed = tli, start, start
	return nil
}

// Timeline is the timeline of the current stream.
func (w *SegmentWriter) Timeline() TimelineID { return w.tli }

// Position is the LSN just past the last WAL written.
func (w *SegmentWriter) Position() LSN { return w.pos }

// Flushed is the LSN up to which what was written is durable.
func (w *SegmentWriter) Flushed() LSN { return w.flushed }

func (w *SegmentWriter) fail(err error) error {
	if w.err == nil {
		w.err = err
	}
	return w.err
}

// Write writes WAL that starts at start, which must be Position: the
// stream is contiguous. It opens segments as needed and completes (fsync,
// rename, directory fsync) each one it fills.
func (w *SegmentWriter) Write(start LSN, data []byte) error {
	if w.err != nil {
		return w.err
	}
	if w.tli == 0 {
		return w.fail(errors.New("wal: write before begin"))
	}
	if start != w.pos {
		return w.fail(fmt.Errorf("wal: got WAL at %s, expected %s", start, w.pos))
	}
	if uint64(w.pos)+uint64(len(data)) < uint64(w.pos) {
		return w.fail(fmt.Errorf("wal: WAL at %s runs past the end of the address space", start))
	}
	for len(data) > 0 {
		if w.f == nil {
			if err := w.open(w.size.Segment(w.pos)); err != nil {
				return w.fail(err)
			}
		}
		off := w.size.Offset(w.pos)
		n := min(uint64(len(data)), uint64(w.size)-off)
		if _, err := w.f.WriteAt(data[:n], int64(off)); err != nil {
			return w.fail(fmt.Errorf("wal: write %s: %w", w.path, err))
		}
		w.pos = w.pos.Add(n)
		data = data[n:]
		if w.size.Offset(w.pos) == 0 {
			if err := w.complete(); err != nil {
				return w.fail(err)
			}
		}
	}
	return nil
}

// Sync makes everything written durable: it fsyncs the open .partial.
func (w *SegmentWriter) Sync() error {
	if w.err != nil {
		return w.err
	}
	if w.f != nil {
		if err := w.f.Sync(); err != nil {
			return w.fail(fmt.Errorf("wal: fsync %s: %w", w.path, err))
		}
	}
	w.flushed = w.pos
	return nil
}

// Close ends the current stream's segment: the open .partial, if any, is
// fsynced and closed and keeps its .partial name. After an error it only
// releases the file and returns the error.
func (w *SegmentWriter) Close() error {
	if w.f == nil {
		return w.err
	}
	f := w.f
	w.f = nil
	if w.err != nil {
		f.Close()
		return w.err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return w.fail(fmt.Errorf("wal: fsync %s: %w", w.path, err))
	}
	if err := f.Close(); err != nil {
		return w.fail(fmt.Errorf("wal: close %s: %w", w.path, err))
	}
	w.flushed = w.pos
	return nil
}

// Finish completes the open segment though it is not full: it is fsynced
// and renamed to its final name, the zeros after the last WAL written
// reading as the end of WAL. pg_basebackup leaves the segment that holds a
// backup's end so, and recovery from the backup reads it as such.
func (w *SegmentWriter) Finish() error {
	if w.err != nil {
		return w.err
	}
	if w.f == nil {
		return nil
	}
	if err := w.complete(); err != nil {
		return w.fail(err)
	}
	return nil
}

// open opens seg's .partial for writing, creating it zero-filled if it
// does not exist. An existing one must be empty or of the full size
// (created and padded by an earlier run); anything else is refused, as
// pg_receivewal refuses it.
func (w *SegmentWriter) open(seg SegmentNo) error {
	path := filepath.Join(w.dir, PartialFileName(w.tli, seg, w.size))
	fi, err := os.Lstat(path)
	switch {
	case err == nil && fi.Mode().IsRegular() && fi.Size() == int64(w.size):
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("wal: open %s: %w", path, err)
		}
		w.f, w.path, w.seg = f, path, seg
		return nil
	case err == nil && (!fi.Mode().IsRegular() || fi.Size() != 0):
		return fmt.Errorf("wal: %s has %d bytes, should be 0 or %d", path, fi.Size(), uint64(w.size))
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("wal: %w", err)
	}
	f, err := w.create(path)
	if err != nil {
		return fmt.Errorf("wal: create %s: %w", path, err)
	}
	w.f, w.path, w.seg = f, path, seg
	return nil
}

// create makes path a zero-filled segment, durably: it fills path.tmp,
// fsyncs it, renames it to path and fsyncs the directory, so that path
// never exists short. The file returned is open for writing.
func (w *SegmentWriter) create(path string) (_ *os.File, err error) {
	tmp := path + tmpSuffix
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if w.zeros == nil {
		w.zeros = make([]byte, 1<<20)
	}
	for off := int64(0); off < int64(w.size); off += int64(len(w.zeros)) {
		if _, err := f.WriteAt(w.zeros[:min(int64(len(w.zeros)), int64(w.size)-off)], off); err != nil {
			return nil, err
		}
	}
	if err := f.Sync(); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, err
	}
	if err := syncDir(w.dir); err != nil {
		return nil, err
	}
	return f, nil
}

// complete fsyncs the full open segment, renames it from .partial to its
// name and fsyncs the directory.
func (w *SegmentWriter) complete() error {
	f := w.f
	w.f = nil
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("wal: fsync %s: %w", w.path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("wal: close %s: %w", w.path, err)
	}
	final := filepath.Join(w.dir, SegmentFileName(w.tli, w.seg, w.size))
	if err := os.Rename(w.path, final); err != nil {
		return fmt.Errorf("wal: %w", err)
	}
	if err := syncDir(w.dir); err != nil {
		return fmt.Errorf("wal: fsync directory %s: %w", w.dir, err)
	}
	w.flushed = w.pos
	return nil
}

// WriteFileDurably writes a small file (a timeline history file, say) into
// dir under name: into name.tmp, fsynced, renamed to name, and dir fsynced.
// A file of that name is replaced. On failure name.tmp is removed.
func WriteFileDurably(dir, name string, content []byte) (err error) {
	path := filepath.Join(dir, name)
	tmp := path + tmpSuffix
	defer func() {
		if err != nil {
			os.Remove(tmp)
			err = fmt.Errorf("wal: write %s: %w", path, err)
		}
	}()
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(content)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

// StreamingStart is where a WAL stream into a directory resumes, as
// FindStreamingStart finds it.
type StreamingStart struct {
	// Start is the segment start to stream from: just past the newest
	// complete segment, or the start of the newest .partial one.
	// InvalidLSN when the directory holds no segment.
	Start    LSN
	Timeline TimelineID // the newest segment's timeline
	// Partial says the newest segment is a .partial one, which the
	// stream writes again from its start.
	Partial bool
	// Skipped names complete segments that were ignored because their
	// size is not the segment size.
	Skipped []string
}

// FindStreamingStart finds where streaming WAL into dir resumes, as
// pg_receivewal's FindStreamingStart does: among the segments (NAME) and
// partial segments (NAME.partial) in dir, the one with the highest
// segment number wins, then the higher timeline, then a complete segment
// over a partial one of the same name. Complete segments whose size is
// not size are skipped (and listed); other files are ignored.
func FindStreamingStart(dir string, size SegmentSize) (StreamingStart, error) {
	var res StreamingStart
	if err := size.Check(); err != nil {
		return res, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return res, fmt.Errorf("wal: find streaming start: %w", err)
	}
	var (
		found   bool
		high    SegmentNo
		highTLI TimelineID
		partial bool
	)
	for _, e := range entries {
		fn, err := ParseFileName(e.Name())
		if err != nil || (fn.Kind != KindSegment && fn.Kind != KindPartial) {
			continue
		}
		seg, err := fn.Segment(size)
		if err != nil {
			return res, fmt.Errorf("wal: find streaming start in %s: %w", dir, err)
		}
		isPartial := fn.Kind == KindPartial
		if !isPartial {
			fi, err := e.Info()
			if err != nil {
				return res, fmt.Errorf("wal: find streaming start: %w", err)
			}
			if !fi.Mode().IsRegular() || fi.Size() != int64(size) {
				res.Skipped = append(res.Skipped, e.Name())
				continue
			}
		}
		if !found || seg > high || seg == high && fn.Timeline > highTLI ||
			seg == high && fn.Timeline == highTLI && partial && !isPartial {
			found, high, highTLI, partial = true, seg, fn.Timeline, isPartial
		}
	}
	if !found {
		return res, nil
	}
	if !partial {
		high++
	}
	res.Start, res.Timeline, res.Partial = size.StartLSN(high), highTLI, partial
	return res, nil
}
