package format

import (
	"bufio"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"reflect"
)

// Record is one item a Scanner hands out.
type Record struct {
	Kind   RecordKind // RecordInfo, RecordEntry or RecordData
	Offset int64
	Info   *Info  // RecordInfo
	Entry  *Entry // RecordEntry
	Block  Block  // RecordData
	Data   []byte // RecordData: decompressed payload, valid until the next call to Next
}

// Scanner reads an archive sequentially, from a pipe or any io.Reader,
// without buffering more than one record. Every record's checksum is checked
// before it is handed out, so a corrupt block is never returned; the index
// and footer at the end are checked against what was read, and Err reports
// an archive that ends early. A Scanner is not safe for concurrent use.
type Scanner struct {
	r   *bufio.Reader
	off int64
	dec *decoder
	rec Record
	err error

	started bool
	done    bool
	version uint16
	info    Info
	infoEnd int64
	seen    index
	known   map[uint32]bool
	typed   map[uint32]bool // entries with column types, whose blocks may be binary
	nextSeq map[uint32]uint32
	prev    *Block // last data block, to check continuation chains

	indexAt  int64 // offset of the first index record, 0 before it
	indexCRC uint32
	indexRaw []byte
	stored   []byte
	raw      []byte
}

// NewScanner reads an archive from r.
func NewScanner(r io.Reader) *Scanner {
	return &Scanner{r: bufio.NewReaderSize(r, 256<<10), known: map[uint32]bool{}, typed: map[uint32]bool{}, nextSeq: map[uint32]uint32{}}
}

// Record returns the record the last successful Next read.
func (s *Scanner) Record() Record { return s.rec }

// Err returns the error that stopped the scan, or nil at a clean end.
func (s *Scanner) Err() error { return s.err }

// Offset is how many bytes the scanner has consumed.
func (s *Scanner) Offset() int64 { return s.off }

// Next advances to the next info, entry or data record. It returns false at
// the end of the archive (Err is nil) or on an error (Err says which).
func (s *Scanner) Next() bool {
	if s.done || s.err != nil {
		return false
	}
	if err := s.next(); err != nil {
		s.fail(err)
		return false
	}
	return !s.done
}

func (s *Scanner) fail(err error) {
	s.err = err
	s.release()
}

// release frees the decoder; the scanner reaches its end or an error.
func (s *Scanner) release() {
	if s.dec != nil {
		s.dec.close()
		s.dec = nil
	}
}

// Close releases the scanner's resources, for a caller that stops before
// the end. It does not close the underlying reader. Next returns false after it.
func (s *Scanner) Close() error {
	s.done = true
	s.release()
	return nil
}

// Version is the archive's format version, known once the first Next returned.
func (s *Scanner) Version() uint16 { return s.version }

// read fills b from the input; running out is truncation.
func (s *Scanner) read(b []byte, what string) error {
	n, err := io.ReadFull(s.r, b)
	s.off += int64(n)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &CorruptError{Offset: s.off, Reason: fmt.Sprintf("input ends inside %s", what), Err: ErrTruncated}
	}
	return fmt.Errorf("format: read archive at offset %d: %w", s.off, err)
}

