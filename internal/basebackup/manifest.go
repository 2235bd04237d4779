package basebackup

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/pgark/pgark/internal/wal"
)

// ErrManifest is wrapped by every disagreement between a backup manifest
// and the files the backup received.
var ErrManifest = errors.New("basebackup: backup manifest check failed")

// manifest is the part of a PostgreSQL backup manifest (backup_manifest,
// versions 1 and 2) that the checks use.
type manifest struct {
	Version   int             `json:"PostgreSQL-Backup-Manifest-Version"`
	SystemID  json.Number     `json:"System-Identifier"` // version 2 (PostgreSQL 17+)
	Files     []manifestFile  `json:"Files"`
	WALRanges []manifestRange `json:"WAL-Ranges"`
	Checksum  string          `json:"Manifest-Checksum"`
}

type manifestFile struct {
	Path        string `json:"Path"`
	EncodedPath string `json:"Encoded-Path"` // hex, for names that are not UTF-8
	Size        int64  `json:"Size"`
	Algorithm   string `json:"Checksum-Algorithm"`
	Checksum    string `json:"Checksum"`
}

type manifestRange struct {
	Timeline wal.TimelineID `json:"Timeline"`
	Start    wal.LSN        `json:"Start-LSN"`
	End      wal.LSN        `json:"End-LSN"`
}

func (f manifestFile) name() (string, error) {
	if f.EncodedPath == "" {
		return f.Path, nil
	}
	b, err := hex.DecodeString(f.EncodedPath)
	if err != nil {
		return "", fmt.Errorf("%w: invalid Encoded-Path %q", ErrManifest, f.EncodedPath)
	}
	return string(b), nil
}

// parseManifest decodes a manifest and checks its own checksum: the
// SHA-256 of every byte before its last line, which holds
// "Manifest-Checksum".
func parseManifest(raw []byte) (*manifest, error) {
	i := bytes.LastIndex(raw, []byte("\n\"Manifest-Checksum\""))
	if i < 0 {
		return nil, fmt.Errorf("%w: no Manifest-Checksum line", ErrManifest)
	}
	var m manifest
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: decode: %v", ErrManifest, err)
	}
	if m.Version != 1 && m.Version != 2 {
		return nil, fmt.Errorf("%w: unknown manifest version %d", ErrManifest, m.Version)
	}
	sum := sha256.Sum256(raw[:i+1])
	if got := hex.EncodeToString(sum[:]); !strings.EqualFold(got, m.Checksum) {
		return nil, fmt.Errorf("%w: Manifest-Checksum is %s, the manifest's SHA-256 is %s", ErrManifest, m.Checksum, got)
	}
	return &m, nil
}

