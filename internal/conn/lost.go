package conn

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// LostMessage says what happened when Lost is true, in libpq's words.
const LostMessage = "the server closed the connection unexpectedly (terminated, restarted or crashed)"

// Lost says whether err is the connection to the server dropping, which
// pgconn reports as a bare transport error (EOF, reset, a closed socket)
// rather than as an error the server sent. Cancellation is not a loss.
func Lost(err error) bool {
	var pgErr *pgconn.PgError
	if err == nil || errors.As(err, &pgErr) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
