package restore

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgark/pgark/format"
	"github.com/pgark/pgark/schema"

	"github.com/pgark/pgark/internal/conn"
)

// session is where statements go: a database connection, or the SQL
// script. Its methods hold its lock, so goroutines may share one session
// (with -1 or a script, every phase shares the only one); a connection
// then runs one statement at a time.
type session struct {
	mu   sync.Mutex
	conn *pgconn.PgConn // a database connection, or nil
	w    *bufio.Writer  // the script, or nil
	werr error          // sticky script write error
	// tablespace is the default_tablespace set on the session, when
	// tablespaceSet (see useTablespace).
	tablespace    string
	tablespaceSet bool
}

// sessionSQL is what every restore session runs first (as pg_restore's
// scripts do), for an archive in encoding enc; with a role, SET ROLE
// first (pg_restore --role).
func sessionSQL(enc, role string) string {
	var b strings.Builder
	if role != "" {
		b.WriteString("SET ROLE " + schema.Ident(role) + ";\n")
	}
	if enc != "" {
		b.WriteString("SET client_encoding TO " + schema.Literal(enc) + ";\n")
	}
	b.WriteString("SET standard_conforming_strings = on;\n" +
		"SET check_function_bodies = false;\n" +
		"SET xmloption = content;\n" +
		"SET client_min_messages = warning;\n" +
		"SET row_security = off;\n" +
		"SELECT pg_catalog.set_config('search_path', '', false);\n")
	return b.String()
}

// closeTimeout bounds how long closing a connection may take.
const closeTimeout = 5 * time.Second

func newConnSession(ctx context.Context, c *pgconn.PgConn, info format.Info, role string) (*session, error) {
	s := &session{conn: c}
	if err := s.exec(ctx, sessionSQL(info.Encoding, role)); err != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
		defer cancel()
		c.Close(cctx)
		return nil, fmt.Errorf("set up session: %w", err)
	}
	return s, nil
}

func newScriptSession(w io.Writer) *session {
	return &session{w: bufio.NewWriterSize(w, 256<<10)}
}

// exec runs sql, one or more statements, with the simple protocol (as
// pg_restore sends an entry's SQL in one go).
func (s *session) exec(ctx context.Context, sql string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return s.write(sql, "\n")
	}
	_, err := s.conn.Exec(ctx, sql).ReadAll()
	return err
}

// query runs sql on a connection and returns its rows as text; a script
// has no rows to give (nil).
func (s *session) query(ctx context.Context, sql string) ([][]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil, nil
	}
	results, err := s.conn.Exec(ctx, sql).ReadAll()
	if err != nil {
		return nil, err
	}
	var rows [][]string
	for _, r := range results {
		for _, row := range r.Rows {
			cols := make([]string, len(row))
			for i, c := range row {
				cols[i] = string(c)
			}
			rows = append(rows, cols)
		}
	}
	return rows, nil
}

// copyFrom runs the COPY ... FROM stdin statement copySQL with the rows r
// yields. If r fails, the COPY is abandoned (CopyFail), so nothing of it
// is loaded.
func (s *session) copyFrom(ctx context.Context, copySQL string, r io.Reader) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		if err := s.write(copySQL, "\n"); err != nil {
			return err
		}
		if _, err := io.Copy(s.w, r); err != nil {
			// The script now holds part of a COPY; the restore fails.
			s.werr = fmt.Errorf("script is incomplete: %w", err)
			return err
		}
		return s.write("\\.\n\n")
	}
	_, err := s.conn.CopyFrom(ctx, r, copySQL)
	if conn.Lost(err) {
		return fmt.Errorf("%s: %w", conn.LostMessage, err)
	}
	return err
}

// write appends to the script, keeping the first error.
func (s *session) write(parts ...string) error {
	if s.werr != nil {
		return s.werr
	}
	for _, p := range parts {
		if _, err := s.w.WriteString(p); err != nil {
			s.werr = fmt.Errorf("write script: %w", err)
			return s.werr
		}
	}
	return nil
}

// comment writes an SQL comment line to a script; a no-op on a connection.
func (s *session) comment(text string) {
	if s.conn != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.write("-- ", strings.ReplaceAll(text, "\n", " "), "\n")
}

// broken reports whether the session can no longer be used: a lost
// connection or a failed script write.
func (s *session) broken() bool {
	if s.conn != nil {
		return s.conn.IsClosed()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.werr != nil
}

// close ends the session: flushes a script, closes a connection.
func (s *session) close(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		// Terminate politely, but never wait long for a gone server.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
		defer cancel()
		return s.conn.Close(cctx)
	}
	if s.werr != nil {
		return s.werr
	}
	if err := s.w.Flush(); err != nil {
		s.werr = fmt.Errorf("write script: %w", err)
	}
	return s.werr
}
