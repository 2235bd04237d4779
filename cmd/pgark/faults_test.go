package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/format"
	"github.com/pgark/pgark/internal/testcluster"
)

// Faults never lose data: every fault below ends pgark with a clear error
// and a non-zero exit, in bounded time, and leaves nothing that could pass
// for a good result: no archive at a dump's final path, no corrupt block in
// a restored table. Each runs against a real PostgreSQL 15.

// faultsDB fills database src of c with three tables of several data blocks
// each (blocks are cut at about 1 MiB of COPY text). Every table's first
// column is a unique id, so a restored table shows which blocks it got.
const faultsDB = `
CREATE TABLE t1 (id int PRIMARY KEY, v text);
INSERT INTO t1 SELECT g, md5(g::text) || md5((-g)::text) FROM generate_series(1, 45000) g;
CREATE TABLE t2 (id int, v text);
INSERT INTO t2 SELECT g, md5(g::text) || md5((g * 7)::text) FROM generate_series(1, 40000) g;
CREATE TABLE t3 (id bigint, note text, n int);
INSERT INTO t3 SELECT g, md5((g * 13)::text) || md5(g::text), g % 100 FROM generate_series(1, 35000) g;
`

const (
	scramUser = "scram_user"
	scramPass = "Right-Pw-4242"
	wrongPass = "Wrong-Pw-9191"
)

