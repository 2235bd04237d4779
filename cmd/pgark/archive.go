package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pgark/pgark/format"
)

// archiveInput is an archive named on the command line. A regular file is
// read at random (format.Reader: footer, index, then only what is asked
// for); "-" (stdin) and pipes can be read only once, front to back, so they
// are scanned (format.Scanner).
type archiveInput struct {
	name   string         // for messages: the path, or "stdin"
	reader *format.Reader // set for a regular file
	stream io.Reader      // set otherwise
	file   *os.File       // the opened file, nil for stdin
}

func openArchive(path string, stdin io.Reader) (*archiveInput, error) {
	if path == "-" {
		return &archiveInput{name: "stdin", stream: stdin}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	in := &archiveInput{name: path, file: f}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		in.stream = f
		return in, nil
	}
	if in.reader, err = format.NewReader(f, fi.Size()); err != nil {
		f.Close()
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return in, nil
}

// read returns the archive's summary: from the index for a file, from a full
// scan for a stream.
func (in *archiveInput) read(ctx context.Context) (*summary, error) {
	if in.reader != nil {
		return summarize(in.reader), nil
	}
	s, err := scan(ctx, in.stream)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", in.name, err)
	}
	return s, nil
}

// Close releases the reader and the file. Nothing was written, so there is
// no error worth reporting.
func (in *archiveInput) Close() {
	if in.reader != nil {
		_ = in.reader.Close()
	}
	if in.file != nil {
		_ = in.file.Close()
	}
}

// summary is what list and verify report: the archive's info and table of
// contents, with data block statistics per entry and in total. It comes
// from a Reader's index or from one pass of a Scanner.
type summary struct {
	info    format.Info
	version uint16 // 0 when the source does not say (the Scanner)
	entries []format.Entry
	data    map[uint32]*dataStats // entries that have data blocks
	total   dataStats
	codecs  []format.Codec // codecs of the data blocks, sorted
}

type dataStats struct {
	blocks      int
	rows        uint64
	raw, stored uint64
}

func newSummary(info format.Info, version uint16) *summary {
	return &summary{info: info, version: version, data: map[uint32]*dataStats{}}
}

func (s *summary) addBlock(b format.Block) {
	d := s.data[b.Entry]
	if d == nil {
		d = &dataStats{}
		s.data[b.Entry] = d
	}
	for _, t := range []*dataStats{d, &s.total} {
		t.blocks++
		t.rows += uint64(b.Rows)
		t.raw += uint64(b.Raw)
		t.stored += uint64(b.Stored)
	}
	if !slices.Contains(s.codecs, b.Codec) {
		s.codecs = append(s.codecs, b.Codec)
		slices.Sort(s.codecs)
	}
}

// summarize reads the summary from a Reader's index, without touching the
// data blocks.
func summarize(r *format.Reader) *summary {
	s := newSummary(r.Info(), r.Version())
	s.entries = r.Entries()
	for _, b := range r.Blocks() {
		s.addBlock(b)
	}
	return s
}

