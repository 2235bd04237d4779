package testcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

const (
	// superuser is the bootstrap superuser initdb creates (-U), whatever
	// the OS user is.
	superuser = "postgres"
	// osUser runs the server when the tests run as root.
	osUser = "postgres"

	defaultStartTimeout = 60 * time.Second
	// stopGrace is how long Close and an expired Stop or Kill wait after
	// SIGQUIT before killing the whole process group.
	stopGrace = 10 * time.Second
	// maxSocketPath is the longest unix socket path (sun_path less NUL).
	maxSocketPath = 107
	logTailBytes  = 16 << 10
)

// Cluster is a running (or stopped) throwaway PostgreSQL cluster. See the
// package documentation for the concurrency contract.
type Cluster struct {
	bin     Binaries
	cfg     Config
	dir     string // owns everything: data dir, socket, log
	dataDir string
	logPath string
	port    int
	cred    *syscall.Credential // nil: the server runs as the current user
	env     []string            // environment of initdb and postgres

	mu       sync.Mutex
	srv      *server // nil when not running
	baseConf []byte  // postgresql.conf as initdb wrote it
	closed   bool
}

// server is one run of the postmaster.
type server struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited
	err  error         // exit status, valid after done is closed
}

// New creates a cluster with initdb in a fresh temporary directory and
// starts it, waiting until it accepts connections. Call Close to stop it
// and remove its files. The error wraps ErrNoBinaries when no server
// binaries match cfg.
func New(ctx context.Context, cfg Config) (_ *Cluster, err error) {
	search := cfg.Search
	if search.isZero() {
		search = DefaultSearch()
	}
	cfg.Search = search
	bin, err := search.Find(ctx, cfg.Major)
	if err != nil {
		return nil, err
	}

	c := &Cluster{bin: bin, cfg: cfg, env: serverEnv()}
	uid, gid := os.Geteuid(), os.Getegid()
	gids, _ := os.Getgroups()
	if uid == 0 {
		// PostgreSQL refuses to run as root.
		c.cred, err = osCredential(osUser)
		if err != nil {
			return nil, fmt.Errorf("testcluster: running as root needs OS user %q to run the server "+
				"(scripts/install-postgres.sh creates it): %w", osUser, err)
		}
		uid, gid = int(c.cred.Uid), int(c.cred.Gid)
		gids = gids[:0]
		for _, g := range c.cred.Groups {
			gids = append(gids, int(g))
		}
	}
	gids = append(gids, gid)
	if c.cred != nil {
		for _, name := range []string{"postgres", "initdb"} {
			if err := reachable(filepath.Join(bin.BinDir, name), uid, gids, 5); err != nil {
				return nil, fmt.Errorf("testcluster: OS user %q cannot run PostgreSQL %d from %s "+
					"(re-run scripts/install-postgres.sh, which puts the binaries where it can): %w",
					osUser, bin.Major, bin.BinDir, err)
			}
		}
	}
	base, err := tempBase(uid, gids)
	if err != nil {
		return nil, err
	}
	c.dir, err = os.MkdirTemp(base, "pgark-tc-")
	if err != nil {
		return nil, fmt.Errorf("testcluster: create cluster dir: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(c.dir)
		}
	}()
	if c.cred != nil {
		if err := os.Chown(c.dir, uid, gid); err != nil {
			return nil, fmt.Errorf("testcluster: give %s to OS user %q: %w", c.dir, osUser, err)
		}
	}
	c.dataDir = filepath.Join(c.dir, "data")
	c.logPath = filepath.Join(c.dir, "postgres.log")

	if cfg.FromDataDir != "" {
		if err := c.copyDataDir(cfg.FromDataDir); err != nil {
			return nil, err
		}
	} else if err := c.initdb(ctx); err != nil {
		return nil, err
	}
	c.baseConf, err = os.ReadFile(filepath.Join(c.dataDir, "postgresql.conf"))
	if err != nil {
		return nil, fmt.Errorf("testcluster: read postgresql.conf: %w", err)
	}
	if err := c.writeHBA(); err != nil {
		return nil, err
	}

	// A TCP port picked free can be taken before the server binds it:
	// retry with another one. A socket-only server cannot collide.
	for attempt := 1; ; attempt++ {
		c.port, err = freePort()
		if err != nil {
			return nil, err
		}
		if err := c.writeConf(); err != nil {
			return nil, err
		}
		err = c.start(ctx)
		if err == nil {
			return c, nil
		}
		if !cfg.TCP || attempt == 3 || !errors.Is(err, errBind) {
			return nil, err
		}
	}
}

