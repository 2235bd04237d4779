package format

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// Version is the archive format version this package writes for the archive
// of one database. Readers accept exactly the versions listed in
// SupportedVersions and refuse every other one.
const Version uint16 = 1

// VersionCluster is the version of a cluster archive (Info.Cluster): cluster
// globals and several databases, each entry naming its database. It is a
// version of its own so that a reader of version 1 refuses it instead of
// restoring every database's entries into one.
const VersionCluster uint16 = 2

// SupportedVersions lists the format versions this package can read.
var SupportedVersions = []uint16{1, 2}

// Sizes fixed by the format (see SPEC.md).
const (
	// HeaderSize is the size of the file header.
	HeaderSize = 16
	// RecordHeaderSize is the size of every record header.
	RecordHeaderSize = 32
	// FooterPayloadSize is the size of the footer record's payload.
	FooterPayloadSize = 32
	// FooterSize is the size of the whole footer record at the end of a file.
	FooterSize = RecordHeaderSize + FooterPayloadSize
	// MaxPayload bounds both the stored and the uncompressed size of one
	// record's payload, so a reader never allocates more than this per record.
	MaxPayload = 16 << 20

	indexEntrySize = 16
	indexBlockSize = 40
)

// magic identifies a pgark archive. The 0x89 byte catches 7-bit channels,
// the CR LF pair catches line-ending conversion (the trick PNG uses).
var magic = [8]byte{0x89, 'P', 'G', 'A', 'R', 'K', '\r', '\n'}

// castagnoli is the CRC32C table; it is never modified after creation.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func checksum(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// RecordKind says what a record holds.
type RecordKind uint8

// Record kinds. Values are part of the format and are never reused.
const (
	RecordInfo   RecordKind = 1
	RecordEntry  RecordKind = 2
	RecordData   RecordKind = 3
	RecordIndex  RecordKind = 4
	RecordFooter RecordKind = 5
)

func (k RecordKind) String() string {
	switch k {
	case RecordInfo:
		return "info"
	case RecordEntry:
		return "entry"
	case RecordData:
		return "data block"
	case RecordIndex:
		return "index"
	case RecordFooter:
		return "footer"
	}
	return fmt.Sprintf("record kind %d", uint8(k))
}

// Codec names how a record's payload is stored. Ids are never reused.
type Codec uint8

// Codecs.
const (
	CodecNone Codec = 0
	CodecZstd Codec = 1
	// CodecZstdColumns stores a data block of tab-separated rows column by
	// column: the column count and lengths, then zstd frames of the
	// columns (see columnize and SPEC.md). Writers choose it for CodecZstd data blocks
	// on their own; it is not a WriterOptions.Codec.
	CodecZstdColumns Codec = 2
)

func (c Codec) String() string {
	switch c {
	case CodecNone:
		return "none"
	case CodecZstd:
		return "zstd"
	case CodecZstdColumns:
		return "zstd-columns"
	}
	return fmt.Sprintf("codec %d", uint8(c))
}

func (c Codec) valid() bool { return c <= CodecZstdColumns }

// Record header flags.
const (
	// flagContinues marks a data block whose last row goes on in the next
	// record, which is a data block of the same entry with the next sequence.
	flagContinues uint16 = 1 << 0
	// flagBinary marks a data block of COPY binary rows (SPEC.md, "Data
	// record"), which never continues.
	flagBinary uint16 = 1 << 1
	knownFlags        = flagContinues | flagBinary
)

// recordHeader is the decoded form of the 32-byte record header.
type recordHeader struct {
	kind   RecordKind
	codec  Codec
	flags  uint16
	entry  uint32
	seq    uint32
	rows   uint32
	stored uint32
	raw    uint32
	crc    uint32 // CRC32C of the stored payload
}

func (h *recordHeader) encode(b []byte) {
	_ = b[RecordHeaderSize-1]
	b[0] = byte(h.kind)
	b[1] = byte(h.codec)
	binary.LittleEndian.PutUint16(b[2:], h.flags)
	binary.LittleEndian.PutUint32(b[4:], h.entry)
	binary.LittleEndian.PutUint32(b[8:], h.seq)
	binary.LittleEndian.PutUint32(b[12:], h.rows)
	binary.LittleEndian.PutUint32(b[16:], h.stored)
	binary.LittleEndian.PutUint32(b[20:], h.raw)
	binary.LittleEndian.PutUint32(b[24:], h.crc)
	binary.LittleEndian.PutUint32(b[28:], checksum(b[:28]))
}

