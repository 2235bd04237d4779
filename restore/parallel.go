package restore

import (
	"context"
	"slices"
	"sync"

	"golang.org/x/sync/semaphore"

	"github.com/pgark/pgark/format"
)

// work is a parallel phase for the workers: data units to load, in order,
// and tasks to run (see newTasks), with what each weighs.
type work struct {
	units      []Unit
	unitWeight []int64
	tasks      []*task
	taskWeight []int64
}

// queueDepth is how many runs a worker is given at once: the one it
// loads and those its read-ahead reads and decodes meanwhile. It is given
// no more once those hold readAheadBytes, what its read-ahead can hold.
const queueDepth = 3

// maxRunBytes bounds the raw bytes of a run, the consecutive units of one
// table that a worker is given at once and sends as one COPY.
const maxRunBytes = 256 << 20

// worker is a session with its read-ahead, as the coordinator sees it.
type worker struct {
	s      *session
	units  chan Unit // runs, to the read-ahead, in the order of the unit jobs
	jobs   chan int  // a unit job (-1: the next run the read-ahead staged) or a task index
	queue  []span    // runs given, not yet loaded
	queued int64     // the raw bytes of queue
	inTask bool
}

// span is a run: n units from the first, of one table.
type span struct {
	first, n int
	raw      int64
}

// finished is a job a worker is done with.
type finished struct {
	w    int
	task int // or -1 for a unit
	err  error
}

// parallel runs w on the workers. A task starts once the tasks it waits
// for are done, the data it waits for is loaded (task.data, task.allData)
// and no running task holds a conflicting lock on one of its tables.
//
// Of the work that can start, the heaviest goes first, as pg_restore
// orders its ready items by size: a unit weighs what its table's data
// does (or the heaviest task that waits for it, gateWeights), a task what
// its heaviest table's data does. So a big table's index builds start as
// soon as its last block is loaded, ahead of the blocks of smaller
// tables, and those fill the other workers meanwhile; units go before
// tasks of the same weight, units in order, tasks in archive order.
// Instant tasks (a key's attach, a foreign key's ADD ... NOT VALID) go
// before other tasks, and may hold some back (heldLocks.pick). Units go
// in runs, a table's consecutive units sent as one COPY (see run). A
// worker is given its next runs while it loads one, so that its
// read-ahead stays busy, unless a task outweighs them: then it takes the
// task once the runs it has are loaded.
//
// A unit or task that fails and must stop the restore stops the
// assignment; parallel returns the first such error once the running
// work is done.
func (r *runner) parallel(ctx context.Context, ar *format.Reader, w work) error {
	if len(w.units) == 0 && len(w.tasks) == 0 {
		return nil
	}
	c := newCoordinator(w)
	done := make(chan finished)
	var wg sync.WaitGroup
	workers := make([]*worker, len(r.workers))
	for k, s := range r.workers {
		wk := &worker{s: s, units: make(chan Unit, queueDepth), jobs: make(chan int, queueDepth)}
		workers[k] = wk
		var staged chan *stagedUnit
		var ra *readAhead
		if len(w.units) > 0 {
			// Each worker reads and decodes its next blocks while its
			// session loads the current ones, so the server never waits
			// for the client.
			staged = make(chan *stagedUnit, 1)
			ra = &readAhead{budget: semaphore.NewWeighted(readAheadBytes), bufs: make(chan []byte, readAheadBufs),
				binary: r.binary, conv: newCodecs()}
			wg.Go(func() { ra.stage(ctx, ar, wk.units, staged) })
		}
		wg.Go(func() {
			for j := range wk.jobs {
				if j >= 0 {
					done <- finished{w: k, task: j, err: r.runTask(ctx, s, w.tasks[j])}
					continue
				}
				st, ok := <-staged
				if !ok { // the read-ahead stopped: the restore is stopping
					done <- finished{w: k, task: -1, err: context.Cause(ctx)}
					continue
				}
				rd := &stagedReader{ctx: ctx, st: st, ra: ra, track: r.track}
				err := r.loadStaged(ctx, s, rd)
				rd.drain()
				done <- finished{w: k, task: -1, err: err}
			}
		})
	}
	var stopErr error
	running := 0
	for {
		if stopErr == nil {
			running += c.assign(workers)
		}
		if running == 0 {
			break
		}
		f := <-done
		running--
		c.finish(workers[f.w], f.task)
		if f.err != nil && stopErr == nil {
			stopErr = f.err
			r.stop(f.err)
		}
		if stopErr == nil && ctx.Err() != nil {
			stopErr = context.Cause(ctx)
		}
	}
	for _, wk := range workers {
		close(wk.units)
		close(wk.jobs)
	}
	wg.Wait()
	if stopErr == nil && !c.complete() {
		return errCycle
	}
	return stopErr
}

// coordinator is the state of parallel's assignment; only parallel's
// goroutine touches it.
type coordinator struct {
	work
	next      int            // the first unit not given to a worker
	toGive    map[uint32]int // units not given to a worker, by data entry
	unitsLeft map[uint32]int // units not loaded, by data entry
	loading   int            // units not loaded
	waiting   []int          // what each task still waits for
	dependent [][]int        // the tasks that wait for each task
	onData    map[uint32][]int
	onAll     []int // the tasks that wait for all data
	ready     []int // tasks that can start, ascending
	held      heldLocks
	tasksLeft int
}