// errBind marks a start that failed because the port was taken.
var errBind = errors.New("testcluster: port in use")

func (c *Cluster) initdb(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin.BinDir, "initdb"),
		"-D", c.dataDir,
		"-U", superuser,
		"-A", "trust",
		"-E", "UTF8",
		"--locale=C",
		"--no-sync",
		"-k", // data checksums, for physical backup tests
	)
	cmd.Dir = c.dir
	cmd.Env = c.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("testcluster: initdb PostgreSQL %s in %s: %w\n%s",
			c.bin.Version, c.dataDir, err, tail(out, logTailBytes))
	}
	return nil
}

// copyDataDir copies the data directory src into c.dataDir: directories,
// regular files and symbolic links (tablespaces keep pointing where they
// did), with their permission bits, owned by the server's OS user.
func (c *Cluster) copyDataDir(src string) error {
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		dst := filepath.Join(c.dataDir, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if err := os.Mkdir(dst, 0o700); err != nil {
				return err
			}
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			if err := os.Symlink(target, dst); err != nil {
				return err
			}
		case d.Type().IsRegular():
			if err := copyFile(dst, path); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: unsupported file type %s", path, d.Type())
		}
		if c.cred != nil {
			if err := os.Lchown(dst, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
				return err
			}
		}
		if d.Type()&fs.ModeSymlink == 0 {
			return os.Chmod(dst, info.Mode().Perm())
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("testcluster: copy data directory %s: %w", src, err)
	}
	return nil
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func (c *Cluster) writeConf() error {
	listen := "''"
	if c.cfg.TCP {
		listen = "'127.0.0.1'"
	}
	fsync := "off"
	if c.cfg.Fsync {
		fsync = "on"
	}
	var b strings.Builder
	b.Write(c.baseConf)
	fmt.Fprintf(&b, "\n# Added by pgark internal/testcluster.\n")
	fmt.Fprintf(&b, "listen_addresses = %s\n", listen)
	fmt.Fprintf(&b, "port = %d\n", c.port)
	fmt.Fprintf(&b, "unix_socket_directories = %s\n", quoteConf(c.dir))
	fmt.Fprintf(&b, "wal_level = replica\n")
	fmt.Fprintf(&b, "max_wal_senders = 10\n")
	fmt.Fprintf(&b, "max_replication_slots = 10\n")
	fmt.Fprintf(&b, "fsync = %s\n", fsync)
	fmt.Fprintf(&b, "lc_messages = 'C'\n")
	if len(c.cfg.PostgresqlConf) > 0 {
		fmt.Fprintf(&b, "\n# Config.PostgresqlConf.\n")
		for _, line := range c.cfg.PostgresqlConf {
			fmt.Fprintf(&b, "%s\n", line)
		}
	}
	if err := os.WriteFile(filepath.Join(c.dataDir, "postgresql.conf"), []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("testcluster: write postgresql.conf: %w", err)
	}
	return nil
}

func (c *Cluster) writeHBA() error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by pgark internal/testcluster.\n")
	if len(c.cfg.HBA) > 0 {
		fmt.Fprintf(&b, "# Config.HBA.\n")
		for _, line := range c.cfg.HBA {
			fmt.Fprintf(&b, "%s\n", line)
		}
		fmt.Fprintf(&b, "# Defaults.\n")
	}
	for _, line := range []string{
		"local all         all              trust",
		"local replication all              trust",
		"host  all         all 127.0.0.1/32 trust",
		"host  replication all 127.0.0.1/32 trust",
		"host  all         all ::1/128      trust",
		"host  replication all ::1/128      trust",
	} {
		fmt.Fprintf(&b, "%s\n", line)
	}
	if err := os.WriteFile(filepath.Join(c.dataDir, "pg_hba.conf"), []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("testcluster: write pg_hba.conf: %w", err)
	}
	return nil
}

