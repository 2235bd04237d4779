package format

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// realisticBlocks returns COPY text of a typical OLTP table: bigint id, uuid,
// timestamptz, numeric, a low-cardinality status, inet, jsonb and free
// text drawn from a Zipf-distributed vocabulary, in blocks of about size
// bytes, cut at row boundaries.
func realisticBlocks(seed uint64, nblocks, size int) [][]byte {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	vocab := make([]string, 5000)
	for i := range vocab {
		w := make([]byte, 2+rng.IntN(9))
		for j := range w {
			w[j] = byte('a' + rng.IntN(26))
		}
		vocab[i] = string(w)
	}
	zipf := rand.NewZipf(rng, 1.1, 1, uint64(len(vocab)-1))
	statuses := []string{"new", "paid", "shipped", "delivered", "cancelled", "refunded"}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var id int64
	blocks := make([][]byte, 0, nblocks)
	var b bytes.Buffer
	for len(blocks) < nblocks {
		b.Reset()
		for b.Len() < size {
			id++
			ts := base.Add(time.Duration(id)*1733*time.Millisecond + time.Duration(rng.IntN(1e6))*time.Microsecond)
			fmt.Fprintf(&b, "%d\t%08x-%04x-4%03x-%04x-%012x\t%s\t%d.%02d\t%s\t10.%d.%d.%d\t",
				id, rng.Uint32(), rng.IntN(1<<16), rng.IntN(1<<12), 0x8000|rng.IntN(1<<14), rng.Uint64()&(1<<48-1),
				ts.Format("2006-01-02 15:04:05.999999-07"), rng.IntN(100000), rng.IntN(100),
				statuses[rng.IntN(len(statuses))], rng.IntN(256), rng.IntN(256), rng.IntN(256))
			fmt.Fprintf(&b, `{"user": %d, "score": %.4f, "tags": ["%s", "%s"], "flag": %t}`+"\t",
				rng.IntN(1e6), rng.Float64()*100, vocab[zipf.Uint64()], vocab[zipf.Uint64()], rng.IntN(2) == 0)
			for n := 5 + rng.IntN(30); n > 0; n-- {
				b.WriteString(vocab[zipf.Uint64()])
				if n > 1 {
					b.WriteByte(' ')
				}
			}
			b.WriteByte('\n')
		}
		blocks = append(blocks, bytes.Clone(b.Bytes()))
	}
	return blocks
}

const benchBlockSize = 1 << 20

var benchLevels = []struct {
	codec Codec
	level int
}{{CodecNone, 0}, {CodecZstd, DefaultLevel}, {CodecZstd, 3}, {CodecZstd, 7}}

// writeParallel feeds blocks to w from workers goroutines.
func writeParallel(b *testing.B, w *Writer, blocks [][]byte, workers int) {
	var wg sync.WaitGroup
	next := make(chan []byte)
	for range workers {
		wg.Go(func() {
			for blk := range next {
				if err := w.WriteBlock(1, blk, 1); err != nil {
					b.Error(err)
				}
			}
		})
	}
	for _, blk := range blocks {
		next <- blk
	}
	close(next)
	wg.Wait()
}

// BenchmarkCodecWrite measures archive writing throughput (MB/s of COPY
// text in) with 1 and 2 concurrent producers, and the compression ratio.
func BenchmarkCodecWrite(b *testing.B) {
	blocks := realisticBlocks(42, 32, benchBlockSize)
	var raw int64
	for _, blk := range blocks {
		raw += int64(len(blk))
	}
	for _, lv := range benchLevels {
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s-%d/workers=%d", lv.codec, lv.level, workers), func(b *testing.B) {
				b.SetBytes(raw)
				var size int64
				for b.Loop() {
					cw := &countingWriter{}
					w, err := NewWriter(cw, Info{Tool: "bench"}, WriterOptions{Codec: lv.codec, Level: lv.level, Concurrency: workers})
					if err != nil {
						b.Fatal(err)
					}
					if err := w.AddEntry(Entry{ID: 1, Kind: "TABLE DATA", Name: "t"}); err != nil {
						b.Fatal(err)
					}
					writeParallel(b, w, blocks, workers)
					if err := w.Close(); err != nil {
						b.Fatal(err)
					}
					size = cw.n
				}
				b.ReportMetric(float64(raw)/float64(size), "ratio")
			})
		}
	}
}

// BenchmarkCodecRead measures ReadBlock throughput (MB/s of COPY text out)
// with 1 and 2 concurrent readers.
func BenchmarkCodecRead(b *testing.B) {
	blocks := realisticBlocks(42, 32, benchBlockSize)
	var raw int64
	for _, blk := range blocks {
		raw += int64(len(blk))
	}
	for _, lv := range benchLevels {
		var out bytes.Buffer
		w, err := NewWriter(&out, Info{Tool: "bench"}, WriterOptions{Codec: lv.codec, Level: lv.level})
		if err != nil {
			b.Fatal(err)
		}
		if err := w.AddEntry(Entry{ID: 1, Kind: "TABLE DATA", Name: "t"}); err != nil {
			b.Fatal(err)
		}
		for _, blk := range blocks {
			if err := w.WriteBlock(1, blk, 1); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		r, err := NewReader(bytes.NewReader(out.Bytes()), int64(out.Len()))
		if err != nil {
			b.Fatal(err)
		}
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s-%d/workers=%d", lv.codec, lv.level, workers), func(b *testing.B) {
				b.SetBytes(raw)
				for b.Loop() {
					var wg sync.WaitGroup
					next := make(chan Block)
					for range workers {
						wg.Go(func() {
							var buf []byte
							for blk := range next {
								p, err := r.ReadBlock(blk, buf)
								if err != nil {
									b.Error(err)
								}
								buf = p
							}
						})
					}
					for _, blk := range r.Blocks() {
						next <- blk
					}
					close(next)
					wg.Wait()
				}
			})
		}
		r.Close()
	}
}

// BenchmarkZlibReference compresses the same COPY text as one zlib stream
// at zlib's default level, as pg_dump -Fc does with table data: the ratio
// pgark's archive size is compared with.
func BenchmarkZlibReference(b *testing.B) {
	blocks := realisticBlocks(42, 32, benchBlockSize)
	var raw int64
	for _, blk := range blocks {
		raw += int64(len(blk))
	}
	b.SetBytes(raw)
	var size int64
	for b.Loop() {
		cw := &countingWriter{}
		zw := zlib.NewWriter(cw)
		for _, blk := range blocks {
			if _, err := zw.Write(blk); err != nil {
				b.Fatal(err)
			}
		}
		if err := zw.Close(); err != nil {
			b.Fatal(err)
		}
		size = cw.n
	}
	b.ReportMetric(float64(raw)/float64(size), "ratio")
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}
