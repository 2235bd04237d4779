package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/pgark/pgark/dump"
	"github.com/pgark/pgark/restore"
)

func TestProgressBar(t *testing.T) {
	// Not a terminal: no bar, and a nil bar does nothing.
	var quiet bytes.Buffer
	b := newProgressBar(&quiet, false)
	assert.Nil(t, b)
	b.dumpProgress()(dump.Event{Kind: dump.EventEntries, Tables: 2})
	b.finish(true)
	assert.Same(t, &quiet, b.writer(&quiet))
	assert.Empty(t, quiet.String())

	var out bytes.Buffer
	b = newProgressBar(&out, true)
	feed := b.dumpProgress()
	feed(dump.Event{Kind: dump.EventEntries, Entries: 9, Tables: 2})
	feed(dump.Event{Kind: dump.EventTableStart, Table: "t"})
	feed(dump.Event{Kind: dump.EventTableDone, Table: "t", Rows: 10, Bytes: 3 << 20})
	feed(dump.Event{Kind: dump.EventTableDone, Table: "u", Rows: 5, Bytes: 1})
	b.finish(true)
	assert.Contains(t, out.String(), "dump")
	assert.Contains(t, out.String(), "2/2 tables, 15 rows, 3.0 MiB")
	assert.Contains(t, out.String(), "100 %")

	out.Reset()
	b = newProgressBar(&out, true)
	// The bar moves as blocks are sent (a COPY of a run takes many); the
	// text counts those loaded.
	b.restoreProgress()(restore.Progress{Entries: 4, EntriesDone: 1, Blocks: 6, BlocksLoaded: 3, BlocksSent: 5, Rows: 70})
	b.finish(false)
	assert.Contains(t, out.String(), "1/4 entries, 3/6 blocks, 70 rows")
	assert.Contains(t, out.String(), "60 %")
}
