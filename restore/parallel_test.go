package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/semaphore"

	"github.com/pgark/pgark/format"
	"github.com/pgark/pgark/internal/copybin"
)

// TestWaitForData: indexes, keys and foreign keys wait for the data of the
// tables they lock; everything else, and a task on a table whose data is
// not restored, waits for all of it.
func TestWaitForData(t *testing.T) {
	entries := toc()
	entries[8].Build, entries[8].Attach = "b9", "a9" // key 9 on table 2, split
	entries[8].Deps = []uint32{2}
	entries = append(entries,
		format.Entry{ID: 16, Kind: "TABLE", Section: format.SectionPreData, Create: "c16"},                          // no data entry
		format.Entry{ID: 17, Kind: "INDEX", Section: format.SectionPostData, Deps: []uint32{16}, Create: "c17"},     // on it
		format.Entry{ID: 18, Kind: "CONSTRAINT", Section: format.SectionPostData, Deps: []uint32{3}, Create: "c18"}, // a CHECK
	)
	p, err := NewPlan(entries, nil, Options{})
	require.NoError(t, err)
	tasks := newTasks(p.byID, p.Post, true)
	waitForData(p.byID, tasks, p.Data)
	type want struct {
		data []uint32
		all  bool
	}
	got := map[string]want{}
	for _, tk := range tasks {
		got[tk.e.Create+[]string{"", " build", " attach"}[tk.step]] = want{tk.data, tk.allData}
	}
	assert.Equal(t, map[string]want{
		"c9 build":  {[]uint32{6}, false}, // the key's index waits for its table's data
		"c9 attach": {[]uint32{6}, false},
		"c10":       {[]uint32{7}, false}, // indexes on table 3
		"c11":       {[]uint32{7}, false},
		"c12":       {[]uint32{6, 7}, false}, // a foreign key, for both tables
		"c13":       {nil, true},             // a comment
		"c14":       {nil, true},             // a trigger
		"c17":       {nil, true},             // an index on a table without data
		"c18":       {nil, true},             // a constraint not built on an index
	}, got)
}

// drive is a coordinator with two workers whose jobs the test finishes
// itself.
type drive struct {
	t  *testing.T
	c  *coordinator
	ws []*worker
}

func newDrive(t *testing.T, w work) *drive {
	d := &drive{t: t, c: newCoordinator(w)}
	for range 2 {
		d.ws = append(d.ws, &worker{units: make(chan Unit, queueDepth), jobs: make(chan int, queueDepth)})
	}
	d.c.assign(d.ws)
	return d
}

// jobs takes what worker k was given since the last call, as runs ("ub",
// or "ub×4" for four units of b) and task indexes.
func (d *drive) jobs(k int) []any {
	var out []any
	for {
		select {
		case j := <-d.ws[k].jobs:
			if j < 0 {
				u := <-d.ws[k].units
				name := "u" + u.Entry.Name
				if len(u.Blocks) > 1 {
					name += fmt.Sprintf("×%d", len(u.Blocks))
				}
				out = append(out, name)
			} else {
				out = append(out, j)
			}
		default:
			return out
		}
	}
}

// finish ends worker k's running task, or its first run, and assigns.
func (d *drive) finish(k int, task int) {
	d.c.finish(d.ws[k], task)
	d.c.assign(d.ws)
}

// units are n units of e of a block each, of raw bytes.
func units(e *format.Entry, n int, raw uint32) []Unit {
	var out []Unit
	for i := range n {
		out = append(out, Unit{Entry: e, Blocks: []format.Block{{Entry: e.ID, Seq: uint32(i), Raw: raw}}})
	}
	return out
}

