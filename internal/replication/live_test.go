package replication_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/internal/replication"
	"github.com/pgark/pgark/internal/testcluster"
	"github.com/pgark/pgark/internal/wal"
)

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func connect(t *testing.T, ctx context.Context, c *testcluster.Cluster) *pgconn.PgConn {
	t.Helper()
	cfg, err := pgconn.ParseConfig(c.ConnString("postgres"))
	require.NoError(t, err)
	rc, err := replication.Connect(ctx, cfg, nil)
	require.NoError(t, err)
	t.Cleanup(func() { rc.Close(context.Background()) })
	return rc
}

func TestCommands(t *testing.T) {
	testcluster.EachMajor(t, func(t *testing.T, c *testcluster.Cluster) {
		ctx := testContext(t)
		rc := connect(t, ctx, c)

		info, err := replication.IdentifySystem(ctx, rc)
		require.NoError(t, err)
		assert.Equal(t, c.QueryValue(t, "postgres", "SELECT system_identifier FROM pg_control_system()"), info.SystemID)
		assert.Equal(t, wal.TimelineID(1), info.Timeline)
		assert.NotZero(t, info.XLogPos)
		assert.Empty(t, info.DBName)

		size, err := replication.SegmentSize(ctx, rc)
		require.NoError(t, err)
		assert.Equal(t, wal.DefaultSegmentSize, size)
		v, err := replication.Show(ctx, rc, "server_version_num")
		require.NoError(t, err)
		assert.Equal(t, c.QueryValue(t, "postgres", "SHOW server_version_num"), v)
		_, err = replication.Show(ctx, rc, "no_such_setting")
		assert.Error(t, err)
		_, err = replication.Show(ctx, rc, "x; DROP")
		assert.Error(t, err)

		_, err = replication.TimelineHistoryFile(ctx, rc, 2)
		assert.Error(t, err, "no timeline 2 yet")

		const name = "pgark_test_slot"
		slot, err := replication.CreateReplicationSlot(ctx, rc, name, replication.SlotOptions{ReserveWAL: true})
		require.NoError(t, err)
		assert.Equal(t, name, slot.Name)
		assert.Equal(t, "physical", c.QueryValue(t, "postgres", "SELECT slot_type FROM pg_replication_slots WHERE slot_name = '"+name+"'"))
		_, err = replication.CreateReplicationSlot(ctx, rc, name, replication.SlotOptions{})
		assert.Error(t, err, "exists")

		read, err := replication.ReadReplicationSlot(ctx, rc, name)
		if c.Major() < 15 {
			assert.ErrorIs(t, err, replication.ErrUnsupportedServer)
		} else {
			require.NoError(t, err)
			want := c.QueryValue(t, "postgres", "SELECT restart_lsn FROM pg_replication_slots WHERE slot_name = '"+name+"'")
			assert.Equal(t, want, read.RestartLSN.String())
			assert.NotZero(t, read.RestartLSN, "RESERVE_WAL")
			assert.Equal(t, "physical", read.Type)
			assert.Equal(t, wal.TimelineID(1), read.RestartTLI)
			_, err = replication.ReadReplicationSlot(ctx, rc, "pgark_no_such_slot")
			assert.ErrorIs(t, err, replication.ErrSlotNotFound)
		}

		require.NoError(t, replication.DropReplicationSlot(ctx, rc, name, true))
		assert.Equal(t, "0", c.QueryValue(t, "postgres", "SELECT count(*) FROM pg_replication_slots"))
		assert.Error(t, replication.DropReplicationSlot(ctx, rc, name, false))

		// The connection still works after the errors.
		_, err = replication.IdentifySystem(ctx, rc)
		require.NoError(t, err)
	})
}

