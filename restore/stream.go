package restore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"sync"
	"time"

	"github.com/pgark/pgark/format"
	"github.com/pgark/pgark/internal/copybin"
)

// ErrCleanStream is returned for -c on a stream: the drops must run in
// reverse dependency order before anything is created, so they need the
// whole table of contents, and a stream delivers post-data entries (foreign
// keys, which block dropping the tables they reference) last.
var ErrCleanStream = errors.New("restore: --clean needs the whole table of contents first: restore from a file, not a stream")

// streamUnit is a unit read from a stream. data is its first block, owned
// by the unit; for a chain, more delivers the following blocks and is
// closed after the last one (or after an error chunk). bin is the unit's
// table when its rows may go as COPY binary.
type streamUnit struct {
	u    *Unit
	data []byte
	more chan chunk
	bin  *binaryTable
	err  error // the block's binary rows do not turn into text (prepare)
	// prepared says prepare has run: data is in its final form.
	prepared bool
}

// chunk is a block of a chain after the first, or the error that broke the
// chain.
type chunk struct {
	block format.Block
	data  []byte
	err   error
}

// chainReader yields a stream unit's rows, adding each further block of a
// chain to the unit as it is read. An error chunk (the stream broke inside
// the chain) fails the read, and so the COPY; the chain ends only when its
// channel is closed after its last block.
type chainReader struct {
	ctx  context.Context
	u    *Unit
	buf  []byte
	more <-chan chunk
	err  error
}

func (c *chainReader) readErr() error { return c.err }

func (c *chainReader) Read(p []byte) (int, error) {
	for len(c.buf) == 0 {
		if c.more == nil {
			return 0, io.EOF
		}
		select {
		case ch, ok := <-c.more:
			switch {
			case !ok:
				c.more = nil
			case ch.err != nil:
				c.err = ch.err
				return 0, ch.err
			default:
				c.buf = ch.data
				c.u.Blocks = append(c.u.Blocks, ch.block)
			}
		case <-c.ctx.Done():
			return 0, context.Cause(c.ctx)
		}
	}
	n := copy(p, c.buf)
	c.buf = c.buf[n:]
	return n, nil
}

// runReader is a stream worker's COPY of a run: a block, and the blocks of
// the same table the worker receives next, as long as they come in the
// same form (text or binary, the header and trailer around them) and
// within maxRunBytes. A COPY per block costs the server much more (see
// the package doc). A unit received that does not go on in the run is
// kept for the next one. A run also ends when no block arrives within
// runWait: the scanner may be running a statement on the main session,
// which must not wait for a COPY that waits for the scanner.
type runReader struct {
	ctx     context.Context
	units   <-chan streamUnit
	conv    codecs
	pending *streamUnit // received, not part of the run being sent
	closed  bool        // units is closed

	e      *format.Entry
	bin    *binaryTable // the run is COPY binary rows of this table
	blocks []format.Block
	raw    int64
	buf    []byte // what is left to send of the current block
	frame  []byte // header or trailer bytes to send first
	err    error  // the run's block cannot be sent (streamUnit.err)
	ended  bool
	r      *runner
}

// runWait is how long an open COPY waits for the stream's next block.
const runWait = 100 * time.Millisecond

// nextUnit returns the unit kept, or the next one received; ok is false
// once units is closed.
func (rr *runReader) nextUnit() (streamUnit, bool) {
	if su := rr.pending; su != nil {
		rr.pending = nil
		return *su, true
	}
	if rr.closed {
		return streamUnit{}, false
	}
	su, ok := <-rr.units
	if !ok {
		rr.closed = true
	}
	return su, ok
}

// prepare puts a block's rows in the form they are sent in (codecs.form);
// su.bin is then the table when that is COPY binary, else nil. A unit is
// prepared once: a unit that does not go on in a run is prepared when it
// is kept for the next one.
func (rr *runReader) prepare(su *streamUnit) {
	if su.prepared {
		return
	}
	su.prepared = true
	su.data, su.bin, su.err = rr.conv.form(nil, su.u.Entry, su.u.Blocks[0].Binary, su.bin, su.data)
}