// start runs the postmaster and waits until it accepts connections. The
// caller holds c.mu or owns c exclusively.
func (c *Cluster) start(ctx context.Context) error {
	timeout := c.cfg.StartTimeout
	if timeout <= 0 {
		timeout = defaultStartTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	logFile, err := os.OpenFile(c.logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("testcluster: open server log: %w", err)
	}
	var logStart int64
	if fi, err := logFile.Stat(); err == nil {
		logStart = fi.Size()
	}
	defer logFile.Close() // the server has its own descriptor
	if c.cred != nil {
		if err := logFile.Chown(int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return fmt.Errorf("testcluster: give server log to OS user %q: %w", osUser, err)
		}
	}

	cmd := exec.Command(filepath.Join(c.bin.BinDir, "postgres"), "-D", c.dataDir)
	cmd.Dir = c.dir
	cmd.Env = c.env
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: c.cred,
		// Its own process group: a terminal's ^C goes to the test binary
		// only, and Close can kill every server process at once.
		Setpgid: true,
		// If the test binary dies without cleaning up, immediate shutdown.
		Pdeathsig: syscall.SIGQUIT,
	}
	srv := &server{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		// Pdeathsig fires when the thread that forked the child exits, not
		// the process: pin this goroutine to its thread for the server's
		// lifetime so the Go runtime cannot retire that thread under it.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		srv.err = cmd.Wait()
		close(srv.done)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("testcluster: run %s: %w", cmd.Path, err)
	}
	c.srv = srv

	if err := c.waitReady(ctx, srv); err != nil {
		c.terminate(srv, syscall.SIGQUIT, stopGrace)
		c.srv = nil
		logTail := c.logTail(logTailBytes)
		if thisRun := c.logFrom(logStart); strings.Contains(thisRun, "could not bind") ||
			strings.Contains(thisRun, "could not create any TCP/IP sockets") {
			err = fmt.Errorf("%w: %w", errBind, err)
		}
		return fmt.Errorf("testcluster: start PostgreSQL %s in %s: %w\nserver log %s (tail):\n%s",
			c.bin.Version, c.dataDir, err, c.logPath, logTail)
	}
	return nil
}

