package conn

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Connector opens connections with one resolved configuration and password
// policy. A password obtained by prompting is remembered, so an engine's
// parallel workers ask at most once, as pg_dump does. Safe for concurrent
// use.
type Connector struct {
	base   *pgx.ConnConfig // never modified; copied for every connection
	prompt PromptFunc      // nil: never prompt
	pw     *password       // shared with connectors derived by Replication
}

func newConnector(base *pgx.ConnConfig, prompt PromptFunc) *Connector {
	return &Connector{base: base, prompt: prompt, pw: newPassword(base.Password)}
}

// Config returns a copy of the resolved pgconn configuration with the
// current password; callers may modify it.
func (c *Connector) Config() *pgconn.Config {
	return &c.PgxConfig().Config
}

// PgxConfig returns a copy of the resolved pgx configuration with the
// current password; callers may modify it.
func (c *Connector) PgxConfig() *pgx.ConnConfig {
	pc := c.base.Copy()
	pc.Password, _ = c.pw.get()
	return pc
}

// Replication returns a Connector for replication connections (see
// ReplicationConfig) that shares this one's remembered password.
func (c *Connector) Replication(mode ReplicationMode) *Connector {
	pc := c.base.Copy()
	pc.Config = *ReplicationConfig(&pc.Config, mode)
	return &Connector{base: pc, prompt: c.prompt, pw: c.pw}
}

// ForDatabase returns a Connector to database db, with everything else as
// this one's, that shares this one's remembered password.
func (c *Connector) ForDatabase(db string) *Connector {
	pc := c.base.Copy()
	pc.Database = db
	return &Connector{base: pc, prompt: c.prompt, pw: c.pw}
}

// Connect opens a pgconn connection. If the server demands a password and
// none is known, it prompts (once per Connector) and retries once.
func (c *Connector) Connect(ctx context.Context) (*pgconn.PgConn, error) {
	return connectRetry(ctx, &c.base.Config, c.pw, c.prompt, func(ctx context.Context, pw string) (*pgconn.PgConn, error) {
		cfg := c.base.Config.Copy()
		cfg.Password = pw
		return pgconn.ConnectConfig(ctx, cfg)
	})
}

// ConnectPgx is Connect for a *pgx.Conn.
func (c *Connector) ConnectPgx(ctx context.Context) (*pgx.Conn, error) {
	return connectPgx(ctx, c.base, c.pw, c.prompt)
}

// Connect opens a connection with cfg, which must come from pgconn's
// ParseConfig (e.g. Options.Config). If the server demands a password that
// cfg lacks and prompt is not nil, it prompts once and retries once. cfg is
// not modified.
func Connect(ctx context.Context, cfg *pgconn.Config, prompt PromptFunc) (*pgconn.PgConn, error) {
	return connectRetry(ctx, cfg, newPassword(cfg.Password), prompt, func(ctx context.Context, pw string) (*pgconn.PgConn, error) {
		cp := cfg.Copy()
		cp.Password = pw
		return pgconn.ConnectConfig(ctx, cp)
	})
}

// ConnectPgx is Connect for a *pgx.Conn; cfg must come from pgx's
// ParseConfig (e.g. Connector.PgxConfig).
func ConnectPgx(ctx context.Context, cfg *pgx.ConnConfig, prompt PromptFunc) (*pgx.Conn, error) {
	return connectPgx(ctx, cfg, newPassword(cfg.Password), prompt)
}

func connectPgx(ctx context.Context, cfg *pgx.ConnConfig, pw *password, prompt PromptFunc) (*pgx.Conn, error) {
	return connectRetry(ctx, &cfg.Config, pw, prompt, func(ctx context.Context, p string) (*pgx.Conn, error) {
		cp := cfg.Copy()
		cp.Password = p
		return pgx.ConnectConfig(ctx, cp)
	})
}

// connectRetry is psql's and pg_dump's password loop: connect; if the
// server wanted a password we did not have and we may prompt, prompt and
// try once more. cfg describes the target for error messages; dial
// connects with the given password.
func connectRetry[T any](ctx context.Context, cfg *pgconn.Config, pw *password, prompt PromptFunc,
	dial func(ctx context.Context, password string) (T, error),
) (T, error) {
	var zero T
	tried, _ := pw.get()
	conn, err := dial(ctx, tried)
	if err == nil {
		return conn, nil
	}
	if prompt != nil && NeedsPassword(err, tried) {
		next, perr := pw.ask(ctx, tried, func(ctx context.Context) (string, error) {
			return prompt(ctx, passwordPrompt(cfg.User))
		})
		if perr != nil {
			return zero, fmt.Errorf("%w; read password: %w", newConnectError(cfg, tried, err), perr)
		}
		if next != tried {
			tried = next
			conn, err = dial(ctx, tried)
			if err == nil {
				return conn, nil
			}
		}
	}
	return zero, newConnectError(cfg, tried, err)
}

