package format

import (
	"bytes"
	"fmt"
	"io"
	"reflect"
	"sync"
)

// WriterOptions configure a Writer. The zero value stores payloads
// uncompressed; dumps set Codec to CodecZstd.
type WriterOptions struct {
	Codec Codec
	// Level is the zstd level (1..22); 0 means DefaultLevel.
	Level int
	// Concurrency bounds how many producers compress at once; 0 means GOMAXPROCS.
	Concurrency int
}

// Writer writes an archive strictly sequentially to an io.Writer, which may
// be a pipe. AddEntry and WriteBlock may be called from many goroutines at
// once: each call compresses its payload in the calling goroutine, then
// appends the record to the single output in arrival order, so several
// producers feed one ordered sink and a slow sink slows the producers.
// After the first write error every call returns that error.
type Writer struct {
	enc  *encoder
	bufs sync.Pool // *[]byte scratch buffers for records

	mu      sync.Mutex
	w       io.Writer
	off     int64
	err     error // sticky
	closed  bool
	infoEnd int64
	idx     index
	known   map[uint32]bool
	typed   map[uint32]int // the number of column types of the entries that have them
	nextSeq map[uint32]uint32
	// databases are the names Info.Databases lists: the only ones an
	// entry may name.
	databases map[string]bool
}

// NewWriter writes the file header and the info record to w.
func NewWriter(w io.Writer, info Info, opts WriterOptions) (*Writer, error) {
	enc, err := newEncoder(opts.Codec, opts.Level, opts.Concurrency)
	if err != nil {
		return nil, err
	}
	aw := &Writer{enc: enc, w: w, known: map[uint32]bool{}, typed: map[uint32]int{}, nextSeq: map[uint32]uint32{}, databases: map[string]bool{}}
	version := Version
	if info.Cluster {
		version = VersionCluster
	}
	for _, d := range info.Databases {
		if !info.Cluster || d.Name == "" || aw.databases[d.Name] {
			enc.close()
			return nil, fmt.Errorf("format: archive info: database %q listed twice, unnamed, or not in a cluster archive", d.Name)
		}
		aw.databases[d.Name] = true
	}
	hdr := encodeFileHeader(version)
	if err := aw.write(hdr[:]); err != nil {
		enc.close()
		return nil, err
	}
	p, err := encodeInfo(info)
	if err != nil {
		enc.close()
		return nil, fmt.Errorf("format: encode archive info: %w", err)
	}
	rec, _ := aw.record(nil, recordHeader{kind: RecordInfo}, p)
	if err := aw.write(rec); err != nil {
		enc.close()
		return nil, err
	}
	aw.infoEnd = aw.off
	return aw, nil
}

// record appends to dst a complete record: header then the payload p in its
// stored form. It returns the header as encoded.
func (aw *Writer) record(dst []byte, h recordHeader, p []byte) ([]byte, recordHeader) {
	start := len(dst)
	dst = append(dst, make([]byte, RecordHeaderSize)...)
	dst, h.codec = aw.enc.encode(dst, p, h.payload())
	stored := dst[start+RecordHeaderSize:]
	h.stored = uint32(len(stored))
	h.raw = uint32(len(p))
	h.crc = checksum(stored)
	h.encode(dst[start : start+RecordHeaderSize])
	return dst, h
}

// write appends b to the output; the caller holds mu (or has not shared aw yet).
func (aw *Writer) write(b []byte) error {
	if aw.err != nil {
		return aw.err
	}
	n, err := aw.w.Write(b)
	aw.off += int64(n)
	if err == nil && n != len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		aw.err = fmt.Errorf("format: write archive at offset %d: %w", aw.off, err)
	}
	return aw.err
}

func (aw *Writer) usable() error {
	if aw.closed {
		return ErrClosed
	}
	return aw.err
}

