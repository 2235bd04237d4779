package dump_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/dump"
	"github.com/pgark/pgark/format"
	"github.com/pgark/pgark/internal/conn"
	"github.com/pgark/pgark/internal/testcluster"
	"github.com/pgark/pgark/schema"
)

const db = "shop"

// fixture is a cluster with a database of awkward tables, shared by the
// live tests.
type fixture struct {
	c    *testcluster.Cluster
	conn *conn.Connector
}

var setup = `
CREATE SCHEMA "s p";
CREATE TABLE "s p"."Mixed ""Case""" (id int, t text, b bytea, x numeric, ts timestamptz, f float8);
INSERT INTO "s p"."Mixed ""Case""" VALUES
  (1, NULL, NULL, NULL, NULL, NULL),
  (2, '', '', 0, '2026-01-02 03:04:05.123456+00', 0.1),
  (3, E'tab\there', '\x00ff0a5c', 1.5, 'infinity', 'NaN'),
  (4, E'line1\nline2\r\nline3', '\x0a', -1e-20, '1999-12-31 23:59:59+05:30', 1e300),
  (5, E'back\\slash \\N \\. and ''quotes'' "dq"', E'\\x5c4e', 123456789012345678901234567890, NULL, -0.0),
  (6, '\N', NULL, NULL, NULL, 3.141592653589793),
  (7, 'żółw 🐢 日本語 ​zero-width', NULL, NULL, NULL, NULL);
CREATE TABLE public.big (id int PRIMARY KEY, v text, pad text);
INSERT INTO public.big SELECT g, md5(g::text), repeat('p', g % 50) FROM generate_series(1, 150000) g;
CREATE TABLE public.huge (id int, v text);
INSERT INTO public.huge VALUES (1, 'small'), (2, repeat('0123456789abcdef', 20 * 65536 / 16 * 16)), (3, 'after');
CREATE TABLE public.nocols ();
INSERT INTO public.nocols DEFAULT VALUES; INSERT INTO public.nocols DEFAULT VALUES;
CREATE TABLE public.empty (a int);
ANALYZE;
`

func start(t *testing.T) *fixture {
	t.Helper()
	c := testcluster.Start(t)
	c.CreateDB(t, db)
	c.Exec(t, db, setup)
	cn, err := conn.Options{DBName: c.ConnString(db), NoPassword: true}.Connector(t.Context())
	require.NoError(t, err)
	return &fixture{c: c, conn: cn}
}

// tableSpec names a table of the fixture and its columns.
type tableSpec struct {
	schema, name string
	cols         []string
}

var tables = []tableSpec{
	{"s p", `Mixed "Case"`, []string{"id", "t", "b", "x", "ts", "f"}},
	{"public", "big", []string{"id", "v", "pad"}},
	{"public", "huge", []string{"id", "v"}},
	{"public", "nocols", nil},
	{"public", "empty", []string{"a"}},
}

// objects returns a sorted object list for the fixture's tables: a TABLE
// and a TABLE DATA object for each, a comment and an ACL on the first, and
// a post-data index, with IDs and DepIDs as schema.Sort would set them.
func (f *fixture) objects(t *testing.T) []*schema.Object {
	t.Helper()
	var objs []*schema.Object
	add := func(o *schema.Object) *schema.Object {
		o.ID = len(objs) + 1
		objs = append(objs, o)
		return o
	}
	var tableObjs, dataObjs []*schema.Object
	for _, ts := range tables {
		rel := schema.Qualified(ts.schema, ts.name)
		tab := add(&schema.Object{Kind: schema.KindTable, Schema: ts.schema, Name: ts.name, Owner: "postgres",
			Ident: "TABLE " + rel, Create: "CREATE TABLE " + rel + " ();", Drop: "DROP TABLE " + rel + ";"})
		tableObjs = append(tableObjs, tab)
	}
	add(&schema.Object{Kind: schema.KindComment, Schema: "s p", Name: `TABLE Mixed "Case"`, Owner: "postgres",
		Create: "COMMENT ON TABLE x IS 'c';", DepIDs: []int{tableObjs[0].ID}})
	for i, ts := range tables {
		var cols []string
		for _, c := range ts.cols {
			cols = append(cols, schema.Ident(c))
		}
		pages := f.c.QueryValue(t, db, "SELECT relpages FROM pg_class WHERE oid = "+
			schema.Literal(schema.Qualified(ts.schema, ts.name))+"::regclass")
		var p int64
		for _, ch := range pages {
			p = p*10 + int64(ch-'0')
		}
		d := add(&schema.Object{Kind: schema.KindTableData, Schema: ts.schema, Name: ts.name, Owner: "postgres",
			DepIDs: []int{tableObjs[i].ID},
			Data:   &schema.TableData{Relation: schema.Qualified(ts.schema, ts.name), Columns: cols, Pages: p}})
		dataObjs = append(dataObjs, d)
	}
	add(&schema.Object{Kind: schema.KindIndex, Schema: "public", Name: "big_v", Owner: "postgres",
		Create: `CREATE INDEX big_v ON "public"."big" ("v");`, DepIDs: []int{tableObjs[1].ID}})
	add(&schema.Object{Kind: schema.KindACL, Schema: "s p", Name: `TABLE Mixed "Case"`, Owner: "postgres",
		Create: "GRANT SELECT ON x TO PUBLIC;", DepIDs: []int{tableObjs[0].ID}})
	return objs
}

