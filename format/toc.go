package format

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Section orders restore work the way pg_dump does: everything needed to
// hold data, then the data, then what is best built after the data.
type Section uint8

// Sections. Values are stored in archives as their names.
const (
	SectionNone Section = iota
	SectionPreData
	SectionData
	SectionPostData
)

var sectionNames = [...]string{"none", "pre-data", "data", "post-data"}

func (s Section) String() string {
	if int(s) < len(sectionNames) {
		return sectionNames[s]
	}
	return fmt.Sprintf("section %d", uint8(s))
}

// ParseSection accepts the names String returns.
func ParseSection(name string) (Section, error) {
	for i, n := range sectionNames {
		if n == name {
			return Section(i), nil
		}
	}
	return 0, fmt.Errorf("format: unknown section %q (want pre-data, data, post-data or none)", name)
}

// MarshalText stores a section by name.
func (s Section) MarshalText() ([]byte, error) {
	if int(s) >= len(sectionNames) {
		return nil, fmt.Errorf("format: invalid section %d", uint8(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText reads a section name.
func (s *Section) UnmarshalText(b []byte) error {
	v, err := ParseSection(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Info describes the archive as a whole. It is stored once, first.
type Info struct {
	Tool          string            `json:"tool"`
	ToolVersion   string            `json:"tool_version,omitempty"`
	Created       time.Time         `json:"created"`
	Database      string            `json:"database,omitempty"`
	ServerVersion string            `json:"server_version,omitempty"`
	Encoding      string            `json:"encoding,omitempty"`
	Attrs         map[string]string `json:"attrs,omitempty"`
	// Cluster marks a cluster archive (version 2): the globals of a
	// cluster (entries of no database) and the databases listed in
	// Databases (entries naming one of them).
	Cluster   bool           `json:"cluster,omitempty"`
	Databases []DatabaseInfo `json:"databases,omitempty"`
}

// DatabaseInfo describes one database of a cluster archive.
type DatabaseInfo struct {
	Name string `json:"name"`
	// Encoding is the database's encoding, the encoding of its COPY text.
	Encoding string `json:"encoding"`
}

// Entry is one item of the table of contents: an object to create, or the
// data of a table (Copy set), or both.
type Entry struct {
	ID         uint32  `json:"id"`
	Section    Section `json:"section"`
	Kind       string  `json:"kind"`
	Schema     string  `json:"schema,omitempty"`
	Name       string  `json:"name"`
	Owner      string  `json:"owner,omitempty"`
	Tablespace string  `json:"tablespace,omitempty"`
	Ident      string  `json:"ident,omitempty"` // how ALTER ... OWNER TO names the object: TABLE "s"."t"
	Create     string  `json:"create,omitempty"`
	Drop       string  `json:"drop,omitempty"`
	Copy       string  `json:"copy,omitempty"` // e.g. COPY s.t (a, b) FROM stdin; for entries with data blocks
	// Types are the type OIDs of the columns Copy names, in its order,
	// when the entry's blocks may be COPY binary rows (Block.Binary);
	// only built-in types, whose OIDs every PostgreSQL version shares.
	Types []uint32 `json:"types,omitempty"`
	// Build and Attach, both set or both empty, may replace Create: Build
	// first, then Attach (a PRIMARY KEY or UNIQUE constraint built as an
	// index, then added USING INDEX).
	Build  string   `json:"build,omitempty"`
	Attach string   `json:"attach,omitempty"`
	Deps   []uint32 `json:"deps,omitempty"`
	// Database is the database the entry belongs to, in a cluster
	// archive; "" for the cluster's globals (and in every version 1 archive).
	Database string `json:"database,omitempty"`
}

// Block locates one data block of an entry.
type Block struct {
	Entry     uint32
	Seq       uint32 // 0, 1, 2... in file order within the entry
	Offset    int64  // of the record header
	Stored    uint32 // payload bytes in the file
	Raw       uint32 // payload bytes after decompression
	Rows      uint32 // COPY rows that end in this block
	CRC       uint32 // CRC32C of the stored payload
	Codec     Codec
	Continues bool // the last row goes on in the next block of the same entry
	// Binary says the rows are COPY binary tuples, without the stream's
	// header and trailer, of the columns of the entry's Types; else they
	// are COPY text. A binary block holds whole rows: it never continues.
	Binary bool
}

// flags are the record header flags the block carries.
func (b Block) flags() uint16 {
	var f uint16
	if b.Continues {
		f |= flagContinues
	}
	if b.Binary {
		f |= flagBinary
	}
	return f
}

// dataBlock is the Block a data record's header h, at offset off, describes.
func (h recordHeader) dataBlock(off int64) Block {
	return Block{
		Entry: h.entry, Seq: h.seq, Offset: off, Stored: h.stored, Raw: h.raw, Rows: h.rows, CRC: h.crc, Codec: h.codec,
		Continues: h.flags&flagContinues != 0, Binary: h.flags&flagBinary != 0,
	}
}

// End is the offset just past the block's record.
func (b Block) End() int64 { return b.Offset + RecordHeaderSize + int64(b.Stored) }

func encodeInfo(i Info) ([]byte, error) { return json.Marshal(i) }

func decodeInfo(p []byte, off int64, version uint16) (Info, error) {
	var i Info
	if err := json.Unmarshal(p, &i); err != nil {
		return Info{}, &CorruptError{Offset: off, Record: RecordInfo, Reason: "undecodable archive info: " + err.Error()}
	}
	if cluster := version >= VersionCluster; i.Cluster != cluster || (!cluster && len(i.Databases) > 0) {
		return Info{}, &CorruptError{Offset: off, Record: RecordInfo, Reason: fmt.Sprintf("archive info of a version %d archive says cluster %t", version, i.Cluster)}
	}
	seen := make(map[string]bool, len(i.Databases))
	for _, d := range i.Databases {
		if d.Name == "" || seen[d.Name] {
			return Info{}, &CorruptError{Offset: off, Record: RecordInfo, Reason: fmt.Sprintf("archive info lists database %q twice or unnamed", d.Name)}
		}
		seen[d.Name] = true
	}
	return i, nil
}

func encodeEntry(e Entry) ([]byte, error) { return json.Marshal(e) }

func decodeEntry(p []byte, h recordHeader, off int64, info *Info) (Entry, error) {
	var e Entry
	if err := json.Unmarshal(p, &e); err != nil {
		return Entry{}, &CorruptError{Offset: off, Record: RecordEntry, Entry: h.entry, Reason: "undecodable entry: " + err.Error()}
	}
	if e.ID != h.entry {
		return Entry{}, &CorruptError{Offset: off, Record: RecordEntry, Entry: h.entry, Reason: fmt.Sprintf("entry body says id %d", e.ID)}
	}
	if len(e.Types) > 0 && e.Copy == "" {
		return Entry{}, &CorruptError{Offset: off, Record: RecordEntry, Entry: h.entry, Reason: "column types on an entry without a COPY"}
	}
	if e.Database != "" && !slices.ContainsFunc(info.Databases, func(d DatabaseInfo) bool { return d.Name == e.Database }) {
		return Entry{}, &CorruptError{Offset: off, Record: RecordEntry, Entry: h.entry, Reason: fmt.Sprintf("entry names database %q, which the archive info does not list", e.Database)}
	}
	return e, nil
}