// TestCoordinator: a table's units go in runs, half of what is left of it
// each time, so that the workers end it together; a big table's index
// build starts as soon as its data is loaded, ahead of the blocks of
// smaller tables; workers are given their next runs ahead, as many as
// their read-ahead holds, but not past a task that outweighs them.
func TestCoordinator(t *testing.T) {
	big := &format.Entry{ID: 1, Name: "b"}
	small := &format.Entry{ID: 2, Name: "s"}
	var w work
	for _, u := range units(big, 8, 1<<20) {
		w.units = append(w.units, u)
		w.unitWeight = append(w.unitWeight, 100)
	}
	for _, u := range units(small, 8, 1<<20) {
		w.units = append(w.units, u)
		w.unitWeight = append(w.unitWeight, 10)
	}
	w.tasks = []*task{
		{e: &format.Entry{ID: 3}, data: []uint32{1}, locks: []tableLock{{10, lockShare}}}, // 0: an index on big
		{e: &format.Entry{ID: 4}, data: []uint32{2}, locks: []tableLock{{11, lockShare}}}, // 1: one on small
		{e: &format.Entry{ID: 5}, allData: true},                                          // 2: after all data
	}
	w.taskWeight = []int64{100, 10, 0}
	d := newDrive(t, w)
	assert.Equal(t, []any{"ub×4"}, d.jobs(0), "half the big table, which fills the read-ahead")
	assert.Equal(t, []any{"ub×2", "ub", "ub"}, d.jobs(1), "half of what is left, and so on; queueDepth runs")

	d.finish(0, -1)
	assert.Equal(t, []any{"us×4"}, d.jobs(0), "a run loaded, the next is given")
	d.finish(1, -1)
	assert.Equal(t, []any{"us×2"}, d.jobs(1))
	d.finish(1, -1)
	assert.Equal(t, []any{"us"}, d.jobs(1))
	d.finish(1, -1) // the big table's data is loaded: its index outweighs the small blocks
	assert.Empty(t, d.jobs(1), "no run is given past the task")
	assert.Empty(t, d.jobs(0), "worker 0's read-ahead is full")
	d.finish(1, -1)
	assert.Empty(t, d.jobs(1))
	d.finish(1, -1)
	assert.Equal(t, []any{0}, d.jobs(1), "the index build, once the worker's runs are loaded")
	d.finish(0, -1)
	assert.Equal(t, []any{"us"}, d.jobs(0), "smaller tables' blocks go on meanwhile")
	d.finish(0, -1)
	assert.Equal(t, []any{1}, d.jobs(0), "the small table's index once its data is loaded")
	d.finish(0, 1)
	assert.Equal(t, []any{2}, d.jobs(0), "all data loaded: the task that waited for it")
	assert.False(t, d.c.complete())
	d.finish(1, 0)
	d.finish(0, 2)
	assert.True(t, d.c.complete())
}

// TestRuns: a run is one table's consecutive units, within maxRunBytes;
// large objects go block by block.
func TestRuns(t *testing.T) {
	a := &format.Entry{ID: 1, Name: "a"}
	b := &format.Entry{ID: 2, Name: "b"}
	blobs := &format.Entry{ID: 3, Name: "l", Kind: kindBlobs}
	var w work
	w.units = append(w.units, units(a, 6, 100<<20)...) // 600 MiB
	w.units = append(w.units, units(b, 3, 1<<20)...)
	w.units = append(w.units, units(blobs, 2, 1<<20)...)
	c := newCoordinator(w)
	var got []string
	for c.next < len(c.units) {
		sp := c.run(1)
		u := c.merge(sp)
		got = append(got, fmt.Sprintf("%s×%d %d MiB", u.Entry.Name, len(u.Blocks), sp.raw>>20))
		c.next += sp.n
	}
	assert.Equal(t, []string{"a×2 200 MiB", "a×2 200 MiB", "a×2 200 MiB", "b×3 3 MiB", "l×1 1 MiB", "l×1 1 MiB"}, got)
}

// TestLoadOrder: each table's units together, in file order; tables by
// weight, then by their first block.
func TestLoadOrder(t *testing.T) {
	a, b, c := &format.Entry{ID: 1}, &format.Entry{ID: 2}, &format.Entry{ID: 3}
	us := []Unit{{Entry: a}, {Entry: b}, {Entry: a}, {Entry: c}, {Entry: b}, {Entry: c}}
	assert.Equal(t, []int{0, 2, 1, 4, 3, 5}, loadOrder(us, nil))
	assert.Equal(t, []int{3, 5, 0, 2, 1, 4}, loadOrder(us, []int64{1, 1, 1, 5, 1, 5}))
}

// stagedBlocks is a staged unit of the given blocks, all read ahead, with
// a read-ahead that holds them.
func stagedBlocks(t *testing.T, blocks []stagedBlock) *stagedReader {
	ra := &readAhead{budget: semaphore.NewWeighted(1 << 30), bufs: make(chan []byte, readAheadBufs)}
	st := &stagedUnit{u: Unit{Entry: &format.Entry{ID: 1}}, blocks: make(chan stagedBlock, len(blocks))}
	for i, b := range blocks {
		b.b.Seq, b.weight = uint32(i), 1
		require.NoError(t, ra.budget.Acquire(context.Background(), 1))
		st.u.Blocks = append(st.u.Blocks, b.b)
		st.blocks <- b
	}
	close(st.blocks)
	return &stagedReader{ctx: context.Background(), st: st, ra: ra}
}

