package copybin

import (
	"fmt"
	"testing"
)

// BenchmarkAppendRows converts rows shaped like a typical wide table:
// bigint, uuid, timestamptz, numeric(12,2), text, inet, jsonb, text.
func BenchmarkAppendRows(b *testing.B) {
	c, err := New([]uint32{20, 2950, 1184, 1700, 25, 869, 3802, 25})
	if err != nil {
		b.Fatal(err)
	}
	const rows = 1000
	var text []byte
	for i := range rows {
		text = fmt.Appendf(text, "%d\t%08x-9c0b-4ef8-bb6d-6bb9bd380a11\t2024-02-%02d 12:34:56.%06d+05:30\t%d.%02d\t"+
			"customer name %d with some text\t10.%d.%d.%d\t{\"id\": %d, \"tags\": [\"a\", \"b\\\\tc\"], \"ok\": true}\tshort\n",
			i*7919, uint32(i*2654435761), 1+i%28, i*37%99999*10+7, i*131, i%100, i, i%256, i/256%256, 1+i%254, i)
	}
	dst := Header(nil)
	if dst, err = c.AppendRows(dst, text); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if dst, err = c.AppendRows(dst[:0], text); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
}
