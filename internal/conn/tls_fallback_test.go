package conn

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/internal/testcluster"
)

// A server without TLS, reached over TCP with the default sslmode=prefer:
// pgconn first asks for TLS and is refused, then fails in plain text. The
// error must give the real cause alone, as libpq does.
func TestConnectErrorAfterTLSFallback(t *testing.T) {
	c := testcluster.Start(t, testcluster.WithTCP())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	o := Options{Host: c.Host(), Port: strconv.Itoa(c.Port()), Username: c.User(), DBName: "nosuchdb", NoPassword: true}
	cfg, err := o.Config(ctx)
	require.NoError(t, err)
	_, err = Connect(ctx, cfg, nil)
	require.Error(t, err)
	require.Contains(t, err.Error(), `database "nosuchdb" does not exist`)
	require.NotContains(t, err.Error(), "refused TLS")
}
