package format

import (
	"encoding/binary"
	"fmt"
)

// indexEntry locates an entry record.
type indexEntry struct {
	id     uint32
	stored uint32 // stored payload length of the entry record
	offset int64
}

func (e indexEntry) end() int64 { return e.offset + RecordHeaderSize + int64(e.stored) }

// index is the decoded table the footer points to.
type index struct {
	entries []indexEntry
	blocks  []Block
}

// indexRawSize is the exact size of an encoded index holding n entries and m blocks.
func indexRawSize(n, m uint64) uint64 { return 4 + n*indexEntrySize + 8 + m*indexBlockSize }

func (x *index) encode() []byte {
	b := make([]byte, 0, indexRawSize(uint64(len(x.entries)), uint64(len(x.blocks))))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(x.entries)))
	for _, e := range x.entries {
		b = binary.LittleEndian.AppendUint32(b, e.id)
		b = binary.LittleEndian.AppendUint32(b, e.stored)
		b = binary.LittleEndian.AppendUint64(b, uint64(e.offset))
	}
	b = binary.LittleEndian.AppendUint64(b, uint64(len(x.blocks)))
	for _, k := range x.blocks {
		b = binary.LittleEndian.AppendUint64(b, uint64(k.Offset))
		b = binary.LittleEndian.AppendUint32(b, k.Entry)
		b = binary.LittleEndian.AppendUint32(b, k.Seq)
		b = binary.LittleEndian.AppendUint32(b, k.Stored)
		b = binary.LittleEndian.AppendUint32(b, k.Raw)
		b = binary.LittleEndian.AppendUint32(b, k.Rows)
		b = binary.LittleEndian.AppendUint32(b, k.CRC)
		b = binary.LittleEndian.AppendUint16(b, k.flags())
		b = append(b, byte(k.Codec), 0, 0, 0, 0, 0)
	}
	return b
}

// decodeIndex parses the raw index bytes; f is the footer that announced them.
func decodeIndex(raw []byte, f footer) (index, error) {
	bad := func(format string, args ...any) (index, error) {
		return index{}, &CorruptError{Offset: int64(f.indexOffset), Record: RecordIndex, Reason: fmt.Sprintf(format, args...)}
	}
	if want := indexRawSize(uint64(f.entries), f.blocks); uint64(len(raw)) != want {
		return bad("index is %d bytes, footer counts (%d entries, %d blocks) need %d", len(raw), f.entries, f.blocks, want)
	}
	if n := binary.LittleEndian.Uint32(raw); n != f.entries {
		return bad("index holds %d entries, footer says %d", n, f.entries)
	}
	x := index{entries: make([]indexEntry, f.entries), blocks: make([]Block, f.blocks)}
	p := raw[4:]
	for i := range x.entries {
		x.entries[i] = indexEntry{
			id:     binary.LittleEndian.Uint32(p),
			stored: binary.LittleEndian.Uint32(p[4:]),
			offset: int64(binary.LittleEndian.Uint64(p[8:])),
		}
		p = p[indexEntrySize:]
	}
	if m := binary.LittleEndian.Uint64(p); m != f.blocks {
		return bad("index holds %d blocks, footer says %d", m, f.blocks)
	}
	p = p[8:]
	for i := range x.blocks {
		flags := binary.LittleEndian.Uint16(p[32:])
		x.blocks[i] = Block{
			Offset:    int64(binary.LittleEndian.Uint64(p)),
			Entry:     binary.LittleEndian.Uint32(p[8:]),
			Seq:       binary.LittleEndian.Uint32(p[12:]),
			Stored:    binary.LittleEndian.Uint32(p[16:]),
			Raw:       binary.LittleEndian.Uint32(p[20:]),
			Rows:      binary.LittleEndian.Uint32(p[24:]),
			CRC:       binary.LittleEndian.Uint32(p[28:]),
			Codec:     Codec(p[34]),
			Continues: flags&flagContinues != 0,
			Binary:    flags&flagBinary != 0,
		}
		if flags&^knownFlags != 0 || flags == flagContinues|flagBinary || !x.blocks[i].Codec.valid() || p[35] != 0 || binary.LittleEndian.Uint32(p[36:]) != 0 {
			return bad("index row for block %d has unknown flags, codec or reserved bytes", i)
		}
		p = p[indexBlockSize:]
	}
	return x, nil
}