// AddEntry writes an entry of the table of contents. Its id must be new and
// not 0, and every entry it depends on must have been added before it.
func (aw *Writer) AddEntry(e Entry) error {
	if e.ID == 0 {
		return fmt.Errorf("format: add entry %q: id 0 is reserved", e.Name)
	}
	if e.Section > SectionPostData {
		return fmt.Errorf("format: add entry %d: invalid section %d", e.ID, e.Section)
	}
	if e.Database != "" && !aw.databases[e.Database] {
		return fmt.Errorf("format: add entry %d: database %q is not one the archive info lists", e.ID, e.Database)
	}
	p, err := encodeEntry(e)
	if err != nil {
		return fmt.Errorf("format: encode entry %d: %w", e.ID, err)
	}
	if len(p) > MaxPayload {
		return fmt.Errorf("format: entry %d (%s %s) is %d bytes encoded, over the %d-byte record limit", e.ID, e.Kind, e.Name, len(p), MaxPayload)
	}
	buf := aw.getBuf()
	defer aw.putBuf(buf)
	rec, _ := aw.record((*buf)[:0], recordHeader{kind: RecordEntry, entry: e.ID}, p)
	*buf = rec

	aw.mu.Lock()
	defer aw.mu.Unlock()
	if err := aw.usable(); err != nil {
		return err
	}
	if len(e.Types) > 0 && e.Copy == "" {
		return fmt.Errorf("format: add entry %d: column types without a COPY", e.ID)
	}
	if aw.known[e.ID] {
		return fmt.Errorf("format: add entry %d: duplicate id", e.ID)
	}
	for _, d := range e.Deps {
		if !aw.known[d] {
			return fmt.Errorf("format: add entry %d: dependency %d has not been added before it", e.ID, d)
		}
	}
	off := aw.off
	if err := aw.write(rec); err != nil {
		return err
	}
	aw.known[e.ID] = true
	if len(e.Types) > 0 {
		aw.typed[e.ID] = len(e.Types)
	}
	aw.idx.entries = append(aw.idx.entries, indexEntry{id: e.ID, stored: uint32(len(rec) - RecordHeaderSize), offset: off})
	return nil
}

// WriteBlock appends a data block of entry id, whose entry must have been
// added. data holds rows complete COPY text rows; it is copied before
// WriteBlock returns. Data longer than MaxPayload (a single very large
// row) is split into a chain of blocks marked as continued, written back
// to back.
func (aw *Writer) WriteBlock(id uint32, data []byte, rows uint32) error {
	return aw.writeBlock(id, data, rows, -1)
}

// WriteBinaryBlock appends a data block of COPY binary rows: rows whole
// tuples of the columns of the entry's Types, without the stream's header
// and trailer. The entry must have been added with Types. A binary block
// never continues: data is at most MaxPayload bytes (a larger row goes as
// a text chain, with WriteBlock).
func (aw *Writer) WriteBinaryBlock(id uint32, data []byte, rows uint32) error {
	if len(data) > MaxPayload {
		return fmt.Errorf("format: write binary block of entry %d: %d bytes, over the %d-byte record limit", id, len(data), MaxPayload)
	}
	fields, n, err := tuples(data)
	if err != nil {
		return fmt.Errorf("format: write binary block of entry %d: %w", id, err)
	}
	if n != int(rows) {
		return fmt.Errorf("format: write binary block of entry %d: %d tuples, not %d rows", id, n, rows)
	}
	return aw.writeBlock(id, data, rows, fields)
}

// writeBlock writes data as WriteBlock does, or as a binary block of
// tuples of fields fields when fields >= 0.
func (aw *Writer) writeBlock(id uint32, data []byte, rows uint32, fields int) error {
	if len(data) == 0 {
		if rows != 0 {
			return fmt.Errorf("format: write block of entry %d: %d rows in no bytes", id, rows)
		}
		return nil
	}
	// Compress outside the lock so that producers work in parallel.
	type piece struct {
		h   recordHeader
		rec *[]byte
	}
	pieces := make([]piece, 0, (len(data)+MaxPayload-1)/MaxPayload)
	defer func() {
		for _, pc := range pieces {
			aw.putBuf(pc.rec)
		}
	}()
	for len(data) > 0 {
		n := min(len(data), MaxPayload)
		h := recordHeader{kind: RecordData, entry: id}
		if fields >= 0 {
			h.flags = flagBinary
		}
		if n < len(data) {
			h.flags = flagContinues
		} else {
			h.rows = rows
		}
		buf := aw.getBuf()
		*buf, h = aw.record((*buf)[:0], h, data[:n])
		pieces = append(pieces, piece{h: h, rec: buf})
		data = data[n:]
	}

	aw.mu.Lock()
	defer aw.mu.Unlock()
	if err := aw.usable(); err != nil {
		return err
	}
	if !aw.known[id] {
		return fmt.Errorf("format: write block: entry %d has not been added", id)
	}
	if types, ok := aw.typed[id]; fields >= 0 && (!ok || fields != types) {
		return fmt.Errorf("format: write binary block: entry %d has %d column types, the tuples %d fields", id, types, fields)
	}
	for _, pc := range pieces {
		rec, h, seq := *pc.rec, pc.h, aw.nextSeq[id]
		// The sequence is known only now; patch it into the header.
		h.seq = seq
		h.encode(rec[:RecordHeaderSize])
		off := aw.off
		if err := aw.write(rec); err != nil {
			return err
		}
		aw.nextSeq[id] = seq + 1
		aw.idx.blocks = append(aw.idx.blocks, h.dataBlock(off))
	}
	return nil
}

