package basebackup

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/pgark/pgark/internal/replication"
	"github.com/pgark/pgark/internal/wal"
)

// The pgark backup directory (Backup, the default format):
//
//	base.tar.zst        the main data directory, as the server's tar stream
//	<OID>.tar.zst       one per tablespace
//	wal/<NAME>.zst      the WAL the backup needs (-X stream), each file as
//	                    pgark archive-wal stores it
//	backup_manifest     the server's manifest, byte for byte
//	pgark-backup.json   the Description, written last: its presence marks
//	                    the backup complete
//
// With -Z none the archives are plain .tar files. The tar streams are kept
// exactly as the server sent them, so that the manifest describes their
// contents.
const (
	DescriptionFile = "pgark-backup.json"
	ManifestFile    = "backup_manifest"
	WALDir          = "wal"
	// FormatName is Description.Format.
	FormatName = "pgark-basebackup"
	// FormatVersion is the Description version this package writes and reads.
	FormatVersion = 1

	walStreamDir = "wal.streaming" // the receiver's raw segments, removed at the end
)

// Description is pgark-backup.json: what a pgark backup directory holds.
type Description struct {
	Format            string          `json:"format"`
	Version           int             `json:"version"`
	SystemID          string          `json:"system_identifier"`
	ServerVersion     int             `json:"server_version_num"`
	Timeline          wal.TimelineID  `json:"timeline"`
	StartLSN          wal.LSN         `json:"start_lsn"`
	EndLSN            wal.LSN         `json:"end_lsn"`
	StartTime         time.Time       `json:"start_time"`
	EndTime           time.Time       `json:"end_time"`
	Label             string          `json:"label"`
	SegmentSize       wal.SegmentSize `json:"wal_segment_size"`
	DataDirectoryMode string          `json:"data_directory_mode"` // "0700" or "0750"
	WALMethod         WALMethod       `json:"wal_method"`
	Compression       string          `json:"compression"` // "zstd" or "none"
	// Archives are the tar files, the main data directory's first.
	Archives []ArchiveFile `json:"archives"`
	// WAL names the files under wal/ (without .zst), in order.
	WAL []string `json:"wal"`
	// Manifest is "backup_manifest", or "" for a backup without one.
	Manifest string `json:"manifest,omitempty"`
}

// ArchiveFile is one tar file of a backup.
type ArchiveFile struct {
	File string `json:"file"`
	// TablespaceOID and Location (on the server) are set for a
	// tablespace's archive.
	TablespaceOID uint32 `json:"tablespace_oid,omitempty"`
	Location      string `json:"location,omitempty"`
	Size          int64  `json:"size"`
	SHA256        string `json:"sha256"` // of the file as stored
}

// Backup takes a base backup into a pgark backup directory opts.Dir (see
// DescriptionFile for its layout). Tablespaces are kept as archives, so
// opts.TablespaceMapping must be empty: Unpack relocates them.
func Backup(ctx context.Context, opts Options) (*Result, error) {
	if len(opts.TablespaceMapping) > 0 {
		return nil, fmt.Errorf("basebackup: a tablespace mapping applies to the plain format only (pgark recover -T relocates)")
	}
	return backup(ctx, opts, &pgarkOutput{}, func(b *run) string { return filepath.Join(b.opts.Dir, walStreamDir) })
}

type pgarkOutput struct {
	desc Description
}

func (p *pgarkOutput) begin(b *run) error {
	for _, h := range b.tablespaces {
		if h.OID != 0 {
			b.res.Tablespaces = append(b.res.Tablespaces, Tablespace{OID: h.OID, Location: h.Location})
		}
	}
	return nil
}

// archiveFileName is the file an archive of the server is stored in.
func archiveFileName(serverName string, compress bool) (string, error) {
	if serverName == "" || serverName != filepath.Base(serverName) || !strings.HasSuffix(serverName, ".tar") ||
		strings.HasPrefix(serverName, ".") {
		return "", fmt.Errorf("basebackup: %w: unexpected archive name %q", replication.ErrProtocol, serverName)
	}
	if compress {
		return serverName + ".zst", nil
	}
	return serverName, nil
}

