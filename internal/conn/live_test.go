package conn_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/internal/conn"
)

// Passwords of the live cluster's roles. The canary is scram_user's real
// password; it and wrongCanary must never appear in any error text.
const (
	canary      = `LeakCanary7 'q\"p@ss:w/rd?#&=%x`
	wrongCanary = `WrongCanary9 'z\"p@ss:w/rd?#&=%y`
	md5PW       = "md5 pass 'x\\"
	plainPW     = "plain pass"
)

var liveHBA = []string{
	"local all postgres trust",
	"local replication postgres trust",
	"local all scram_user scram-sha-256",
	"local all md5_user md5",
	"local all pw_user password",
}

func TestLive(t *testing.T) {
	srv := startServer(t, liveHBA)
	srv.execSQL(t, "CREATE ROLE scram_user LOGIN PASSWORD "+sqlString(canary))
	srv.execSQL(t, "SET password_encryption = 'md5'; CREATE ROLE md5_user LOGIN PASSWORD "+sqlString(md5PW))
	srv.execSQL(t, "CREATE ROLE pw_user LOGIN PASSWORD "+sqlString(plainPW))

	t.Run("trust", func(t *testing.T) { testTrust(t, srv) })
	t.Run("pgx", func(t *testing.T) { testPgx(t, srv) })
	t.Run("prompt when the server asks", func(t *testing.T) { testPromptOnDemand(t, srv) })
	t.Run("no prompt", func(t *testing.T) { testNoPrompt(t, srv) })
	t.Run("force prompt", func(t *testing.T) { testForcePrompt(t, srv) })
	t.Run("pgpass", func(t *testing.T) { testPgpass(t, srv) })
	t.Run("concurrent prompt", func(t *testing.T) { testConcurrentPrompt(t, srv) })
	t.Run("prompt cancelled", func(t *testing.T) { testPromptCancelled(t, srv) })
	t.Run("replication", func(t *testing.T) { testReplication(t, srv) })
	t.Run("no password in errors", func(t *testing.T) { testNoPasswordInErrors(t, srv) })
}

func liveCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// counter is a PromptFunc answering pw and counting calls.
type counter struct {
	n  atomic.Int32
	pw string
}

func (c *counter) prompt(context.Context, string) (string, error) {
	c.n.Add(1)
	return c.pw, nil
}

func (s *testServer) opts(user string) conn.Options { return s.optsDB(user, "postgres") }

func (s *testServer) optsDB(user, db string) conn.Options {
	return conn.Options{Host: s.sockDir, Port: strconv.Itoa(int(s.port)), Username: user, DBName: db}
}

func showOne(t *testing.T, ctx context.Context, c *pgconn.PgConn, sql string) string {
	t.Helper()
	res, err := c.Exec(ctx, sql).ReadAll()
	require.NoError(t, err, sql)
	require.Len(t, res, 1)
	require.Len(t, res[0].Rows, 1)
	return string(res[0].Rows[0][0])
}

func testTrust(t *testing.T, srv *testServer) {
	isolateEnv(t)
	ctx := liveCtx(t)
	o := srv.opts("postgres")
	cr, err := o.Connector(ctx)
	require.NoError(t, err)
	c, err := cr.Connect(ctx)
	require.NoError(t, err)
	defer c.Close(ctx)

	assert.Equal(t, "pgark", showOne(t, ctx, c, "SHOW application_name"))
	v, err := conn.ServerVersion(ctx, c)
	require.NoError(t, err)
	num, err := strconv.Atoi(showOne(t, ctx, c, "SHOW server_version_num"))
	require.NoError(t, err)
	assert.Equal(t, num, v)

	// PGAPPNAME beats the fallback; the URI form reaches the same server.
	t.Setenv("PGAPPNAME", "from env")
	o.DBName = "postgresql://postgres@" + pctEncode(srv.sockDir) + "/postgres"
	o.Host = "/nonexistent"
	cfg, err := o.Config(ctx)
	require.NoError(t, err)
	c2, err := conn.Connect(ctx, cfg, nil)
	require.NoError(t, err)
	defer c2.Close(ctx)
	assert.Equal(t, "from env", showOne(t, ctx, c2, "SHOW application_name"))
}

