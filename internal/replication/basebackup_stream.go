package replication

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgark/pgark/internal/wal"
)

// BaseBackupPosition is a WAL position result set of BASE_BACKUP: where
// the backup starts (before the archives) or ends (after them).
type BaseBackupPosition struct {
	LSN      wal.LSN
	Timeline wal.TimelineID
}

// TablespaceHeader is a row of BASE_BACKUP's tablespace result set. The
// main data directory has OID 0 and Location "".
type TablespaceHeader struct {
	OID      uint32
	Location string
	// SizeKB is the server's estimate in kB with PROGRESS, else -1.
	SizeKB int64
}

// BaseBackupStream is a running PostgreSQL 15+ BASE_BACKUP on a
// connection: Start and Tablespaces are known once StartBaseBackup
// returns; Next returns the CopyData messages, then io.EOF, after which
// End holds the end position. The connection carries nothing else until
// Next has returned io.EOF or an error.
type BaseBackupStream struct {
	c           *pgconn.PgConn
	start       BaseBackupPosition
	tablespaces []TablespaceHeader
	end         BaseBackupPosition
	done        bool
	// Notices are the server's NoticeResponses (WARNINGs such as checksum
	// failures of single files), in order.
	notices []*pgconn.Notice
}

// StartBaseBackup checks the server version (15 or later), sends
// BASE_BACKUP with opts and reads the start position and the tablespace
// list, up to the start of the archive data.
func StartBaseBackup(ctx context.Context, c *pgconn.PgConn, opts BaseBackupOptions) (*BaseBackupStream, error) {
	if _, err := checkVersion(ctx, c, "BASE_BACKUP"); err != nil {
		return nil, err
	}
	cmd, err := BaseBackupCommand(opts)
	if err != nil {
		return nil, err
	}
	c.Frontend().SendQuery(&pgproto3.Query{String: cmd})
	if err := c.Frontend().Flush(); err != nil {
		return nil, fmt.Errorf("replication: base backup: %w", err)
	}
	b := &BaseBackupStream{c: c}
	var rows [][][]byte
	results := 0
	for {
		msg, err := c.ReceiveMessage(ctx)
		if err != nil {
			return nil, fmt.Errorf("replication: base backup: %w", err)
		}
		switch m := msg.(type) {
		case *pgproto3.RowDescription:
			rows = rows[:0]
		case *pgproto3.DataRow:
			rows = append(rows, cloneRow(m.Values))
		case *pgproto3.CommandComplete:
			results++
			switch results {
			case 1:
				if b.start, err = ParseBaseBackupPosition(rows); err != nil {
					return nil, fmt.Errorf("replication: base backup start: %w", err)
				}
			case 2:
				if b.tablespaces, err = ParseTablespaceHeaders(rows); err != nil {
					return nil, fmt.Errorf("replication: base backup: %w", err)
				}
			default:
				return nil, fmt.Errorf("replication: base backup: %w: %d result sets before the data", ErrProtocol, results)
			}
		case *pgproto3.CopyOutResponse:
			if results != 2 {
				return nil, fmt.Errorf("replication: base backup: %w: data after %d result sets, want 2", ErrProtocol, results)
			}
			return b, nil
		case *pgproto3.ErrorResponse:
			err := pgconn.ErrorResponseToPgError(m)
			drainToReady(ctx, c)
			return nil, fmt.Errorf("replication: base backup: %w", err)
		case *pgproto3.NoticeResponse:
			b.notices = append(b.notices, (*pgconn.Notice)(pgconn.ErrorResponseToPgError((*pgproto3.ErrorResponse)(m))))
		case *pgproto3.ParameterStatus:
		default:
			return nil, fmt.Errorf("replication: base backup: %w: unexpected %T", ErrProtocol, msg)
		}
	}
}

func cloneRow(vals [][]byte) [][]byte {
	out := make([][]byte, len(vals))
	for i, v := range vals {
		if v != nil {
			out[i] = append([]byte{}, v...)
		}
	}
	return out
}

// Start is where the backup starts: the redo point of its checkpoint.
func (b *BaseBackupStream) Start() BaseBackupPosition { return b.start }

// Tablespaces lists the archives the server will send, in order; the
// main data directory (OID 0) comes last.
func (b *BaseBackupStream) Tablespaces() []TablespaceHeader { return b.tablespaces }

// End is where the backup ends, valid after Next returned io.EOF.
func (b *BaseBackupStream) End() BaseBackupPosition { return b.end }

// Notices returns the notices and warnings received so far.
func (b *BaseBackupStream) Notices() []*pgconn.Notice { return b.notices }

