package format

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Reader reads an archive at random, as archive/zip does: it opens the
// footer at the end, then the index it points to, and reads any block on
// demand. Its methods are safe for concurrent use; ReadBlock from several
// goroutines reads several blocks at once.
type Reader struct {
	r       io.ReaderAt
	size    int64
	version uint16
	info    Info
	entries []Entry
	blocks  []Block
	indexAt int64
	dec     *decoder
}

// NewReader opens the archive held in r, which is size bytes long. It checks
// the header, footer, index and every entry record; data blocks are checked
// when read (ReadBlock) or all at once (Verify).
func NewReader(r io.ReaderAt, size int64) (*Reader, error) {
	if size < 0 {
		return nil, fmt.Errorf("format: negative archive size %d", size)
	}
	head := make([]byte, min(size, HeaderSize))
	if err := readFull(r, head, 0); err != nil {
		return nil, err
	}
	if len(head) < len(magic) {
		if len(head) == 0 || string(head) != string(magic[:len(head)]) {
			return nil, notArchive(head)
		}
		return nil, &CorruptError{Offset: 0, Reason: fmt.Sprintf("archive is only %d bytes", size), Err: ErrTruncated}
	}
	version, err := decodeFileHeader(head)
	if err != nil {
		return nil, err
	}
	if size < HeaderSize+RecordHeaderSize+FooterSize {
		return nil, &CorruptError{Offset: size, Reason: fmt.Sprintf("archive is only %d bytes", size), Err: ErrTruncated}
	}
	footerOff := size - FooterSize
	fb := make([]byte, FooterSize)
	if err := readFull(r, fb, footerOff); err != nil {
		return nil, err
	}
	f, err := decodeFooter(fb, footerOff)
	if err != nil {
		return nil, err
	}
	region := make([]byte, f.indexLength)
	if err := readFull(r, region, int64(f.indexOffset)); err != nil {
		return nil, err
	}
	dec, err := newDecoder()
	if err != nil {
		return nil, err
	}
	ar := &Reader{r: r, size: size, version: version, indexAt: int64(f.indexOffset), dec: dec}
	if err := ar.load(region, f); err != nil {
		dec.close()
		return nil, err
	}
	return ar, nil
}

func (ar *Reader) load(region []byte, f footer) error {
	raw, err := readIndexRegion(region, ar.indexAt, f, ar.dec)
	if err != nil {
		return err
	}
	x, err := decodeIndex(raw, f)
	if err != nil {
		return err
	}
	h, p, err := ar.readRecord(HeaderSize, nil)
	if err != nil {
		return err
	}
	if h.kind != RecordInfo {
		return &CorruptError{Offset: HeaderSize, Record: h.kind, Reason: "the first record is not the archive info"}
	}
	if ar.info, err = decodeInfo(p, HeaderSize, ar.version); err != nil {
		return err
	}
	if err := x.checkLayout(HeaderSize+RecordHeaderSize+int64(h.stored), ar.indexAt); err != nil {
		return err
	}
	ar.entries = make([]Entry, 0, len(x.entries))
	seen := make(map[uint32]bool, len(x.entries))
	typed := make(map[uint32]bool) // entries with column types, whose blocks may be binary
	var buf []byte
	for _, ie := range x.entries {
		h, p, err := ar.readRecord(ie.offset, buf)
		if err != nil {
			return err
		}
		buf = p
		if h.kind != RecordEntry || h.entry != ie.id || h.stored != ie.stored {
			return &CorruptError{Offset: ie.offset, Record: h.kind, Entry: h.entry, Reason: fmt.Sprintf("index names entry %d here", ie.id)}
		}
		e, err := decodeEntry(p, h, ie.offset, &ar.info)
		if err != nil {
			return err
		}
		for _, d := range e.Deps {
			if !seen[d] {
				return &CorruptError{Offset: ie.offset, Record: RecordEntry, Entry: e.ID, Reason: fmt.Sprintf("depends on entry %d, which does not come before it", d)}
			}
		}
		seen[e.ID] = true
		typed[e.ID] = len(e.Types) > 0
		ar.entries = append(ar.entries, e)
	}
	for _, b := range x.blocks {
		if b.Binary && !typed[b.Entry] {
			return &CorruptError{Offset: b.Offset, Record: RecordData, Entry: b.Entry, Seq: b.Seq, Reason: "binary block of an entry without column types"}
		}
	}
	ar.blocks = x.blocks
	return nil
}