// start begins a run with su, a unit of one block.
func (rr *runReader) start(r *runner, su streamUnit) {
	rr.prepare(&su)
	rr.r, rr.e, rr.bin, rr.err, rr.ended = r, su.u.Entry, su.bin, su.err, false
	rr.blocks, rr.raw, rr.buf, rr.frame = su.u.Blocks, su.u.raw(), su.data, nil
	if rr.bin != nil {
		rr.frame = copybin.Header(nil)
	}
}

func (rr *runReader) Read(p []byte) (int, error) {
	if rr.err != nil {
		return 0, rr.err
	}
	for {
		if len(rr.frame) > 0 {
			n := copy(p, rr.frame)
			rr.frame = rr.frame[n:]
			return n, nil
		}
		if len(rr.buf) > 0 {
			n := copy(p, rr.buf)
			rr.buf = rr.buf[n:]
			return n, nil
		}
		if rr.ended {
			return 0, io.EOF
		}
		var su streamUnit
		var ok bool
		if !rr.closed {
			wait := time.NewTimer(runWait)
			select {
			case su, ok = <-rr.units:
				rr.closed = !ok
			case <-wait.C:
			case <-rr.ctx.Done():
				wait.Stop()
				return 0, context.Cause(rr.ctx)
			}
			wait.Stop()
		}
		if ok && su.more == nil && su.u.Entry.ID == rr.e.ID && rr.raw+su.u.raw() <= maxRunBytes {
			rr.prepare(&su)
			if su.bin == rr.bin && su.err == nil {
				rr.blocks = append(rr.blocks, su.u.Blocks[0])
				rr.raw += su.u.raw()
				rr.buf = su.data
				rr.r.verbose("loading %s %s block %d, in the COPY of block %d", rr.e.Kind, describe(rr.e.Schema, rr.e.Name), su.u.Blocks[0].Seq, rr.blocks[0].Seq)
				continue
			}
		}
		if ok {
			rr.pending = &su
		}
		rr.ended = true
		if rr.bin != nil {
			rr.frame = copybin.Trailer(nil)
		}
	}
}

// loadRun loads su, a unit of one block, and the blocks that go on in its
// run (runReader) as one COPY on s. A COPY that fails is reported once,
// with its blocks, and nothing of it is loaded.
func (r *runner) loadRun(ctx context.Context, s *session, rr *runReader, su streamUnit) error {
	rr.start(r, su)
	e := rr.e
	if e.Kind == kindBlobs {
		rr.ended = true // large objects go block by block
		r.verbose("loading %s %s block %d", e.Kind, describe(e.Schema, e.Name), rr.blocks[0].Seq)
		return r.loadBlobs(ctx, s, &Unit{Entry: e, Blocks: rr.blocks}, rr)
	}
	copySQL, as := e.Copy, ""
	if rr.bin != nil {
		copySQL, as = rr.bin.copySQL, " (COPY binary)"
	}
	r.verbose("loading %s %s block %d%s", e.Kind, describe(e.Schema, e.Name), rr.blocks[0].Seq, as)
	err := s.copyFrom(ctx, copySQL, rr)
	if err == nil {
		r.track.loaded(Unit{Entry: e, Blocks: rr.blocks})
		return nil
	}
	if ctx.Err() != nil {
		return r.fail(ctx, s, e, int(rr.blocks[0].Seq), copySQL, err)
	}
	ee := &EntryError{ID: e.ID, Kind: e.Kind, Schema: e.Schema, Name: e.Name, Block: int(rr.blocks[0].Seq), Statement: firstLine(copySQL), Err: err}
	if n := len(rr.blocks); n > 1 {
		ee.LastBlock = int(rr.blocks[n-1].Seq)
	}
	return r.failed(s, ee)
}