// segments reads rd as loadStaged does, one COPY after the other, and
// returns what each sends, header and trailer as < and >, and its blocks;
// a failed read adds "!" and the error, a damaged first block is "skip N".
// It checks that every block's budget was given back.
func segments(t *testing.T, rd *stagedReader) []string {
	var out []string
	for {
		first, ok := rd.begin()
		if !ok {
			break
		}
		if first.err != nil {
			rd.skip()
			out = append(out, fmt.Sprintf("skip %d", first.b.Seq))
			continue
		}
		got, err := io.ReadAll(rd)
		s := strings.NewReplacer(string(copybin.Header(nil)), "<", string(copybin.Trailer(nil)), ">").Replace(string(got))
		if err != nil {
			s += "!" + err.Error()
		}
		var seqs []string
		for _, b := range rd.seg {
			seqs = append(seqs, fmt.Sprint(b.Seq))
		}
		out = append(out, s+" "+strings.Join(seqs, ","))
		if err != nil {
			rd.skip()
		}
	}
	rd.drain()
	assert.True(t, rd.ra.budget.TryAcquire(1<<30), "every block given back")
	return out
}

// TestStagedReader: a unit goes as one COPY for each stretch of blocks in
// the same form, text or binary (one header and trailer around them); a
// chain goes alone; a damaged block is never sent: alone, it is skipped,
// and in a chain it fails the chain's COPY and the rest of the chain is
// skipped.
func TestStagedReader(t *testing.T) {
	bt := &binaryTable{}
	damaged := errors.New("damaged")
	chain := format.Block{Continues: true}
	rd := stagedBlocks(t, []stagedBlock{
		{data: []byte("A"), bin: bt},
		{data: []byte("B"), bin: bt},
		{data: []byte("c\n")}, // as text: copybin could not convert it
		{err: damaged},
		{data: []byte("D"), bin: bt},
		{b: chain, data: []byte("e1")},
		{data: []byte("e2\n")}, // the chain's last block
		{data: []byte("F"), bin: bt},
		{data: []byte("G"), bin: bt},
		{b: chain, data: []byte("h1")},
		{b: chain, err: damaged},
		{data: []byte("h3\n")},
		{data: []byte("i\n")},
		{b: chain, err: damaged},
		{data: []byte("j2\n")},
	})
	assert.Equal(t, []string{
		"<AB> 0,1", "c\n 2", "skip 3", "<D> 4", "e1e2\n 5,6", "<FG> 7,8",
		"h1!COPY abandoned, nothing of it loaded: damaged 9,10", "i\n 12", "skip 13",
	}, segments(t, rd))
}

// TestRunReader: from a stream, a worker's COPY takes the next blocks it
// receives while they are of the same table and within maxRunBytes; the
// first that is not (another table, a chain, past the bound) is kept for
// the next COPY, and the end of the stream ends the COPY.
func TestRunReader(t *testing.T) {
	a, b := &format.Entry{ID: 1, Name: "a"}, &format.Entry{ID: 2, Name: "b"}
	unit := func(e *format.Entry, seq uint32, raw uint32, data string) streamUnit {
		return streamUnit{u: &Unit{Entry: e, Blocks: []format.Block{{Entry: e.ID, Seq: seq, Raw: raw}}}, data: []byte(data)}
	}
	units := make(chan streamUnit, 8)
	units <- unit(a, 1, 1<<20, "a1\n")
	units <- unit(a, 2, 1<<20, "a2\n")
	units <- unit(b, 0, 1<<20, "b0\n") // another table
	units <- unit(b, 1, 200<<20, "b1\n")
	units <- unit(b, 2, 100<<20, "b2\n") // past maxRunBytes
	chain := unit(b, 3, 1<<20, "b3")
	chain.more = make(chan chunk)
	units <- chain
	units <- unit(b, 5, 1<<20, "b5\n")
	close(units)

	rr := &runReader{ctx: context.Background(), units: units, conv: newCodecs()}
	r := &runner{}
	var got []string
	su := unit(a, 0, 1<<20, "a0\n")
	for {
		if su.more != nil {
			got = append(got, "chain")
		} else {
			rr.start(r, su)
			data, err := io.ReadAll(rr)
			require.NoError(t, err)
			var seqs []string
			for _, b := range rr.blocks {
				seqs = append(seqs, fmt.Sprint(b.Seq))
			}
			got = append(got, strings.ReplaceAll(string(data), "\n", " ")+strings.Join(seqs, ","))
		}
		var ok bool
		if su, ok = rr.nextUnit(); !ok {
			break
		}
	}
	assert.Equal(t, []string{"a0 a1 a2 0,1,2", "b0 b1 0,1", "b2 2", "chain", "b5 5"}, got)

	// A COPY waits runWait for the next block, no longer: the stream may
	// be busy with a statement on the main session.
	idle := make(chan streamUnit)
	rr = &runReader{ctx: context.Background(), units: idle, conv: newCodecs()}
	rr.start(r, unit(a, 0, 1<<20, "a0\n"))
	data, err := io.ReadAll(rr)
	require.NoError(t, err)
	assert.Equal(t, "a0\n", string(data))
	assert.False(t, rr.closed)
}