// Next returns the next message of the archive stream. An ArchiveData's
// Data is valid only until the next call. After the last message it reads
// the end position and the command's completion and returns io.EOF; an
// ErrorResponse at any point (SQLSTATE XX001 for data checksum failures,
// sent after the end position) is returned as an error wrapping the
// *pgconn.PgError. After an error other than a PgError the connection
// should be closed.
func (b *BaseBackupStream) Next(ctx context.Context) (BaseBackupMessage, error) {
	if b.done {
		return nil, io.EOF
	}
	for {
		msg, err := b.c.ReceiveMessage(ctx)
		if err != nil {
			return nil, fmt.Errorf("replication: base backup: %w", err)
		}
		switch m := msg.(type) {
		case *pgproto3.CopyData:
			return ParseBaseBackupMessage(m.Data)
		case *pgproto3.CopyDone:
			return nil, b.finish(ctx)
		case *pgproto3.ErrorResponse:
			err := pgconn.ErrorResponseToPgError(m)
			drainToReady(ctx, b.c)
			b.done = true
			return nil, fmt.Errorf("replication: base backup: %w", err)
		case *pgproto3.NoticeResponse:
			b.notices = append(b.notices, (*pgconn.Notice)(pgconn.ErrorResponseToPgError((*pgproto3.ErrorResponse)(m))))
		case *pgproto3.ParameterStatus:
		default:
			return nil, fmt.Errorf("replication: base backup: %w: unexpected %T", ErrProtocol, msg)
		}
	}
}

// finish reads what follows the archives: the end position result set,
// then ReadyForQuery, with any error in between. It returns io.EOF on
// success.
func (b *BaseBackupStream) finish(ctx context.Context) error {
	b.done = true
	var rows [][][]byte
	var pgErr error
	gotEnd := false
	for {
		msg, err := b.c.ReceiveMessage(ctx)
		if err != nil {
			return fmt.Errorf("replication: base backup end: %w", err)
		}
		switch m := msg.(type) {
		case *pgproto3.RowDescription:
			rows = rows[:0]
		case *pgproto3.DataRow:
			rows = append(rows, cloneRow(m.Values))
		case *pgproto3.CommandComplete:
			if !gotEnd && len(rows) > 0 {
				if b.end, err = ParseBaseBackupPosition(rows); err != nil {
					return fmt.Errorf("replication: base backup end: %w", err)
				}
				gotEnd = true
			}
		case *pgproto3.ErrorResponse:
			if pgErr == nil {
				pgErr = pgconn.ErrorResponseToPgError(m)
			}
		case *pgproto3.NoticeResponse:
			b.notices = append(b.notices, (*pgconn.Notice)(pgconn.ErrorResponseToPgError((*pgproto3.ErrorResponse)(m))))
		case *pgproto3.ParameterStatus, *pgproto3.EmptyQueryResponse:
		case *pgproto3.ReadyForQuery:
			switch {
			case pgErr != nil:
				return fmt.Errorf("replication: base backup: %w", pgErr)
			case !gotEnd:
				return fmt.Errorf("replication: base backup end: %w: no end position", ErrProtocol)
			}
			return io.EOF
		default:
			return fmt.Errorf("replication: base backup end: %w: unexpected %T", ErrProtocol, msg)
		}
	}
}

// ParseBaseBackupPosition decodes the start or end result set of
// BASE_BACKUP: one row of recptr (an LSN) and tli.
func ParseBaseBackupPosition(rows [][][]byte) (BaseBackupPosition, error) {
	if len(rows) != 1 || len(rows[0]) < 2 {
		return BaseBackupPosition{}, fmt.Errorf("%w: position result of %d rows, want 1 of 2 columns", ErrProtocol, len(rows))
	}
	lsn, err := wal.ParseLSN(string(rows[0][0]))
	if err != nil {
		return BaseBackupPosition{}, fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	tli, err := wal.ParseTimelineID(string(rows[0][1]))
	if err != nil {
		return BaseBackupPosition{}, fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	return BaseBackupPosition{LSN: lsn, Timeline: tli}, nil
}

// ParseTablespaceHeaders decodes BASE_BACKUP's tablespace result set:
// rows of spcoid, spclocation and size, the first two NULL for the main
// data directory, size NULL without PROGRESS.
func ParseTablespaceHeaders(rows [][][]byte) ([]TablespaceHeader, error) {
	out := make([]TablespaceHeader, 0, len(rows))
	mains := 0
	for _, r := range rows {
		if len(r) < 3 {
			return nil, fmt.Errorf("%w: tablespace row of %d columns, want 3", ErrProtocol, len(r))
		}
		h := TablespaceHeader{SizeKB: -1, Location: string(r[1])}
		if r[0] == nil {
			mains++
			if r[1] != nil {
				return nil, fmt.Errorf("%w: main tablespace with location %q", ErrProtocol, r[1])
			}
		} else {
			oid, err := strconv.ParseUint(string(r[0]), 10, 32)
			if err != nil || oid == 0 || h.Location == "" {
				return nil, fmt.Errorf("%w: tablespace %q at %q", ErrProtocol, r[0], r[1])
			}
			h.OID = uint32(oid)
		}
		if r[2] != nil {
			n, err := strconv.ParseInt(string(r[2]), 10, 64)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("%w: tablespace size %q", ErrProtocol, r[2])
			}
			h.SizeKB = n
		}
		out = append(out, h)
	}
	if mains != 1 {
		return nil, fmt.Errorf("%w: %d main data directories in the tablespace list, want 1", ErrProtocol, mains)
	}
	return out, nil
}