// RunStream restores an archive read front to back from rd (a pipe or
// stdin) into t, never holding more than a few blocks per worker in
// memory. Pre-data entries run as they arrive, in order, on one
// connection; data blocks are loaded as they arrive by up to Jobs workers
// (a full worker pool slows the reading); post-data entries, privileges and
// refreshes, which the archive carries last, are collected and run once
// the stream has ended cleanly. A stream that is cut short or damaged ends
// the restore with the scanner's error, after the blocks already handed
// out are loaded; the Result says what was done. The -L list is not
// checked against the archive's entries (they are not known in advance).
func RunStream(ctx context.Context, rd io.Reader, t Target, opts Options) (*Result, error) {
	if opts.Clean && !opts.Create {
		return &Result{}, ErrCleanStream
	}
	if len(opts.Select.WholeTables) > 0 {
		return &Result{}, ErrWholeTableStream
	}
	if opts.Select.StrictNames {
		return &Result{}, ErrStrictNamesStream
	}
	sc := format.NewScanner(ctxReader{ctx: ctx, r: rd})
	defer sc.Close()
	if !sc.Next() {
		err := sc.Err()
		if err == nil {
			err = errors.New("format: empty archive")
		}
		return &Result{}, fmt.Errorf("read archive: %w", err)
	}
	info := *sc.Record().Info
	if info.Cluster {
		return &Result{}, ErrClusterStream
	}
	r, err := newRunner(info, t, opts)
	if err != nil {
		return &Result{}, err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	r.cancel = cancel
	complete, err := r.runStream(ctx, sc)
	return r.end(ctx, err, complete)
}

func (r *runner) runStream(ctx context.Context, sc *format.Scanner) (bool, error) {
	// The archive's first entry is its DATABASE entry, which -C needs
	// before anything else: read it before setting up, then go on from it.
	peeked := sc.Next()
	if rec := sc.Record(); peeked && rec.Kind == format.RecordEntry && rec.Entry.Kind == kindDatabase {
		r.db = rec.Entry
	}
	if err := r.setup(ctx, r.opts.Jobs); err != nil {
		return false, err
	}
	byID := map[uint32]*format.Entry{}
	sel := newSelector(&r.opts, nil)
	loads := map[uint32]*format.Entry{} // selected entries whose blocks are loaded
	binary := map[uint32]*binaryTable{} // those whose rows may go as COPY binary
	var unknown []*format.Entry         // loads not yet looked up for binary
	var post, acl, refresh []*format.Entry

	units := make(chan streamUnit, len(r.workers))
	var wg sync.WaitGroup
	for _, s := range r.workers {
		wg.Go(func() {
			rr := &runReader{ctx: ctx, units: units, conv: newCodecs()}
			for {
				su, ok := rr.nextUnit()
				if !ok {
					return
				}
				if su.more == nil {
					if err := r.loadRun(ctx, s, rr, su); err != nil {
						r.stop(err)
					}
					continue
				}
				// A chain's blocks hold parts of one row: text only, a
				// COPY of its own.
				if err := r.load(ctx, s, su.u, &chainReader{ctx: ctx, u: su.u, buf: su.data, more: su.more}); err != nil {
					r.stop(err)
				}
				// A COPY that failed early leaves the rest of its chain
				// unread; drain it so the reader is not blocked.
				for range su.more {
				}
			}
		})
	}
	var chain chan chunk // the chain being read, if any
	send := func(su streamUnit) bool {
		select {
		case units <- su:
			return true
		case <-ctx.Done():
			return false
		}
	}
	scanErr := func() error {
		for more := peeked; more; more = sc.Next() {
			if err := ctx.Err(); err != nil {
				return nil
			}
			rec := sc.Record()
			switch rec.Kind {
			case format.RecordEntry:
				e := rec.Entry
				byID[e.ID] = e
				if !sel.selects(e) {
					continue
				}
				r.track.add(e, hasSQL(e))
				switch PhaseOf(e) {
				case PhasePre:
					if err := r.runEntry(ctx, r.main, e); err != nil {
						r.stop(err)
						return nil
					}
				case PhaseData:
					if r.opts.DisableTriggers && hasTriggers(e) {
						if err := r.setTriggers(ctx, e, false); err != nil {
							r.stop(err)
							return nil
						}
					}
					if err := r.runEntry(ctx, r.main, e); err != nil {
						r.stop(err)
						return nil
					}
					if e.Copy != "" {
						loads[e.ID] = e
						if !r.opts.TextCopy {
							unknown = append(unknown, e)
						}
					}
				case PhasePost:
					post = append(post, e)
				case PhaseACL:
					acl = append(acl, e)
				case PhaseRefresh:
					refresh = append(refresh, e)
				}
			case format.RecordData:
				b := rec.Block
				if chain != nil {
					// The scanner checked that this is the chain's next block.
					// The scanner checked that this is the chain's next
					// block. The worker always reads or drains the chain.
					r.track.addBlocks(b.Entry, 1)
					chain <- chunk{block: b, data: bytes.Clone(rec.Data)}
					if !b.Continues {
						close(chain)
						chain = nil
					}
					if ctx.Err() != nil {
						return nil
					}
					continue
				}
				e := loads[b.Entry]
				if e == nil {
					continue // not selected (a chain of it is skipped block by block)
				}
				if len(unknown) > 0 {
					// The entries come before the blocks: one query for
					// the tables received so far, as from a file.
					bt, err := binaryTables(ctx, r.main, unknown)
					if err != nil {
						r.stop(fmt.Errorf("restore: %w", err))
						return nil
					}
					maps.Copy(binary, bt)
					unknown = nil
				}
				su := streamUnit{u: &Unit{Entry: e, Blocks: []format.Block{b}}, data: bytes.Clone(rec.Data), bin: binary[b.Entry]}
				if b.Continues {
					su.more = make(chan chunk, 1)
				}
				r.track.addBlocks(b.Entry, 1)
				if !send(su) {
					return nil
				}
				chain = su.more
			}
		}
		return sc.Err()
	}()
	if chain != nil {
		err := scanErr
		if err == nil {
			err = context.Cause(ctx)
		}
		if err == nil {
			err = errors.New("restore: stream ended inside a chain of blocks")
		}
		// Never just close: a COPY fed a chain cut short would load a
		// partial last row. The worker reads or drains the chain, so this
		// send completes.
		chain <- chunk{err: err}
		close(chain)
	}
	close(units)
	wg.Wait()
	if scanErr != nil {
		// Enable the triggers again on what was loaded, then say what
		// never arrived.
		if r.opts.DisableTriggers && r.stopped() == nil {
			_ = r.enableTriggers(ctx)
		}
		r.track.note("the rest of the archive, which never arrived; the post-data entries and privileges received were not run")
		if errors.Is(scanErr, format.ErrTruncated) {
			return false, fmt.Errorf("the archive stream ends early, after %d bytes: %w", sc.Offset(), scanErr)
		}
		return false, fmt.Errorf("read archive at offset %d: %w", sc.Offset(), scanErr)
	}
	if err := r.stopped(); err != nil {
		return false, err
	}
	if err := ctx.Err(); err != nil {
		return false, context.Cause(ctx)
	}
	if r.opts.DisableTriggers {
		if err := r.enableTriggers(ctx); err != nil {
			return false, err
		}
	}
	if err := r.finalPhases(ctx, post, acl, refresh, byID); err != nil {
		return false, err
	}
	return true, nil
}

// ctxReader ends a sequential read at the first Read after ctx is done. A
// Read already blocked on an idle pipe stays blocked until data or EOF.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, context.Cause(c.ctx)
	}
	return c.r.Read(p)
}