func (f *fixture) load(t *testing.T, only ...string) dump.LoadFunc {
	objs := f.objects(t)
	if len(only) > 0 {
		// Keep the named tables' objects only (IDs stay in order).
		objs = slices.DeleteFunc(objs, func(o *schema.Object) bool { return !slices.Contains(only, o.Name) })
		for _, o := range objs {
			o.DepIDs = nil
		}
	}
	return func(ctx context.Context, q dump.Querier) ([]*schema.Object, error) {
		// Read something through q, as the catalog does, in the transaction.
		var iso string
		if err := q.QueryRow(ctx, "SHOW transaction_isolation").Scan(&iso); err != nil {
			return nil, err
		}
		if iso != "repeatable read" && iso != "serializable" {
			return nil, errors.New("catalog read outside the snapshot transaction: " + iso)
		}
		return objs, nil
	}
}

func (f *fixture) options(t *testing.T, out *bytes.Buffer, jobs int, only ...string) dump.Options {
	return dump.Options{Connector: f.conn, Out: out, Load: f.load(t, only...), Jobs: jobs,
		Codec: format.CodecZstd, ToolVersion: "test"}
}

// copyOut is the reference: COPY ... TO STDOUT on a fresh connection.
func (f *fixture) copyOut(t *testing.T, ts tableSpec) []byte {
	t.Helper()
	c, err := f.c.Connect(t.Context(), db)
	require.NoError(t, err)
	defer c.Close(context.Background())
	var cols []string
	for _, col := range ts.cols {
		cols = append(cols, schema.Ident(col))
	}
	sql := "COPY " + schema.Qualified(ts.schema, ts.name)
	if len(cols) > 0 {
		sql += " (" + strings.Join(cols, ", ") + ")"
	}
	var buf bytes.Buffer
	_, err = c.PgConn().CopyTo(t.Context(), &buf, sql+" TO STDOUT")
	require.NoError(t, err)
	return buf.Bytes()
}

// archive is a dump read back.
type archive struct {
	info    format.Info
	entries []format.Entry
	data    map[string][]byte // "schema.name" of TABLE DATA -> concatenated blocks
	blocks  map[string][]format.Block
}

func readArchive(t *testing.T, b []byte) *archive {
	t.Helper()
	r, err := format.NewReader(bytes.NewReader(b), int64(len(b)))
	require.NoError(t, err)
	defer r.Close()
	require.NoError(t, r.Verify(t.Context()))
	a := &archive{info: r.Info(), entries: r.Entries(), data: map[string][]byte{}, blocks: map[string][]format.Block{}}
	byID := map[uint32]format.Entry{}
	for _, e := range a.entries {
		byID[e.ID] = e
	}
	for _, blk := range r.Blocks() {
		e := byID[blk.Entry]
		key := e.Schema + "." + e.Name
		p, err := r.ReadBlock(blk, nil)
		require.NoError(t, err)
		a.data[key] = append(a.data[key], p...)
		a.blocks[key] = append(a.blocks[key], blk)
	}
	return a
}

func sortedLines(b []byte) []string {
	l := strings.SplitAfter(string(b), "\n")
	slices.Sort(l)
	return l
}