// readRecord reads the record at off (before the index), checks its header
// and payload checksum, and returns the header and decoded payload
// (appended to dst[:0]).
func (ar *Reader) readRecord(off int64, dst []byte) (recordHeader, []byte, error) {
	if off+RecordHeaderSize > ar.indexAt {
		return recordHeader{}, nil, &CorruptError{Offset: off, Reason: "record header runs into the index"}
	}
	var hb [RecordHeaderSize]byte
	if err := readFull(ar.r, hb[:], off); err != nil {
		return recordHeader{}, nil, err
	}
	h, err := decodeRecordHeader(hb[:], off)
	if err != nil {
		return recordHeader{}, nil, err
	}
	if off+RecordHeaderSize+int64(h.stored) > ar.indexAt {
		return recordHeader{}, nil, &CorruptError{Offset: off, Record: h.kind, Entry: h.entry, Seq: h.seq, Reason: fmt.Sprintf("payload of %d bytes runs into the index", h.stored)}
	}
	p := make([]byte, h.stored)
	if err := readFull(ar.r, p, off+RecordHeaderSize); err != nil {
		return recordHeader{}, nil, err
	}
	if got := checksum(p); got != h.crc {
		return recordHeader{}, nil, &CorruptError{Offset: off, Record: h.kind, Entry: h.entry, Seq: h.seq, Reason: fmt.Sprintf("payload checksum mismatch (stored %08x, computed %08x)", h.crc, got)}
	}
	out, err := ar.dec.decode(dst, p, h, off)
	return h, out, err
}

// readFull reads len(b) bytes at off; running out of input is truncation.
func readFull(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &CorruptError{Offset: off + int64(n), Reason: fmt.Sprintf("input ends after %d of %d bytes read at offset %d", n, len(b), off), Err: ErrTruncated}
	}
	return fmt.Errorf("format: read archive at offset %d: %w", off, err)
}

// Version is the archive's format version.
func (ar *Reader) Version() uint16 { return ar.version }

// Info describes the archive.
func (ar *Reader) Info() Info { return ar.info }

// Size is the archive's size in bytes.
func (ar *Reader) Size() int64 { return ar.size }

// Entries returns the table of contents in file order (a copy).
func (ar *Reader) Entries() []Entry { return slices.Clone(ar.entries) }

// Blocks returns every data block in file order (a copy).
func (ar *Reader) Blocks() []Block { return slices.Clone(ar.blocks) }

// ReadBlock reads block b, one of Blocks(), checks it against the index and
// its checksum, and returns its decompressed payload appended to dst[:0].
// A corrupt block is never returned.
func (ar *Reader) ReadBlock(b Block, dst []byte) ([]byte, error) {
	bad := func(format string, args ...any) error {
		return &CorruptError{Offset: b.Offset, Record: RecordData, Entry: b.Entry, Seq: b.Seq, Reason: fmt.Sprintf(format, args...)}
	}
	if b.Offset < HeaderSize || b.End() > ar.indexAt || b.Stored > MaxPayload {
		return nil, bad("block lies outside the data area")
	}
	rec := make([]byte, RecordHeaderSize+int(b.Stored))
	if err := readFull(ar.r, rec, b.Offset); err != nil {
		return nil, err
	}
	h, err := decodeRecordHeader(rec, b.Offset)
	if err != nil {
		// The header cannot be trusted, but the index says whose block
		// this is: name it.
		var ce *CorruptError
		if errors.As(err, &ce) {
			return nil, bad("%s", ce.Reason)
		}
		return nil, err
	}
	if h.kind != RecordData || h.entry != b.Entry || h.seq != b.Seq || h.stored != b.Stored || h.raw != b.Raw ||
		h.rows != b.Rows || h.crc != b.CRC || h.codec != b.Codec || h.flags != b.flags() {
		return nil, bad("record header disagrees with the index")
	}
	p := rec[RecordHeaderSize:]
	if got := checksum(p); got != h.crc {
		return nil, bad("payload checksum mismatch (stored %08x, computed %08x)", h.crc, got)
	}
	return ar.dec.decode(dst, p, h, b.Offset)
}

// maxVerifyErrors bounds how many damaged blocks Verify reports.
const maxVerifyErrors = 20

// Verify reads every data block and checks it. The header, footer, index and
// entries were checked by NewReader. It reports every damaged block, up to
// maxVerifyErrors of them, joined.
func (ar *Reader) Verify(ctx context.Context) error {
	var errs []error
	var buf []byte
	for _, b := range ar.blocks {
		if err := ctx.Err(); err != nil {
			return err
		}
		out, err := ar.ReadBlock(b, buf)
		if err != nil {
			if errs = append(errs, err); len(errs) == maxVerifyErrors {
				errs = append(errs, fmt.Errorf("format: stopped after %d damaged blocks", maxVerifyErrors))
				break
			}
			continue
		}
		buf = out
	}
	return errors.Join(errs...)
}

// Close releases the decoder. It does not close the underlying reader.
func (ar *Reader) Close() error {
	ar.dec.close()
	return nil
}
