// Package format reads and writes pgark archives: one file holding a table
// of contents and the COPY data of a logical dump, in independently
// compressed, CRC32C-checked blocks, with an index and a fixed-size footer
// at the end. SPEC.md beside this file is the normative description.
//
// The file is written strictly sequentially (Writer), so it may go to a pipe,
// and read two ways: at random from a file (Reader, on io.ReaderAt and a
// size, which starts from the footer) or front to back from a pipe
// (Scanner).
//
// Concurrency: a Writer's AddEntry and WriteBlock may be called from many
// goroutines; each call compresses in its own goroutine and then appends to
// the one output under a lock, in arrival order. A Reader's methods are safe
// for concurrent use, so several goroutines may read blocks at once. A
// Scanner is for one goroutine.
//
// The package knows nothing of PostgreSQL: entries carry SQL as strings and
// blocks carry COPY text as bytes.
package format
