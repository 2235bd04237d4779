package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/internal/testcluster"
	"github.com/pgark/pgark/internal/wal"
)

// receivewalTimeout bounds every receivewal run of the tests: one that
// misses its end position fails instead of hanging.
const receivewalTimeout = 2 * time.Minute

// archiveConf makes a cluster archive its WAL with cp into "archive"
// beside its data directory (archive_command runs in the data directory),
// which archiveDir creates: the oracle receivewal's segments must equal.
var archiveConf = []string{"archive_mode = on", "archive_command = 'cp %p ../archive/%f'"}

// archiveDir creates c's archive directory, writable by the server's OS
// user (the tests may run as root), and returns it.
func archiveDir(t *testing.T, c *testcluster.Cluster) string {
	t.Helper()
	dir := filepath.Join(c.SocketDir(), "archive")
	require.NoError(t, os.Mkdir(dir, 0o777))
	require.NoError(t, os.Chmod(dir, 0o777))
	return dir
}

// receiveWAL runs pgark receivewal -D dir -n against c with args.
func receiveWAL(t *testing.T, c *testcluster.Cluster, dir string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), receivewalTimeout)
	defer cancel()
	all := append([]string{"receivewal", "-D", dir, "-n"}, args...)
	r := pgarkCtx(t, ctx, nil, append(all, connArgs(c)...)...)
	t.Logf("pgark %s: exit %d\n%s", strings.Join(all, " "), r.code, r.stderr)
	return r
}

func queryLSN(t *testing.T, c *testcluster.Cluster, sql string) wal.LSN {
	t.Helper()
	l, err := wal.ParseLSN(c.QueryValue(t, "postgres", sql))
	require.NoError(t, err)
	return l
}

// genWAL writes about n MB of WAL into table t (created if need be).
func genWAL(t *testing.T, c *testcluster.Cluster, mb int) {
	t.Helper()
	c.Exec(t, "postgres", "CREATE TABLE IF NOT EXISTS walgen (id int, pad text)")
	c.Exec(t, "postgres", "INSERT INTO walgen SELECT g, repeat('w', 200) FROM generate_series(1, "+strconv.Itoa(mb*4000)+") g")
}

// lastByte is the LSN of the last byte of l's segment: an end position
// that a switch in that segment passes as it completes the segment.
func lastByte(l wal.LSN) wal.LSN {
	return wal.DefaultSegmentSize.StartLSN(wal.DefaultSegmentSize.Segment(l)+1) - 1
}

// segmentName names the segment of timeline tli that holds l.
func segmentName(tli wal.TimelineID, l wal.LSN) string {
	return wal.SegmentFileName(tli, wal.DefaultSegmentSize.Segment(l), wal.DefaultSegmentSize)
}