// TestLive runs the tests against a real server, all on one cluster:
// starting one and loading the fixture takes seconds.
func TestLive(t *testing.T) {
	f := start(t)
	for _, tc := range []struct {
		name string
		test func(*testing.T, *fixture)
	}{
		{"Dump", testDump},
		{"Entries", testEntries},
		{"Snapshot", testSnapshot},
		{"LockConflict", testLockConflict},
		{"LockWaitTimeout", testLockWaitTimeout},
		{"OutputError", testOutputError},
		{"CopyError", testCopyError},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, f) })
	}
}

func testDump(t *testing.T, f *fixture) {
	ref := map[string][]byte{}
	for _, ts := range tables {
		ref[ts.schema+"."+ts.name] = f.copyOut(t, ts)
	}
	for _, tc := range []struct {
		name  string
		jobs  int
		codec format.Codec
		split int // SplitPages
	}{{"j1", 1, format.CodecZstd, 0}, {"j2", 2, format.CodecZstd, 0}, {"j3-none", 3, format.CodecNone, 0},
		{"j2-split", 2, format.CodecZstd, 16}} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			opts := f.options(t, &out, tc.jobs)
			opts.Codec = tc.codec
			opts.SplitPages = tc.split
			var mu sync.Mutex
			var events []dump.Event
			opts.Progress = func(e dump.Event) { mu.Lock(); events = append(events, e); mu.Unlock() }
			require.NoError(t, dump.Run(t.Context(), opts))
			a := readArchive(t, out.Bytes())

			assert.Equal(t, "pgark", a.info.Tool)
			assert.Equal(t, db, a.info.Database)
			assert.Equal(t, "UTF8", a.info.Encoding)
			assert.NotEmpty(t, a.info.ServerVersion)
			assert.NotEmpty(t, a.info.Attrs["snapshot"])
			assert.Len(t, a.entries, 2*len(tables)+3)

			for _, ts := range tables {
				key := ts.schema + "." + ts.name
				want := ref[key]
				assert.Equal(t, sortedLines(want), sortedLines(a.data[key]), key)
				if tc.jobs == 1 {
					assert.True(t, bytes.Equal(want, a.data[key]), "%s: exact COPY output", key)
				}
				var rows uint32
				for _, b := range a.blocks[key] {
					rows += b.Rows
				}
				assert.Equal(t, uint32(bytes.Count(want, []byte{'\n'})), rows, key)
			}
			assert.Empty(t, a.blocks["public.empty"])
			assert.Equal(t, "\n\n", string(a.data["public.nocols"]))

			// big: about 1 MiB blocks, each at least 1 MiB but the last
			// (of each part, when split).
			big := a.blocks["public.big"]
			require.Greater(t, len(big), 3)
			for i, b := range big {
				assert.LessOrEqual(t, b.Raw, uint32(dump.DefaultBlockSize+200), "block %d", i)
				if i < len(big)-1 && tc.split == 0 {
					assert.GreaterOrEqual(t, b.Raw, uint32(dump.DefaultBlockSize), "block %d", i)
				}
				if tc.codec == format.CodecZstd {
					assert.Equal(t, format.CodecZstdColumns, b.Codec, "COPY text is stored column by column")
				}
			}
			// huge: the 20 MiB row is a chain of its own block(s).
			var chained bool
			for _, b := range a.blocks["public.huge"] {
				chained = chained || b.Continues
			}
			assert.True(t, chained, "a 20 MiB row must be chained")

			done, parts := map[string]bool{}, map[string]int{}
			for _, e := range events {
				if e.Kind == dump.EventTableDone {
					done[e.Table] = true
					if e.Part != "" {
						parts[e.Table]++
					}
				}
			}
			assert.Len(t, done, len(tables))
			if tc.split > 0 && f.c.Major() >= 14 {
				// TID range scans: big is copied in parts, each a
				// whole number of rows (checked above).
				assert.Greater(t, parts[`"public"."big"`], 1, "big is split: %v", parts)
				assert.Zero(t, parts[`"public"."nocols"`], "a table without columns is never split")
			} else {
				assert.Empty(t, parts)
			}
			assert.Equal(t, dump.EventDone, events[len(events)-1].Kind)
		})
	}
}