func newCoordinator(w work) *coordinator {
	c := &coordinator{work: w, toGive: map[uint32]int{}, unitsLeft: map[uint32]int{}, loading: len(w.units),
		waiting: make([]int, len(w.tasks)), dependent: make([][]int, len(w.tasks)),
		onData: map[uint32][]int{}, held: heldLocks{}, tasksLeft: len(w.tasks)}
	for _, u := range w.units {
		c.toGive[u.Entry.ID]++
		c.unitsLeft[u.Entry.ID]++
	}
	for i, t := range w.tasks {
		c.waiting[i] = len(t.deps)
		for _, d := range t.deps {
			c.dependent[d] = append(c.dependent[d], i)
		}
		for _, id := range t.data {
			if c.unitsLeft[id] > 0 {
				c.waiting[i]++
				c.onData[id] = append(c.onData[id], i)
			}
		}
		if t.allData && c.loading > 0 {
			c.waiting[i]++
			c.onAll = append(c.onAll, i)
		}
		if c.waiting[i] == 0 {
			c.ready = append(c.ready, i)
		}
	}
	return c
}

// assign gives the workers what they can take now and returns how many
// jobs it handed out.
func (c *coordinator) assign(workers []*worker) int {
	n := 0
	for more := true; more; {
		more = false
		for _, wk := range workers {
			if wk.inTask || len(wk.queue) >= queueDepth || wk.queued >= readAheadBytes {
				continue
			}
			pick, weight := c.held.pick(c.ready, c.tasks, c.taskWeight, c.dependent)
			taskFirst := pick >= 0 && (c.next == len(c.units) || weight > c.unitWeight[c.next])
			switch {
			case len(wk.queue) == 0 && taskFirst:
				i := c.ready[pick]
				c.ready = slices.Delete(c.ready, pick, pick+1)
				c.held.take(c.tasks[i], 1)
				wk.inTask = true
				wk.jobs <- i
			case c.next < len(c.units) && !taskFirst:
				sp := c.run(len(workers))
				wk.queue = append(wk.queue, sp)
				wk.queued += sp.raw
				wk.units <- c.merge(sp)
				wk.jobs <- -1
				c.next += sp.n
			default:
				continue
			}
			n++
			more = true
		}
	}
	return n
}

// run is the run that starts at the first unit not given: that unit and
// the ones after it of the same table, up to the table's share of each
// worker in what is left to give of it, within maxRunBytes. So a table's
// units go as a few large COPYs, which cost the server much less than a
// COPY per block, while the workers end a table at about the same time:
// the first runs take half of what is left (with two workers), the last
// ones a block. Large objects go block by block (loadBlobs).
func (c *coordinator) run(workers int) span {
	u := c.units[c.next]
	sp := span{first: c.next, n: 1, raw: u.raw()}
	if u.Entry.Kind != kindBlobs {
		share := (c.toGive[u.Entry.ID] + workers - 1) / workers
		for sp.n < share && c.next+sp.n < len(c.units) {
			v := c.units[c.next+sp.n]
			if v.Entry.ID != u.Entry.ID || sp.raw+v.raw() > maxRunBytes {
				break
			}
			sp.n++
			sp.raw += v.raw()
		}
	}
	c.toGive[u.Entry.ID] -= sp.n
	return sp
}

// merge is the unit of sp's blocks, which its worker loads.
func (c *coordinator) merge(sp span) Unit {
	if sp.n == 1 {
		return c.units[sp.first]
	}
	u := Unit{Entry: c.units[sp.first].Entry}
	for _, v := range c.units[sp.first : sp.first+sp.n] {
		u.Blocks = append(u.Blocks, v.Blocks...)
	}
	return u
}

// finish records that wk is done with a task (i >= 0) or its first run.
func (c *coordinator) finish(wk *worker, i int) {
	if i >= 0 {
		wk.inTask = false
		c.held.take(c.tasks[i], -1)
		c.tasksLeft--
		for _, j := range c.dependent[i] {
			c.release(j)
		}
		return
	}
	sp := wk.queue[0]
	wk.queue = wk.queue[1:]
	wk.queued -= sp.raw
	u := c.units[sp.first]
	c.loading -= sp.n
	if c.unitsLeft[u.Entry.ID] -= sp.n; c.unitsLeft[u.Entry.ID] == 0 {
		for _, j := range c.onData[u.Entry.ID] {
			c.release(j)
		}
	}
	if c.loading == 0 {
		for _, j := range c.onAll {
			c.release(j)
		}
	}
}

// release counts one thing task j waited for as done.
func (c *coordinator) release(j int) {
	if c.waiting[j]--; c.waiting[j] == 0 {
		k, _ := slices.BinarySearch(c.ready, j)
		c.ready = slices.Insert(c.ready, k, j)
	}
}

// complete says whether every unit was loaded and every task run.
func (c *coordinator) complete() bool { return c.loading == 0 && c.tasksLeft == 0 }