func (s *Scanner) next() error {
	if !s.started {
		return s.start()
	}
	off := s.off
	var hb [RecordHeaderSize]byte
	if err := s.read(hb[:], "a record header"); err != nil {
		if off == s.off && errors.Is(err, ErrTruncated) {
			return &CorruptError{Offset: off, Reason: "input ends before the index and footer", Err: ErrTruncated}
		}
		return err
	}
	h, err := decodeRecordHeader(hb[:], off)
	if err != nil {
		return err
	}
	bad := func(format string, args ...any) error {
		return &CorruptError{Offset: off, Record: h.kind, Entry: h.entry, Seq: h.seq, Reason: fmt.Sprintf(format, args...)}
	}
	if s.prev != nil && s.prev.Continues && (h.kind != RecordData || h.entry != s.prev.Entry || h.flags&flagBinary != 0) {
		return &CorruptError{Offset: s.prev.Offset, Record: RecordData, Entry: s.prev.Entry, Seq: s.prev.Seq, Reason: "continued block is not followed by the next block of its entry"}
	}
	inIndex := s.indexAt != 0
	switch h.kind {
	case RecordInfo:
		return bad("a second archive info record")
	case RecordEntry:
		if inIndex {
			return bad("entry after the index began")
		}
		if s.known[h.entry] {
			return bad("duplicate entry id")
		}
	case RecordData:
		if inIndex {
			return bad("data block after the index began")
		}
		if !s.known[h.entry] {
			return bad("block of an entry that does not precede it")
		}
		if h.flags&flagBinary != 0 && !s.typed[h.entry] {
			return bad("binary block of an entry without column types")
		}
		if want := s.nextSeq[h.entry]; h.seq != want {
			return bad("block sequence %d, expected %d", h.seq, want)
		}
	case RecordIndex:
		if !inIndex {
			if h.seq != 0 {
				return bad("index begins with part %d", h.seq)
			}
			s.indexAt = off
		}
	case RecordFooter:
		if !inIndex {
			return bad("footer without an index")
		}
	}
	if cap(s.stored) < int(h.stored) {
		s.stored = make([]byte, h.stored)
	}
	p := s.stored[:h.stored]
	if err := s.read(p, fmt.Sprintf("the %s at offset %d", h.kind, off)); err != nil {
		return err
	}
	if got := checksum(p); got != h.crc {
		return bad("payload checksum mismatch (stored %08x, computed %08x)", h.crc, got)
	}
	if h.kind == RecordFooter {
		return s.finish(off, append(hb[:], p...))
	}
	if s.raw, err = s.dec.decode(s.raw, p, h, off); err != nil {
		return err
	}
	switch h.kind {
	case RecordEntry:
		e, err := decodeEntry(s.raw, h, off, &s.info)
		if err != nil {
			return err
		}
		for _, d := range e.Deps {
			if !s.known[d] {
				return bad("depends on entry %d, which does not come before it", d)
			}
		}
		s.known[e.ID] = true
		s.typed[e.ID] = len(e.Types) > 0
		s.seen.entries = append(s.seen.entries, indexEntry{id: e.ID, stored: h.stored, offset: off})
		s.prev = nil
		s.rec = Record{Kind: RecordEntry, Offset: off, Entry: &e}
	case RecordData:
		b := h.dataBlock(off)
		s.nextSeq[h.entry]++
		s.seen.blocks = append(s.seen.blocks, b)
		s.prev = &b
		s.rec = Record{Kind: RecordData, Offset: off, Block: b, Data: s.raw}
	case RecordIndex:
		want := indexRawSize(uint64(len(s.seen.entries)), uint64(len(s.seen.blocks)))
		if uint64(len(s.indexRaw))+uint64(len(s.raw)) > want {
			return bad("index longer than the %d bytes the records read need", want)
		}
		s.indexRaw = append(s.indexRaw, s.raw...)
		s.indexCRC = crc32.Update(crc32.Update(s.indexCRC, castagnoli, hb[:]), castagnoli, p)
		return s.next()
	}
	return nil
}

// start reads the file header and the info record.
func (s *Scanner) start() error {
	var hb [HeaderSize]byte
	n, err := io.ReadFull(s.r, hb[:])
	s.off += int64(n)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("format: read archive header: %w", err)
	}
	got := hb[:n]
	if len(got) < len(magic) {
		if len(got) == 0 || string(got) != string(magic[:len(got)]) {
			return notArchive(got)
		}
		return &CorruptError{Offset: int64(n), Reason: "input ends inside the file header", Err: ErrTruncated}
	}
	v, err := decodeFileHeader(got)
	if err != nil {
		return err
	}
	s.version = v
	dec, err := newDecoder()
	if err != nil {
		return err
	}
	s.dec = dec
	s.started = true
	off := s.off
	var rh [RecordHeaderSize]byte
	if err := s.read(rh[:], "the archive info record"); err != nil {
		return err
	}
	h, err := decodeRecordHeader(rh[:], off)
	if err != nil {
		return err
	}
	if h.kind != RecordInfo {
		return &CorruptError{Offset: off, Record: h.kind, Reason: "the first record is not the archive info"}
	}
	p := make([]byte, h.stored)
	if err := s.read(p, "the archive info record"); err != nil {
		return err
	}
	if got := checksum(p); got != h.crc {
		return &CorruptError{Offset: off, Record: RecordInfo, Reason: fmt.Sprintf("payload checksum mismatch (stored %08x, computed %08x)", h.crc, got)}
	}
	raw, err := dec.decode(nil, p, h, off)
	if err != nil {
		return err
	}
	info, err := decodeInfo(raw, off, s.version)
	if err != nil {
		return err
	}
	s.info = info
	s.infoEnd = s.off
	s.rec = Record{Kind: RecordInfo, Offset: off, Info: &info}
	return nil
}

// finish checks the footer (whole record in fb, at off) and the index
// against what was read, then that nothing follows.
func (s *Scanner) finish(off int64, fb []byte) error {
	f, err := decodeFooter(fb, off)
	if err != nil {
		return err
	}
	bad := func(format string, args ...any) error {
		return &CorruptError{Offset: off, Record: RecordFooter, Reason: fmt.Sprintf(format, args...)}
	}
	if int64(f.indexOffset) != s.indexAt || f.indexCRC != s.indexCRC {
		return bad("footer does not describe the index that precedes it")
	}
	x, err := decodeIndex(s.indexRaw, f)
	if err != nil {
		return err
	}
	if !reflect.DeepEqual(normalize(x), normalize(s.seen)) {
		return &CorruptError{Offset: s.indexAt, Record: RecordIndex, Reason: "index does not match the records read"}
	}
	var one [1]byte
	if n, _ := io.ReadFull(s.r, one[:]); n != 0 {
		return bad("data follows the footer")
	}
	s.done = true
	s.release()
	return nil
}
