package conn_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
)

// This file holds a deliberately small private throwaway cluster so that
// these tests do not depend on internal/testcluster; swap it for that
// package once it lands.

// testServer is a PostgreSQL server listening only on a Unix socket in a
// temporary directory.
type testServer struct {
	sockDir string
	port    uint16
}

// skipOrFail skips, unless CI=true, where a missing prerequisite must fail
// the run instead of passing silently.
func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// pgBinDir returns the newest /usr/lib/postgresql/*/bin with initdb.
func pgBinDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(dirs[i]))))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(dirs[j]))))
		return vi > vj
	})
	if len(dirs) == 0 {
		return ""
	}
	return filepath.Dir(dirs[0])
}

// startServer initdb's and starts a server with the given pg_hba.conf
// lines and stops and removes it when t ends. Running as root, the server
// runs as the postgres OS user.
func startServer(t *testing.T, hba []string) *testServer {
	t.Helper()
	bin := pgBinDir()
	if bin == "" {
		skipOrFail(t, "no PostgreSQL server binaries under /usr/lib/postgresql")
	}
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			skipOrFail(t, "running as root and no postgres OS user: %v", err)
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}

	// Not t.TempDir: its parent is private to root, and the socket path
	// must stay short.
	dir, err := os.MkdirTemp("", "pgark-conn-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	if cred != nil {
		require.NoError(t, os.Chown(dir, int(cred.Uid), int(cred.Gid)))
	}
	data := filepath.Join(dir, "data")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run := func(name string, args ...string) {
		t.Helper()
		cmd := exec.CommandContext(ctx, filepath.Join(bin, name), args...)
		cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C", "HOME=" + dir}
		cmd.Dir = dir
		if cred != nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			log, _ := os.ReadFile(filepath.Join(dir, "log"))
			t.Fatalf("%s %s: %v\n%s\n%s", name, strings.Join(args, " "), err, out, log)
		}
	}

	run("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "-N")
	conf := fmt.Sprintf("listen_addresses = ''\nunix_socket_directories = '%s'\nport = 5432\nfsync = off\n", dir)
	appendFile(t, filepath.Join(data, "postgresql.conf"), conf)
	require.NoError(t, os.WriteFile(filepath.Join(data, "pg_hba.conf"), []byte(strings.Join(hba, "\n")+"\n"), 0o600))
	if cred != nil {
		require.NoError(t, os.Chown(filepath.Join(data, "pg_hba.conf"), int(cred.Uid), int(cred.Gid)))
	}
	run("pg_ctl", "-D", data, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, filepath.Join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop")
		cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C"}
		if cred != nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("pg_ctl stop: %v\n%s", err, out)
		}
	})
	return &testServer{sockDir: dir, port: 5432}
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(s)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

// exec runs SQL as the trusted superuser postgres.
func (s *testServer) execSQL(t *testing.T, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg, err := pgconn.ParseConfig(fmt.Sprintf("host=%s port=%d user=postgres dbname=postgres sslmode=disable", s.sockDir, s.port))
	require.NoError(t, err)
	c, err := pgconn.ConnectConfig(ctx, cfg)
	require.NoError(t, err)
	defer c.Close(context.Background())
	_, err = c.Exec(ctx, sql).ReadAll()
	require.NoError(t, err, sql)
}

// sqlString quotes s as an SQL string literal (standard_conforming_strings).
func sqlString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
