package basebackup

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgark/pgark/internal/replication"
	"github.com/pgark/pgark/internal/wal"
)

// ErrNotEmpty is wrapped by the error for a target directory that exists
// and is not empty.
var ErrNotEmpty = errors.New("basebackup: directory exists and is not empty")

// WALMethod says how the backup gets the WAL that makes it consistent.
type WALMethod string

const (
	// WALStream streams WAL over a second connection while the backup
	// runs, from a temporary slot created before the backup starts
	// (pg_basebackup -X stream).
	WALStream WALMethod = "stream"
	// WALFetch has the server append the WAL at the end of the backup
	// (-X fetch); it fails if the server recycled that WAL meanwhile.
	WALFetch WALMethod = "fetch"
	// WALNone includes no WAL (-X none): the backup needs a WAL archive.
	WALNone WALMethod = "none"
)

// Options describe a base backup, in either format.
type Options struct {
	// Connect opens a physical replication connection (a
	// conn.Connector's Replication(conn.ReplicationPhysical).Connect).
	Connect func(ctx context.Context) (*pgconn.PgConn, error)
	// Dir is the data directory to write; it must not exist or be empty.
	Dir string
	// Label is the backup label; "" means "pgark base backup".
	Label string
	// Checkpoint is replication.CheckpointFast or CheckpointSpread
	// ("" means spread, the server's default).
	Checkpoint string
	// WAL is the WAL method; "" means WALStream.
	WAL WALMethod
	// NoManifest asks for no backup manifest.
	NoManifest bool
	// ManifestChecksums is the manifest's file checksum algorithm; ""
	// means the server's default, CRC32C.
	ManifestChecksums string
	// MaxRate limits the server's transfer rate in kB/s (32 to 1048576);
	// 0 means unlimited. See ParseMaxRate.
	MaxRate int
	// TablespaceMapping relocates tablespaces: OLDDIR (the location on
	// the server, absolute) -> NEWDIR (absolute). See ParseTablespaceMapping.
	TablespaceMapping map[string]string
	// NoCompress stores the pgark format's archives as plain tar files;
	// otherwise they are compressed with zstd at CompressLevel (1 to 22,
	// 0 meaning 1). The plain format ignores both.
	NoCompress    bool
	CompressLevel int
	// NoClean keeps what was written after a failure instead of removing
	// it. The directory then lacks global/pg_control, so no server starts
	// on it.
	NoClean bool
	// Progress, if not nil, is called from the goroutine that reads the
	// backup, after each progress report of the server (needs nothing
	// else: the backup always asks for PROGRESS when Progress is set).
	Progress func(Progress)
	// Warn, if not nil, receives the server's warnings (such as a data
	// checksum failure in one file) as they arrive.
	Warn func(string)
	// StatusInterval is how often the WAL receiver reports its position;
	// 0 means 10 s, as pg_basebackup.
	StatusInterval time.Duration
}

// Progress is how far the backup's data transfer is.
type Progress struct {
	Done  int64 // bytes of archive data sent by the server so far
	Total int64 // the server's estimate of all archives' bytes
	// Archive counts archives started so far (1-based); Archives is how
	// many the server will send (tablespaces plus the main directory).
	Archive, Archives int
}

// Result describes a finished backup.
type Result struct {
	SystemID      string
	ServerVersion int // server_version_num
	Timeline      wal.TimelineID
	Start, End    wal.LSN
	StartTime     time.Time
	EndTime       time.Time
	Label         string
	SegmentSize   wal.SegmentSize
	Tablespaces   []Tablespace
	// Manifest is the path of backup_manifest, "" with NoManifest.
	Manifest string
}

// Tablespace is a tablespace other than the main data directory, and
// where it was written.
type Tablespace struct {
	OID      uint32
	Location string // on the server
	Dir      string // where the backup put it (Location unless remapped)
}

func (o *Options) check() error {
	if o.Connect == nil {
		return errors.New("basebackup: no Connect function")
	}
	if o.Dir == "" {
		return errors.New("basebackup: no target directory")
	}
	switch o.WAL {
	case "":
		o.WAL = WALStream
	case WALStream, WALFetch, WALNone:
	default:
		return fmt.Errorf("basebackup: invalid WAL method %q: want stream, fetch or none", o.WAL)
	}
	switch o.Checkpoint {
	case "", replication.CheckpointFast, replication.CheckpointSpread:
	default:
		return fmt.Errorf("basebackup: invalid checkpoint mode %q: want fast or spread", o.Checkpoint)
	}
	if o.CompressLevel == 0 {
		o.CompressLevel = 1
	}
	if o.CompressLevel < 1 || o.CompressLevel > 22 {
		return fmt.Errorf("basebackup: invalid zstd level %d: want 1 to 22", o.CompressLevel)
	}
	if o.Label == "" {
		o.Label = "pgark base backup"
	}
	for old, dir := range o.TablespaceMapping {
		if !filepath.IsAbs(old) || !filepath.IsAbs(dir) {
			return fmt.Errorf("basebackup: tablespace mapping %s=%s: both directories must be absolute", old, dir)
		}
	}
	return nil
}

// ParseTablespaceMapping parses pg_basebackup's -T OLDDIR=NEWDIR: both
// absolute, "\=" stands for an "=" inside a directory name. The paths are
// cleaned.
func ParseTablespaceMapping(s string) (old, dir string, err error) {
	var parts [2]strings.Builder
	i := 0
	for j := 0; j < len(s); j++ {
		switch {
		case s[j] == '\\' && j+1 < len(s) && s[j+1] == '=':
			parts[i].WriteByte('=')
			j++
		case s[j] == '=':
			if i == 1 {
				return "", "", fmt.Errorf("basebackup: tablespace mapping %q: multiple \"=\" signs", s)
			}
			i = 1
		default:
			parts[i].WriteByte(s[j])
		}
	}
	old, dir = parts[0].String(), parts[1].String()
	switch {
	case i == 0:
		return "", "", fmt.Errorf("basebackup: invalid tablespace mapping %q: must be \"OLDDIR=NEWDIR\"", s)
	case old == "" || dir == "":
		return "", "", fmt.Errorf("basebackup: invalid tablespace mapping %q: empty directory", s)
	case !filepath.IsAbs(old):
		return "", "", fmt.Errorf("basebackup: old directory is not an absolute path in tablespace mapping: %s", old)
	case !filepath.IsAbs(dir):
		return "", "", fmt.Errorf("basebackup: new directory is not an absolute path in tablespace mapping: %s", dir)
	}
	return filepath.Clean(old), filepath.Clean(dir), nil
}

// ParseMaxRate parses pg_basebackup's --max-rate: a number of kB/s, or
// with suffix k (kB/s) or M (MB/s); the result must lie in 32..1048576.
func ParseMaxRate(s string) (int, error) {
	num, mult := strings.TrimSpace(s), 1
	switch {
	case strings.HasSuffix(num, "k"):
		num = strings.TrimSpace(strings.TrimSuffix(num, "k"))
	case strings.HasSuffix(num, "M"):
		num, mult = strings.TrimSpace(strings.TrimSuffix(num, "M")), 1024
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("basebackup: invalid transfer rate %q", s)
	}
	kb := v * float64(mult)
	if kb < 32 || kb > 1048576 {
		return 0, fmt.Errorf("basebackup: transfer rate %q is out of range: want 32 kB/s to 1024 MB/s", s)
	}
	return int(kb), nil
}
