package format

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// DefaultLevel is the zstd level used when WriterOptions.Level is 0. It is
// chosen by measurement (see SPEC.md, "Compression"): on COPY text stored
// column by column it is as small as level 3 at half its CPU.
const DefaultLevel = 1

// encoder compresses payloads; safe for concurrent use (zstd.Encoder.EncodeAll is).
type encoder struct {
	codec Codec
	zstd  *zstd.Encoder
	cols  sync.Pool // *[]byte scratch for columnize
}

func newEncoder(codec Codec, level, concurrency int) (*encoder, error) {
	switch codec {
	case CodecNone:
		return &encoder{codec: codec}, nil
	case CodecZstd:
		if level == 0 {
			level = DefaultLevel
		}
		if level < 1 || level > 22 {
			return nil, fmt.Errorf("format: zstd level %d out of range 1..22", level)
		}
		if concurrency <= 0 {
			concurrency = runtime.GOMAXPROCS(0)
		}
		z, err := zstd.NewWriter(nil,
			zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(level)),
			zstd.WithEncoderConcurrency(concurrency),
			zstd.WithEncoderCRC(false), // the record carries a CRC32C of the stored bytes
			// Entropy-code literals even where no match is found: a column of
			// uuids or hashes has no matches but only 16 distinct bytes, and
			// Huffman coding halves it (off by default below level 5).
			zstd.WithAllLitEntropyCompression(true),
		)
		if err != nil {
			return nil, fmt.Errorf("format: create zstd encoder: %w", err)
		}
		return &encoder{codec: codec, zstd: z}, nil
	}
	return nil, fmt.Errorf("format: unknown codec %d", uint8(codec))
}

// payload says what a record's payload holds, which decides how it is
// stored.
type payload uint8

const (
	payloadOther  payload = iota // info, entry, index: zstd as it is
	payloadText                  // a data block of COPY text
	payloadBinary                // a data block of COPY binary tuples
)

func (h recordHeader) payload() payload {
	switch {
	case h.kind != RecordData:
		return payloadOther
	case h.flags&flagBinary != 0:
		return payloadBinary
	}
	return payloadText
}

// encode appends the stored form of p to dst and returns it with the codec
// used. A data block is stored column by column (zstd-columns) when it is
// whole rows: tab-separated text, or binary tuples of at least one field.
// A payload that compression does not shrink is stored uncompressed, so
// the stored size never exceeds the raw size.
func (e *encoder) encode(dst, p []byte, kind payload) ([]byte, Codec) {
	prefix := len(dst)
	if e.codec != CodecZstd || len(p) == 0 {
		return append(dst, p...), CodecNone
	}
	if kind != payloadOther {
		buf := pooled(&e.cols)
		defer e.cols.Put(buf)
		var ok bool
		if kind == payloadText {
			dst, *buf, ok = columnize(dst, (*buf)[:0], p)
		} else {
			dst, *buf, ok = columnizeBinary(dst, (*buf)[:0], p)
		}
		if ok {
			out := e.zstd.EncodeAll(*buf, dst)
			if len(out)-prefix < len(p) {
				return out, CodecZstdColumns
			}
			return append(out[:prefix], p...), CodecNone
		}
	}
	out := e.zstd.EncodeAll(p, dst)
	if len(out)-prefix < len(p) {
		return out, CodecZstd
	}
	return append(out[:prefix], p...), CodecNone
}

// pooled takes a scratch buffer from p, or a new empty one.
func pooled(p *sync.Pool) *[]byte {
	if b, ok := p.Get().(*[]byte); ok {
		return b
	}
	return new([]byte)
}

func (e *encoder) close() {
	if e.zstd != nil {
		_ = e.zstd.Close()
	}
}

// decoder decompresses payloads; safe for concurrent use (zstd.Decoder.DecodeAll is).
type decoder struct {
	zstd *zstd.Decoder
	cols sync.Pool // *[]byte scratch for the columns of zstd-columns
}

func newDecoder() (*decoder, error) {
	z, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(runtime.GOMAXPROCS(0)),
		zstd.WithDecoderMaxMemory(MaxPayload),
		zstd.WithDecoderMaxWindow(MaxPayload),
	)
	if err != nil {
		return nil, fmt.Errorf("format: create zstd decoder: %w", err)
	}
	return &decoder{zstd: z}, nil
}

// decode returns the raw payload of a record whose stored payload p has
// already passed its checksum. The result is appended to dst[:0].
func (d *decoder) decode(dst, p []byte, h recordHeader, off int64) ([]byte, error) {
	corrupt := func(reason string) error {
		return &CorruptError{Offset: off, Record: h.kind, Entry: h.entry, Seq: h.seq, Reason: reason}
	}
	switch h.codec {
	case CodecNone:
		out := append(dst[:0], p...)
		return out, checkTuples(out, h, corrupt)
	case CodecZstd:
		if cap(dst) < int(h.raw) {
			dst = make([]byte, 0, h.raw)
		}
		out, err := d.zstd.DecodeAll(p, dst[:0])
		if err != nil {
			return nil, corrupt("zstd payload does not decode: " + err.Error())
		}
		if len(out) != int(h.raw) {
			return nil, corrupt(fmt.Sprintf("payload decompresses to %d bytes, header says %d", len(out), h.raw))
		}
		return out, checkTuples(out, h, corrupt)
	case CodecZstdColumns:
		lens, n, err := columnsHeader(p, h.raw)
		if err != nil {
			return nil, corrupt("zstd-columns " + err.Error())
		}
		buf := pooled(&d.cols)
		defer d.cols.Put(buf)
		if cap(*buf) < int(h.raw) {
			*buf = make([]byte, 0, h.raw)
		}
		cols, err := d.zstd.DecodeAll(p[n:], (*buf)[:0])
		if err != nil {
			return nil, corrupt("zstd payload does not decode: " + err.Error())
		}
		*buf = cols
		if len(cols) != int(h.raw) {
			return nil, corrupt(fmt.Sprintf("payload decompresses to %d bytes, header says %d", len(cols), h.raw))
		}
		if cap(dst) < int(h.raw) {
			dst = make([]byte, 0, h.raw)
		}
		if h.payload() == payloadBinary {
			out, rows, err := uncolumnizeBinary(dst[:0], cols, lens)
			if err != nil {
				return nil, corrupt("zstd-columns payload of binary tuples: " + err.Error())
			}
			if rows != int(h.rows) {
				return nil, corrupt(fmt.Sprintf("%d tuples, header says %d rows", rows, h.rows))
			}
			return out, nil
		}
		out, err := uncolumnize(dst[:0], cols, lens)
		if err != nil {
			return nil, corrupt("zstd-columns payload: " + err.Error())
		}
		return out, nil
	}
	return nil, corrupt(fmt.Sprintf("unknown codec %d", uint8(h.codec)))
}

// checkTuples checks that the raw payload p of a binary data block, of
// header h, is whole tuples, as many as h says; other payloads pass.
func checkTuples(p []byte, h recordHeader, corrupt func(string) error) error {
	if h.payload() != payloadBinary {
		return nil
	}
	_, rows, err := tuples(p)
	if err != nil {
		return corrupt("binary tuples: " + err.Error())
	}
	if rows != int(h.rows) {
		return corrupt(fmt.Sprintf("%d tuples, header says %d rows", rows, h.rows))
	}
	return nil
}

func (d *decoder) close() { d.zstd.Close() }
