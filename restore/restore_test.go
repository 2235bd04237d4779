package restore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/format"
	"github.com/pgark/pgark/internal/conn"
	"github.com/pgark/pgark/internal/testcluster"
	"github.com/pgark/pgark/restore"
)

type live struct {
	c *testcluster.Cluster
	f *fixture
	n int
}

// newDB creates an empty database for one subtest.
func (l *live) newDB(t *testing.T) string {
	t.Helper()
	l.n++
	db := "r" + strconv.Itoa(l.n)
	l.c.CreateDB(t, db)
	return db
}

func (l *live) target(t *testing.T, db string) restore.Target {
	t.Helper()
	c, err := conn.Options{DBName: l.c.ConnString(db)}.Connector(t.Context())
	require.NoError(t, err)
	return restore.Target{DB: c}
}

func (l *live) reader(t *testing.T, b []byte) *format.Reader {
	t.Helper()
	ar, err := format.NewReader(bytes.NewReader(b), int64(len(b)))
	require.NoError(t, err)
	t.Cleanup(func() { ar.Close() })
	return ar
}

// run restores the fixture archive (or b) from a file into db.
func (l *live) run(t *testing.T, db string, opts restore.Options) (*restore.Result, error) {
	t.Helper()
	return l.runBytes(t, db, l.f.archive, opts)
}

func (l *live) runBytes(t *testing.T, db string, b []byte, opts restore.Options) (*restore.Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	opts.OnError = func(e *restore.EntryError) { t.Logf("restore error: %v", e) }
	return restore.Run(ctx, l.reader(t, b), l.target(t, db), opts)
}

// stream restores b into db from a pipe fed in small, slow pieces.
func (l *live) stream(t *testing.T, db string, b []byte, opts restore.Options) (*restore.Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	pr, pw := io.Pipe()
	var wg sync.WaitGroup
	wg.Go(func() {
		for off := 0; off < len(b); off += 16 << 10 {
			if _, err := pw.Write(b[off:min(off+16<<10, len(b))]); err != nil {
				return
			}
			time.Sleep(200 * time.Microsecond)
		}
		pw.Close()
	})
	defer wg.Wait()
	defer pr.Close()
	opts.OnError = func(e *restore.EntryError) { t.Logf("restore error: %v", e) }
	return restore.RunStream(ctx, pr, l.target(t, db), opts)
}

// check compares db with the source.
func (l *live) check(t *testing.T, db string) {
	t.Helper()
	assert.Equal(t, l.f.schema, schemaSummary(t, l.c, db), "objects")
	assert.Equal(t, l.f.data, dataSummary(t, l.c, db), "rows")
}

// light leaves the table data with the 16 MiB row out of a restore (it
// costs most of the time of one), for tests that do not need the chain.
func (l *live) light(opts restore.Options) restore.Options {
	if opts.List == nil {
		opts.List = map[uint32]bool{}
		for _, e := range l.f.entries {
			opts.List[e.ID] = true
		}
	}
	delete(opts.List, l.f.byName["data big"])
	return opts
}

// checkLight is check after a light restore: everything but the big
// table's rows, which must be absent.
func (l *live) checkLight(t *testing.T, db string) {
	t.Helper()
	assert.Equal(t, l.f.schema, schemaSummary(t, l.c, db), "objects")
	assert.Equal(t, withoutBig(l.f.data), withoutBig(dataSummary(t, l.c, db)), "rows")
	assert.Equal(t, 0, l.count(t, db, "big"))
}

func withoutBig(s string) string {
	lines := strings.Split(s, "\n")
	return strings.Join(slices.DeleteFunc(lines, func(l string) bool { return strings.HasPrefix(l, "big ") }), "\n")
}

func (l *live) count(t *testing.T, db, table string) int {
	t.Helper()
	n, err := strconv.Atoi(l.c.QueryValue(t, db, "SELECT count(*) FROM app."+table))
	require.NoError(t, err)
	return n
}

func (l *live) exists(t *testing.T, db, regclass string) bool {
	t.Helper()
	return l.c.QueryValue(t, db, "SELECT to_regclass('"+regclass+"') IS NOT NULL") == "t"
}