// waitFile waits until path exists with size bytes (cp writes a segment
// progressively) and returns its content.
func waitFile(t *testing.T, path string, size int64) []byte {
	t.Helper()
	var fi os.FileInfo
	require.Eventually(t, func() bool {
		var err error
		fi, err = os.Stat(path)
		return err == nil && (size < 0 || fi.Size() == size)
	}, time.Minute, 50*time.Millisecond, "%s never reached %d bytes", path, size)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// sameAsArchive checks that every complete segment of tli in dir is the
// archived one, byte for byte, that they run without a gap from first to
// last, and returns how many there are.
func sameAsArchive(t *testing.T, dir, archive string, tli wal.TimelineID, first, last string) int {
	t.Helper()
	var segs []string
	for _, name := range dirNames(t, dir) {
		if fn, err := wal.ParseFileName(name); err == nil && fn.Kind == wal.KindSegment && fn.Timeline == tli {
			segs = append(segs, name)
		}
	}
	require.NotEmpty(t, segs)
	assert.Equal(t, first, segs[0], "first segment")
	assert.Equal(t, last, segs[len(segs)-1], "last segment")
	for i, name := range segs {
		fn, _ := wal.ParseFileName(name)
		seg, err := fn.Segment(wal.DefaultSegmentSize)
		require.NoError(t, err)
		if i > 0 {
			prev, _ := wal.ParseFileName(segs[i-1])
			prevSeg, _ := prev.Segment(wal.DefaultSegmentSize)
			assert.Equal(t, prevSeg+1, seg, "gap before %s", name)
		}
		got, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		want := waitFile(t, filepath.Join(archive, name), int64(wal.DefaultSegmentSize))
		assert.True(t, bytes.Equal(want, got), "%s differs from the archived copy", name)
	}
	return len(segs)
}

// noTempFiles fails if dir has anything but WAL files.
func noTempFiles(t *testing.T, dir string) {
	t.Helper()
	for _, name := range dirNames(t, dir) {
		_, err := wal.ParseFileName(name)
		assert.NoError(t, err, "stray file %s", name)
	}
}

func TestReceivewalUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no dir", nil, "no target directory specified"},
		{"create without slot", []string{"--create-slot"}, "--create-slot needs a slot to be specified using --slot"},
		{"drop without slot", []string{"--drop-slot", "-D", "x"}, "--drop-slot needs a slot"},
		{"create and drop", []string{"-S", "s", "--create-slot", "--drop-slot"}, "cannot use --create-slot together with --drop-slot"},
		{"bad endpos", []string{"-D", "x", "-E", "16/zz"}, `could not parse end position "16/zz"`},
		{"bad interval", []string{"-D", "x", "-s", "-1"}, "-s/--status-interval must be in range"},
		{"argument", []string{"-D", "x", "extra"}, "unknown command"},
		{"unknown flag", []string{"-D", "x", "--compress", "gzip"}, "unknown flag: --compress"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := pgark(t, nil, append([]string{"receivewal"}, tt.args...)...)
			assert.Equal(t, exitUsage, r.code, r.stderr)
			assert.Contains(t, r.stderr, tt.want)
			assert.Contains(t, r.stderr, "Run 'pgark receivewal --help' for usage.")
		})
	}
}

// TestReceivewalUnreachable: nothing listens; one clear line, exit 1, the
// directory untouched. A missing directory is refused before connecting.
func TestReceivewalUnreachable(t *testing.T) {
	dir := t.TempDir()
	free := freeTCPPort(t)
	r := pgark(t, nil, "receivewal", "-D", dir, "-h", "127.0.0.1", "-p", free, "-w")
	assert.Equal(t, exitFailure, r.code)
	assert.Equal(t, 1, strings.Count(r.stderr, "\n"), r.stderr)
	assert.Regexp(t, `^pgark: receivewal: .*127\.0\.0\.1.*connection refused`, r.stderr)
	assert.Empty(t, dirNames(t, dir))

	r = pgark(t, nil, "receivewal", "-D", filepath.Join(dir, "missing"), "-h", "127.0.0.1", "-p", free, "-w")
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "no such file or directory")
	assert.NotContains(t, r.stderr, "connection refused")

	r = pgark(t, nil, "receivewal", "-S", "pgark_slot", "--create-slot", "-h", "127.0.0.1", "-p", free, "-w")
	assert.Equal(t, exitFailure, r.code)
	assert.Equal(t, 1, strings.Count(r.stderr, "\n"), r.stderr)
}