func (p *pgarkOutput) archive(b *run, r io.Reader, m *replication.NewArchive) (err error) {
	ts, err := b.tablespaceFor(m)
	if err != nil {
		return err
	}
	name, err := archiveFileName(m.Name, !b.opts.NoCompress)
	if err != nil {
		return err
	}
	path := filepath.Join(b.opts.Dir, name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("basebackup: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("basebackup: write %s: %w", path, cerr)
		}
	}()
	sum := sha256.New()
	cw := &countingWriter{w: io.MultiWriter(f, sum)}
	var dst io.Writer = cw
	var enc *zstd.Encoder
	if !b.opts.NoCompress {
		enc, err = zstd.NewWriter(cw, zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(b.opts.CompressLevel)),
			zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)))
		if err != nil {
			return fmt.Errorf("basebackup: %w", err)
		}
		defer enc.Close()
		dst = enc
	}
	// The server's bytes go to the file as they are read; walking the tar
	// on the way sums every file for the manifest check.
	tee := io.TeeReader(r, dst)
	if err := scanTar(tee, manifestPrefix(ts), b.sums); err != nil {
		return fmt.Errorf("basebackup: archive %s: %w", m.Name, err)
	}
	if err := drain(tee); err != nil {
		return err
	}
	if enc != nil {
		if err := enc.Close(); err != nil {
			return fmt.Errorf("basebackup: write %s: %w", path, err)
		}
	}
	b.sync.file(path)
	a := ArchiveFile{File: name, Size: cw.n, SHA256: hex.EncodeToString(sum.Sum(nil))}
	if ts != nil {
		a.TablespaceOID, a.Location = ts.OID, ts.Location
		p.desc.Archives = append(p.desc.Archives, a)
	} else {
		p.desc.Archives = slices.Insert(p.desc.Archives, 0, a)
	}
	return nil
}

// scanTar reads a tar stream to its end, summing each regular file into
// sums (nil: none), its name prefixed with prefix.
func scanTar(r io.Reader, prefix string, sums *fileSums) error {
	err := walkTar(r, func(h *tar.Header, name string, body io.Reader) error {
		switch h.Typeflag {
		case tar.TypeReg, tar.TypeRegA:
			if err := copyEntry(sums, prefix+name, io.Discard, body, h); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		case tar.TypeDir, tar.TypeSymlink:
		default:
			return fmt.Errorf("entry %s of unsupported type %q", h.Name, h.Typeflag)
		}
		return nil
	})
	var te *tarError
	if errors.As(err, &te) {
		return te.err
	}
	return err
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func (p *pgarkOutput) manifest(b *run, raw []byte) error {
	path := filepath.Join(b.opts.Dir, ManifestFile)
	b.res.Manifest = path
	p.desc.Manifest = ManifestFile
	return b.writeFile(path, raw)
}

// finish compresses the streamed WAL into wal/, makes everything durable,
// and writes the description last.
func (p *pgarkOutput) finish(ctx context.Context, b *run) error {
	d := &p.desc
	if b.walDir != "" {
		names, err := p.storeWAL(ctx, b)
		if err != nil {
			return err
		}
		d.WAL = names
		b.walDir = ""
	}
	if err := b.syncAll(b.opts.Dir); err != nil {
		return err
	}
	res := b.res
	d.Format, d.Version = FormatName, FormatVersion
	d.SystemID, d.ServerVersion, d.Timeline = res.SystemID, res.ServerVersion, res.Timeline
	d.StartLSN, d.EndLSN, d.Label, d.SegmentSize = res.Start, res.End, res.Label, res.SegmentSize
	d.StartTime, d.EndTime = res.StartTime.UTC(), time.Now().UTC()
	d.DataDirectoryMode = fmt.Sprintf("%04o", b.dirMode)
	d.WALMethod = b.opts.WAL
	d.Compression = map[bool]string{true: "zstd", false: "none"}[!b.opts.NoCompress]
	data, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return fmt.Errorf("basebackup: %w", err)
	}
	if err := wal.WriteFileDurably(b.opts.Dir, DescriptionFile, append(data, '\n')); err != nil {
		return fmt.Errorf("basebackup: %w", err)
	}
	return nil
}