// scan reads a whole archive stream. The Scanner checks every record's
// checksum and, at the end, the index and footer against what it read, so a
// nil error means the stream is a complete, intact archive.
func scan(ctx context.Context, r io.Reader) (*summary, error) {
	sc := format.NewScanner(ctxReader{ctx: ctx, r: r})
	s := newSummary(format.Info{}, 0)
	for sc.Next() {
		rec := sc.Record()
		switch rec.Kind {
		case format.RecordInfo:
			s.info = *rec.Info
		case format.RecordEntry:
			s.entries = append(s.entries, *rec.Entry)
		case format.RecordData:
			s.addBlock(rec.Block)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	s.version = sc.Version()
	return s, nil
}

// ctxReader ends a sequential read at the first Read after ctx is done. A
// Read already blocked on an idle pipe stays blocked; pgark's second
// signal ends the process in that case.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// writeTOC writes the table of contents in the shape of pg_restore -l: a
// header of ';' comment lines, then one line per entry in file order:
//
//	ID; SECTION KIND SCHEMA NAME OWNER[  rows=N size=SIZE stored=SIZE]
//
// KIND is pg_dump's object description and may hold spaces (TABLE DATA).
// SCHEMA, NAME and OWNER are single tokens: "-" when empty, Go-quoted when
// they hold spaces, quotes, ';', '=' or control characters, or are "-". The
// statistics follow for entries that have data blocks, summed over them.
// As with pg_restore, a list file selects entries by the ID before ';'.
func (s *summary) writeTOC(w io.Writer) error {
	b := bufio.NewWriter(w)
	b.WriteString(";\n")
	if s.info.Created.IsZero() {
		b.WriteString("; Archive created at an unrecorded time\n")
	} else {
		fmt.Fprintf(b, "; Archive created at %s\n", s.info.Created.UTC().Format(time.DateTime+" MST"))
	}
	header := func(key, value string) {
		if value != "" {
			fmt.Fprintf(b, ";     %s: %s\n", key, headerValue(value))
		}
	}
	header("Tool", strings.TrimSpace(s.info.Tool+" "+s.info.ToolVersion))
	header("Database", s.info.Database)
	header("Server version", s.info.ServerVersion)
	header("Encoding", s.info.Encoding)
	for _, d := range s.info.Databases {
		header("Database", d.Name+" ("+d.Encoding+")")
	}
	header("Format version", strconv.Itoa(int(s.version)))
	header("Entries", strconv.Itoa(len(s.entries)))
	header("Data blocks", strconv.Itoa(s.total.blocks))
	header("Rows", strconv.FormatUint(s.total.rows, 10))
	if len(s.codecs) > 0 {
		names := make([]string, len(s.codecs))
		for i, c := range s.codecs {
			names[i] = c.String()
		}
		header("Compression", strings.Join(names, ", "))
	}
	header("Data stored", fmt.Sprintf("%s (%d bytes)", humanBytes(s.total.stored), s.total.stored))
	header("Data raw", fmt.Sprintf("%s (%d bytes)", humanBytes(s.total.raw), s.total.raw))
	keys := make([]string, 0, len(s.info.Attrs))
	for k := range s.info.Attrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		header("Attribute "+k, s.info.Attrs[k])
	}
	b.WriteString(";\n")
	for _, e := range s.entries {
		fmt.Fprintf(b, "%d; %s %s %s %s %s", e.ID, e.Section, headerValue(e.Kind), tocToken(e.Schema), tocToken(e.Name), tocToken(e.Owner))
		if e.Database != "" {
			fmt.Fprintf(b, "  database=%s", tocToken(e.Database))
		}
		if d := s.data[e.ID]; d != nil {
			fmt.Fprintf(b, "  rows=%d size=%s stored=%s", d.rows, humanBytes(d.raw), humanBytes(d.stored))
		}
		b.WriteByte('\n')
	}
	return b.Flush()
}

// tocToken renders a schema, name or owner as one token of an entry line.
func tocToken(s string) string {
	if s == "" {
		return "-"
	}
	if s == "-" || !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || r == '"' || r == ';' || r == '='
	}) {
		return strconv.Quote(s)
	}
	return s
}

// headerValue keeps a value on its line: it is Go-quoted if it holds a
// control character (a newline would end the ';' comment) or invalid UTF-8.
func headerValue(s string) string {
	if !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl) {
		return strconv.Quote(s)
	}
	return s
}

// humanBytes formats n with binary prefixes, to one decimal below 100:
// 512B, 1.2MiB, 300KiB.
func humanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatUint(n, 10) + "B"
	}
	v, i := float64(n), -1
	for v >= unit && i < len("KMGTPE")-1 {
		v /= unit
		i++
	}
	var num string
	if v >= 100 {
		num = strconv.FormatFloat(v, 'f', 0, 64)
	} else {
		num = strings.TrimSuffix(strconv.FormatFloat(v, 'f', 1, 64), ".0")
	}
	return num + "KMGTPE"[i:i+1] + "iB"
}