// waitReady connects until the server answers, the server exits or ctx ends.
func (c *Cluster) waitReady(ctx context.Context, srv *server) error {
	cfg, err := pgconn.ParseConfig(c.ConnString("postgres"))
	if err != nil {
		return fmt.Errorf("parse connection string: %w", err)
	}
	for {
		attemptCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		conn, err := pgconn.ConnectConfig(attemptCtx, cfg)
		cancel()
		if err == nil {
			_ = conn.Close(ctx)
			return nil
		}
		select {
		case <-srv.done:
			return fmt.Errorf("server exited while starting: %v", srv.err)
		case <-ctx.Done():
			return fmt.Errorf("wait for connections: %w (last attempt: %v)", ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// terminate signals the postmaster and waits for it to exit; after grace it
// kills the whole process group. It reports whether the server exited
// within grace.
func (c *Cluster) terminate(srv *server, sig syscall.Signal, grace time.Duration) bool {
	_ = srv.cmd.Process.Signal(sig)
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-srv.done:
		return true
	case <-timer.C:
	}
	_ = syscall.Kill(-srv.cmd.Process.Pid, syscall.SIGKILL)
	<-srv.done
	return false
}

// stop ends the running server with sig (SIGINT: fast shutdown, SIGQUIT:
// immediate shutdown), waiting until ctx ends; then it shuts down
// immediately, and past a grace period kills the process group.
func (c *Cluster) stop(ctx context.Context, sig syscall.Signal, what string) error {
	srv := c.srv
	if srv == nil {
		return nil
	}
	c.srv = nil
	select {
	case <-srv.done:
		return fmt.Errorf("testcluster: %s: server had exited on its own: %v", what, srv.err)
	default:
	}
	_ = srv.cmd.Process.Signal(sig)
	select {
	case <-srv.done:
		return nil
	case <-ctx.Done():
	}
	c.terminate(srv, syscall.SIGQUIT, stopGrace)
	return fmt.Errorf("testcluster: %s: %w (server shut down immediately instead)", what, ctx.Err())
}

func (c *Cluster) checkOpen() error {
	if c.closed {
		return errors.New("testcluster: cluster is closed")
	}
	return nil
}

// Stop shuts the server down the fast way (SIGINT: roll back sessions,
// checkpoint) and waits for it to exit. The files stay: Restart starts it
// again. Stopping a stopped cluster does nothing.
func (c *Cluster) Stop(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.checkOpen(); err != nil {
		return err
	}
	return c.stop(ctx, syscall.SIGINT, "fast shutdown")
}

// Kill shuts the server down immediately (SIGQUIT: no checkpoint, crash
// recovery at the next start), like pg_ctl stop -m immediate, and waits
// for it to exit.
func (c *Cluster) Kill(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.checkOpen(); err != nil {
		return err
	}
	return c.stop(ctx, syscall.SIGQUIT, "immediate shutdown")
}

// Restart stops the server if it runs (fast shutdown) and starts it again
// on the same port, waiting until it accepts connections. A server that
// died on its own is just started.
func (c *Cluster) Restart(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.checkOpen(); err != nil {
		return err
	}
	if c.srv != nil {
		select {
		case <-c.srv.done:
			c.srv = nil // it died on its own (or was killed): just start it
		default:
		}
	}
	if err := c.stop(ctx, syscall.SIGINT, "restart"); err != nil {
		return err
	}
	return c.start(ctx)
}

// Running reports whether the server process is alive.
func (c *Cluster) Running() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.srv == nil {
		return false
	}
	select {
	case <-c.srv.done:
		return false
	default:
		return true
	}
}

// Close shuts the server down immediately if it runs and removes every
// file of the cluster. Later calls do nothing.
func (c *Cluster) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	if srv := c.srv; srv != nil {
		c.srv = nil
		c.terminate(srv, syscall.SIGQUIT, stopGrace)
	}
	if err := os.RemoveAll(c.dir); err != nil {
		return fmt.Errorf("testcluster: remove %s: %w", c.dir, err)
	}
	return nil
}

// Host is the socket directory, or 127.0.0.1 for a TCP cluster.
func (c *Cluster) Host() string {
	if c.cfg.TCP {
		return "127.0.0.1"
	}
	return c.dir
}

// SocketDir is the directory of the server's unix socket (TCP clusters
// have one too).
func (c *Cluster) SocketDir() string { return c.dir }

// Port is the server's port (the socket is named after it too).
func (c *Cluster) Port() int { return c.port }

// User is the superuser's name, "postgres".
func (c *Cluster) User() string { return superuser }

// DataDir is the cluster's PGDATA.
func (c *Cluster) DataDir() string { return c.dataDir }

// LogPath is the server log, beside the data directory (not in it, so
// base backups do not copy a growing file). Start prints its tail when
// the test fails.
func (c *Cluster) LogPath() string { return c.logPath }

// BinDir is the directory of the server binaries in use.
func (c *Cluster) BinDir() string { return c.bin.BinDir }

// Major is the server's major version, e.g. 16.
func (c *Cluster) Major() int { return c.bin.Major }

// Version is the server version postgres --version reported, e.g. "16.14".
func (c *Cluster) Version() string { return c.bin.Version }

// ConnString is a keyword/value connection string for database db, usable
// by pgconn.ParseConfig, pgx and libpq tools (psql -d, pg_dump -d).
func (c *Cluster) ConnString(db string) string {
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable",
		quoteConnValue(c.Host()), c.port, quoteConnValue(superuser), quoteConnValue(db))
}