// storeWAL archives the receiver's complete files into wal/ and removes
// its directory.
func (p *pgarkOutput) storeWAL(ctx context.Context, b *run) ([]string, error) {
	entries, err := os.ReadDir(b.walDir)
	if err != nil {
		return nil, fmt.Errorf("basebackup: %w", err)
	}
	dst := filepath.Join(b.opts.Dir, WALDir)
	if err := os.Mkdir(dst, b.dirMode); err != nil {
		return nil, fmt.Errorf("basebackup: %w", err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".partial") {
			return nil, fmt.Errorf("basebackup: the WAL receiver left %s unfinished", e.Name())
		}
		if err := wal.Push(ctx, filepath.Join(b.walDir, e.Name()), dst); err != nil {
			return nil, fmt.Errorf("basebackup: %w", err)
		}
		names = append(names, e.Name())
	}
	if err := os.RemoveAll(b.walDir); err != nil {
		return nil, fmt.Errorf("basebackup: %w", err)
	}
	return names, syncDir(dst)
}

// ErrIncomplete is wrapped by Open's error for a directory without a
// description: an unfinished backup, or not a pgark backup.
var ErrIncomplete = fmt.Errorf("basebackup: not a complete pgark backup (no %s)", DescriptionFile)

// Open reads the description of the pgark backup directory dir.
func Open(dir string) (*Description, error) {
	data, err := os.ReadFile(filepath.Join(dir, DescriptionFile))
	if err != nil {
		if os.IsNotExist(err) {
			hint := ""
			if _, serr := os.Stat(filepath.Join(dir, "global", "pg_control")); serr == nil {
				hint = ": it is a plain data directory (-F plain), which a server starts on as it is"
			}
			return nil, fmt.Errorf("%w in %s%s", ErrIncomplete, dir, hint)
		}
		return nil, fmt.Errorf("basebackup: %w", err)
	}
	var d Description
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("basebackup: %s in %s: %w", DescriptionFile, dir, err)
	}
	if d.Format != FormatName {
		return nil, fmt.Errorf("basebackup: %s in %s: format %q is not %q", DescriptionFile, dir, d.Format, FormatName)
	}
	if d.Version != FormatVersion {
		return nil, fmt.Errorf("basebackup: %s in %s: version %d, this pgark reads version %d",
			DescriptionFile, dir, d.Version, FormatVersion)
	}
	if len(d.Archives) == 0 || d.Archives[0].TablespaceOID != 0 {
		return nil, fmt.Errorf("basebackup: %s in %s: no main archive", DescriptionFile, dir)
	}
	for _, a := range d.Archives {
		if a.File != filepath.Base(a.File) || strings.HasPrefix(a.File, ".") {
			return nil, fmt.Errorf("basebackup: %s in %s: invalid archive file %q", DescriptionFile, dir, a.File)
		}
	}
	for _, n := range d.WAL {
		if _, err := wal.ParseFileName(n); err != nil {
			return nil, fmt.Errorf("basebackup: %s in %s: %w", DescriptionFile, dir, err)
		}
	}
	return &d, nil
}

// UnpackOptions say where Unpack lays a backup out.
type UnpackOptions struct {
	// Dir is the data directory to create; it must not exist or be empty.
	Dir string
	// TablespaceMapping relocates tablespaces: location on the server ->
	// directory (both absolute). Others go to their location, which must
	// not exist or be empty.
	TablespaceMapping map[string]string
}

