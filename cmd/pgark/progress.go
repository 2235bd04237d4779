package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/pgark/pgark/dump"
	"github.com/pgark/pgark/restore"
)

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progressBar is the progress of a dump or restore on a terminal: one
// bar with counters, drawn by mpb a few times a second. A nil
// *progressBar draws nothing, which is what dump and restore use when
// stderr is not a terminal or -v prints lines instead.
type progressBar struct {
	p    *mpb.Progress
	mu   sync.Mutex
	bar  *mpb.Bar
	text string // what the counters say, after the bar
}

// newProgressBar draws on w when it is a terminal (or always, for tests,
// with force).
func newProgressBar(w io.Writer, force bool) *progressBar {
	if !force && !isTerminal(w) {
		return nil
	}
	opts := []mpb.ContainerOption{mpb.WithOutput(w), mpb.WithRefreshRate(200 * time.Millisecond)}
	if force { // not a terminal: draw at a fixed width
		opts = append(opts, mpb.WithAutoRefresh(), mpb.WithWidth(120))
	}
	return &progressBar{p: mpb.New(opts...)}
}

// set moves the bar to done of total and sets the counters' text; the
// bar appears at the first call.
func (b *progressBar) set(name string, done, total int64, text string) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.text = text
	if b.bar == nil {
		b.bar = b.p.AddBar(max(total, 1),
			mpb.PrependDecorators(decor.Name(name+" "), decor.Percentage(decor.WCSyncSpace)),
			mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
				b.mu.Lock()
				defer b.mu.Unlock()
				return b.text
			}, decor.WCSyncSpaceR), decor.Elapsed(decor.ET_STYLE_GO, decor.WCSyncSpace)))
	}
	b.bar.SetTotal(max(total, 1), false)
	b.bar.SetCurrent(min(done, total))
}

// finish completes the bar (ok) or leaves it where it stopped, and waits
// until it is drawn for the last time.
func (b *progressBar) finish(ok bool) {
	if b == nil {
		return
	}
	b.mu.Lock()
	bar := b.bar
	b.mu.Unlock()
	if bar != nil {
		if ok {
			bar.SetTotal(-1, true)
		} else {
			bar.Abort(false)
		}
	}
	b.p.Wait()
}

// writer returns where to print lines while the bar is drawn: above it,
// or w when there is no bar.
func (b *progressBar) writer(w io.Writer) io.Writer {
	if b == nil {
		return w
	}
	return b.p
}

// dumpProgress feeds dump events to the bar: tables (and parts of split
// tables) copied, rows and bytes.
func (b *progressBar) dumpProgress() func(dump.Event) {
	var mu sync.Mutex
	var done, total int
	var rows, bytes int64
	return func(e dump.Event) {
		mu.Lock()
		defer mu.Unlock()
		switch e.Kind {
		case dump.EventEntries:
			total = e.Tables
		case dump.EventTableDone:
			done++
			rows += e.Rows
			bytes += e.Bytes
		default:
			return
		}
		b.set("dump", int64(done), int64(total),
			fmt.Sprintf("%d/%d tables, %d rows, %s", done, total, rows, sizeText(bytes)))
	}
}

// restoreProgress feeds restore progress to the bar: entries run and data
// blocks loaded count alike.
func (b *progressBar) restoreProgress() func(restore.Progress) {
	return func(p restore.Progress) {
		b.set("restore", int64(p.EntriesDone+p.BlocksSent), int64(p.Entries+p.Blocks),
			fmt.Sprintf("%d/%d entries, %d/%d blocks, %d rows", p.EntriesDone, p.Entries, p.BlocksLoaded, p.Blocks, p.Rows))
	}
}

// sizeText renders a byte count for people.
func sizeText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