func (aw *Writer) getBuf() *[]byte {
	if b, ok := aw.bufs.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, 0, 64<<10)
	return &b
}

func (aw *Writer) putBuf(b *[]byte) {
	if cap(*b) <= 2*MaxPayload {
		*b = (*b)[:0]
		aw.bufs.Put(b)
	}
}

// Offset is the number of bytes written so far.
func (aw *Writer) Offset() int64 {
	aw.mu.Lock()
	defer aw.mu.Unlock()
	return aw.off
}

// Close writes the index and the footer, then decodes both from the bytes
// it wrote and checks them against what it meant to write. It does not
// close or sync the underlying writer.
func (aw *Writer) Close() error {
	aw.mu.Lock()
	defer aw.mu.Unlock()
	if aw.closed {
		return ErrClosed
	}
	aw.closed = true
	defer aw.enc.close()
	if aw.err != nil {
		return aw.err
	}
	raw := aw.idx.encode()
	indexOffset := aw.off
	var region []byte
	for seq := uint32(0); seq == 0 || len(raw) > 0; seq++ {
		n := min(len(raw), MaxPayload)
		region, _ = aw.record(region, recordHeader{kind: RecordIndex, seq: seq}, raw[:n])
		raw = raw[n:]
	}
	f := footer{
		indexOffset: uint64(indexOffset),
		indexLength: uint64(len(region)),
		blocks:      uint64(len(aw.idx.blocks)),
		entries:     uint32(len(aw.idx.entries)),
		indexCRC:    checksum(region),
	}
	var tail bytes.Buffer
	tail.Write(region)
	fp := f.encode()
	h := recordHeader{kind: RecordFooter, stored: FooterPayloadSize, raw: FooterPayloadSize, crc: checksum(fp)}
	var fh [RecordHeaderSize]byte
	h.encode(fh[:])
	tail.Write(fh[:])
	tail.Write(fp)
	if err := aw.write(tail.Bytes()); err != nil {
		return err
	}
	if err := aw.checkTail(tail.Bytes(), indexOffset); err != nil {
		aw.err = err
		return err
	}
	return nil
}

// Abort gives up on the archive: it writes nothing more (no index, no
// footer, so no reader will take what was written for a whole archive),
// releases the writer's resources and makes every later call fail with
// ErrClosed. It is for a producer that failed; the caller removes the
// partial output where it can.
func (aw *Writer) Abort() {
	aw.mu.Lock()
	defer aw.mu.Unlock()
	if !aw.closed {
		aw.closed = true
		aw.enc.close()
	}
}

// checkTail decodes the index and footer just written, as a reader would.
func (aw *Writer) checkTail(tail []byte, indexOffset int64) error {
	footerOff := indexOffset + int64(len(tail)) - FooterSize
	f, err := decodeFooter(tail[len(tail)-FooterSize:], footerOff)
	if err != nil {
		return fmt.Errorf("format: verify written footer: %w", err)
	}
	dec, err := newDecoder()
	if err != nil {
		return err
	}
	defer dec.close()
	raw, err := readIndexRegion(tail[:f.indexLength], int64(f.indexOffset), f, dec)
	if err != nil {
		return fmt.Errorf("format: verify written index: %w", err)
	}
	x, err := decodeIndex(raw, f)
	if err != nil {
		return fmt.Errorf("format: verify written index: %w", err)
	}
	if err := x.checkLayout(aw.infoEnd, int64(f.indexOffset)); err != nil {
		return fmt.Errorf("format: verify written index: %w", err)
	}
	if !reflect.DeepEqual(normalize(x), normalize(aw.idx)) {
		return fmt.Errorf("format: verify written index: decoded index differs from the one written")
	}
	return nil
}

// normalize makes empty and nil slices compare equal.
func normalize(x index) index {
	if len(x.entries) == 0 {
		x.entries = nil
	}
	if len(x.blocks) == 0 {
		x.blocks = nil
	}
	return x
}