func testEntries(t *testing.T, f *fixture) {
	var out bytes.Buffer
	opts := f.options(t, &out, 1)
	opts.NoOwner = true
	require.NoError(t, dump.Run(t.Context(), opts))
	a := readArchive(t, out.Bytes())
	var kinds []string
	for _, e := range a.entries {
		kinds = append(kinds, e.Kind)
		assert.Empty(t, e.Owner, "-O")
		switch e.Kind {
		case "TABLE DATA":
			assert.Equal(t, format.SectionData, e.Section)
			assert.Len(t, e.Deps, 1)
			if e.Name == "big" {
				assert.Equal(t, `COPY "public"."big" ("id", "v", "pad") FROM stdin;`, e.Copy)
			}
			if e.Name == "nocols" {
				assert.Equal(t, `COPY "public"."nocols" FROM stdin;`, e.Copy)
			}
		case "TABLE":
			assert.Equal(t, format.SectionPreData, e.Section)
			assert.NotEmpty(t, e.Ident)
		case "INDEX":
			assert.Equal(t, format.SectionPostData, e.Section)
		}
	}
	assert.Equal(t, []string{"TABLE", "TABLE", "TABLE", "TABLE", "TABLE", "COMMENT",
		"TABLE DATA", "TABLE DATA", "TABLE DATA", "TABLE DATA", "TABLE DATA", "INDEX", "ACL"}, kinds)

	// -s: no data entries, no blocks; -a: the data only.
	for _, tc := range []struct {
		name      string
		set       func(*dump.Options)
		entries   int
		hasBlocks bool
	}{
		{"schema-only", func(o *dump.Options) { o.SchemaOnly = true }, 8, false},
		{"data-only", func(o *dump.Options) { o.DataOnly = true }, 5, true},
		{"no comments or privileges", func(o *dump.Options) { o.NoComments, o.NoPrivileges = true, true }, 11, true},
	} {
		out.Reset()
		opts := f.options(t, &out, 2)
		tc.set(&opts)
		require.NoError(t, dump.Run(t.Context(), opts), tc.name)
		a := readArchive(t, out.Bytes())
		assert.Len(t, a.entries, tc.entries, tc.name)
		assert.Equal(t, tc.hasBlocks, len(a.blocks) > 0, tc.name)
	}
}

// testSnapshot: rows committed by another session once the dump has its
// snapshot are not in the archive, whatever the number of jobs; and a
// snapshot given with --snapshot is used instead of a new one.
func testSnapshot(t *testing.T, f *fixture) {
	before := f.copyOut(t, tables[1])
	for _, jobs := range []int{1, 2} {
		var out bytes.Buffer
		opts := f.options(t, &out, jobs, "big")
		opts.Progress = func(e dump.Event) {
			if e.Kind == dump.EventSnapshot {
				f.c.Exec(t, db, "INSERT INTO public.big VALUES (-1, 'late', ''); UPDATE public.big SET v = 'changed' WHERE id = 7")
			}
		}
		require.NoError(t, dump.Run(t.Context(), opts))
		a := readArchive(t, out.Bytes())
		assert.Equal(t, sortedLines(before), sortedLines(a.data["public.big"]), "jobs=%d", jobs)
		f.c.Exec(t, db, "DELETE FROM public.big WHERE id = -1; UPDATE public.big SET v = md5('7') WHERE id = 7")
	}

	// An exported snapshot from another session.
	holder, err := f.c.Connect(t.Context(), db)
	require.NoError(t, err)
	defer holder.Close(context.Background())
	_, err = holder.Exec(t.Context(), "BEGIN ISOLATION LEVEL REPEATABLE READ")
	require.NoError(t, err)
	var snap string
	require.NoError(t, holder.QueryRow(t.Context(), "SELECT pg_export_snapshot()").Scan(&snap))
	f.c.Exec(t, db, "INSERT INTO public.big VALUES (-2, 'after the exported snapshot', '')")
	for _, jobs := range []int{1, 2} {
		var out bytes.Buffer
		opts := f.options(t, &out, jobs, "big")
		opts.Snapshot = snap
		require.NoError(t, dump.Run(t.Context(), opts))
		a := readArchive(t, out.Bytes())
		assert.Equal(t, snap, a.info.Attrs["snapshot"])
		assert.Equal(t, sortedLines(before), sortedLines(a.data["public.big"]), "--snapshot, jobs=%d", jobs)
	}

	// SERIALIZABLE, READ ONLY, DEFERRABLE works too.
	var out bytes.Buffer
	opts := f.options(t, &out, 2, "big")
	opts.SerializableDeferrable = true
	require.NoError(t, dump.Run(t.Context(), opts))
}

