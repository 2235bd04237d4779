package basebackup

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// controlFile is the file whose presence makes a data directory startable.
// The server sends it last in the main archive; it is written under
// controlTemp and renamed into place only once everything else is durable,
// so an unfinished backup can never be started by mistake.
const (
	controlFile = "global/pg_control"
	controlTemp = "global/pg_control.pgark-incomplete"
)

// extractor unpacks the server's tar archives into directories.
type extractor struct {
	sync    *syncer
	dirMode fs.FileMode
	// mapDir maps a tablespace location (a symbolic link's target in
	// pg_tblspc) to where it is written.
	mapDir func(string) string
	// sums, if not nil, records every regular file's size and checksum.
	sums *fileSums
}

// extract unpacks the tar stream r into root. prefix is where the files
// are in the manifest (pg_tblspc/OID/ for a tablespace). main says
// whether it is the main data directory's archive (base.tar), whose
// pg_control and pg_tblspc links get special treatment.
func (x *extractor) extract(r io.Reader, root, prefix string, main bool) error {
	err := walkTar(r, func(h *tar.Header, name string, body io.Reader) error {
		dst := filepath.Join(root, filepath.FromSlash(name))
		mode := fs.FileMode(h.Mode) & fs.ModePerm
		switch h.Typeflag {
		case tar.TypeDir:
			if err := x.mkdir(dst, mode); err != nil {
				return err
			}
		case tar.TypeReg, tar.TypeRegA:
			if main && name == controlFile {
				dst = filepath.Join(root, filepath.FromSlash(controlTemp))
			}
			if err := x.writeFile(dst, prefix+name, mode, body, h); err != nil {
				return err
			}
		case tar.TypeSymlink:
			if !main || path.Dir(name) != "pg_tblspc" {
				return fmt.Errorf("basebackup: archive for %s: unexpected symbolic link %s", root, h.Name)
			}
			if err := x.mkdir(filepath.Dir(dst), x.dirMode); err != nil {
				return err
			}
			if err := os.Symlink(x.mapDir(h.Linkname), dst); err != nil {
				return fmt.Errorf("basebackup: %w", err)
			}
			x.sync.dir(filepath.Dir(dst))
		default:
			return fmt.Errorf("basebackup: archive for %s: entry %s of unsupported type %q", root, h.Name, h.Typeflag)
		}
		return nil
	})
	var te *tarError
	if errors.As(err, &te) {
		return fmt.Errorf("basebackup: read archive for %s: %w", root, te.err)
	}
	return err
}

// tarError is a failure to read the tar stream itself.
type tarError struct{ err error }

func (e *tarError) Error() string { return e.err.Error() }

// walkTar reads the tar stream r to its end and calls fn for each entry
// with its cleaned name (see entryName), the archive's own "." left out;
// a regular file's body is read from body. A failure of the stream is a
// *tarError; fn's errors are returned as they are.
func walkTar(r io.Reader, fn func(h *tar.Header, name string, body io.Reader) error) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &tarError{err}
		}
		name, err := entryName(h.Name)
		if err != nil {
			return err
		}
		if name == "." {
			continue
		}
		if err := fn(h, name, tr); err != nil {
			return err
		}
	}
}

// copyEntry copies a regular file's body to w, summing it into sums (nil:
// none) as the manifest path name, and checks its size against the
// header's.
func copyEntry(sums *fileSums, name string, w io.Writer, body io.Reader, h *tar.Header) error {
	var n int64
	var err error
	if sums != nil {
		n, err = sums.copy(name, w, body)
	} else {
		n, err = io.Copy(w, body)
	}
	if err == nil && n != h.Size {
		err = fmt.Errorf("%d bytes, header says %d", n, h.Size)
	}
	return err
}

// entryName cleans a tar entry name and refuses names that leave the
// directory being extracted into.
func entryName(n string) (string, error) {
	c := path.Clean(strings.TrimPrefix(n, "./"))
	if path.IsAbs(c) || c == ".." || strings.HasPrefix(c, "../") || strings.ContainsRune(n, 0) {
		return "", fmt.Errorf("basebackup: archive entry %q is outside the directory", n)
	}
	return c, nil
}

func (x *extractor) mkdir(dir string, mode fs.FileMode) error {
	if mode == 0 {
		mode = x.dirMode
	}
	if err := os.MkdirAll(dir, mode); err != nil {
		return fmt.Errorf("basebackup: %w", err)
	}
	if err := os.Chmod(dir, mode); err != nil {
		return fmt.Errorf("basebackup: %w", err)
	}
	x.sync.dir(dir)
	return nil
}

func (x *extractor) writeFile(dst, name string, mode fs.FileMode, r io.Reader, h *tar.Header) error {
	if mode == 0 {
		mode = 0o600
	}
	if err := os.MkdirAll(filepath.Dir(dst), x.dirMode); err != nil {
		return fmt.Errorf("basebackup: %w", err)
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("basebackup: %w", err)
	}
	err = copyEntry(x.sums, name, f, r, h)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("basebackup: write %s: %w", dst, err)
	}
	if err := os.Chmod(dst, mode); err != nil { // the umask may have cut it
		return fmt.Errorf("basebackup: %w", err)
	}
	if !h.ModTime.IsZero() {
		if err := os.Chtimes(dst, h.ModTime, h.ModTime); err != nil {
			return fmt.Errorf("basebackup: %w", err)
		}
	}
	x.sync.file(dst)
	return nil
}

// errTruncated marks an archive that the tar reader ended early.
var errTruncated = errors.New("basebackup: archive data after the end of the tar stream")