// TestFaultsArchive: damaged, truncated and foreign archives; restores onto
// existing objects; locks, privileges and connection failures.
func TestFaultsArchive(t *testing.T) {
	t.Parallel()
	c := testcluster.Start(t, testcluster.WithMajor(15), testcluster.WithTCP(),
		testcluster.WithHBA("local all "+scramUser+" scram-sha-256", "host all "+scramUser+" 127.0.0.1/32 scram-sha-256"))
	c.CreateDB(t, "src")
	c.Exec(t, "src", faultsDB)
	dir := t.TempDir()
	archive := filepath.Join(dir, "src.pgark")
	r := runFault(t, nil, slices.Concat([]string{"dump"}, connArgs(c), []string{"-j", "2", "-f", archive, "src"})...)
	require.Equal(t, exitOK, r.code, "%v", r)
	good, err := os.ReadFile(archive)
	require.NoError(t, err)
	l := readLayout(t, good)
	for _, name := range []string{"public.t1", "public.t2", "public.t3"} {
		require.GreaterOrEqual(t, len(l.data[l.entryID(t, "TABLE DATA "+name)]), 3, "%s should have several blocks", name)
	}

	t.Run("flipped byte", func(t *testing.T) {
		t.Parallel()
		t2 := l.block(t, "public.t2", 1)
		t3 := l.block(t, "public.t3", 2)
		t3Entry := l.entries["TABLE public.t3"]
		indexStored := int64(binary.LittleEndian.Uint32(good[l.indexAt+16:]))
		blockAt := func(b format.Block) string {
			return fmt.Sprintf("entry %d data block %d at offset %d", b.Entry, b.Seq, b.Offset)
		}
		for _, tc := range []struct {
			name string
			off  int64 // the byte flipped
			rec  int64 // where its record starts: blocks before it are intact
			// where the message must name, from a file and from a stream
			file, stream string
			block        *format.Block // the damaged block, if it is one
		}{
			{name: "block payload", off: t2.Offset + format.RecordHeaderSize + int64(t2.Stored)/2, rec: t2.Offset,
				file: blockAt(t2), stream: blockAt(t2), block: &t2},
			{name: "block record header", off: t3.Offset + 12, rec: t3.Offset,
				file: blockAt(t3), stream: fmt.Sprintf("offset %d: record header checksum mismatch", t3.Offset), block: &t3},
			{name: "entry", off: (t3Entry + l.entryEnd["TABLE public.t3"] + format.RecordHeaderSize) / 2, rec: t3Entry,
				file:   fmt.Sprintf("entry %d at offset %d", l.entryID(t, "TABLE public.t3"), t3Entry),
				stream: fmt.Sprintf("entry %d at offset %d", l.entryID(t, "TABLE public.t3"), t3Entry)},
			{name: "index", off: l.indexAt + format.RecordHeaderSize + indexStored/2, rec: l.indexAt,
				file: fmt.Sprintf("index part 0 at offset %d", l.indexAt), stream: fmt.Sprintf("index part 0 at offset %d", l.indexAt)},
			{name: "footer", off: l.size - format.FooterSize + format.RecordHeaderSize + 4, rec: l.size - format.FooterSize,
				file:   fmt.Sprintf("footer at offset %d", l.size-format.FooterSize),
				stream: fmt.Sprintf("footer at offset %d", l.size-format.FooterSize)},
			{name: "file header", off: 9, rec: 0,
				file: "offset 0: file header checksum mismatch", stream: "offset 0: file header checksum mismatch"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				damaged := flip(good, tc.off)
				path := filepath.Join(t.TempDir(), "damaged.pgark")
				require.NoError(t, os.WriteFile(path, damaged, 0o600))

				r := runFault(t, nil, "verify", path)
				assert.Equal(t, exitFailure, r.code)
				assert.Contains(t, r.stderr, tc.file)
				r = runFault(t, bytes.NewReader(damaged), "verify", "-")
				assert.Equal(t, exitFailure, r.code)
				assert.Contains(t, r.stderr, tc.stream)

				// From the file: a damaged block is skipped, with its entry
				// and block named, and everything else restored; any other
				// damage keeps the archive from opening, and nothing is
				// restored.
				db := "flip_file_" + strings.ReplaceAll(tc.name, " ", "_")
				c.CreateDB(t, db)
				r = runFault(t, nil, slices.Concat([]string{"restore"}, connArgs(c), []string{"-j", "2", "-d", db, path})...)
				assert.Equal(t, exitFailure, r.code)
				assert.Contains(t, r.stderr, tc.file)
				if tc.block != nil {
					e := l.byID[tc.block.Entry]
					assert.Contains(t, r.stderr, fmt.Sprintf("entry %d %s %s data block %d", e.ID, e.Kind, describeEntry(e), tc.block.Seq))
					assert.Contains(t, r.stderr, "errors ignored on restore: 1")
					l.checkRows(t, c, db, func(b format.Block) bool { return b != *tc.block })
				} else {
					assertNoTables(t, c, db)
				}

				// From a stream: the restore stops at the damage; the blocks
				// before it are loaded, nothing after.
				db = "flip_stdin_" + strings.ReplaceAll(tc.name, " ", "_")
				c.CreateDB(t, db)
				r = runFault(t, bytes.NewReader(damaged), slices.Concat([]string{"restore"}, connArgs(c), []string{"-j", "2", "-d", db, "-"})...)
				assert.Equal(t, exitFailure, r.code)
				assert.Contains(t, r.stderr, tc.stream)
				if tc.rec > 0 {
					assert.Contains(t, r.stderr, "data blocks loaded")
					assert.Contains(t, r.stderr, "not done")
				}
				l.checkRows(t, c, db, func(b format.Block) bool { return b.End() <= tc.rec })
			})
		}
	})

	t.Run("truncated", func(t *testing.T) {
		t.Parallel()
		mid := l.blocks[len(l.blocks)/2]
		t1 := l.block(t, "public.t1", 1)
		for _, tc := range []struct {
			name string
			cut  int64
		}{
			{"in the file header", 10},
			{"in an entry", l.entries["TABLE public.t2"] + format.RecordHeaderSize + 3},
			{"in a block", t1.Offset + format.RecordHeaderSize + int64(t1.Stored)/2},
			{"between blocks", mid.End()},
			{"before the index", l.indexAt},
			{"in the index", l.indexAt + 10},
			{"before the footer", l.size - format.FooterSize},
			{"in the footer", l.size - 10},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				cut := good[:tc.cut]
				path := filepath.Join(t.TempDir(), "cut.pgark")
				require.NoError(t, os.WriteFile(path, cut, 0o600))
				for _, in := range []string{path, "-"} {
					r := runFault(t, bytes.NewReader(cut), "verify", in)
					assert.Equal(t, exitFailure, r.code)
					assert.Contains(t, r.stderr, "truncated")
				}

				db := "cut_file_" + strings.ReplaceAll(tc.name, " ", "_")
				c.CreateDB(t, db)
				r := runFault(t, nil, slices.Concat([]string{"restore"}, connArgs(c), []string{"-d", db, path})...)
				assert.Equal(t, exitFailure, r.code)
				assert.Contains(t, r.stderr, "truncated")
				assertNoTables(t, c, db)

				db = "cut_stdin_" + strings.ReplaceAll(tc.name, " ", "_")
				c.CreateDB(t, db)
				r = runFault(t, bytes.NewReader(cut), slices.Concat([]string{"restore"}, connArgs(c), []string{"-j", "2", "-d", db, "-"})...)
				assert.Equal(t, exitFailure, r.code)
				assert.Contains(t, r.stderr, "truncated")
				if tc.cut > int64(l.blocks[0].Offset) {
					// It says what was loaded and what was not.
					assert.Contains(t, r.stderr, "data blocks loaded")
					assert.Contains(t, r.stderr, "not done")
				}
				l.checkRows(t, c, db, func(b format.Block) bool { return b.End() <= tc.cut })
			})
		}
	})

	t.Run("not an archive", func(t *testing.T) {
		t.Parallel()
		noise := make([]byte, 64<<10)
		rng := rand.NewChaCha8([32]byte{1})
		_, _ = rng.Read(noise)
		pgDump, err := c.ClientBin("pg_dump")
		require.NoError(t, err)
		custom, err := exec.Command(pgDump, "-Fc", "-d", c.ConnString("src")).Output()
		require.NoError(t, err)
		require.True(t, bytes.HasPrefix(custom, []byte("PGDMP")))
		c.CreateDB(t, "foreign")
		says := map[string]string{
			"noise":       "format: not a pgark archive\n",
			"pg_dump -Fc": "format: not a pgark archive: it is a pg_dump custom-format archive; restore it with pg_restore\n",
			"empty":       "format: not a pgark archive\n",
		}
		for name, data := range map[string][]byte{"noise": noise, "pg_dump -Fc": custom, "empty": {}} {
			t.Run(name, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "input")
				require.NoError(t, os.WriteFile(path, data, 0o600))
				for _, args := range [][]string{
					{"verify", path},
					{"verify", "-"},
					slices.Concat([]string{"restore"}, connArgs(c), []string{"-d", "foreign", path}),
					slices.Concat([]string{"restore"}, connArgs(c), []string{"-d", "foreign", "-"}),
				} {
					r := runFault(t, bytes.NewReader(data), args...)
					assert.Equal(t, exitFailure, r.code)
					assert.Contains(t, r.stderr, says[name])
				}
			})
		}
		assertNoTables(t, c, "foreign")
	})

	t.Run("existing objects", func(t *testing.T) {
		t.Parallel()
		c.CreateDB(t, "existing")
		restore := slices.Concat([]string{"restore"}, connArgs(c), []string{"-d", "existing", archive})
		r := runFault(t, nil, restore...)
		require.Equal(t, exitOK, r.code, "%v", r)
		r = runFault(t, nil, restore...)
		assert.Equal(t, exitFailure, r.code)
		for _, table := range []string{"t1", "t2", "t3"} {
			assert.Contains(t, r.stderr, fmt.Sprintf("TABLE public.%s: ERROR: relation %q already exists", table, table))
		}
		assert.Contains(t, r.stderr, "errors ignored on restore:")

		r = runFault(t, nil, slices.Concat([]string{"restore"}, connArgs(c), []string{"--clean", "--if-exists", "-d", "existing", archive})...)
		assert.Equal(t, exitOK, r.code, "%v", r)
		l.checkRows(t, c, "existing", func(format.Block) bool { return true })
	})

	t.Run("lock held", func(t *testing.T) {
		t.Parallel()
		c.CreateDB(t, "lockdb")
		c.Exec(t, "lockdb", `CREATE TABLE free_t (id int); CREATE TABLE locked_t (id int); INSERT INTO locked_t VALUES (1)`)
		holder, err := c.Connect(t.Context(), "lockdb")
		require.NoError(t, err)
		defer holder.Close(context.Background())
		_, err = holder.PgConn().Exec(t.Context(), "BEGIN; LOCK TABLE locked_t IN ACCESS EXCLUSIVE MODE").ReadAll()
		require.NoError(t, err)

		out := t.TempDir()
		start := time.Now()
		r := runFault(t, nil, slices.Concat([]string{"dump"}, connArgs(c), []string{"--lock-wait-timeout", "500ms", "-f", filepath.Join(out, "lock.pgark"), "lockdb"})...)
		assert.Equal(t, exitFailure, r.code)
		assert.Contains(t, r.stderr, `"public"."locked_t"`)
		assert.Contains(t, r.stderr, "lock wait timeout")
		assert.Less(t, time.Since(start), 15*time.Second)
		assert.Empty(t, filesIn(t, out))
	})

	t.Run("permission denied", func(t *testing.T) {
		t.Parallel()
		c.CreateDB(t, "permdb")
		c.Exec(t, "permdb", `CREATE TABLE pub_t (id int); CREATE TABLE secret_t (id int); INSERT INTO secret_t VALUES (1);
			CREATE ROLE reader LOGIN; GRANT SELECT ON pub_t TO reader`)
		out := t.TempDir()
		r := runFault(t, nil, "dump", "-h", c.Host(), "-p", strconv.Itoa(c.Port()), "-U", "reader", "-w",
			"-f", filepath.Join(out, "perm.pgark"), "permdb")
		assert.Equal(t, exitFailure, r.code)
		assert.Contains(t, r.stderr, "secret_t")
		assert.Contains(t, r.stderr, "permission denied")
		assert.Empty(t, filesIn(t, out))
	})

	t.Run("connection failures", func(t *testing.T) {
		t.Parallel()
		c.Exec(t, "postgres", fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s'", scramUser, scramPass))
		c.Exec(t, "postgres", "CREATE DATABASE scramdb OWNER "+scramUser)
		uri := func(pw, db string) string {
			return fmt.Sprintf("postgresql://%s:%s@127.0.0.1:%d/%s?sslmode=disable", scramUser, pw, c.Port(), db)
		}
		free := freeTCPPort(t)
		out := t.TempDir()
		dumpTo := filepath.Join(out, "x.pgark")

		// The right password works, so the failures below are the faults'.
		r := runFault(t, nil, "dump", "-f", dumpTo, uri(scramPass, "scramdb"))
		require.Equal(t, exitOK, r.code, "%v", r)
		require.NoError(t, os.Remove(dumpTo))
		r = runFault(t, nil, "restore", "-O", "-x", "-d", uri(scramPass, "scramdb"), archive)
		require.Equal(t, exitOK, r.code, "%v", r)

		for _, tc := range []struct {
			name string
			args []string
			want string
		}{
			{"dump wrong password", []string{"dump", "-f", dumpTo, uri(wrongPass, "scramdb")}, `password authentication failed for user "scram_user"`},
			{"restore wrong password", []string{"restore", "-d", uri(wrongPass, "scramdb"), archive}, `password authentication failed for user "scram_user"`},
			{"dump no database", slices.Concat([]string{"dump"}, connArgs(c), []string{"-f", dumpTo, "nosuchdb"}), `database "nosuchdb" does not exist`},
			{"restore no database", slices.Concat([]string{"restore"}, connArgs(c), []string{"-d", "nosuchdb", archive}), `database "nosuchdb" does not exist`},
			{"dump unreachable", []string{"dump", "-h", "127.0.0.1", "-p", free, "-w", "-f", dumpTo, "src"}, "connection refused"},
			{"restore unreachable", []string{"restore", "-h", "127.0.0.1", "-p", free, "-w", "-d", "src", archive}, "connection refused"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := runFault(t, nil, tc.args...)
				assert.Equal(t, exitFailure, r.code)
				assert.Contains(t, r.stderr, tc.want)
				assert.Contains(t, r.stderr, "connect to host=")
				assert.NotContains(t, r.stderr+r.stdout, wrongPass)
				assert.NotContains(t, r.stderr+r.stdout, scramPass)
				assert.Empty(t, filesIn(t, out))
			})
		}
	})
}