func testPgx(t *testing.T, srv *testServer) {
	isolateEnv(t)
	ctx := liveCtx(t)
	o := srv.opts("scram_user")
	p := &counter{pw: canary}
	o.Prompt = p.prompt
	cr, err := o.Connector(ctx)
	require.NoError(t, err)
	c, err := cr.ConnectPgx(ctx)
	require.NoError(t, err)
	defer c.Close(ctx)
	var who, app string
	require.NoError(t, c.QueryRow(ctx, "SELECT current_user, current_setting('application_name')").Scan(&who, &app))
	assert.Equal(t, "scram_user", who)
	assert.Equal(t, "pgark", app)
	assert.EqualValues(t, 1, p.n.Load())

	c2, err := conn.ConnectPgx(ctx, cr.PgxConfig(), nil)
	require.NoError(t, err, "PgxConfig carries the remembered password")
	c2.Close(ctx)
}

func testPromptOnDemand(t *testing.T, srv *testServer) {
	for _, tt := range []struct{ user, pw string }{
		{"scram_user", canary},
		{"md5_user", md5PW},
		{"pw_user", plainPW},
	} {
		t.Run(tt.user, func(t *testing.T) {
			isolateEnv(t)
			ctx := liveCtx(t)
			var msgs []string
			o := srv.opts(tt.user)
			o.Prompt = func(_ context.Context, msg string) (string, error) {
				msgs = append(msgs, msg)
				return tt.pw, nil
			}
			cr, err := o.Connector(ctx)
			require.NoError(t, err)
			assert.Empty(t, msgs, "no prompt before the server asks")
			for range 3 {
				c, err := cr.Connect(ctx)
				require.NoError(t, err)
				assert.Equal(t, tt.user, showOne(t, ctx, c, "SELECT current_user"))
				c.Close(ctx)
			}
			assert.Equal(t, []string{"Password for user " + tt.user + ": "}, msgs, "prompted once, remembered after")

			// The package-level Connect prompts too, and leaves cfg alone.
			o2 := srv.opts(tt.user)
			cfg, err := o2.Config(ctx)
			require.NoError(t, err)
			c, err := conn.Connect(ctx, cfg, o.Prompt)
			require.NoError(t, err)
			c.Close(ctx)
			assert.Empty(t, cfg.Password)
			assert.Len(t, msgs, 2)
		})
	}
	t.Run("trust needs no prompt", func(t *testing.T) {
		isolateEnv(t)
		ctx := liveCtx(t)
		p := &counter{}
		o := srv.opts("postgres")
		o.Prompt = p.prompt
		cfg, err := o.Config(ctx)
		require.NoError(t, err)
		c, err := conn.Connect(ctx, cfg, p.prompt)
		require.NoError(t, err)
		c.Close(ctx)
		assert.Zero(t, p.n.Load())
	})
	t.Run("wrong answer", func(t *testing.T) {
		isolateEnv(t)
		ctx := liveCtx(t)
		p := &counter{pw: "wrong"}
		o := srv.opts("scram_user")
		o.Prompt = p.prompt
		cr, err := o.Connector(ctx)
		require.NoError(t, err)
		_, err = cr.Connect(ctx)
		requireAuthFailed(t, err)
		_, err = cr.Connect(ctx)
		requireAuthFailed(t, err)
		assert.EqualValues(t, 1, p.n.Load(), "one prompt per connector")
	})
}

func requireAuthFailed(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr)
	assert.Equal(t, "28P01", pgErr.Code)
	var ce *conn.ConnectError
	require.ErrorAs(t, err, &ce)
	assert.True(t, strings.HasPrefix(err.Error(), "connect to host="), err.Error())
}

func testNoPrompt(t *testing.T, srv *testServer) {
	isolateEnv(t)
	ctx := liveCtx(t)
	p := &counter{pw: canary}
	o := srv.opts("scram_user")
	o.Prompt = p.prompt
	o.NoPassword = true
	cr, err := o.Connector(ctx)
	require.NoError(t, err)
	_, err = cr.Connect(ctx)
	requireAuthFailed(t, err)
	assert.True(t, conn.NeedsPassword(err, ""))
	assert.Contains(t, err.Error(), "user=scram_user dbname=postgres")
	assert.Contains(t, err.Error(), "port=5432")
	assert.Contains(t, err.Error(), "host="+srv.sockDir)
	assert.Zero(t, p.n.Load(), "-w never prompts")

	o = srv.opts("scram_user")
	cfg, err := o.Config(ctx)
	require.NoError(t, err)
	_, err = conn.Connect(ctx, cfg, nil)
	requireAuthFailed(t, err)
}

