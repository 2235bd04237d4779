package format

import (
	"fmt"
	"runtime"

	"github.com/klauspost/compress/zstd"
)

// DefaultLevel is the zstd level used when WriterOptions.Level is 0. It is
// chosen by measurement (see SPEC.md, "Compression"): on COPY text it is
// never slower than level 3 and within 5% of its size either way.
const DefaultLevel = 1

// encoder compresses payloads; safe for concurrent use (zstd.Encoder.EncodeAll is).
type encoder struct {
	codec Codec
	zstd  *zstd.Encoder
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
		)
		if err != nil {
			return nil, fmt.Errorf("format: create zstd encoder: %w", err)
		}
		return &encoder{codec: codec, zstd: z}, nil
	}
	return nil, fmt.Errorf("format: unknown codec %d", uint8(codec))
}

// encode appends the stored form of p to dst and returns it with the codec
// used. A payload that compression does not shrink is stored uncompressed,
// so the stored size never exceeds the raw size.
func (e *encoder) encode(dst, p []byte) ([]byte, Codec) {
	prefix := len(dst)
	if e.codec == CodecZstd && len(p) > 0 {
		out := e.zstd.EncodeAll(p, dst)
		if len(out)-prefix < len(p) {
			return out, CodecZstd
		}
		dst = out[:prefix]
	}
	return append(dst, p...), CodecNone
}

func (e *encoder) close() {
	if e.zstd != nil {
		_ = e.zstd.Close()
	}
}

// decoder decompresses payloads; safe for concurrent use (zstd.Decoder.DecodeAll is).
type decoder struct {
	zstd *zstd.Decoder
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
	switch h.codec {
	case CodecNone:
		return append(dst[:0], p...), nil
	case CodecZstd:
		if cap(dst) < int(h.raw) {
			dst = make([]byte, 0, h.raw)
		}
		out, err := d.zstd.DecodeAll(p, dst[:0])
		if err != nil {
			return nil, &CorruptError{Offset: off, Record: h.kind, Entry: h.entry, Seq: h.seq, Reason: "zstd payload does not decode: " + err.Error()}
		}
		if len(out) != int(h.raw) {
			return nil, &CorruptError{Offset: off, Record: h.kind, Entry: h.entry, Seq: h.seq, Reason: fmt.Sprintf("payload decompresses to %d bytes, header says %d", len(out), h.raw)}
		}
		return out, nil
	}
	return nil, &CorruptError{Offset: off, Record: h.kind, Entry: h.entry, Seq: h.seq, Reason: fmt.Sprintf("unknown codec %d", uint8(h.codec))}
}

func (d *decoder) close() { d.zstd.Close() }