// TestFaultsInterrupt: signals, killed connections, a restarting server and
// a full disk, in the middle of a dump or a restore.
func TestFaultsInterrupt(t *testing.T) {
	t.Parallel()
	pgarkBin := buildInBackground(t)
	c := testcluster.Start(t, testcluster.WithMajor(15))
	c.CreateDB(t, "big")
	const rows = 400000
	c.Exec(t, "big", fmt.Sprintf(`CREATE TABLE big (id int PRIMARY KEY, a text, b text);
		INSERT INTO big SELECT g, md5(g::text), md5((g * 31)::text) FROM generate_series(1, %d) g;`, rows))
	conn := connArgs(c)
	archive := filepath.Join(t.TempDir(), "big.pgark")
	r := runFault(t, nil, slices.Concat([]string{"dump"}, conn, []string{"-f", archive, "big"})...)
	require.Equal(t, exitOK, r.code, "%v", r)
	// zstd at level 19 makes the dump take seconds: a fault injected when
	// the copy starts always lands in the middle of it.
	slowDump := func(path string) []string {
		return slices.Concat([]string{"dump"}, conn, []string{"-v", "-j", "2", "-Z", "zstd:19", "-f", path, "big"})
	}
	restoreInto := func(db string) []string {
		c.CreateDB(t, db)
		return slices.Concat([]string{"restore"}, conn, []string{"-v", "-j", "2", "-d", db, archive})
	}
	const copying, loading = "dumping contents of table", "loading TABLE DATA public.big block"
	terminate := func() {
		n := c.QueryValue(t, "postgres", `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'pgark'`)
		require.NotEqual(t, "0", n, "no pgark backend to terminate")
	}

	t.Run("signal during dump", func(t *testing.T) {
		bin := pgarkBin()
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGKILL} {
			t.Run(sig.String(), func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, "big.pgark")
				p := startProcess(t, bin, slowDump(path)...)
				p.waitLine(t, copying)
				if sig == syscall.SIGKILL {
					// Let the temporary file get its first bytes: killed
					// then, it holds the start of an archive.
					waitNonEmpty(t, dir)
				}
				require.NoError(t, p.cmd.Process.Signal(sig))
				code, got := p.wait(t)
				assert.NoFileExists(t, path)
				if sig == syscall.SIGKILL {
					assert.Equal(t, syscall.SIGKILL, got)
					// The temporary file may stay; it is no archive.
					for _, name := range filesIn(t, dir) {
						assert.Contains(t, name, ".pgark-tmp-")
						r := runFault(t, nil, "verify", filepath.Join(dir, name))
						assert.Equal(t, exitFailure, r.code)
						assert.Contains(t, r.stderr, "truncated")
					}
					return
				}
				assert.Equal(t, exitInterrupted, code)
				assert.Contains(t, p.stderr.String(), "pgark: interrupted")
				assert.Empty(t, filesIn(t, dir))
			})
		}
	})

	t.Run("SIGINT during restore", func(t *testing.T) {
		bin := pgarkBin()
		p := startProcess(t, bin, restoreInto("sigint_restore")...)
		p.waitLine(t, loading)
		require.NoError(t, p.cmd.Process.Signal(syscall.SIGINT))
		code, _ := p.wait(t)
		assert.Equal(t, exitInterrupted, code)
		stderr := p.stderr.String()
		assert.Contains(t, stderr, "pgark: interrupted")
		assert.Regexp(t, `\d+ of \d+ entries done, \d+ of \d+ data blocks loaded`, stderr)
		assert.Contains(t, stderr, "not done")
		assert.Contains(t, stderr, "TABLE DATA public.big: ")
		n, _ := strconv.Atoi(c.QueryValue(t, "sigint_restore", "SELECT count(*) FROM big"))
		assert.Less(t, n, rows)
	})

	t.Run("connection killed during dump", func(t *testing.T) {
		dir := t.TempDir()
		r := inject(t, copying, terminate, slowDump(filepath.Join(dir, "big.pgark"))...)
		assert.Equal(t, exitFailure, r.code)
		assert.Contains(t, r.stderr, `pgark: dump: copy "public"."big": `)
		assert.Empty(t, filesIn(t, dir))
	})

	t.Run("connection killed during restore", func(t *testing.T) {
		r := inject(t, loading, terminate, restoreInto("killed_restore")...)
		assert.Equal(t, exitFailure, r.code)
		// Which one arrives depends on timing: the server's FATAL, or the
		// socket closing under the COPY first.
		assert.Regexp(t, "terminating connection due to administrator command|the server closed the connection unexpectedly", r.stderr)
		assert.Contains(t, r.stderr, "not done")
	})

	t.Run("server restart during dump", func(t *testing.T) {
		dir := t.TempDir()
		r := inject(t, copying, func() { require.NoError(t, c.Restart(t.Context())) }, slowDump(filepath.Join(dir, "big.pgark"))...)
		assert.Equal(t, exitFailure, r.code)
		// The server says why only if its backend is not blocked sending
		// rows; otherwise the connection just ends.
		assert.Contains(t, r.stderr, `pgark: dump: copy "public"."big": `)
		assert.Empty(t, filesIn(t, dir))
	})

	t.Run("server killed during dump", func(t *testing.T) {
		dir := t.TempDir()
		r := inject(t, copying, func() { require.NoError(t, c.Kill(t.Context())) }, slowDump(filepath.Join(dir, "big.pgark"))...)
		require.NoError(t, c.Restart(t.Context()))
		assert.Equal(t, exitFailure, r.code)
		assert.Contains(t, r.stderr, `copy "public"."big"`)
		assert.Empty(t, filesIn(t, dir))
	})

	t.Run("disk full", func(t *testing.T) {
		t.Run("tmpfs", func(t *testing.T) {
			mnt := t.TempDir()
			if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt).CombinedOutput(); err != nil {
				t.Skipf("cannot mount a 1 MiB tmpfs (needs root): %v: %s", err, out)
			}
			t.Cleanup(func() {
				if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
					t.Errorf("umount %s: %v: %s", mnt, err, out)
				}
			})
			r := runFault(t, nil, slices.Concat([]string{"dump"}, conn, []string{"-Z", "none", "-f", filepath.Join(mnt, "big.pgark"), "big"})...)
			assert.Equal(t, exitFailure, r.code)
			assert.Contains(t, r.stderr, "no space left on device")
			assert.Empty(t, filesIn(t, mnt))
		})
		t.Run("stdout", func(t *testing.T) {
			full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
			if err != nil {
				t.Skipf("no /dev/full: %v", err)
			}
			defer full.Close()
			ctx, cancel := context.WithTimeout(t.Context(), faultTimeout)
			defer cancel()
			var stderr bytes.Buffer
			code := execute(ctx, slices.Concat([]string{"dump"}, conn, []string{"big"}), strings.NewReader(""), full, &stderr)
			t.Log(stderr.String())
			assert.Equal(t, exitFailure, code)
			assert.Contains(t, stderr.String(), "no space left on device")
		})
	})
}

