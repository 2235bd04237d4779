package restore

import (
	"context"
	"fmt"
	"io"
)

// Large objects. A BLOB METADATA entry (pre-data) creates a group of large
// objects with lo_create and, per Ident line, gives each its owner; its
// comments and privileges are COMMENT and ACL entries like any other. The
// contents come in the blocks of a BLOBS entry (data) as COPY rows of
// (large object OID, offset, bytes), which no table holds: each block is
// copied into a temporary table of the session and written into the large
// objects with lo_put, in one transaction, so a block is loaded whole or not
// at all and blocks load in parallel like table data. A script does the
// same, for psql to replay.
const (
	// blobsStage creates the session's staging table (temporary tables go
	// to pg_temp whatever the search_path).
	blobsStage = "CREATE TEMP TABLE IF NOT EXISTS pgark_lo (loid pg_catalog.oid, off pg_catalog.int8, data pg_catalog.bytea);"
	// blobsCopy is the Copy of every BLOBS entry (format/SPEC.md). It is
	// what runs, whatever the entry says, so that an archive cannot point
	// a BLOBS block at a real table.
	blobsCopy = "COPY pg_temp.pgark_lo (loid, off, data) FROM stdin;"
	// blobsWrite writes the staged chunks and empties the table. count()
	// keeps psql from printing a row per chunk.
	blobsWrite = "SELECT pg_catalog.count(pg_catalog.lo_put(loid, off, data)) FROM pg_temp.pgark_lo;\n" +
		"TRUNCATE pg_temp.pgark_lo;"
)

// loadBlobs loads one unit of a BLOBS entry on s: stage, copy, write, in a
// transaction of its own (inside the restore's with -1). A unit that fails
// is reported and rolled back, so nothing of it is written.
func (r *runner) loadBlobs(ctx context.Context, s *session, u *Unit, rd io.Reader) error {
	first := int(u.Blocks[0].Seq)
	tx := !r.opts.SingleTransaction
	pre, post := blobsStage, blobsWrite
	if tx {
		pre, post = "BEGIN;\n"+pre, post+"\nCOMMIT;"
	}
	failed := func(stmt string, err error) error {
		if tx && s.conn != nil && ctx.Err() == nil && !s.broken() {
			_ = s.exec(ctx, "ROLLBACK;")
		}
		return r.fail(ctx, s, u.Entry, first, stmt, err)
	}
	if err := s.exec(ctx, pre); err != nil {
		return failed(pre, err)
	}
	if err := s.copyFrom(ctx, blobsCopy, rd); err != nil {
		if re, ok := rd.(interface{ readErr() error }); ok && re.readErr() != nil && ctx.Err() == nil {
			err = fmt.Errorf("COPY abandoned, nothing of it loaded: %w", re.readErr())
		}
		return failed(blobsCopy, err)
	}
	if err := s.exec(ctx, post); err != nil {
		return failed(post, err)
	}
	r.track.loaded(*u)
	return nil
}