// checksum is a manifest checksum algorithm.
type checksum struct {
	name string // as the manifest spells it
	new  func() hash.Hash
	// le: the server writes a CRC-32C as the bytes of the uint32 in
	// memory (little-endian here), not in network order.
	le bool
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// checksumAlgorithm returns the algorithm of a manifest's name for it
// (case-insensitive); NONE and "" return nil.
func checksumAlgorithm(name string) (*checksum, error) {
	switch strings.ToUpper(name) {
	case "", "NONE":
		return nil, nil
	case "CRC32C":
		return &checksum{name: "CRC32C", new: func() hash.Hash { return crc32.New(castagnoli) }, le: true}, nil
	case "SHA224":
		return &checksum{name: "SHA224", new: sha256.New224}, nil
	case "SHA256":
		return &checksum{name: "SHA256", new: sha256.New}, nil
	case "SHA384":
		return &checksum{name: "SHA384", new: sha512.New384}, nil
	case "SHA512":
		return &checksum{name: "SHA512", new: sha512.New}, nil
	}
	return nil, fmt.Errorf("basebackup: unknown manifest checksum algorithm %q", name)
}

func (c *checksum) encode(h hash.Hash) string {
	s := h.Sum(nil)
	if c.le {
		binary.LittleEndian.PutUint32(s, binary.BigEndian.Uint32(s))
	}
	return hex.EncodeToString(s)
}

// fileSum is what the backup saw of one file.
type fileSum struct {
	size int64
	sum  string // "" without an algorithm
}

// fileSums collects the size and checksum of every regular file the
// backup receives, by its path in the data directory (tablespace files
// under pg_tblspc/OID/), to check them against the manifest. It is safe
// for concurrent use.
type fileSums struct {
	alg   *checksum
	mu    sync.Mutex
	files map[string]fileSum
}

// newFileSums returns a collector computing alg (a manifest algorithm
// name; "" means the server's default, CRC32C).
func newFileSums(alg string) (*fileSums, error) {
	if alg == "" {
		alg = "CRC32C"
	}
	c, err := checksumAlgorithm(alg)
	if err != nil {
		return nil, err
	}
	return &fileSums{alg: c, files: make(map[string]fileSum)}, nil
}

// copy copies r to w (which may be io.Discard) while summing it as the
// file name, and returns the number of bytes copied.
func (s *fileSums) copy(name string, w io.Writer, r io.Reader) (int64, error) {
	var h hash.Hash
	if s.alg != nil {
		h = s.alg.new()
		w = io.MultiWriter(w, h)
	}
	n, err := io.Copy(w, r)
	if err != nil {
		return n, err
	}
	fs := fileSum{size: n}
	if h != nil {
		fs.sum = s.alg.encode(h)
	}
	s.mu.Lock()
	s.files[name] = fs
	s.mu.Unlock()
	return n, nil
}

// check compares what was received with the manifest raw: its own
// checksum, every file's size and checksum, no file missing from either
// side (WAL under pg_wal is not listed in manifests), the system
// identifier (version 2) and the WAL range of the backup.
func (s *fileSums) check(raw []byte, systemID string, tli wal.TimelineID, start, end wal.LSN) error {
	m, err := parseManifest(raw)
	if err != nil {
		return err
	}
	var problems []string
	if m.SystemID != "" && m.SystemID.String() != systemID {
		problems = append(problems, fmt.Sprintf("system identifier %s, the server's is %s", m.SystemID, systemID))
	}
	if n := len(m.WALRanges); n == 0 {
		problems = append(problems, "no WAL-Ranges")
	} else if first, last := m.WALRanges[0], m.WALRanges[n-1]; first.Start != start || last.End != end || last.Timeline != tli {
		problems = append(problems, fmt.Sprintf("WAL range %s to %s on timeline %s, the backup's is %s to %s on %s",
			first.Start, last.End, last.Timeline, start, end, tli))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	listed := make(map[string]bool, len(m.Files))
	for _, f := range m.Files {
		name, err := f.name()
		if err != nil {
			return err
		}
		listed[name] = true
		got, ok := s.files[name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s is in the manifest but was not received", name))
		case got.size != f.Size:
			problems = append(problems, fmt.Sprintf("%s has size %d, the manifest says %d", name, got.size, f.Size))
		case f.Algorithm == "" || strings.EqualFold(f.Algorithm, "NONE"):
		case s.alg == nil || !strings.EqualFold(f.Algorithm, s.alg.name):
			problems = append(problems, fmt.Sprintf("%s has a %s checksum in the manifest, the backup computed %s",
				name, f.Algorithm, map[bool]string{true: "none", false: s.alg.name}[s.alg == nil]))
		case !strings.EqualFold(got.sum, f.Checksum):
			problems = append(problems, fmt.Sprintf("%s has %s checksum %s, the manifest says %s",
				name, f.Algorithm, got.sum, f.Checksum))
		}
	}
	for name := range s.files {
		if !listed[name] && !strings.HasPrefix(name, "pg_wal/") {
			problems = append(problems, fmt.Sprintf("%s was received but is not in the manifest", name))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	slices.Sort(problems)
	const show = 5
	more := ""
	if len(problems) > show {
		more = fmt.Sprintf(" (and %d more)", len(problems)-show)
		problems = problems[:show]
	}
	return fmt.Errorf("%w: %s%s", ErrManifest, strings.Join(problems, "; "), more)
}