func testForcePrompt(t *testing.T, srv *testServer) {
	isolateEnv(t)
	ctx := liveCtx(t)
	p := &counter{pw: canary}
	o := srv.opts("scram_user")
	o.Prompt = p.prompt
	o.ForcePassword = true
	cr, err := o.Connector(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 1, p.n.Load(), "-W prompts before connecting")
	c, err := cr.Connect(ctx)
	require.NoError(t, err)
	c.Close(ctx)
	assert.EqualValues(t, 1, p.n.Load())

	// A wrong -W answer is not followed by a second prompt, as in pg_dump.
	p = &counter{pw: "wrong"}
	o.Prompt = p.prompt
	cr, err = o.Connector(ctx)
	require.NoError(t, err)
	_, err = cr.Connect(ctx)
	requireAuthFailed(t, err)
	assert.EqualValues(t, 1, p.n.Load())
}

func testPgpass(t *testing.T, srv *testServer) {
	dir := isolateEnv(t)
	ctx := liveCtx(t)
	pgpass := filepath.Join(dir, "pgpass")
	writeFile(t, pgpass, "localhost:5432:*:scram_user:"+escapePgpass(canary)+"\n*:*:*:md5_user:wrong\n")
	t.Setenv("PGPASSFILE", pgpass)
	p := &counter{pw: md5PW}

	o := srv.opts("scram_user")
	o.Prompt = p.prompt
	cr, err := o.Connector(ctx)
	require.NoError(t, err)
	c, err := cr.Connect(ctx)
	require.NoError(t, err)
	c.Close(ctx)

	// Like libpq, a wrong password from the password file is not a missing
	// one: no prompt.
	o = srv.opts("md5_user")
	o.Prompt = p.prompt
	cr, err = o.Connector(ctx)
	require.NoError(t, err)
	_, err = cr.Connect(ctx)
	requireAuthFailed(t, err)
	assert.Zero(t, p.n.Load())
}

func testConcurrentPrompt(t *testing.T, srv *testServer) {
	isolateEnv(t)
	ctx := liveCtx(t)
	release := make(chan struct{})
	var n atomic.Int32
	o := srv.opts("scram_user")
	o.Prompt = func(ctx context.Context, _ string) (string, error) {
		n.Add(1)
		select {
		case <-release: // hold the prompt open so the others queue up
		case <-ctx.Done():
			return "", ctx.Err()
		}
		return canary, nil
	}
	cr, err := o.Connector(ctx)
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			c, err := cr.Connect(ctx)
			if err == nil {
				c.Close(ctx)
			}
			errs <- err
		})
	}
	time.Sleep(200 * time.Millisecond)
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	assert.EqualValues(t, 1, n.Load(), "concurrent connects prompt once")
}

func testPromptCancelled(t *testing.T, srv *testServer) {
	isolateEnv(t)
	ctx, cancel := context.WithCancel(liveCtx(t))
	o := srv.opts("scram_user")
	o.Prompt = func(ctx context.Context, _ string) (string, error) {
		cancel()
		<-ctx.Done()
		return "", ctx.Err()
	}
	cr, err := o.Connector(context.Background())
	require.NoError(t, err)
	_, err = cr.Connect(ctx)
	require.ErrorIs(t, err, context.Canceled)
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr, "the connect failure that caused the prompt is kept")
	assert.Contains(t, err.Error(), "read password: context canceled")
}

func testReplication(t *testing.T, srv *testServer) {
	isolateEnv(t)
	ctx := liveCtx(t)
	o := srv.opts("postgres")
	cr, err := o.Connector(ctx)
	require.NoError(t, err)
	c, err := cr.Replication(conn.ReplicationPhysical).Connect(ctx)
	require.NoError(t, err)
	defer c.Close(ctx)
	res, err := c.Exec(ctx, "IDENTIFY_SYSTEM").ReadAll()
	require.NoError(t, err)
	require.Len(t, res, 1)
	require.Len(t, res[0].Rows, 1)
	assert.Len(t, res[0].Rows[0], 4, "systemid, timeline, xlogpos, dbname")
	v, err := conn.ServerVersion(ctx, c)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, v, 100000)

	cfg := conn.ReplicationConfig(cr.Config(), conn.ReplicationDatabase)
	c2, err := conn.Connect(ctx, cfg, nil)
	require.NoError(t, err)
	defer c2.Close(ctx)
	assert.Equal(t, "postgres", showOne(t, ctx, c2, "SELECT current_database()"), "replication=database also runs SQL")
}

