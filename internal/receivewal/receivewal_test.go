package receivewal_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/internal/receivewal"
	"github.com/pgark/pgark/internal/replication"
	"github.com/pgark/pgark/internal/testcluster"
	"github.com/pgark/pgark/internal/wal"
)

func connectFunc(t *testing.T, c *testcluster.Cluster) receivewal.ConnectFunc {
	cfg, err := pgconn.ParseConfig(c.ConnString("postgres"))
	require.NoError(t, err)
	return func(ctx context.Context) (*pgconn.PgConn, error) { return replication.Connect(ctx, cfg, nil) }
}

func queryLSN(t *testing.T, c *testcluster.Cluster, sql string) wal.LSN {
	t.Helper()
	l, err := wal.ParseLSN(c.QueryValue(t, "postgres", sql))
	require.NoError(t, err)
	return l
}

// messages collects what Run says.
type messages struct {
	mu   sync.Mutex
	msgs []string
}

func (m *messages) add(msg string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = append(m.msgs, msg)
}

func (m *messages) contains(s string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, msg := range m.msgs {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// TestRunStatusAndReconnect: with a status interval the flush position
// reported follows the WAL written within the interval (fsynced first),
// without waiting for the segment to end; a server restart ends the
// session, Run reconnects after ReconnectDelay and resumes from the
// .partial; the segments, once complete, are the server's.
func TestRunStatusAndReconnect(t *testing.T) {
	c := testcluster.Start(t)
	if c.Major() < 15 {
		t.Skipf("receivewal needs PostgreSQL 15, this is %d", c.Major())
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	connect := connectFunc(t, c)
	const slot = "pgark_engine"
	created, err := receivewal.CreateSlot(ctx, connect, slot, false)
	require.NoError(t, err)
	require.True(t, created)
	created, err = receivewal.CreateSlot(ctx, connect, slot, true)
	require.NoError(t, err)
	assert.False(t, created, "exists already")

	size := wal.DefaultSegmentSize
	first := size.Segment(queryLSN(t, c, "SELECT restart_lsn FROM pg_replication_slots"))
	endPos := size.StartLSN(first+3) - 1 // three segments, complete
	dir := t.TempDir()
	var info, warn messages
	done := make(chan error, 1)
	go func() {
		done <- receivewal.Run(ctx, receivewal.Options{
			Dir: dir, Connect: connect, Slot: slot,
			StatusInterval: 200 * time.Millisecond, EndPos: endPos, ReconnectDelay: 100 * time.Millisecond,
			Info: info.add, Warn: warn.add,
		})
	}()

	c.Exec(t, "postgres", "CREATE TABLE t (pad text); INSERT INTO t VALUES ('x')")
	written := queryLSN(t, c, "SELECT pg_current_wal_lsn()")
	require.Equal(t, first, size.Segment(written), "still in the first segment")
	require.Eventually(t, func() bool {
		l, err := wal.ParseLSN(c.QueryValue(t, "postgres", "SELECT coalesce(max(flush_lsn), '0/0') FROM pg_stat_replication"))
		return err == nil && l >= written
	}, time.Minute, 50*time.Millisecond, "the flush position follows within the status interval")
	assert.FileExists(t, filepath.Join(dir, wal.PartialFileName(1, first, size)))

	require.NoError(t, c.Restart(ctx))
	require.Eventually(t, func() bool { return warn.contains("disconnected; waiting 100ms to try again") },
		time.Minute, 50*time.Millisecond)
	for queryLSN(t, c, "SELECT pg_current_wal_lsn()") <= endPos {
		c.Exec(t, "postgres", "INSERT INTO t SELECT repeat('y', 200) FROM generate_series(1, 20000)")
		c.Exec(t, "postgres", "SELECT pg_switch_wal()")
	}
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-ctx.Done():
		t.Fatal("Run did not reach its end position")
	}
	assert.True(t, info.contains("starting log streaming at "+size.StartLSN(first).String()+" (timeline 1)"))

	for seg := first; seg < first+3; seg++ {
		name := wal.SegmentFileName(1, seg, size)
		got, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		want, err := os.ReadFile(filepath.Join(c.DataDir(), "pg_wal", name))
		require.NoError(t, err, "the slot keeps the server's copy")
		assert.True(t, bytes.Equal(want, got), "%s differs from the server's", name)
	}
	require.NoError(t, receivewal.DropSlot(ctx, connect, slot))
}

func TestRunOptions(t *testing.T) {
	ctx := t.Context()
	never := func(context.Context) (*pgconn.PgConn, error) { panic("connected") }
	for _, tt := range []struct {
		name string
		o    receivewal.Options
		want string
	}{
		{"no dir", receivewal.Options{Connect: never}, "no target directory"},
		{"no connect", receivewal.Options{Dir: t.TempDir()}, "no way to connect"},
		{"bad slot", receivewal.Options{Dir: t.TempDir(), Connect: never, Slot: "Bad-Name"}, "invalid slot name"},
		{"negative interval", receivewal.Options{Dir: t.TempDir(), Connect: never, StatusInterval: -time.Second}, "invalid status interval"},
		{"missing dir", receivewal.Options{Dir: filepath.Join(t.TempDir(), "x"), Connect: never}, "no such file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.ErrorContains(t, receivewal.Run(ctx, tt.o), tt.want)
		})
	}
}
