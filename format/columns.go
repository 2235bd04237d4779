package format

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
)

// columnize writes p column by column: a data block of zstd-columns is
// stored as a little-endian u32 column count n, n u32 column lengths, then
// zstd frames of the columns, which are the fields of every row of column
// 1, each followed by '\n', then those of column 2, and so on.
//
// columnize appends to hdr that count and those lengths, and to cols the
// columns, and returns both. p must be rows that each end with '\n' and
// have the same number of tab-separated fields (COPY text: tabs and
// newlines inside values are escaped), at least two; otherwise columnize
// returns hdr and cols unchanged and ok false. The columns have the
// length of p: every separator is kept, as a '\n'.
//
// Values of one column are alike (ids, timestamps, words), so zstd finds
// longer matches and sharper literal statistics in a column than in rows,
// where each value sits between unlike ones.
func columnize(hdr, cols, p []byte) (_, _ []byte, ok bool) {
	if len(p) == 0 || p[len(p)-1] != '\n' {
		return hdr, cols, false
	}
	first := bytes.IndexByte(p, '\n')
	nf := bytes.Count(p[:first], tab) + 1
	if nf < 2 {
		return hdr, cols, false
	}
	// First pass: check every row and size every column.
	sizes := make([]int, nf)
	for rest := p; len(rest) > 0; {
		nl := bytes.IndexByte(rest, '\n')
		line := rest[:nl]
		if bytes.Count(line, tab) != nf-1 {
			return hdr, cols, false
		}
		for c := range nf - 1 {
			t := bytes.IndexByte(line, '\t')
			sizes[c] += t + 1
			line = line[t+1:]
		}
		sizes[nf-1] += len(line) + 1
		rest = rest[nl+1:]
	}
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(nf))
	for _, n := range sizes {
		hdr = binary.LittleEndian.AppendUint32(hdr, uint32(n))
	}
	// Second pass: copy each field to the end of its column.
	base := len(cols)
	cols = slices.Grow(cols, len(p))[:base+len(p)] // every byte is written below
	out := cols[base:]
	pos := make([]int, nf)
	for c := 1; c < nf; c++ {
		pos[c] = pos[c-1] + sizes[c-1]
	}
	for rest := p; len(rest) > 0; {
		for c := range nf {
			sep := byte('\t')
			if c == nf-1 {
				sep = '\n'
			}
			end := bytes.IndexByte(rest, sep)
			n := copy(out[pos[c]:], rest[:end])
			out[pos[c]+n] = '\n'
			pos[c] += n + 1
			rest = rest[end+1:]
		}
	}
	return hdr, cols, true
}

var tab = []byte{'\t'}

// columnsHeader reads the column lengths at the start of a zstd-columns
// payload p, checks that they add up to raw bytes, and returns them with
// the size of the header.
func columnsHeader(p []byte, raw uint32) (lens []uint32, size int, err error) {
	if len(p) < 4 {
		return nil, 0, fmt.Errorf("payload shorter than its column count")
	}
	nf := uint64(binary.LittleEndian.Uint32(p))
	if nf == 0 || 4+4*nf > uint64(len(p)) {
		return nil, 0, fmt.Errorf("column count %d does not fit a payload of %d bytes", nf, len(p))
	}
	lens = make([]uint32, nf)
	var sum uint64
	for c := range lens {
		lens[c] = binary.LittleEndian.Uint32(p[4+4*c:])
		sum += uint64(lens[c])
	}
	if sum != uint64(raw) {
		return nil, 0, fmt.Errorf("columns of %d bytes in a payload of %d raw bytes", sum, raw)
	}
	return lens, 4 + 4*int(nf), nil
}

// uncolumnize appends to dst the rows whose columns, of lengths lens,
// columnize wrote to cols: its inverse. Input that columnize cannot have
// written is an error, never a panic.
func uncolumnize(dst, cols []byte, lens []uint32) ([]byte, error) {
	nf := len(lens)
	var sum uint64
	for _, n := range lens {
		sum += uint64(n)
	}
	if nf == 0 || sum != uint64(len(cols)) {
		return nil, fmt.Errorf("%d columns of %d bytes in all, not %d", nf, sum, len(cols))
	}
	total := bytes.Count(cols, []byte{'\n'})
	if total%nf != 0 {
		return nil, fmt.Errorf("%d values do not make rows of %d columns", total, nf)
	}
	rows := total / nf
	// next[c] and end[c] bound what is left of column c.
	next, end := make([]int, nf), make([]int, nf)
	at := 0
	for c, n := range lens {
		next[c] = at
		at += int(n)
		end[c] = at
	}
	base := len(dst)
	dst = slices.Grow(dst, len(cols))[:base+len(cols)] // every byte is written below
	out := dst[base:]
	o := 0
	for range rows {
		for c := range nf {
			v := cols[next[c]:end[c]]
			n := bytes.IndexByte(v, '\n')
			if n < 0 {
				return nil, fmt.Errorf("column %d has fewer than %d values", c+1, rows)
			}
			o += copy(out[o:], v[:n])
			if c < nf-1 {
				out[o] = '\t'
			} else {
				out[o] = '\n'
			}
			o++
			next[c] += n + 1
		}
	}
	for c := range nf {
		if next[c] != end[c] {
			return nil, fmt.Errorf("column %d has more than %d values", c+1, rows)
		}
	}
	return dst, nil
}
