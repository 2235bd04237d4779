package basebackup

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sync/errgroup"
)

// target is a directory the backup writes into: the data directory or a
// tablespace's. It remembers whether it made the directory, so that a
// failed backup removes exactly what it wrote.
type target struct {
	dir     string
	created bool
}

// prepareDir creates dir (and its parents) with mode, or accepts it if it
// exists and is empty, as pg_basebackup's verify_dir_is_empty_or_create.
func prepareDir(dir string, mode fs.FileMode) (*target, error) {
	f, err := os.Open(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, mode); err != nil {
			return nil, fmt.Errorf("basebackup: create directory: %w", err)
		}
		if err := os.Chmod(dir, mode); err != nil {
			return nil, fmt.Errorf("basebackup: %w", err)
		}
		if err := syncDir(filepath.Dir(dir)); err != nil {
			return nil, err
		}
		return &target{dir: dir, created: true}, nil
	case err != nil:
		return nil, fmt.Errorf("basebackup: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("basebackup: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("basebackup: %s is not a directory", dir)
	}
	if _, err := f.Readdirnames(1); err == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotEmpty, dir)
	} else if err != io.EOF {
		return nil, fmt.Errorf("basebackup: read directory %s: %w", dir, err)
	}
	if err := os.Chmod(dir, mode); err != nil {
		return nil, fmt.Errorf("basebackup: %w", err)
	}
	return &target{dir: dir}, nil
}

// remove undoes prepareDir and everything written since: the directory
// itself if it made it, else its contents.
func (t *target) remove() error {
	if t.created {
		return os.RemoveAll(t.dir)
	}
	entries, err := os.ReadDir(t.dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		errs = append(errs, os.RemoveAll(filepath.Join(t.dir, e.Name())))
	}
	return errors.Join(errs...)
}

// syncer remembers the files and directories written, to fsync them all
// at the end as pg_basebackup's fsync_pgdata does: the kernel writes back
// meanwhile, and one pass at the end makes everything durable.
type syncer struct {
	mu    sync.Mutex
	files []string
	dirs  map[string]bool
}

func newSyncer() *syncer { return &syncer{dirs: make(map[string]bool)} }

func (s *syncer) file(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files = append(s.files, path)
	s.dirs[filepath.Dir(path)] = true
}

func (s *syncer) dir(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dirs[path] = true
	s.dirs[filepath.Dir(path)] = true
}

// sync fsyncs every file, then every directory, a few at a time.
func (s *syncer) sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var g errgroup.Group
	g.SetLimit(8)
	for _, f := range s.files {
		g.Go(func() error { return syncFile(f) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for d := range s.dirs {
		g.Go(func() error { return syncDir(d) })
	}
	return g.Wait()
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("basebackup: fsync: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("basebackup: fsync %s: %w", path, err)
	}
	return f.Close()
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("basebackup: fsync directory: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("basebackup: fsync directory %s: %w", dir, err)
	}
	return nil
}
