package conn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
)

func TestLost(t *testing.T) {
	for _, tc := range []struct {
		err  error
		lost bool
	}{
		{io.ErrUnexpectedEOF, true},
		{fmt.Errorf("read: %w", syscall.ECONNRESET), true},
		{fmt.Errorf("write: %w", net.ErrClosed), true},
		{&pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}, false},
		{context.Canceled, false},
		{errors.New("something else"), false},
		{nil, false},
	} {
		require.Equal(t, tc.lost, Lost(tc.err), "%v", tc.err)
	}
}