// TestReceivewal is the judge: the segments receivewal writes are the ones
// the server archives, byte for byte, across a stop and a resume from the
// .partial it left; the slot it created keeps the server's WAL while it
// is stopped; --drop-slot drops the slot.
func TestReceivewal(t *testing.T) {
	testcluster.EachMajor(t, func(t *testing.T, c *testcluster.Cluster) {
		dir := t.TempDir()
		if c.Major() < 15 {
			r := receiveWAL(t, c, dir)
			assert.Equal(t, exitFailure, r.code)
			assert.Contains(t, r.stderr, "not supported")
			assert.Contains(t, r.stderr, "needs PostgreSQL 15")
			assert.Empty(t, dirNames(t, dir))
			return
		}
		archive := archiveDir(t, c)
		const slot = "pgark_receivewal"
		slotArgs := append([]string{"-S", slot}, connArgs(c)...)

		// --create-slot makes a physical slot that reserves WAL at once.
		r := pgark(t, nil, append([]string{"receivewal", "--create-slot"}, slotArgs...)...)
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Equal(t, "physical true", c.QueryValue(t, "postgres",
			"SELECT slot_type || ' ' || (restart_lsn IS NOT NULL) FROM pg_replication_slots WHERE slot_name = '"+slot+"'"))
		slotStart := queryLSN(t, c, "SELECT restart_lsn FROM pg_replication_slots WHERE slot_name = '"+slot+"'")
		r = pgark(t, nil, append([]string{"receivewal", "--create-slot"}, slotArgs...)...)
		assert.Equal(t, exitFailure, r.code)
		assert.Contains(t, r.stderr, "already exists")
		r = pgark(t, nil, append([]string{"receivewal", "--create-slot", "--if-not-exists"}, slotArgs...)...)
		assert.Equal(t, exitOK, r.code, r.stderr)

		// 1. An empty directory starts at the slot's restart_lsn. The end
		// position is the last byte of a switched segment: it ends complete.
		genWAL(t, c, 20)
		switch1 := queryLSN(t, c, "SELECT pg_switch_wal()")
		r = receiveWAL(t, c, dir, "-S", slot, "-E", lastByte(switch1).String(), "-v")
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Contains(t, r.stderr, "starting log streaming at "+wal.DefaultSegmentSize.StartLSN(wal.DefaultSegmentSize.Segment(slotStart)).String()+" (timeline 1)")
		assert.Contains(t, r.stderr, "finished segment at ")
		assert.Contains(t, r.stderr, "stopped log streaming at ")
		assert.Contains(t, dirNames(t, dir), segmentName(1, switch1))

		// 2. Stop in the middle of a segment: it stays .partial.
		genWAL(t, c, 1)
		mid := queryLSN(t, c, "SELECT pg_current_wal_insert_lsn()")
		genWAL(t, c, 1) // WAL past the end position
		r = receiveWAL(t, c, dir, "-S", slot, "-E", mid.String())
		require.Equal(t, exitOK, r.code, r.stderr)
		partial := segmentName(1, mid) + ".partial"
		assert.Contains(t, dirNames(t, dir), partial)
		noTempFiles(t, dir)

		// 3. While receivewal is stopped, the slot keeps the server's WAL
		// from the .partial's segment on, while a checkpoint removes
		// older WAL.
		for range 3 {
			genWAL(t, c, 1)
			waitFile(t, filepath.Join(archive, segmentName(1, queryLSN(t, c, "SELECT pg_switch_wal()"))), int64(wal.DefaultSegmentSize))
		}
		c.Exec(t, "postgres", "CHECKPOINT")
		pgWAL := filepath.Join(c.DataDir(), "pg_wal")
		assert.FileExists(t, filepath.Join(pgWAL, segmentName(1, mid)), "the slot keeps it")
		assert.NoFileExists(t, filepath.Join(pgWAL, segmentName(1, switch1)), "the checkpoint removed older WAL")

		// 4. Resume: from the .partial's start, to a switch.
		genWAL(t, c, 2)
		switch2 := queryLSN(t, c, "SELECT pg_switch_wal()")
		r = receiveWAL(t, c, dir, "-S", slot, "-E", lastByte(switch2).String(), "-v")
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Contains(t, r.stderr, "starting log streaming at "+wal.DefaultSegmentSize.StartLSN(wal.DefaultSegmentSize.Segment(mid)).String()+" (timeline 1)")
		assert.NotContains(t, dirNames(t, dir), partial)
		noTempFiles(t, dir)

		n := sameAsArchive(t, dir, archive, 1, segmentName(1, slotStart), segmentName(1, switch2))
		t.Logf("PostgreSQL %d: %d segments identical to the archive", c.Major(), n)

		// An end position already received: nothing to do.
		r = receiveWAL(t, c, dir, "-S", slot, "-E", mid.String())
		assert.Equal(t, exitOK, r.code, r.stderr)

		r = pgark(t, nil, append([]string{"receivewal", "--drop-slot"}, slotArgs...)...)
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Equal(t, "0", c.QueryValue(t, "postgres", "SELECT count(*) FROM pg_replication_slots"))
		r = pgark(t, nil, append([]string{"receivewal", "--drop-slot"}, slotArgs...)...)
		assert.Equal(t, exitFailure, r.code)
		assert.Contains(t, r.stderr, "does not exist")
	}, testcluster.WithConfig(archiveConf...))
}