// password is a remembered password. sem serialises prompting, so that
// concurrent connects which all find it missing prompt once.
type password struct {
	sem   chan struct{}
	mu    sync.Mutex
	value string
	asked bool // a prompt happened; never prompt again
}

func newPassword(v string) *password {
	return &password{sem: make(chan struct{}, 1), value: v}
}

func (p *password) get() (value string, asked bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.value, p.asked
}

func (p *password) set(v string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.value, p.asked = v, true
}

// ask returns the password to retry with after tried failed: the current
// one if a prompt already happened or another goroutine changed it,
// otherwise the answer of prompt, which it remembers.
func (p *password) ask(ctx context.Context, tried string, prompt func(context.Context) (string, error)) (string, error) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-p.sem }()
	if v, asked := p.get(); asked || v != tried {
		return v, nil
	}
	v, err := prompt(ctx)
	if err != nil {
		return "", err
	}
	p.set(v)
	return v, nil
}

// NeedsPassword reports whether err from a connection attempt made with
// password means that the server asked for a password and none was supplied
// (libpq's PQconnectionNeedsPassword). pgconn answers every password request
// (password, md5, SCRAM, and LDAP/PAM/RADIUS which use the cleartext
// exchange) even with an empty password, and the server then fails
// authentication with SQLSTATE 28P01 invalid_password, which it uses for
// nothing else.
func NeedsPassword(err error, password string) bool {
	if password != "" {
		return false
	}
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "28P01"
}

// ConnectError reports a failed connection attempt: the target tried and
// the cause. Its text never contains the password.
type ConnectError struct {
	Host     string // host or socket directory, comma-separated if several
	Port     string // comma-separated if several
	User     string
	Database string
	Err      error // usually a *pgconn.ConnectError

	cause string // Err's text, without pgconn's prefix, password scrubbed
}

func (e *ConnectError) Error() string {
	return fmt.Sprintf("connect to host=%s port=%s user=%s dbname=%s: %s", e.Host, e.Port, e.User, e.Database, e.cause)
}

func (e *ConnectError) Unwrap() error { return e.Err }

func newConnectError(cfg *pgconn.Config, password string, err error) *ConnectError {
	e := &ConnectError{Err: err, User: cfg.User, Database: cfg.Database}
	if e.Database == "" {
		e.Database = cfg.User // the server's default, as libpq's PQdb reports
	}
	e.Host, e.Port = targets(cfg)
	e.cause = err.Error()
	// pgconn's ConnectError repeats user and database; keep its cause only.
	var pce *pgconn.ConnectError
	if errors.As(err, &pce) {
		if inner := pce.Unwrap(); inner != nil {
			e.cause = inner.Error()
		}
	}
	// With sslmode=prefer or allow pgconn tries each address twice and
	// reports both identical failures.
	// With sslmode=prefer a server without TLS first answers "server
	// refused TLS connection", then pgconn retries in plain text; that
	// retry's failure is the one that matters, as libpq reports it.
	lines := slices.Compact(strings.Split(e.cause, "\n"))
	if len(lines) > 1 {
		lines = slices.DeleteFunc(lines, func(l string) bool { return strings.HasSuffix(l, "server refused TLS connection") })
	}
	e.cause = strings.Join(lines, "\n")
	// The server never echoes a password; this is defence in depth for
	// accidents such as a password also given as the user name. The text
	// is fixed here so that even %#v of the error cannot show the password.
	if len(password) >= minRedactLen {
		e.cause = strings.ReplaceAll(e.cause, password, "xxxxx")
		e.User = strings.ReplaceAll(e.User, password, "xxxxx")
		e.Database = strings.ReplaceAll(e.Database, password, "xxxxx")
		e.Host = strings.ReplaceAll(e.Host, password, "xxxxx")
	}
	return e
}

// minRedactLen is the shortest password scrubbed from ConnectError; shorter
// strings would mangle ordinary text.
const minRedactLen = 4

// targets lists cfg's hosts and ports, each host:port once (the fallbacks
// repeat them for sslmode=prefer).
func targets(cfg *pgconn.Config) (hosts, ports string) {
	type hp struct {
		host string
		port uint16
	}
	seen := map[hp]bool{}
	var hs, ps []string
	add := func(h string, p uint16) {
		if seen[hp{h, p}] {
			return
		}
		seen[hp{h, p}] = true
		hs = append(hs, h)
		ps = append(ps, strconv.Itoa(int(p)))
	}
	add(cfg.Host, cfg.Port)
	for _, fb := range cfg.Fallbacks {
		add(fb.Host, fb.Port)
	}
	return strings.Join(hs, ","), strings.Join(ps, ",")
}