// checkLayout verifies that the records the index names tile the file from
// the end of the info record to the start of the index, in order, with no
// gap or overlap, and that the rules of SPEC.md "Ordering" hold: an entry
// comes before its blocks, block sequences count up from 0 per entry, and a
// continued block is followed at once by the next block of its entry.
func (x *index) checkLayout(infoEnd, indexOffset int64) error {
	byID := make(map[uint32]int64, len(x.entries))
	nextSeq := make(map[uint32]uint32, len(x.entries))
	pos := infoEnd
	ei, bi := 0, 0
	var prev *Block
	for ei < len(x.entries) || bi < len(x.blocks) {
		if ei < len(x.entries) && (bi == len(x.blocks) || x.entries[ei].offset < x.blocks[bi].Offset) {
			e := x.entries[ei]
			if e.offset != pos {
				return &CorruptError{Offset: e.offset, Record: RecordEntry, Entry: e.id, Reason: fmt.Sprintf("index places the entry at offset %d, expected %d", e.offset, pos)}
			}
			if e.id == 0 || e.stored > MaxPayload {
				return &CorruptError{Offset: e.offset, Record: RecordEntry, Entry: e.id, Reason: "invalid index row for entry"}
			}
			if _, dup := byID[e.id]; dup {
				return &CorruptError{Offset: e.offset, Record: RecordEntry, Entry: e.id, Reason: "duplicate entry id"}
			}
			if prev != nil && prev.Continues {
				return &CorruptError{Offset: prev.Offset, Record: RecordData, Entry: prev.Entry, Seq: prev.Seq, Reason: "continued block is followed by an entry"}
			}
			byID[e.id] = e.offset
			pos = e.end()
			prev = nil
			ei++
			continue
		}
		b := &x.blocks[bi]
		bad := func(format string, args ...any) error {
			return &CorruptError{Offset: b.Offset, Record: RecordData, Entry: b.Entry, Seq: b.Seq, Reason: fmt.Sprintf(format, args...)}
		}
		if b.Offset != pos {
			return bad("index places the block at offset %d, expected %d", b.Offset, pos)
		}
		if b.Stored > MaxPayload || b.Raw > MaxPayload || (b.Codec == CodecNone && b.Stored != b.Raw) {
			return bad("invalid lengths %d stored / %d raw", b.Stored, b.Raw)
		}
		if _, ok := byID[b.Entry]; !ok {
			return bad("block of an entry that does not precede it")
		}
		if b.Seq != nextSeq[b.Entry] {
			return bad("block sequence %d, expected %d", b.Seq, nextSeq[b.Entry])
		}
		if prev != nil && prev.Continues && prev.Entry != b.Entry {
			return &CorruptError{Offset: prev.Offset, Record: RecordData, Entry: prev.Entry, Seq: prev.Seq, Reason: "continued block is followed by a block of another entry"}
		}
		if prev != nil && prev.Continues && b.Binary {
			return &CorruptError{Offset: prev.Offset, Record: RecordData, Entry: prev.Entry, Seq: prev.Seq, Reason: "continued block is followed by a binary block"}
		}
		nextSeq[b.Entry]++
		pos = b.End()
		prev = b
		bi++
	}
	if prev != nil && prev.Continues {
		return &CorruptError{Offset: prev.Offset, Record: RecordData, Entry: prev.Entry, Seq: prev.Seq, Reason: "last block is marked as continued"}
	}
	if pos != indexOffset {
		return &CorruptError{Offset: pos, Reason: fmt.Sprintf("records end at offset %d but the index starts at %d", pos, indexOffset)}
	}
	return nil
}

// readIndexRegion decodes the index records held in region, which starts at
// file offset off, into the raw index bytes. want is the raw size the footer
// announces; it bounds what is decompressed.
func readIndexRegion(region []byte, off int64, f footer, dec *decoder) ([]byte, error) {
	if checksum(region) != f.indexCRC {
		return nil, &CorruptError{Offset: off, Record: RecordIndex, Reason: "index region checksum does not match the footer"}
	}
	want := indexRawSize(uint64(f.entries), f.blocks)
	raw := make([]byte, 0, want)
	var part []byte
	for seq := uint32(0); len(region) > 0; seq++ {
		h, err := decodeRecordHeader(region, off)
		if err != nil {
			return nil, err
		}
		if h.kind != RecordIndex || h.seq != seq {
			return nil, &CorruptError{Offset: off, Record: h.kind, Seq: h.seq, Reason: fmt.Sprintf("expected index part %d", seq)}
		}
		end := RecordHeaderSize + int(h.stored)
		if end > len(region) {
			return nil, &CorruptError{Offset: off, Record: RecordIndex, Seq: seq, Reason: "index part runs past the footer"}
		}
		if uint64(len(raw))+uint64(h.raw) > want {
			return nil, &CorruptError{Offset: off, Record: RecordIndex, Seq: seq, Reason: fmt.Sprintf("index longer than the %d bytes the footer announces", want)}
		}
		p := region[RecordHeaderSize:end]
		if got := checksum(p); got != h.crc {
			return nil, &CorruptError{Offset: off, Record: RecordIndex, Seq: seq, Reason: fmt.Sprintf("payload checksum mismatch (stored %08x, computed %08x)", h.crc, got)}
		}
		if part, err = dec.decode(part, p, h, off); err != nil {
			return nil, err
		}
		raw = append(raw, part...)
		region = region[end:]
		off += int64(end)
	}
	return raw, nil
}