// Unpack lays the pgark backup in backupDir out as a data directory
// opts.Dir, with its tablespaces and the backup's WAL in pg_wal, checking
// every archive's SHA-256 and every file against the manifest on the way.
// As a plain backup, pg_control is put in place last, after everything is
// durable; on failure everything written is removed.
func Unpack(ctx context.Context, backupDir string, opts UnpackOptions) (_ *Description, _ []Tablespace, err error) {
	d, err := Open(backupDir)
	if err != nil {
		return nil, nil, err
	}
	mode := fs.FileMode(0o700)
	if d.DataDirectoryMode == "0750" {
		mode = 0o750
	}
	var targets []*target
	defer func() {
		if err == nil {
			return
		}
		for _, t := range targets {
			_ = t.remove()
		}
	}()
	t, err := prepareDir(opts.Dir, mode)
	if err != nil {
		return nil, nil, err
	}
	targets = append(targets, t)
	var tablespaces []Tablespace
	for _, a := range d.Archives[1:] {
		ts := Tablespace{OID: a.TablespaceOID, Location: a.Location, Dir: mapDir(opts.TablespaceMapping, a.Location)}
		t, err := prepareDir(ts.Dir, mode)
		if err != nil {
			return nil, nil, fmt.Errorf("%w (tablespace %d at %s; relocate it with -T)", err, ts.OID, ts.Location)
		}
		targets = append(targets, t)
		tablespaces = append(tablespaces, ts)
	}

	var sums *fileSums
	var raw []byte
	if d.Manifest != "" {
		if raw, err = os.ReadFile(filepath.Join(backupDir, ManifestFile)); err != nil {
			return nil, nil, fmt.Errorf("basebackup: %w", err)
		}
		m, err := parseManifest(raw)
		if err != nil {
			return nil, nil, fmt.Errorf("%w (%s)", err, filepath.Join(backupDir, ManifestFile))
		}
		alg := "NONE"
		for _, f := range m.Files {
			if f.Algorithm != "" {
				alg = f.Algorithm
				break
			}
		}
		if sums, err = newFileSums(alg); err != nil {
			return nil, nil, err
		}
	}
	sy := newSyncer()
	x := &extractor{sync: sy, dirMode: mode, sums: sums,
		mapDir: func(loc string) string { return mapDir(opts.TablespaceMapping, loc) }}
	for i, a := range d.Archives {
		root, prefix := opts.Dir, ""
		if i > 0 {
			root, prefix = tablespaces[i-1].Dir, fmt.Sprintf("pg_tblspc/%d/", a.TablespaceOID)
		}
		if err := unpackArchive(ctx, filepath.Join(backupDir, a.File), a, d.Compression == "zstd", x, root, prefix, i == 0); err != nil {
			return nil, nil, err
		}
	}
	walDir := filepath.Join(opts.Dir, "pg_wal")
	for _, n := range d.WAL {
		if err := wal.Fetch(ctx, n, filepath.Join(walDir, n), filepath.Join(backupDir, WALDir)); err != nil {
			return nil, nil, fmt.Errorf("basebackup: restore the backup's WAL: %w", err)
		}
	}
	if sums != nil {
		if err := sums.check(raw, d.SystemID, d.Timeline, d.StartLSN, d.EndLSN); err != nil {
			return nil, nil, fmt.Errorf("%w (backup %s)", err, backupDir)
		}
		p := filepath.Join(opts.Dir, ManifestFile)
		if err := os.WriteFile(p, raw, 0o600); err != nil {
			return nil, nil, fmt.Errorf("basebackup: %w", err)
		}
		sy.file(p)
	}
	sy.dir(walDir)
	if err := sy.sync(); err != nil {
		return nil, nil, err
	}
	for _, ts := range tablespaces {
		if err := syncDir(ts.Dir); err != nil {
			return nil, nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	return d, tablespaces, completeControl(opts.Dir)
}

// unpackArchive extracts one archive file, checking its SHA-256.
func unpackArchive(ctx context.Context, path string, a ArchiveFile, compressed bool, x *extractor, root, prefix string, main bool) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("basebackup: %w", err)
	}
	defer f.Close()
	sum := sha256.New()
	var r io.Reader = &ctxReader{ctx: ctx, r: io.TeeReader(f, sum)}
	if compressed {
		dec, err := zstd.NewReader(r)
		if err != nil {
			return fmt.Errorf("basebackup: %w", err)
		}
		defer dec.Close()
		r = dec
	}
	if err := x.extract(r, root, prefix, main); err != nil {
		return checkedError(err, f, sum, a)
	}
	if err := drain(r); err != nil {
		return checkedError(err, f, sum, a)
	}
	if _, err := io.Copy(sum, f); err != nil {
		return fmt.Errorf("basebackup: read %s: %w", path, err)
	}
	if got := hex.EncodeToString(sum.Sum(nil)); got != a.SHA256 {
		return fmt.Errorf("basebackup: %s is corrupt: SHA-256 %s, the backup recorded %s", path, got, a.SHA256)
	}
	return nil
}

// checkedError explains a failure to read an archive: when the file's
// checksum does not match either, the file is corrupt.
func checkedError(err error, f *os.File, sum hash.Hash, a ArchiveFile) error {
	if _, cerr := io.Copy(sum, f); cerr == nil && hex.EncodeToString(sum.Sum(nil)) != a.SHA256 {
		return fmt.Errorf("basebackup: %s is corrupt (its SHA-256 does not match the backup's): %w", f.Name(), err)
	}
	return err
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