// Env is the libpq environment for database db (PGHOST, PGPORT, PGUSER,
// PGDATABASE, PGSSLMODE), to append to os.Environ() for an exec.Cmd: the
// last value of a duplicated key wins there.
func (c *Cluster) Env(db string) []string {
	return []string{
		"PGHOST=" + c.Host(),
		"PGPORT=" + strconv.Itoa(c.port),
		"PGUSER=" + superuser,
		"PGDATABASE=" + db,
		"PGSSLMODE=disable",
	}
}

// Connect opens a pgx connection to database db as the superuser.
func (c *Cluster) Connect(ctx context.Context, db string) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, c.ConnString(db))
	if err != nil {
		return nil, fmt.Errorf("testcluster: connect to database %q: %w", db, err)
	}
	return conn, nil
}

// ClientBin finds a client tool (psql, pg_dump, pg_verifybackup...): in
// the cluster's bin dir, else in the newest major of the search roots (the
// machine's /usr/lib/postgresql/*/bin first) that has it, else on $PATH.
func (c *Cluster) ClientBin(name string) (string, error) {
	if p := filepath.Join(c.bin.BinDir, name); isFile(p) {
		return p, nil
	}
	s := c.cfg.Search
	s.BinDir = ""
	if !slices.Contains(s.Roots, SystemRoot) {
		s.Roots = append([]string{SystemRoot}, s.Roots...)
	}
	return s.ClientBin(name)
}

// logTail returns up to n bytes from the end of the server log.
func (c *Cluster) logTail(n int64) string {
	f, err := os.Open(c.logPath)
	if err != nil {
		return fmt.Sprintf("(no server log: %v)", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("(server log: %v)", err)
	}
	off := max(fi.Size()-n, 0)
	b, err := io.ReadAll(io.NewSectionReader(f, off, fi.Size()-off))
	if err != nil {
		return fmt.Sprintf("(read server log: %v)", err)
	}
	if off > 0 {
		if i := strings.IndexByte(string(b), '\n'); i >= 0 {
			b = b[i+1:]
		}
		return "...\n" + string(b)
	}
	return string(b)
}

// logFrom returns the server log from offset off on (at most 1 MiB).
func (c *Cluster) logFrom(off int64) string {
	f, err := os.Open(c.logPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	b, _ := io.ReadAll(io.NewSectionReader(f, off, 1<<20))
	return string(b)
}

func tail(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return "...\n" + string(b[len(b)-n:])
}

// serverEnv is the environment of initdb and postgres: ours without
// libpq/PostgreSQL variables (PGDATA, PGPORT... would override the
// cluster's settings) and with a C locale.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "PG") || strings.HasPrefix(k, "LC_") || k == "LANG" || k == "LANGUAGE" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C", "LANG=C")
}

func osCredential(name string) (*syscall.Credential, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, err
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("gid %q: %w", u.Gid, err)
	}
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	groups, err := u.GroupIds()
	if err != nil {
		return nil, fmt.Errorf("groups of %s: %w", name, err)
	}
	for _, g := range groups {
		id, err := strconv.ParseUint(g, 10, 32)
		if err != nil {
			continue
		}
		cred.Groups = append(cred.Groups, uint32(id))
	}
	return cred, nil
}

// tempBase picks the parent of cluster directories: $TMPDIR unless the
// socket path would be too long there or the server's user cannot reach
// it, else /tmp.
func tempBase(uid int, gids []int) (string, error) {
	const suffix = "/pgark-tc-1234567890/.s.PGSQL.65535"
	var errs []error
	for _, base := range []string{os.TempDir(), "/tmp"} {
		if len(base)+len(suffix) > maxSocketPath {
			errs = append(errs, fmt.Errorf("%s: unix socket path would be too long", base))
			continue
		}
		if err := reachable(base, uid, gids, 1); err != nil {
			errs = append(errs, err)
			continue
		}
		return base, nil
	}
	return "", fmt.Errorf("testcluster: no usable temporary directory: %w", errors.Join(errs...))
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("testcluster: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// quoteConf quotes a postgresql.conf string value.
func quoteConf(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// quoteConnValue quotes a keyword/value connection string value when
// needed.
func quoteConnValue(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n\r\\'") {
		return s
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