func TestStreamWAL(t *testing.T) {
	testcluster.EachMajor(t, func(t *testing.T, c *testcluster.Cluster) {
		ctx := testContext(t)
		rc := connect(t, ctx, c)
		info, err := replication.IdentifySystem(ctx, rc)
		require.NoError(t, err)
		size, err := replication.SegmentSize(ctx, rc)
		require.NoError(t, err)

		const slotName = "pgark_stream"
		_, err = replication.CreateReplicationSlot(ctx, rc, slotName, replication.SlotOptions{Temporary: true, ReserveWAL: true})
		require.NoError(t, err)

		seg := size.Segment(info.XLogPos)
		start := size.StartLSN(seg)
		stream, err := replication.StartReplication(ctx, rc, replication.StartOptions{Slot: slotName, Start: start, Timeline: info.Timeline})
		require.NoError(t, err)

		// Generate WAL and finish the segment.
		c.Exec(t, "postgres", "CREATE TABLE t AS SELECT g AS id, repeat('x', 100) AS pad FROM generate_series(1, 10000) g")
		switchLSN, err := wal.ParseLSN(c.QueryValue(t, "postgres", "SELECT pg_switch_wal()"))
		require.NoError(t, err)
		require.Less(t, switchLSN, size.StartLSN(seg+1), "the switch ends segment %d", seg)

		var (
			got        bytes.Buffer
			pos        = start
			keepalives int
			replies    int
		)
		// Ask for a keepalive right away, then stream the whole segment.
		require.NoError(t, stream.SendStatus(ctx, replication.StandbyStatus{ClientTime: time.Now(), ReplyRequested: true}))
		for pos < size.StartLSN(seg+1) || keepalives == 0 {
			msg, err := stream.Receive(ctx)
			require.NoError(t, err)
			switch m := msg.(type) {
			case replication.XLogData:
				require.Equal(t, pos, m.WALStart, "contiguous")
				got.Write(m.Data)
				pos = m.End()
				assert.LessOrEqual(t, pos, m.ServerWALEnd)
			case replication.PrimaryKeepalive:
				keepalives++
				assert.NotZero(t, m.ServerWALEnd)
				assert.WithinDuration(t, time.Now(), m.ServerTime, time.Minute)
			default:
				t.Fatalf("unexpected %T", msg)
			}
			require.NoError(t, stream.SendStatus(ctx, replication.StandbyStatus{Write: pos, Flush: pos, ClientTime: time.Now()}))
			replies++
		}
		require.GreaterOrEqual(t, got.Len(), int(size))

		// What we received is the segment file, byte for byte.
		file, err := os.ReadFile(filepath.Join(c.DataDir(), "pg_wal", wal.SegmentFileName(info.Timeline, seg, size)))
		require.NoError(t, err)
		assert.True(t, bytes.Equal(file, got.Bytes()[:size]), "streamed WAL differs from pg_wal")

		// The slot follows our flush reports.
		flushed := pos
		require.Eventually(t, func() bool {
			v := c.QueryValue(t, "postgres", "SELECT restart_lsn FROM pg_replication_slots WHERE slot_name = '"+slotName+"'")
			l, err := wal.ParseLSN(v)
			return err == nil && l >= size.StartLSN(seg+1) && l <= flushed
		}, 30*time.Second, 100*time.Millisecond)

		end, err := stream.Stop(ctx)
		require.NoError(t, err)
		assert.Equal(t, replication.TimelineEnd{}, end)
		_, err = stream.Stop(ctx)
		require.NoError(t, err, "Stop twice")

		// Back to normal mode: commands work again.
		again, err := replication.IdentifySystem(ctx, rc)
		require.NoError(t, err)
		assert.GreaterOrEqual(t, again.XLogPos, switchLSN)
		t.Logf("PG %d: streamed %d bytes, %d keepalives, %d status updates", c.Major(), got.Len(), keepalives, replies)
	})
}

func TestStartReplicationErrors(t *testing.T) {
	c := testcluster.Start(t)
	ctx := testContext(t)
	rc := connect(t, ctx, c)
	_, err := replication.StartReplication(ctx, rc, replication.StartOptions{Slot: "pgark_missing", Start: 0x1000000})
	require.Error(t, err)
	var pgErr *pgconn.PgError
	assert.ErrorAs(t, err, &pgErr)
	_, err = replication.IdentifySystem(ctx, rc)
	require.NoError(t, err, "the connection survives a failed START_REPLICATION")
}

func ExampleBaseBackupCommand() {
	cmd, _ := replication.BaseBackupCommand(replication.BaseBackupOptions{
		Label: "nightly", Checkpoint: replication.CheckpointFast, Progress: true, Manifest: "yes", WAL: false,
	})
	fmt.Println(cmd)
	// Output: BASE_BACKUP (LABEL 'nightly', PROGRESS, CHECKPOINT 'fast', MANIFEST 'yes')
}