// TestReceivewalCancel: without a slot or files, streaming starts at the
// server's current segment; cancelling leaves the .partial, fsynced and of
// full size, holding what the server has, and nothing else; the next run
// resumes from it and completes it.
func TestReceivewalCancel(t *testing.T) {
	c := testcluster.Start(t)
	if c.Major() < 15 {
		t.Skipf("receivewal needs PostgreSQL 15, this is %d", c.Major())
	}
	dir := t.TempDir()
	genWAL(t, c, 1)
	first := queryLSN(t, c, "SELECT pg_current_wal_lsn()")
	partial := filepath.Join(dir, segmentName(1, first)+".partial")

	ctx, cancel := context.WithTimeout(t.Context(), receivewalTimeout)
	defer cancel()
	done := make(chan result, 1)
	go func() {
		done <- pgarkCtx(t, ctx, nil, append([]string{"receivewal", "-D", dir, "--synchronous"}, connArgs(c)...)...)
	}()
	c.Exec(t, "postgres", "INSERT INTO walgen VALUES (0, 'more')")
	want := queryLSN(t, c, "SELECT pg_current_wal_lsn()")
	require.Eventually(t, func() bool {
		v := c.QueryValue(t, "postgres", "SELECT coalesce(max(flush_lsn), '0/0') FROM pg_stat_replication")
		l, err := wal.ParseLSN(v)
		return err == nil && l >= want
	}, time.Minute, 50*time.Millisecond, "--synchronous reports the flush position at once")
	cancel()
	r := <-done
	assert.Equal(t, exitInterrupted, r.code, r.stderr)
	assert.Contains(t, r.stderr, "interrupted")
	assert.Equal(t, []string{filepath.Base(partial)}, dirNames(t, dir))

	got, err := os.ReadFile(partial)
	require.NoError(t, err)
	require.Len(t, got, int(wal.DefaultSegmentSize))
	server, err := os.ReadFile(filepath.Join(c.DataDir(), "pg_wal", segmentName(1, first)))
	require.NoError(t, err)
	off := wal.DefaultSegmentSize.Offset(want)
	assert.True(t, bytes.Equal(server[:off], got[:off]), "the .partial holds the server's WAL")

	// Resume and complete the segment.
	end := queryLSN(t, c, "SELECT pg_switch_wal()")
	r = receiveWAL(t, c, dir, "-E", lastByte(end).String())
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, []string{segmentName(1, first)}, dirNames(t, dir))
	got, err = os.ReadFile(filepath.Join(dir, segmentName(1, first)))
	require.NoError(t, err)
	server, err = os.ReadFile(filepath.Join(c.DataDir(), "pg_wal", segmentName(1, first)))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(server, got), "the completed segment is the server's")
}