func TestLive(t *testing.T) {
	c := testcluster.Start(t)
	l := &live{c: c}
	l.f = buildFixture(t, c, "source")
	f := l.f

	t.Run("file -j4", func(t *testing.T) {
		db := l.newDB(t)
		var loads []string
		res, err := l.run(t, db, restore.Options{Jobs: 4, Verbose: func(msg string) {
			if strings.HasPrefix(msg, "loading ") {
				loads = append(loads, msg)
			}
		}})
		require.NoError(t, err)
		assert.Contains(t, loads, "loading TABLE DATA app.parent block 0 (COPY binary)", "-v says which blocks go as COPY binary")
		assert.True(t, slices.ContainsFunc(loads, func(m string) bool {
			return strings.HasPrefix(m, "loading TABLE DATA app.big ") && !strings.HasSuffix(m, "(COPY binary)")
		}), "and not for the chain, which goes as text: %q", loads)
		assert.True(t, res.Complete, res)
		assert.Equal(t, len(f.entries), res.Entries)
		assert.Equal(t, len(f.entries), res.EntriesDone)
		assert.Equal(t, 3+2+4, res.Blocks, "blocks, the chain's two included")
		assert.Equal(t, res.Blocks, res.BlocksLoaded)
		assert.EqualValues(t, 3000+2000+60, res.Rows)
		l.check(t, db)
	})

	t.Run("file -j1", func(t *testing.T) {
		db := l.newDB(t)
		res, err := l.run(t, db, l.light(restore.Options{Jobs: 1}))
		require.NoError(t, err)
		assert.True(t, res.Complete, res)
		assert.Equal(t, len(f.entries)-1, res.EntriesDone)
		assert.Equal(t, 3+2, res.BlocksLoaded)
		l.checkLight(t, db)
	})

	t.Run("pipe -j4", func(t *testing.T) {
		db := l.newDB(t)
		res, err := l.stream(t, db, f.archive, restore.Options{Jobs: 4})
		require.NoError(t, err)
		assert.True(t, res.Complete, res)
		assert.Equal(t, res.Blocks, res.BlocksLoaded)
		l.check(t, db)
	})

	t.Run("pipe -1", func(t *testing.T) {
		db := l.newDB(t)
		res, err := l.stream(t, db, f.archive, l.light(restore.Options{SingleTransaction: true}))
		require.NoError(t, err)
		assert.True(t, res.Complete, res)
		l.checkLight(t, db)
	})

	t.Run("script replayed by psql", func(t *testing.T) {
		psql, err := c.ClientBin("psql")
		require.NoError(t, err)
		for _, mode := range []string{"file", "stream"} {
			path := filepath.Join(t.TempDir(), "out.sql")
			out, err := os.Create(path)
			require.NoError(t, err)
			opts := restore.Options{OnError: func(e *restore.EntryError) { t.Errorf("script error: %v", e) }}
			if mode == "stream" {
				opts = l.light(opts)
			}
			if mode == "file" {
				_, err = restore.Run(t.Context(), l.reader(t, f.archive), restore.Target{Script: out}, opts)
			} else {
				_, err = restore.RunStream(t.Context(), bytes.NewReader(f.archive), restore.Target{Script: out}, opts)
			}
			require.NoError(t, err)
			require.NoError(t, out.Close())
			db := l.newDB(t)
			cmd := exec.CommandContext(t.Context(), psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", c.ConnString(db), "-f", path)
			outb, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", outb)
			if mode == "file" {
				l.check(t, db)
			} else {
				l.checkLight(t, db)
			}
		}
	})

	t.Run("script with -C -c --if-exists", func(t *testing.T) {
		psql, err := c.ClientBin("psql")
		require.NoError(t, err)
		var script bytes.Buffer
		_, err = restore.Run(t.Context(), l.reader(t, f.archive), restore.Target{Script: &script},
			l.light(restore.Options{Create: true, Clean: true, IfExists: true}))
		require.NoError(t, err)
		assert.Contains(t, script.String(), `DROP DATABASE IF EXISTS "pgark_created";`)
		cmd := exec.CommandContext(t.Context(), psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", c.ConnString("postgres"))
		cmd.Stdin = &script
		outb, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", outb)
		l.checkLight(t, archiveDB)
		c.Exec(t, "postgres", `DROP DATABASE "pgark_created"`)
	})

	t.Run("-s then -a --disable-triggers", func(t *testing.T) {
		db := l.newDB(t)
		_, err := l.run(t, db, restore.Options{Jobs: 2, Sections: []format.Section{format.SectionPreData, format.SectionPostData}})
		require.NoError(t, err)
		assert.Equal(t, 0, l.count(t, db, "parent"))
		assert.Equal(t, l.f.schema, schemaSummary(t, c, db))
		// The foreign key and the trigger are in place: loading the child
		// blocks before the parent's, or firing the trigger, would show.
		// A trigger disabled in the schema stays disabled.
		c.Exec(t, db, `CREATE TRIGGER "off" BEFORE INSERT ON app.child FOR EACH ROW EXECUTE FUNCTION app.trg_fn();
			ALTER TABLE app.child DISABLE TRIGGER "off"`)
		res, err := l.run(t, db, l.light(restore.Options{Jobs: 4, Sections: []format.Section{format.SectionData}, DisableTriggers: true}))
		require.NoError(t, err)
		assert.True(t, res.Complete, res)
		assert.Equal(t, "D", c.QueryValue(t, db, `SELECT tgenabled FROM pg_trigger WHERE tgname = 'off'`))
		c.Exec(t, db, `DROP TRIGGER "off" ON app.child`)
		assert.Equal(t, l.f.schema, schemaSummary(t, c, db), "triggers enabled again")
		tables := withoutBig(dataSummary(t, c, db))
		want := withoutBig(l.f.data)
		assert.Equal(t, want[:strings.Index(want, "\nmv ")], tables[:strings.Index(tables, "\nmv ")])
	})

	t.Run("a foreign key that fails validation stays NOT VALID", func(t *testing.T) {
		db := l.newDB(t)
		_, err := l.run(t, db, l.light(restore.Options{Jobs: 2, Sections: []format.Section{format.SectionPreData, format.SectionData}}))
		require.NoError(t, err)
		c.Exec(t, db, "DELETE FROM app.parent WHERE id = 2") // child 1 references it
		res, err := l.run(t, db, restore.Options{Jobs: 2, Sections: []format.Section{format.SectionPostData}})
		var ie *restore.IgnoredError
		require.ErrorAs(t, err, &ie)
		reported := res.Errors
		require.Len(t, reported, 1)
		assert.Equal(t, "FK CONSTRAINT", reported[0].Kind)
		assert.Contains(t, reported[0].Statement, `VALIDATE CONSTRAINT "child_parent_fkey"`)
		assert.Contains(t, reported[0].Err.Error(), "violates foreign key constraint")
		assert.Equal(t, "f", c.QueryValue(t, db, "SELECT convalidated FROM pg_constraint WHERE conname = 'child_parent_fkey'"))
		assert.Equal(t, "4", c.QueryValue(t, db, `SELECT count(*) FROM pg_trigger WHERE tgconstraint =
			(SELECT oid FROM pg_constraint WHERE conname = 'child_parent_fkey')`), "new rows are checked")
	})

	t.Run("-a fires triggers without --disable-triggers", func(t *testing.T) {
		db := l.newDB(t)
		_, err := l.run(t, db, restore.Options{Sections: []format.Section{format.SectionPreData, format.SectionPostData}, NoOwner: true})
		require.NoError(t, err)
		c.Exec(t, db, "ALTER TABLE app.child DROP CONSTRAINT child_parent_fkey")
		_, err = l.run(t, db, l.light(restore.Options{Jobs: 2, Sections: []format.Section{format.SectionData}}))
		require.NoError(t, err)
		assert.Equal(t, "2000", c.QueryValue(t, db, "SELECT count(*) FROM app.child WHERE note LIKE '% (trg)'"))
	})

	t.Run("-L subset -O -x --no-comments", func(t *testing.T) {
		db := l.newDB(t)
		var list strings.Builder
		list.WriteString(";\n; a list file\n;\n")
		for _, name := range []string{"parent parent_pkey", "app", "parent", "TABLE parent", "mv"} {
			list.WriteString(strconv.Itoa(int(f.byName[name])) + "; whatever " + name + "\n")
		}
		list.WriteString(strconv.Itoa(int(f.byName["data parent"])) + "\n") // a bare id
		ids, err := restore.ParseList(strings.NewReader(list.String()))
		require.NoError(t, err)
		require.Len(t, ids, 6)
		res, err := l.run(t, db, restore.Options{Jobs: 4, List: ids, NoOwner: true, NoACL: true, NoComments: true})
		require.NoError(t, err)
		assert.Equal(t, 5, res.Entries, "the comment is left out")
		assert.Equal(t, 3000, l.count(t, db, "parent"))
		assert.False(t, l.exists(t, db, "app.child"))
		assert.Equal(t, "postgres", c.QueryValue(t, db, "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'app.parent'::regclass"))
		assert.Equal(t, "", c.QueryValue(t, db, "SELECT coalesce(obj_description('app.parent'::regclass, 'pg_class'), '')"))
		assert.Equal(t, "", c.QueryValue(t, db, "SELECT coalesce(relacl::text, '') FROM pg_class WHERE oid = 'app.parent'::regclass"))
		assert.Equal(t, "p", c.QueryValue(t, db, "SELECT contype FROM pg_constraint WHERE conname = 'parent_pkey'"))

		_, err = restore.NewPlan(f.entries, nil, restore.Options{List: map[uint32]bool{999: true}})
		assert.ErrorContains(t, err, "entry 999")
	})

	t.Run("-c --if-exists onto a restore", func(t *testing.T) {
		db := l.newDB(t)
		_, err := l.run(t, db, l.light(restore.Options{Jobs: 4}))
		require.NoError(t, err)
		c.Exec(t, db, "INSERT INTO app.big VALUES (1000, 'extra')")
		res, err := l.run(t, db, l.light(restore.Options{Jobs: 4, Clean: true, IfExists: true}))
		require.NoError(t, err)
		assert.True(t, res.Complete, res)
		l.checkLight(t, db)

		// Without IF EXISTS, on an empty database every drop fails and
		// the restore goes on.
		db = l.newDB(t)
		res, err = l.run(t, db, l.light(restore.Options{Jobs: 2, Clean: true}))
		var ie *restore.IgnoredError
		require.ErrorAs(t, err, &ie)
		drops := 0
		for _, e := range f.entries {
			if e.Drop != "" {
				drops++
			}
		}
		assert.Equal(t, drops, ie.N)
		assert.Len(t, res.Errors, drops)
		l.checkLight(t, db)

		_, err = l.stream(t, db, f.archive, restore.Options{Clean: true})
		assert.ErrorIs(t, err, restore.ErrCleanStream)
	})

	t.Run("errors go on by default, -e stops", func(t *testing.T) {
		clash := `CREATE SCHEMA app; CREATE TABLE app.child (x int);`
		db := l.newDB(t)
		c.Exec(t, db, clash)
		var reported []*restore.EntryError
		res, err := restore.Run(t.Context(), l.reader(t, f.archive), l.target(t, db), l.light(restore.Options{Jobs: 4,
			OnError: func(e *restore.EntryError) { reported = append(reported, e) }}))
		var ie *restore.IgnoredError
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, "errors ignored on restore: "+strconv.Itoa(ie.N), ie.Error())
		assert.Equal(t, len(reported), ie.N)
		assert.Equal(t, res.Errors, reported)
		kinds := map[string]int{}
		for _, e := range reported {
			kinds[e.Kind+" "+e.Name]++
			assert.NotEmpty(t, e.Statement)
		}
		// child_pkey is built as an index, then attached: its build fails,
		// once, and the attach is not tried.
		assert.Equal(t, 1, kinds["CONSTRAINT child child_pkey"], "%v", kinds)
		// child_parent_fkey is added NOT VALID, then validated: the add
		// fails, once, and the validation is not tried.
		assert.Equal(t, 1, kinds["FK CONSTRAINT child child_parent_fkey"], "%v", kinds)
		// The schema and the table exist; the child's COPY, keys, indexes
		// and trigger fail on the wrong table; everything else is there.
		for _, want := range []string{"SCHEMA app", "TABLE child", "TABLE DATA child", "CONSTRAINT child child_pkey", "INDEX child_parent_idx"} {
			assert.Positive(t, kinds[want], "error for %s in %v", want, kinds)
		}
		assert.Contains(t, reported[0].Err.Error(), "already exists")
		assert.Equal(t, 3000, l.count(t, db, "parent"))

		assert.Equal(t, "3000", c.QueryValue(t, db, "SELECT n FROM app.mv"))

		db = l.newDB(t)
		c.Exec(t, db, clash)
		res, err = l.run(t, db, l.light(restore.Options{Jobs: 4, ExitOnError: true}))
		var ee *restore.EntryError
		require.ErrorAs(t, err, &ee)
		assert.Equal(t, "SCHEMA", ee.Kind)
		assert.Len(t, res.Errors, 1)
		assert.False(t, res.Complete)
		assert.NotEmpty(t, res.NotDone)
		assert.False(t, l.exists(t, db, "app.parent"), "nothing after the first error")

		// -1: the same failure rolls everything back.
		db = l.newDB(t)
		c.Exec(t, db, `CREATE SCHEMA app; CREATE TABLE app.big (x int);`)
		res, err = l.run(t, db, l.light(restore.Options{SingleTransaction: true}))
		require.ErrorAs(t, err, &ee)
		assert.Contains(t, strings.Join(res.NotDone, "\n"), "rolled back")
		assert.False(t, l.exists(t, db, "app.parent"))
	})

	t.Run("truncated stream", func(t *testing.T) {
		ar := l.reader(t, f.archive)
		var chain []format.Block
		for _, b := range ar.Blocks() {
			if b.Entry == f.byName["data big"] && (b.Continues || len(chain) > 0) && len(chain) < 2 {
				chain = append(chain, b)
			}
		}
		require.Len(t, chain, 2)
		for name, cut := range map[string]int64{
			"inside a chain":      chain[1].Offset + format.RecordHeaderSize + int64(chain[1].Stored)/2,
			"before the index":    chain[1].End(),
			"in the post-data":    int64(len(f.archive)) - format.FooterSize - 40,
			"right after a block": ar.Blocks()[2].End(),
		} {
			t.Run(name, func(t *testing.T) {
				db := l.newDB(t)
				res, err := l.stream(t, db, f.archive[:cut], restore.Options{Jobs: 4})
				require.ErrorIs(t, err, format.ErrTruncated)
				assert.False(t, res.Complete)
				assert.Contains(t, strings.Join(res.NotDone, "\n"), "never arrived")
				// Exactly the whole blocks before the cut are loaded.
				want := map[uint32]int{}
				for _, b := range ar.Blocks() {
					if b.End() <= cut && !b.Continues {
						want[b.Entry] += int(b.Rows)
					}
				}
				for _, table := range []string{"parent", "child", "big"} {
					assert.Equal(t, want[f.byName["data "+table]], l.count(t, db, table), table)
				}
				assert.Equal(t, "", c.QueryValue(t, db, "SELECT coalesce(string_agg(conname, ','), '') FROM pg_constraint WHERE connamespace = 'app'::regnamespace AND contype <> 'n'"),
					"post-data must not run")
			})
		}
	})

	t.Run("corrupt block is never loaded", func(t *testing.T) {
		ar := l.reader(t, f.archive)
		var parent1, chain2 format.Block
		for _, b := range ar.Blocks() {
			switch {
			case b.Entry == f.byName["data parent"] && b.Seq == 1:
				parent1 = b
			case b.Entry == f.byName["data big"] && b.Seq == 2:
				chain2 = b
			}
		}
		bad := bytes.Clone(f.archive)
		bad[parent1.Offset+format.RecordHeaderSize+int64(parent1.Stored)/2] ^= 0x55
		bad[chain2.Offset+format.RecordHeaderSize+int64(chain2.Stored)/2] ^= 0x55

		db := l.newDB(t)
		res, err := l.runBytes(t, db, bad, restore.Options{Jobs: 4})
		var ie *restore.IgnoredError
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, 3, ie.N, "two blocks, and the foreign key that misses their rows")
		corrupt := 0
		for _, e := range res.Errors {
			if errors.Is(e, format.ErrCorrupt) {
				corrupt++
				assert.GreaterOrEqual(t, e.Block, 0)
			}
		}
		assert.Equal(t, 2, corrupt)
		assert.Equal(t, 3000-1200, l.count(t, db, "parent"))
		assert.Equal(t, 59, l.count(t, db, "big"), "no part of the chain")
		assert.Contains(t, strings.Join(res.NotDone, "\n"), "1 of 3 data blocks not loaded")

		db = l.newDB(t)
		res, err = l.stream(t, db, bad, restore.Options{Jobs: 4})
		require.ErrorIs(t, err, format.ErrCorrupt)
		assert.False(t, res.Complete)
		assert.Equal(t, 1000, l.count(t, db, "parent"), "blocks before the damage only")
	})

	t.Run("-C", func(t *testing.T) {
		res, err := l.run(t, "postgres", l.light(restore.Options{Jobs: 2, Create: true}))
		require.NoError(t, err)
		assert.True(t, res.Complete)
		l.checkLight(t, archiveDB)
		_, err = l.run(t, "postgres", l.light(restore.Options{Jobs: 2, Create: true, Clean: true}))
		require.NoError(t, err)
		l.checkLight(t, archiveDB)
		c.Exec(t, "postgres", `DROP DATABASE "pgark_created"`)
	})

	t.Run("session settings", func(t *testing.T) {
		// Each session, the main one and the workers', writes its settings
		// into a table: pre-data runs on the main one, post-data on workers.
		record := `INSERT INTO public.settings SELECT current_setting('deadlock_timeout'), current_setting('synchronous_commit');`
		var out bytes.Buffer
		w, err := format.NewWriter(&out, format.Info{Tool: "pgark-test", Created: time.Now(), Encoding: "UTF8"}, format.WriterOptions{})
		require.NoError(t, err)
		require.NoError(t, w.AddEntry(format.Entry{ID: 1, Section: format.SectionPreData, Kind: "TABLE", Schema: "public", Name: "settings",
			Create: `CREATE TABLE public.settings (deadlock_timeout text, synchronous_commit text); ` + record}))
		for id := uint32(2); id <= 5; id++ {
			require.NoError(t, w.AddEntry(format.Entry{ID: id, Section: format.SectionPostData, Kind: "INDEX", Schema: "public",
				Name: fmt.Sprint("i", id), Create: record, Deps: []uint32{1}}))
		}
		require.NoError(t, w.Close())
		settings := func(db string) string {
			return c.QueryValue(t, db, `SELECT string_agg(DISTINCT deadlock_timeout || ' ' || synchronous_commit, ', ') FROM public.settings`)
		}

		db := l.newDB(t)
		_, err = l.runBytes(t, db, out.Bytes(), restore.Options{Jobs: 2})
		require.NoError(t, err)
		assert.Equal(t, "10ms off", settings(db), "a superuser's sessions: an autovacuum gives way at once")

		db = l.newDB(t)
		c.Exec(t, db, `GRANT CREATE ON SCHEMA public TO "app_owner"`)
		_, err = l.runBytes(t, db, out.Bytes(), restore.Options{Jobs: 2, Role: ownerRole})
		require.NoError(t, err)
		assert.Equal(t, "1s off", settings(db), "a role that is no superuser cannot set deadlock_timeout")
	})

	t.Run("interrupted", func(t *testing.T) {
		db := l.newDB(t)
		ctx, cancel := context.WithCancel(t.Context())
		var once sync.Once
		res, err := restore.Run(ctx, l.reader(t, f.archive), l.target(t, db), restore.Options{Jobs: 2, Verbose: func(msg string) {
			if strings.HasPrefix(msg, "loading") {
				once.Do(cancel)
			}
		}})
		require.ErrorIs(t, err, context.Canceled)
		assert.False(t, res.Complete)
		assert.NotEmpty(t, res.NotDone)
		assert.True(t, errors.Is(err, context.Canceled))
	})
}