// decodeRecordHeader parses and validates a record header found at off.
// It checks the header checksum and every field that can be checked without
// context; callers check what depends on the position in the file.
func decodeRecordHeader(b []byte, off int64) (recordHeader, error) {
	if len(b) < RecordHeaderSize {
		return recordHeader{}, &CorruptError{Offset: off, Reason: "short record header", Err: ErrTruncated}
	}
	if got, want := checksum(b[:28]), binary.LittleEndian.Uint32(b[28:]); got != want {
		return recordHeader{}, &CorruptError{Offset: off, Reason: fmt.Sprintf("record header checksum mismatch (stored %08x, computed %08x)", want, got)}
	}
	h := recordHeader{
		kind:   RecordKind(b[0]),
		codec:  Codec(b[1]),
		flags:  binary.LittleEndian.Uint16(b[2:]),
		entry:  binary.LittleEndian.Uint32(b[4:]),
		seq:    binary.LittleEndian.Uint32(b[8:]),
		rows:   binary.LittleEndian.Uint32(b[12:]),
		stored: binary.LittleEndian.Uint32(b[16:]),
		raw:    binary.LittleEndian.Uint32(b[20:]),
		crc:    binary.LittleEndian.Uint32(b[24:]),
	}
	bad := func(format string, args ...any) (recordHeader, error) {
		return recordHeader{}, &CorruptError{Offset: off, Record: h.kind, Entry: h.entry, Seq: h.seq, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case h.kind < RecordInfo || h.kind > RecordFooter:
		return bad("unknown record kind %d", uint8(h.kind))
	case !h.codec.valid():
		return bad("unknown codec %d", uint8(h.codec))
	case h.flags&^knownFlags != 0:
		return bad("unknown flags %#x", h.flags)
	case h.flags != 0 && h.kind != RecordData:
		return bad("flags %#x on a %s record", h.flags, h.kind)
	case h.flags == flagContinues|flagBinary:
		return bad("binary data block marked as continued")
	case h.stored > MaxPayload || h.raw > MaxPayload:
		return bad("payload length %d stored / %d raw exceeds the maximum %d", h.stored, h.raw, MaxPayload)
	case h.codec == CodecZstdColumns && h.kind != RecordData:
		return bad("codec %s on a %s record", h.codec, h.kind)
	case h.codec == CodecNone && h.stored != h.raw:
		return bad("uncompressed payload with stored length %d != raw length %d", h.stored, h.raw)
	case h.rows != 0 && h.kind != RecordData:
		return bad("row count %d on a %s record", h.rows, h.kind)
	}
	switch h.kind {
	case RecordEntry, RecordData:
		if h.entry == 0 {
			return bad("entry id 0")
		}
		if h.kind == RecordEntry && h.seq != 0 {
			return bad("sequence %d on an entry record", h.seq)
		}
	case RecordInfo, RecordIndex, RecordFooter:
		if h.entry != 0 {
			return bad("entry id %d on a %s record", h.entry, h.kind)
		}
		if h.kind != RecordIndex && h.seq != 0 {
			return bad("sequence %d on a %s record", h.seq, h.kind)
		}
		if h.kind == RecordFooter && (h.codec != CodecNone || h.raw != FooterPayloadSize) {
			return bad("footer payload must be %d uncompressed bytes", FooterPayloadSize)
		}
	}
	return h, nil
}

// encodeFileHeader returns the 16-byte file header.
func encodeFileHeader(version uint16) [HeaderSize]byte {
	var b [HeaderSize]byte
	copy(b[:8], magic[:])
	binary.LittleEndian.PutUint16(b[8:], version)
	// b[10:12] reserved, zero
	binary.LittleEndian.PutUint32(b[12:], checksum(b[:12]))
	return b
}

// decodeFileHeader checks the magic, checksum and version.
func decodeFileHeader(b []byte) (uint16, error) {
	if len(b) < len(magic) || [8]byte(b[:8]) != magic {
		return 0, notArchive(b)
	}
	if len(b) < HeaderSize {
		return 0, &CorruptError{Offset: 0, Reason: "file header cut short", Err: ErrTruncated}
	}
	if got, want := checksum(b[:12]), binary.LittleEndian.Uint32(b[12:]); got != want {
		return 0, &CorruptError{Offset: 0, Reason: fmt.Sprintf("file header checksum mismatch (stored %08x, computed %08x)", want, got)}
	}
	v := binary.LittleEndian.Uint16(b[8:])
	for _, s := range SupportedVersions {
		if v == s {
			if reserved := binary.LittleEndian.Uint16(b[10:]); reserved != 0 {
				return 0, &CorruptError{Offset: 10, Reason: fmt.Sprintf("reserved header bytes are %#x, not zero", reserved)}
			}
			return v, nil
		}
	}
	return 0, &VersionError{Version: v}
}

// notArchive is ErrNotArchive, saying what the input is instead when it
// is one of pg_dump's outputs that people mistake for an archive.
func notArchive(head []byte) error {
	switch {
	case bytes.HasPrefix(head, []byte("PGDMP")):
		return fmt.Errorf("%w: it is a pg_dump custom-format archive; restore it with pg_restore", ErrNotArchive)
	case bytes.HasPrefix(head, []byte("--\n-- PostgreSQL")): // all a 16-byte header read holds of pg_dump's first lines
		return fmt.Errorf("%w: it is a plain SQL dump; run it with psql", ErrNotArchive)
	}
	return ErrNotArchive
}

// footer is the decoded footer payload.
type footer struct {
	indexOffset uint64
	indexLength uint64
	blocks      uint64
	entries     uint32
	indexCRC    uint32
}

func (f *footer) encode() []byte {
	b := make([]byte, FooterPayloadSize)
	binary.LittleEndian.PutUint64(b[0:], f.indexOffset)
	binary.LittleEndian.PutUint64(b[8:], f.indexLength)
	binary.LittleEndian.PutUint64(b[16:], f.blocks)
	binary.LittleEndian.PutUint32(b[24:], f.entries)
	binary.LittleEndian.PutUint32(b[28:], f.indexCRC)
	return b
}

// decodeFooter parses the whole footer record (header and payload) that
// starts at off, the last FooterSize bytes of a file of the given size.
func decodeFooter(b []byte, off int64) (footer, error) {
	truncated := func(reason string) error {
		return &CorruptError{Offset: off, Record: RecordFooter, Reason: reason + ": the archive is truncated or was never finished", Err: ErrTruncated}
	}
	if len(b) != FooterSize {
		return footer{}, truncated("no room for a footer")
	}
	h, err := decodeRecordHeader(b[:RecordHeaderSize], off)
	if err != nil || h.kind != RecordFooter {
		return footer{}, truncated("no valid footer at the end")
	}
	p := b[RecordHeaderSize:]
	if got := checksum(p); got != h.crc {
		return footer{}, &CorruptError{Offset: off, Record: RecordFooter, Reason: fmt.Sprintf("footer checksum mismatch (stored %08x, computed %08x)", h.crc, got)}
	}
	f := footer{
		indexOffset: binary.LittleEndian.Uint64(p[0:]),
		indexLength: binary.LittleEndian.Uint64(p[8:]),
		blocks:      binary.LittleEndian.Uint64(p[16:]),
		entries:     binary.LittleEndian.Uint32(p[24:]),
		indexCRC:    binary.LittleEndian.Uint32(p[28:]),
	}
	// Every entry and block takes at least a record header before the
	// footer: this bounds the counts before anything is sized by them.
	if limit := uint64(off) / RecordHeaderSize; uint64(f.entries) > limit || f.blocks > limit || uint64(f.entries)+f.blocks > limit {
		return footer{}, &CorruptError{Offset: off, Record: RecordFooter, Reason: fmt.Sprintf("footer counts %d entries and %d blocks, more than %d bytes can hold", f.entries, f.blocks, off)}
	}
	// The index sits right before the footer and after at least the file
	// header and the info record.
	if f.indexOffset < HeaderSize+RecordHeaderSize || f.indexOffset > uint64(off) || f.indexLength != uint64(off)-f.indexOffset || f.indexLength < RecordHeaderSize {
		return footer{}, &CorruptError{Offset: off, Record: RecordFooter, Reason: fmt.Sprintf("index offset %d and length %d do not end at the footer (offset %d)", f.indexOffset, f.indexLength, off)}
	}
	return f, nil
}