// pctEncode percent-encodes every byte outside RFC 3986's unreserved set.
func pctEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// quoteKV quotes a keyword/value connection string value.
func quoteKV(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// assertNoSecret checks every rendering of err and of every error in its
// chain for the secrets and for fragments of them.
func assertNoSecret(t *testing.T, err error, secrets ...string) {
	t.Helper()
	var texts []string
	texts = append(texts, fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), fmt.Sprintf("%q", err))
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		texts = append(texts, e.Error(), fmt.Sprintf("%#v", e))
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		}
	}
	walk(err)
	for _, s := range secrets {
		for _, frag := range []string{s, strings.Fields(s)[0]} {
			for _, txt := range texts {
				if strings.Contains(txt, frag) {
					t.Fatalf("error text contains secret %q:\n%s", frag, txt)
				}
			}
		}
	}
}

func testNoPasswordInErrors(t *testing.T, srv *testServer) {
	sock := srv.sockDir
	hostPort := pctEncode(sock) + ":5432"
	type source struct {
		name  string
		setup func(t *testing.T, dir, pw, db string) conn.Options // for user scram_user
	}
	sources := []source{
		{"-d URI", func(t *testing.T, _, pw, db string) conn.Options {
			return conn.Options{DBName: "postgresql://scram_user:" + pctEncode(pw) + "@" + hostPort + "/" + db}
		}},
		{"-d URI query", func(t *testing.T, _, pw, db string) conn.Options {
			return conn.Options{DBName: "postgresql://scram_user@" + hostPort + "/" + db + "?password=" + pctEncode(pw)}
		}},
		{"-d conninfo", func(t *testing.T, _, pw, db string) conn.Options {
			return conn.Options{DBName: "host=" + quoteKV(sock) + " user=scram_user password=" + quoteKV(pw) + " dbname=" + db}
		}},
		{"positional conninfo", func(t *testing.T, _, pw, db string) conn.Options {
			o := srv.opts("scram_user")
			o.DBName = ""
			require.NoError(t, o.SetPositional([]string{"password=" + quoteKV(pw) + " dbname=" + db}))
			return o
		}},
		{"PGPASSWORD", func(t *testing.T, _, pw, db string) conn.Options {
			t.Setenv("PGPASSWORD", pw)
			return srv.optsDB("scram_user", db)
		}},
		{"pgpass", func(t *testing.T, dir, pw, db string) conn.Options {
			f := filepath.Join(dir, "pgpass")
			writeFile(t, f, "localhost:*:*:scram_user:"+escapePgpass(pw)+"\n")
			t.Setenv("PGPASSFILE", f)
			return srv.optsDB("scram_user", db)
		}},
		{"service file", func(t *testing.T, dir, pw, db string) conn.Options {
			f := filepath.Join(dir, "services")
			writeFile(t, f, "[svc]\nhost="+sock+"\nuser=scram_user\npassword="+pw+"\ndbname="+db+"\n")
			t.Setenv("PGSERVICEFILE", f)
			t.Setenv("PGSERVICE", "svc")
			return conn.Options{}
		}},
		{"-W prompt", func(t *testing.T, _, pw, db string) conn.Options {
			o := srv.optsDB("scram_user", db)
			o.ForcePassword = true
			o.Prompt = func(context.Context, string) (string, error) { return pw, nil }
			return o
		}},
		{"on-demand prompt", func(t *testing.T, _, pw, db string) conn.Options {
			o := srv.optsDB("scram_user", db)
			o.Prompt = func(context.Context, string) (string, error) { return pw, nil }
			return o
		}},
	}
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			t.Run("wrong password", func(t *testing.T) {
				dir := isolateEnv(t)
				ctx := liveCtx(t)
				cr, err := src.setup(t, dir, wrongCanary, "postgres").Connector(ctx)
				require.NoError(t, err)
				_, err = cr.Connect(ctx)
				requireAuthFailed(t, err)
				assertNoSecret(t, err, wrongCanary, canary)
				_, err = cr.ConnectPgx(ctx)
				requireAuthFailed(t, err)
				assertNoSecret(t, err, wrongCanary, canary)
			})
			t.Run("right password", func(t *testing.T) {
				dir := isolateEnv(t)
				ctx := liveCtx(t)
				cr, err := src.setup(t, dir, canary, "postgres").Connector(ctx)
				require.NoError(t, err)
				c, err := cr.Connect(ctx)
				require.NoError(t, err, "the password reaches the server intact")
				c.Close(ctx)
			})
			t.Run("right password, missing database", func(t *testing.T) {
				// Fails after authentication, with the right password in
				// the config.
				dir := isolateEnv(t)
				ctx := liveCtx(t)
				cr, err := src.setup(t, dir, canary, "nosuchdb").Connector(ctx)
				require.NoError(t, err)
				_, err = cr.Connect(ctx)
				require.Error(t, err)
				var pgErr *pgconn.PgError
				require.ErrorAs(t, err, &pgErr)
				assert.Equal(t, "3D000", pgErr.Code, err.Error())
				assert.Contains(t, err.Error(), "dbname=nosuchdb")
				assertNoSecret(t, err, canary)
			})
		})
	}

	// Failures before any server answers.
	for _, tt := range []struct {
		name string
		opts conn.Options
	}{
		{"URI with bad port", conn.Options{DBName: "postgresql://u:" + pctEncode(canary) + "@h:notaport/db"}},
		{"URI with bad encoding elsewhere", conn.Options{DBName: "postgresql://u:" + pctEncode(canary) + "@h/db?x=%zz"}},
		{"URI password with bad encoding", conn.Options{DBName: "postgresql://u:LeakCanary7%zz@h/db"}},
		{"URI with unencoded slash in the password", conn.Options{DBName: "postgresql://u:LeakCanary7/xyz@h/db"}},
		{"conninfo with bad sslmode", conn.Options{DBName: "host=h password=" + quoteKV(canary) + " sslmode=bogus"}},
		{"conninfo unterminated", conn.Options{DBName: "host=h password='LeakCanary7 x"}},
		{"conninfo stray word after password", conn.Options{DBName: "password=LeakCanary7 xyz"}},
		{"conninfo with bad port", conn.Options{DBName: "port=x password=" + quoteKV(canary)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			isolateEnv(t)
			t.Setenv("PGPASSWORD", wrongCanary)
			_, err := tt.opts.Config(context.Background())
			require.Error(t, err)
			assertNoSecret(t, err, canary, wrongCanary)
		})
	}

	t.Run("no server", func(t *testing.T) {
		isolateEnv(t)
		ctx := liveCtx(t)
		o := conn.Options{DBName: "postgresql://scram_user:" + pctEncode(canary) + "@" + pctEncode(t.TempDir()) + "/postgres"}
		cr, err := o.Connector(ctx)
		require.NoError(t, err)
		_, err = cr.Connect(ctx)
		require.Error(t, err)
		assertNoSecret(t, err, canary)
	})
	t.Run("password also used as user name", func(t *testing.T) {
		isolateEnv(t)
		ctx := liveCtx(t)
		o := srv.opts(canary)
		o.Prompt = func(context.Context, string) (string, error) { return canary, nil }
		o.ForcePassword = true
		cr, err := o.Connector(ctx)
		require.NoError(t, err)
		_, err = cr.Connect(ctx)
		require.Error(t, err)
		// The server's own message names the user, so only our text is
		// scrubbed; pgconn's errors further down the chain are not.
		for _, txt := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			assert.NotContains(t, txt, "LeakCanary7")
		}
		assert.Contains(t, err.Error(), "user=xxxxx")
	})
	t.Run("deadline", func(t *testing.T) {
		isolateEnv(t)
		ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
		defer cancel()
		<-ctx.Done()
		o := conn.Options{DBName: "postgresql://scram_user:" + pctEncode(canary) + "@" + hostPort + "/postgres"}
		cr, err := o.Connector(context.Background())
		require.NoError(t, err)
		_, err = cr.Connect(ctx)
		require.Error(t, err)
		assert.True(t, errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err), err.Error())
		assertNoSecret(t, err, canary)
	})
}
