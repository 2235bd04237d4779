package format

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// goldenSeeds returns the golden archives and a few damaged forms of them.
func goldenSeeds(f *testing.F) [][]byte {
	f.Helper()
	var seeds [][]byte
	for _, name := range []string{"golden-v1-none.pgark", "golden-v1-zstd.pgark", "golden-v2-cluster-none.pgark", "golden-v1-zstd-columns.pgark", "golden-v1-binary-none.pgark", "golden-v1-binary-zstd.pgark"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b, b[:len(b)/2], b[:len(b)-1], b[:HeaderSize+RecordHeaderSize])
	}
	return seeds
}

// FuzzReader opens arbitrary bytes at random and reads every block: it
// must return errors, never panic or allocate without bound.
func FuzzReader(f *testing.F) {
	for _, s := range goldenSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		defer r.Close()
		for _, blk := range r.Blocks() {
			_, _ = r.ReadBlock(blk, nil)
		}
		_ = r.Verify(context.Background())
	})
}

// FuzzScanner reads arbitrary bytes sequentially.
func FuzzScanner(f *testing.F) {
	for _, s := range goldenSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s := NewScanner(bytes.NewReader(b))
		for s.Next() {
			_ = s.Record()
		}
		if s.Err() == nil {
			// A clean scan must agree with the random-access reader.
			if err := openAndVerify(b); err != nil {
				t.Fatalf("scanner accepted what the reader refuses: %v", err)
			}
		}
	})
}

// FuzzFooterIndex drives the footer and index decoders past their
// checksums: the harness frames the fuzzed bytes as an index region and a
// footer with correct checksums, so the decoders' own checks are what is
// exercised.
func FuzzFooterIndex(f *testing.F) {
	// Seed with the golden archive's own index, footer values and layout.
	b := goldenSeeds(f)[0]
	off := int64(len(b) - FooterSize)
	ft, err := decodeFooter(b[off:], off)
	if err != nil {
		f.Fatal(err)
	}
	dec, err := newDecoder()
	if err != nil {
		f.Fatal(err)
	}
	raw, err := readIndexRegion(b[ft.indexOffset:off], int64(ft.indexOffset), ft, dec)
	dec.close()
	if err != nil {
		f.Fatal(err)
	}
	x, err := decodeIndex(raw, ft)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw, uint32(x.entries[0].offset), uint32(ft.indexOffset))
	f.Add([]byte{}, uint32(0), uint32(0))
	f.Fuzz(func(t *testing.T, raw []byte, infoEnd, indexAt uint32) {
		dec, err := newDecoder()
		if err != nil {
			t.Fatal(err)
		}
		defer dec.close()
		// Frame raw as one index record (or several, past MaxPayload).
		enc, _ := newEncoder(CodecZstd, 1, 1)
		defer enc.close()
		aw := &Writer{enc: enc}
		var region []byte
		rest := raw
		for seq := uint32(0); seq == 0 || len(rest) > 0; seq++ {
			n := min(len(rest), MaxPayload)
			region, _ = aw.record(region, recordHeader{kind: RecordIndex, seq: seq}, rest[:n])
			rest = rest[n:]
		}
		indexOffset := max(int64(indexAt), HeaderSize+RecordHeaderSize)
		var entries uint32
		var blocks uint64
		if len(raw) >= 4 {
			entries = binary.LittleEndian.Uint32(raw)
			if p := 4 + uint64(entries)*indexEntrySize; p+8 <= uint64(len(raw)) {
				blocks = binary.LittleEndian.Uint64(raw[p:])
			}
		}
		ft := footer{indexOffset: uint64(indexOffset), indexLength: uint64(len(region)), entries: entries, blocks: blocks, indexCRC: checksum(region)}
		fp := ft.encode()
		fb := make([]byte, RecordHeaderSize, FooterSize)
		h := recordHeader{kind: RecordFooter, stored: FooterPayloadSize, raw: FooterPayloadSize, crc: checksum(fp)}
		h.encode(fb)
		fb = append(fb, fp...)
		footerOff := indexOffset + int64(len(region))
		got, err := decodeFooter(fb, footerOff)
		if err != nil {
			return // counts beyond what the file could hold
		}
		rawBack, err := readIndexRegion(region, indexOffset, got, dec)
		if err != nil {
			return
		}
		x, err := decodeIndex(rawBack, got)
		if err != nil {
			return
		}
		if !bytes.Equal(x.encode(), raw) {
			t.Fatalf("index decodes and re-encodes differently")
		}
		_ = x.checkLayout(int64(infoEnd), indexOffset)
	})
}

// FuzzRecordHeader checks that any header with a valid checksum either is
// refused or survives an encode/decode round trip.
func FuzzRecordHeader(f *testing.F) {
	var b [RecordHeaderSize]byte
	h := recordHeader{kind: RecordData, codec: CodecZstd, flags: flagContinues, entry: 3, seq: 2, rows: 10, stored: 100, raw: 300, crc: 7}
	h.encode(b[:])
	f.Add(b[:28])
	f.Fuzz(func(t *testing.T, p []byte) {
		if len(p) < 28 {
			return
		}
		var b [RecordHeaderSize]byte
		copy(b[:], p[:28])
		binary.LittleEndian.PutUint32(b[28:], checksum(b[:28]))
		h, err := decodeRecordHeader(b[:], 0)
		if err != nil {
			return
		}
		var again [RecordHeaderSize]byte
		h.encode(again[:])
		if again != b {
			t.Fatalf("header %x re-encodes as %x", b, again)
		}
	})
}
