package restore

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/format"
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

// jobs takes what worker k was given since the last call, as unit names
// ("u3") and task indexes.
func (d *drive) jobs(k int) []any {
	var out []any
	for {
		select {
		case j := <-d.ws[k].jobs:
			if j < 0 {
				u := <-d.ws[k].units
				out = append(out, "u"+u.Entry.Name)
			} else {
				out = append(out, j)
			}
		default:
			return out
		}
	}
}

// finish ends worker k's running task, or its first unit, and assigns.
func (d *drive) finish(k int, task int) {
	d.c.finish(d.ws[k], task)
	d.c.assign(d.ws)
}

// TestCoordinator: a big table's index build starts as soon as its data is
// loaded, ahead of the blocks of smaller tables; workers are given their
// next units ahead, but not past a task that outweighs them.
func TestCoordinator(t *testing.T) {
	big := &format.Entry{ID: 1, Name: "b"}
	small := &format.Entry{ID: 2, Name: "s"}
	var w work
	for range 2 {
		w.units = append(w.units, Unit{Entry: big})
		w.unitWeight = append(w.unitWeight, 100)
	}
	for range 8 {
		w.units = append(w.units, Unit{Entry: small})
		w.unitWeight = append(w.unitWeight, 10)
	}
	w.tasks = []*task{
		{e: &format.Entry{ID: 3}, data: []uint32{1}, locks: []tableLock{{10, lockShare}}}, // 0: an index on big
		{e: &format.Entry{ID: 4}, data: []uint32{2}, locks: []tableLock{{11, lockShare}}}, // 1: one on small
		{e: &format.Entry{ID: 5}, allData: true},                                          // 2: after all data
	}
	w.taskWeight = []int64{100, 10, 0}
	d := newDrive(t, w)
	assert.Equal(t, []any{"ub", "us", "us"}, d.jobs(0), "each worker is given queueDepth units")
	assert.Equal(t, []any{"ub", "us", "us"}, d.jobs(1))

	d.finish(0, -1)
	assert.Equal(t, []any{"us"}, d.jobs(0), "a unit loaded, the next is given")
	d.finish(1, -1) // the big table's data is loaded: its index outweighs the small blocks
	assert.Empty(t, d.jobs(1), "no unit is given past the task")
	d.finish(1, -1)
	d.finish(1, -1)
	assert.Equal(t, []any{0}, d.jobs(1), "the index build, once the worker's units are loaded")
	assert.Empty(t, d.jobs(0), "worker 0 has units left")
	d.finish(0, -1)
	assert.Equal(t, []any{"us"}, d.jobs(0), "smaller tables' blocks go on meanwhile")
	for range 3 {
		d.finish(0, -1)
	}
	assert.Equal(t, []any{"us", "us"}, d.jobs(0))
	d.finish(0, -1)
	d.finish(0, -1)
	assert.Equal(t, []any{1}, d.jobs(0), "the small table's index once its data is loaded")
	d.finish(0, 1)
	assert.Equal(t, []any{2}, d.jobs(0), "all data loaded: the task that waited for it")
	assert.False(t, d.c.complete())
	d.finish(1, 0)
	d.finish(0, 2)
	assert.True(t, d.c.complete())
}