// checkRows checks that each table of the archive holds exactly the rows of
// the blocks for which want is true, and none of the others.
func (l *archiveLayout) checkRows(t *testing.T, c *testcluster.Cluster, db string, want func(format.Block) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	conn, err := c.Connect(ctx, db)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	for id, e := range l.byID {
		if e.Kind != "TABLE DATA" {
			continue
		}
		wantIDs := map[int64]bool{}
		for _, b := range l.blocks {
			if b.Entry == id && want(b) {
				for _, n := range l.blockIDs(t, b) {
					wantIDs[n] = true
				}
			}
		}
		got := map[int64]bool{}
		var exists bool
		require.NoError(t, conn.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", describeEntry(e)).Scan(&exists))
		if exists {
			rows, err := conn.Query(ctx, fmt.Sprintf("SELECT id::int8 FROM %s", describeEntry(e)))
			require.NoError(t, err)
			for rows.Next() {
				var n int64
				require.NoError(t, rows.Scan(&n))
				require.False(t, got[n], "%s: row %d loaded twice", describeEntry(e), n)
				got[n] = true
			}
			require.NoError(t, rows.Err())
		}
		var missing, extra int
		for n := range wantIDs {
			if !got[n] {
				missing++
			}
		}
		for n := range got {
			if !wantIDs[n] {
				extra++
			}
		}
		assert.Zero(t, missing, "%s in %s: %d rows missing", describeEntry(e), db, missing)
		assert.Zero(t, extra, "%s in %s: %d rows that should not be there", describeEntry(e), db, extra)
	}
}

// entryID is the id of the entry "KIND schema.name".
func (l *archiveLayout) entryID(t *testing.T, key string) uint32 {
	t.Helper()
	for id, e := range l.byID {
		if e.Kind+" "+describeEntry(e) == key {
			return id
		}
	}
	t.Fatalf("no entry %s", key)
	return 0
}

// block is data block seq of table name's data.
func (l *archiveLayout) block(t *testing.T, name string, seq uint32) format.Block {
	t.Helper()
	id := l.entryID(t, "TABLE DATA "+name)
	for _, b := range l.blocks {
		if b.Entry == id && b.Seq == seq {
			return b
		}
	}
	t.Fatalf("no block %d of %s", seq, name)
	return format.Block{}
}

// assertNoTables checks that nothing was restored into db.
func assertNoTables(t *testing.T, c *testcluster.Cluster, db string) {
	t.Helper()
	assert.Equal(t, "0", c.QueryValue(t, db, "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace"))
}

// freeTCPPort is a loopback port nothing listens on.
func freeTCPPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return strconv.Itoa(port)
}
