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

// tuples checks that p is whole COPY binary tuples, without the stream's
// header and trailer, all of the same field count, and returns that count
// (0 for no tuples) and the number of tuples. A tuple is a big-endian
// int16 field count, then per field a big-endian int32 length, -1 for
// NULL, and that many bytes.
func tuples(p []byte) (fields, rows int, err error) {
	for q := 0; q < len(p); rows++ {
		if len(p)-q < 2 {
			return 0, 0, fmt.Errorf("tuple %d is cut short", rows)
		}
		nf := int(int16(binary.BigEndian.Uint16(p[q:])))
		if rows == 0 {
			fields = nf
		}
		if nf < 0 || nf != fields {
			return 0, 0, fmt.Errorf("tuple %d has %d fields, not %d", rows, nf, fields)
		}
		q += 2
		for range nf {
			if len(p)-q < 4 {
				return 0, 0, fmt.Errorf("tuple %d is cut short", rows)
			}
			n := int64(int32(binary.BigEndian.Uint32(p[q:])))
			q += 4
			if n < -1 || n > int64(len(p)-q) {
				return 0, 0, fmt.Errorf("tuple %d has a field of length %d", rows, n)
			}
			q += int(max(n, 0))
		}
	}
	return fields, rows, nil
}

// columnizeBinary is columnize for COPY binary tuples without the stream's
// header and trailer: column 1 is the framing, every tuple's field count
// and field lengths as they are in p, and column c+1 the bytes of field c
// of every tuple (a NULL adds none). It appends the column count, fields+1,
// and the column lengths to hdr and the columns to cols; they have the
// length of p. p must be whole tuples of one field count, at least one
// (tuples accepts it); otherwise columnizeBinary returns hdr and cols
// unchanged and ok false.
func columnizeBinary(hdr, cols, p []byte) (_, _ []byte, ok bool) {
	// First pass: check every tuple and size every column.
	var sizes []int
	fields, rows := 0, 0
	for q := 0; q < len(p); rows++ {
		if len(p)-q < 2 {
			return hdr, cols, false
		}
		nf := int(int16(binary.BigEndian.Uint16(p[q:])))
		if rows == 0 {
			if nf <= 0 {
				return hdr, cols, false
			}
			fields, sizes = nf, make([]int, nf+1)
		}
		if nf != fields {
			return hdr, cols, false
		}
		q += 2
		for c := range nf {
			if len(p)-q < 4 {
				return hdr, cols, false
			}
			n := int64(int32(binary.BigEndian.Uint32(p[q:])))
			q += 4
			if n < -1 || n > int64(len(p)-q) {
				return hdr, cols, false
			}
			sizes[c+1] += int(max(n, 0))
			q += int(max(n, 0))
		}
	}
	if rows == 0 {
		return hdr, cols, false
	}
	per := 2 + 4*fields
	sizes[0] = rows * per
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(fields+1))
	for _, n := range sizes {
		hdr = binary.LittleEndian.AppendUint32(hdr, uint32(n))
	}
	// Second pass: copy the framing and each field to the end of its column.
	base := len(cols)
	cols = slices.Grow(cols, len(p))[:base+len(p)] // every byte is written below
	out := cols[base:]
	pos := make([]int, fields+1)
	for c := 1; c <= fields; c++ {
		pos[c] = pos[c-1] + sizes[c-1]
	}
	for q := 0; q < len(p); {
		pos[0] += copy(out[pos[0]:], p[q:q+2])
		q += 2
		for c := range fields {
			pos[0] += copy(out[pos[0]:], p[q:q+4])
			n := max(int(int32(binary.BigEndian.Uint32(p[q:]))), 0)
			q += 4
			pos[c+1] += copy(out[pos[c+1]:], p[q:q+n])
			q += n
		}
	}
	return hdr, cols, true
}

// uncolumnizeBinary appends to dst the tuples whose columns, of lengths
// lens, columnizeBinary wrote to cols, and returns them with their number:
// its inverse. Input that columnizeBinary cannot have written is an error,
// never a panic.
func uncolumnizeBinary(dst, cols []byte, lens []uint32) ([]byte, int, error) {
	fields := len(lens) - 1
	var sum uint64
	for _, n := range lens {
		sum += uint64(n)
	}
	if fields < 0 || fields > 32767 || sum != uint64(len(cols)) {
		return nil, 0, fmt.Errorf("%d columns of %d bytes in all, not %d", len(lens), sum, len(cols))
	}
	per := 2 + 4*fields
	if int(lens[0])%per != 0 {
		return nil, 0, fmt.Errorf("framing of %d bytes is not whole tuples of %d fields", lens[0], fields)
	}
	rows := int(lens[0]) / per
	framing := cols[:lens[0]]
	// next[c] and end[c] bound what is left of field c's column.
	next, end := make([]int, fields), make([]int, fields)
	at := int(lens[0])
	for c := range fields {
		next[c] = at
		at += int(lens[c+1])
		end[c] = at
	}
	base := len(dst)
	dst = slices.Grow(dst, len(cols))[:base+len(cols)] // every byte is written below
	out := dst[base:]
	o := 0
	for r := range rows {
		f := framing[r*per:]
		if int(int16(binary.BigEndian.Uint16(f))) != fields {
			return nil, 0, fmt.Errorf("tuple %d has %d fields, not %d", r, int16(binary.BigEndian.Uint16(f)), fields)
		}
		o += copy(out[o:], f[:2])
		for c := range fields {
			l := f[2+4*c : 6+4*c]
			o += copy(out[o:], l)
			n := int64(int32(binary.BigEndian.Uint32(l)))
			if n < -1 || n > int64(end[c]-next[c]) {
				return nil, 0, fmt.Errorf("tuple %d: field %d of length %d does not fit its column", r, c+1, n)
			}
			if n > 0 {
				o += copy(out[o:], cols[next[c]:next[c]+int(n)])
				next[c] += int(n)
			}
		}
	}
	for c := range fields {
		if next[c] != end[c] {
			return nil, 0, fmt.Errorf("column %d has %d bytes no tuple takes", c+2, end[c]-next[c])
		}
	}
	return dst, rows, nil
}