// TestReceivewalTimelineSwitch streams from a standby (a pgark basebackup
// of the primary with standby.signal), which is then promoted: a second
// run resumes on timeline 1 from the promoted server, which ends that
// timeline at the switch point; receivewal fetches 00000002.history,
// keeps timeline 1's last segment as .partial and goes on on timeline 2.
// Timeline 1's segments are the primary's archived ones, timeline 2's the
// promoted server's, the .partial holds the promoted server's archived
// .partial up to the switch point.
func TestReceivewalTimelineSwitch(t *testing.T) {
	primary := testcluster.Start(t, testcluster.WithConfig(archiveConf...))
	if primary.Major() < 15 {
		t.Skipf("receivewal needs PostgreSQL 15, this is %d", primary.Major())
	}
	primaryArchive := archiveDir(t, primary)
	genWAL(t, primary, 1)

	backup := filepath.Join(t.TempDir(), "standby")
	r := pgark(t, nil, append([]string{"basebackup", "-D", backup, "-F", "plain", "-c", "fast"}, connArgs(primary)...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	require.NoError(t, os.WriteFile(filepath.Join(backup, "standby.signal"), nil, 0o600))
	f, err := os.OpenFile(filepath.Join(backup, "postgresql.auto.conf"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("primary_conninfo = 'host=" + primary.Host() + " port=" + strconv.Itoa(primary.Port()) + " user=" + primary.User() + "'\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	// The relative archive_command archives into the standby's own directory.
	standby := testcluster.Start(t, testcluster.WithMajor(primary.Major()), testcluster.WithDataDir(backup), testcluster.WithConfig(archiveConf...))
	standbyArchive := archiveDir(t, standby)
	require.Equal(t, "t", standby.QueryValue(t, "postgres", "SELECT pg_is_in_recovery()"))

	dir := t.TempDir()
	const slot = "pgark_tl"
	r = pgark(t, nil, append([]string{"receivewal", "--create-slot", "-S", slot}, connArgs(standby)...)...)
	require.Equal(t, exitOK, r.code, r.stderr)

	// Timeline 1, streamed from the standby.
	genWAL(t, primary, 20)
	switch1 := queryLSN(t, primary, "SELECT pg_switch_wal()")
	require.Eventually(t, func() bool {
		return standby.QueryValue(t, "postgres", "SELECT pg_last_wal_replay_lsn() >= '"+switch1.String()+"'") == "t"
	}, time.Minute, 50*time.Millisecond)
	r = receiveWAL(t, standby, dir, "-S", slot, "-E", switch1.String())
	require.Equal(t, exitOK, r.code, r.stderr)

	// More WAL on timeline 1, then the promotion, then timeline 2.
	genWAL(t, primary, 3)
	before := queryLSN(t, primary, "SELECT pg_current_wal_lsn()")
	require.Eventually(t, func() bool {
		return standby.QueryValue(t, "postgres", "SELECT pg_last_wal_replay_lsn() >= '"+before.String()+"'") == "t"
	}, time.Minute, 50*time.Millisecond)
	require.Equal(t, "t", standby.QueryValue(t, "postgres", "SELECT pg_promote()"))
	require.Equal(t, "f", standby.QueryValue(t, "postgres", "SELECT pg_is_in_recovery()"))
	genWAL(t, standby, 20)
	switch2 := queryLSN(t, standby, "SELECT pg_switch_wal()")

	r = receiveWAL(t, standby, dir, "-S", slot, "-E", lastByte(switch2).String(), "-v")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, "(timeline 1)")
	assert.Contains(t, r.stderr, "switched to timeline 2 at ")
	assert.Contains(t, r.stderr, "(timeline 2)")
	noTempFiles(t, dir)

	// The history file, as the promoted server has it.
	history, err := os.ReadFile(filepath.Join(dir, "00000002.history"))
	require.NoError(t, err)
	want, err := os.ReadFile(filepath.Join(standby.DataDir(), "pg_wal", "00000002.history"))
	require.NoError(t, err)
	assert.Equal(t, string(want), string(history))
	fields := strings.Fields(string(history))
	require.GreaterOrEqual(t, len(fields), 2, "history %q", history)
	switchPoint, err := wal.ParseLSN(fields[1])
	require.NoError(t, err)
	t.Logf("timeline 2 begins at %s", switchPoint)

	// Timeline 1: complete segments as the primary archived them, the
	// last one .partial up to the switch point.
	names := dirNames(t, dir)
	tl1Partial := segmentName(1, switchPoint) + ".partial"
	require.Contains(t, names, tl1Partial)
	lastTL1 := wal.SegmentFileName(1, wal.DefaultSegmentSize.Segment(switchPoint)-1, wal.DefaultSegmentSize)
	firstTL1 := slices.IndexFunc(names, func(n string) bool { return strings.HasPrefix(n, "00000001") })
	require.GreaterOrEqual(t, firstTL1, 0)
	sameAsArchive(t, dir, primaryArchive, 1, names[firstTL1], lastTL1)
	got, err := os.ReadFile(filepath.Join(dir, tl1Partial))
	require.NoError(t, err)
	archivedPartial := waitFile(t, filepath.Join(standbyArchive, tl1Partial), int64(wal.DefaultSegmentSize))
	off := wal.DefaultSegmentSize.Offset(switchPoint)
	assert.True(t, bytes.Equal(archivedPartial[:off], got[:off]), "timeline 1's .partial up to the switch point")

	// Timeline 2: from the switch point's segment to switch2's, as the
	// promoted server archived them.
	n := sameAsArchive(t, dir, standbyArchive, 2, segmentName(2, switchPoint), segmentName(2, switch2))
	t.Logf("PostgreSQL %d: timeline 2: %d segments identical to the archive", standby.Major(), n)
}