// testLockConflict: an ACCESS EXCLUSIVE lock requested after the leader
// locked a table makes the worker's NOWAIT lock fail with a clear error,
// instead of a deadlock.
func testLockConflict(t *testing.T, f *fixture) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	locker, err := f.c.Connect(ctx, db)
	require.NoError(t, err)
	defer locker.Close(context.Background())
	lockDone := make(chan error, 1)

	var out bytes.Buffer
	opts := f.options(t, &out, 2)
	opts.Progress = func(e dump.Event) {
		if e.Kind != dump.EventSnapshot {
			return
		}
		go func() {
			_, err := locker.Exec(ctx, `BEGIN; LOCK TABLE "s p"."Mixed ""Case""" IN ACCESS EXCLUSIVE MODE`)
			lockDone <- err
		}()
		// Wait until the request is queued behind the leader's lock.
		for {
			n := f.c.QueryValue(t, db, `SELECT count(*) FROM pg_locks WHERE NOT granted AND mode = 'AccessExclusiveLock'
				AND relation = '"s p"."Mixed ""Case"""'::regclass`)
			if n == "1" || ctx.Err() != nil {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	err = dump.Run(ctx, opts)
	require.Error(t, err)
	t.Log(err)
	var le *dump.LockError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, `"s p"."Mixed ""Case"""`, le.Table)
	assert.Contains(t, err.Error(), `could not obtain lock on table "s p"."Mixed ""Case"""`)
	assert.Contains(t, err.Error(), "ACCESS EXCLUSIVE")
	// The dump's transaction is gone, so the other session gets its lock.
	require.NoError(t, <-lockDone)
	_, err = locker.Exec(ctx, "ROLLBACK")
	require.NoError(t, err)
}

// testLockWaitTimeout: --lock-wait-timeout bounds the leader's wait.
func testLockWaitTimeout(t *testing.T, f *fixture) {
	locker, err := f.c.Connect(t.Context(), db)
	require.NoError(t, err)
	defer locker.Close(context.Background())
	_, err = locker.Exec(t.Context(), "BEGIN; LOCK TABLE public.big IN ACCESS EXCLUSIVE MODE")
	require.NoError(t, err)

	var out bytes.Buffer
	opts := f.options(t, &out, 1, "big")
	opts.LockWaitTimeout = "200ms"
	t0 := time.Now()
	err = dump.Run(t.Context(), opts)
	require.Error(t, err)
	t.Log(err)
	assert.Less(t, time.Since(t0), 10*time.Second)
	assert.Contains(t, err.Error(), `lock table "public"."big": not granted within the lock wait timeout 200ms`)
}

// testOutputError: a failing output fails the dump with the writer's error.
func testOutputError(t *testing.T, f *fixture) {
	opts := f.options(t, nil, 2)
	opts.Out = &failAfter{n: 200 << 10}
	err := dump.Run(t.Context(), opts)
	require.Error(t, err)
	t.Log(err)
	assert.ErrorIs(t, err, errDiskFull)
}

// testCopyError: a failing COPY fails the dump, names the table, and
// leaves an archive without index or footer, which no reader accepts.
func testCopyError(t *testing.T, f *fixture) {
	for _, jobs := range []int{1, 2} {
		var out bytes.Buffer
		opts := f.options(t, &out, jobs)
		objs := f.objects(t)
		opts.Load = func(context.Context, dump.Querier) ([]*schema.Object, error) {
			for _, o := range objs {
				if o.Kind == schema.KindTableData && o.Name == "huge" {
					o.Data.Columns = append(o.Data.Columns, `"nope"`)
				}
			}
			return objs, nil
		}
		err := dump.Run(t.Context(), opts)
		require.Error(t, err)
		assert.Contains(t, err.Error(), `dump: copy "public"."huge": ERROR: column "nope"`)
		_, rerr := format.NewReader(bytes.NewReader(out.Bytes()), int64(out.Len()))
		assert.ErrorIs(t, rerr, format.ErrTruncated, "jobs=%d", jobs)
	}
}

var errDiskFull = errors.New("disk full")

type failAfter struct {
	mu sync.Mutex
	n  int
}

func (w *failAfter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(p) > w.n {
		return 0, errDiskFull
	}
	w.n -= len(p)
	return len(p), nil
}
