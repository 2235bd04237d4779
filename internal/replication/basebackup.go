package replication

import (
	"fmt"
	"strconv"
	"strings"
)

// Checkpoint modes of BASE_BACKUP.
const (
	CheckpointFast   = "fast"
	CheckpointSpread = "spread"
)

// BaseBackupOptions are the options of a PostgreSQL 15+ BASE_BACKUP
// command. The zero value asks for the server's defaults: no label
// ("base backup"), no progress, a spread checkpoint, no WAL, waiting for
// the WAL to be archived, a manifest with CRC32C checksums, no tablespace
// map, no rate limit, no server-side compression.
type BaseBackupOptions struct {
	Label      string // LABEL; at most 1023 bytes, no NUL, CR or LF
	Progress   bool   // PROGRESS: the server estimates sizes and sends 'p' messages
	Checkpoint string // CHECKPOINT: "", CheckpointFast or CheckpointSpread
	WAL        bool   // WAL: include the WAL needed to make the backup consistent
	NoWait     bool   // WAIT false: do not wait for the WAL to be archived
	// Manifest is MANIFEST: "" (server default, "yes"), "yes", "no" or
	// "force-encode".
	Manifest string
	// ManifestChecksums is MANIFEST_CHECKSUMS: "" (server default,
	// CRC32C), "NONE", "CRC32C", "SHA224", "SHA256", "SHA384" or "SHA512".
	ManifestChecksums string
	TablespaceMap     bool // TABLESPACE_MAP: a tablespace_map file in base.tar
	// MaxRate is MAX_RATE in kB/s, 32 to 1048576; 0 means unlimited.
	MaxRate int
	// Compression is COMPRESSION, server-side: "" (none), "none", "gzip",
	// "lz4" or "zstd"; CompressionDetail is COMPRESSION_DETAIL, such as
	// "level=5" or "level=3,workers=4".
	Compression       string
	CompressionDetail string
	// NoVerifyChecksums is VERIFY_CHECKSUMS false: do not check data
	// checksums while reading.
	NoVerifyChecksums bool
}

// BaseBackupCommand builds the BASE_BACKUP command for opts in the
// parenthesized option syntax of PostgreSQL 15 and later.
func BaseBackupCommand(o BaseBackupOptions) (string, error) {
	var opts []string
	str := func(name, v string) { opts = append(opts, name+" "+quoteLiteral(v)) }
	if o.Label != "" {
		if len(o.Label) > 1023 || strings.ContainsAny(o.Label, "\x00\r\n") {
			return "", fmt.Errorf("replication: base backup label %q: at most 1023 bytes, no NUL or line break", o.Label)
		}
		str("LABEL", o.Label)
	}
	if o.Progress {
		opts = append(opts, "PROGRESS")
	}
	switch o.Checkpoint {
	case "":
	case CheckpointFast, CheckpointSpread:
		str("CHECKPOINT", o.Checkpoint)
	default:
		return "", fmt.Errorf("replication: invalid checkpoint mode %q: want fast or spread", o.Checkpoint)
	}
	if o.WAL {
		opts = append(opts, "WAL")
	}
	if o.NoWait {
		opts = append(opts, "WAIT false")
	}
	switch o.Manifest {
	case "":
	case "yes", "no", "force-encode":
		str("MANIFEST", o.Manifest)
	default:
		return "", fmt.Errorf("replication: invalid manifest option %q: want yes, no or force-encode", o.Manifest)
	}
	switch strings.ToUpper(o.ManifestChecksums) {
	case "":
	case "NONE", "CRC32C", "SHA224", "SHA256", "SHA384", "SHA512":
		str("MANIFEST_CHECKSUMS", strings.ToUpper(o.ManifestChecksums))
	default:
		return "", fmt.Errorf("replication: invalid manifest checksum algorithm %q", o.ManifestChecksums)
	}
	if o.TablespaceMap {
		opts = append(opts, "TABLESPACE_MAP")
	}
	if o.MaxRate != 0 {
		if o.MaxRate < 32 || o.MaxRate > 1048576 {
			return "", fmt.Errorf("replication: invalid max rate %d kB/s: want 32 to 1048576", o.MaxRate)
		}
		opts = append(opts, "MAX_RATE "+strconv.Itoa(o.MaxRate))
	}
	switch o.Compression {
	case "":
		if o.CompressionDetail != "" {
			return "", fmt.Errorf("replication: compression detail %q without a compression method", o.CompressionDetail)
		}
	case "none", "gzip", "lz4", "zstd":
		str("COMPRESSION", o.Compression)
		if o.CompressionDetail != "" {
			if strings.ContainsRune(o.CompressionDetail, 0) {
				return "", fmt.Errorf("replication: invalid compression detail %q", o.CompressionDetail)
			}
			str("COMPRESSION_DETAIL", o.CompressionDetail)
		}
	default:
		return "", fmt.Errorf("replication: invalid compression method %q: want none, gzip, lz4 or zstd", o.Compression)
	}
	if o.NoVerifyChecksums {
		opts = append(opts, "VERIFY_CHECKSUMS false")
	}
	if len(opts) == 0 {
		return "BASE_BACKUP", nil
	}
	return "BASE_BACKUP (" + strings.Join(opts, ", ") + ")", nil
}

// quoteLiteral quotes s as a string literal of the replication command
// grammar, which knows only ” as an escape (no backslash escapes, no E”).
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
