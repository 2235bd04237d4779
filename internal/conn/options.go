package conn

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/spf13/pflag"
)

// DefaultAppName is the application_name sent when neither PGAPPNAME, the
// connection string nor a service file sets one (libpq's
// fallback_application_name).
const DefaultAppName = "pgark"

// PromptFunc asks the user for a password, showing msg (e.g. "Password for
// user alice: "). It should honour ctx. Reading the terminal belongs to the
// command layer, so the library only ever calls this hook.
type PromptFunc func(ctx context.Context, msg string) (string, error)

// Options are pg_dump's connection options. The zero value means "nothing on
// the command line": libpq's environment variables and defaults apply.
type Options struct {
	Host     string // -h: host name, socket directory, or comma-separated list of them
	Port     string // -p: port, or comma-separated list aligned with Host
	Username string // -U
	// DBName is -d or the positional DBNAME: a database name, or, if it has
	// an '=' or a postgres:// / postgresql:// prefix, a connection string
	// whose settings override Host, Port and Username, as in pg_dump.
	DBName string

	NoPassword    bool // -w: never prompt
	ForcePassword bool // -W: prompt before connecting

	// AppName replaces DefaultAppName as the fallback application_name.
	AppName string
	// Prompt reads a password. Nil means never prompt (as if -w were given).
	Prompt PromptFunc
}

// AddFlags registers pg_dump's connection flags on fs: -h/--host,
// -p/--port, -U/--username, -d/--dbname, -w/--no-password, -W/--password.
// As in pg_dump, when both -w and -W are given the last one wins. -h is the
// host, so the command must not give -h to help.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.Host, "host", "h", o.Host, "database server host or socket directory")
	fs.StringVarP(&o.Port, "port", "p", o.Port, "database server port number")
	fs.StringVarP(&o.Username, "username", "U", o.Username, "connect as specified database user")
	fs.StringVarP(&o.DBName, "dbname", "d", o.DBName, "database name, connection string or URI")
	f := fs.VarPF(&passwordFlag{o: o, force: false}, "no-password", "w", "never prompt for password")
	f.NoOptDefVal = "true"
	f = fs.VarPF(&passwordFlag{o: o, force: true}, "password", "W", "force password prompt (should happen automatically)")
	f.NoOptDefVal = "true"
}

// passwordFlag is -w or -W. Setting either clears the other so that the last
// one on the command line wins, like pg_dump's single tri-state variable.
type passwordFlag struct {
	o     *Options
	force bool // -W if true, -w if false
}

func (f *passwordFlag) Type() string { return "bool" }

func (f *passwordFlag) String() string {
	if f.o == nil {
		return "false"
	}
	if f.force {
		return strconv.FormatBool(f.o.ForcePassword)
	}
	return strconv.FormatBool(f.o.NoPassword)
}

func (f *passwordFlag) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	if f.force {
		f.o.ForcePassword = v
		if v {
			f.o.NoPassword = false
		}
	} else {
		f.o.NoPassword = v
		if v {
			f.o.ForcePassword = false
		}
	}
	return nil
}

// SetPositional takes pg_dump's optional positional DBNAME from args (the
// non-flag arguments). As in pg_dump, it is used only when -d was not
// given, and any argument left over is an error.
func (o *Options) SetPositional(args []string) error {
	if len(args) > 0 && o.DBName == "" {
		o.DBName = args[0]
		args = args[1:]
	}
	if len(args) > 0 {
		return fmt.Errorf("conn: too many command-line arguments (first is %q)", args[0])
	}
	return nil
}

// ErrNoPrompt is returned when -W asks for a password prompt but no
// PromptFunc was supplied.
var ErrNoPrompt = errors.New("conn: password prompt requested but no prompt is available")

// ConfigError is a connection-settings error. Its text never quotes the
// connection string: pgconn's own error (which does, with best-effort
// redaction) is not in the chain; Err is the underlying cause, if any.
type ConfigError struct {
	Msg string
	Err error
}

func (e *ConfigError) Error() string {
	if e.Err == nil {
		return "conn: " + e.Msg
	}
	return "conn: " + e.Msg + ": " + e.Err.Error()
}

func (e *ConfigError) Unwrap() error { return e.Err }

// Config resolves o into a ready-to-dial config, like Connector but without
// the password memory. With -W it prompts.
func (o Options) Config(ctx context.Context) (*pgconn.Config, error) {
	c, err := o.Connector(ctx)
	if err != nil {
		return nil, err
	}
	return c.Config(), nil
}

// Connector resolves o into a Connector. Precedence, lowest first:
// libpq defaults < PG* environment < service file (PGSERVICE or service=)
// < -h/-p/-U < settings inside a -d connection string; the password comes
// from -d, else the -W prompt, else PGPASSWORD / service file, else the
// password file (PGPASSFILE or ~/.pgpass). With -W it prompts now.
func (o Options) Connector(ctx context.Context) (*Connector, error) {
	connString, secrets, err := o.connString()
	if err != nil {
		return nil, err
	}
	pc, err := parseConfig(connString, secrets.sslPassword)
	if err != nil {
		return nil, err
	}
	cfg := &pc.Config
	if err := fixupRuntimeParams(cfg, o.AppName); err != nil {
		return nil, err
	}
	cfg.BuildFrontend = bufferedFrontend

	prompt := o.Prompt
	if o.NoPassword {
		prompt = nil
	}
	c := newConnector(pc, prompt)
	if o.ForcePassword {
		if prompt == nil {
			return nil, ErrNoPrompt
		}
		pw, err := prompt(ctx, passwordPrompt(cfg.User))
		if err != nil {
			return nil, fmt.Errorf("read password: %w", err)
		}
		c.pw.set(pw)
	}
	// pg_dump passes the prompted password before the expanded -d string,
	// so a password inside -d wins even over -W.
	if secrets.hasPassword {
		c.pw.set(secrets.password)
	}
	return c, nil
}

func passwordPrompt(user string) string {
	return "Password for user " + user + ": "
}

// connSecrets are the secrets taken out of -d so that they never appear in
// the string handed to pgconn (whose parse errors quote it).
type connSecrets struct {
	password    string
	hasPassword bool
	sslPassword string
}

// connString builds the keyword/value string for pgconn: first -h/-p/-U,
// then either dbname=<-d> or every setting of the -d connection string, so
// that later pairs (from -d) override earlier ones (flags) as in pg_dump's
// PQconnectdbParams(expand_dbname) call.
func (o Options) connString() (string, connSecrets, error) {
	var pairs []kv
	var sec connSecrets
	for _, f := range []kv{{"host", o.Host}, {"port", o.Port}, {"user", o.Username}} {
		// libpq ignores empty values in the keyword array.
		if f.val == "" {
			continue
		}
		if strings.IndexByte(f.val, 0) >= 0 {
			return "", sec, &ConfigError{Msg: "invalid " + f.key + ": contains a NUL byte"}
		}
		pairs = append(pairs, f)
	}
	switch {
	case o.DBName == "":
	case !isConnString(o.DBName):
		if strings.IndexByte(o.DBName, 0) >= 0 {
			return "", sec, &ConfigError{Msg: "invalid dbname: contains a NUL byte"}
		}
		pairs = append(pairs, kv{"dbname", o.DBName})
	default:
		m, err := parseConnString(o.DBName)
		if err != nil {
			return "", sec, &ConfigError{Msg: "parse -d connection string", Err: err}
		}
		if pw, ok := m["password"]; ok {
			sec.password, sec.hasPassword = pw, pw != ""
			delete(m, "password")
		}
		if pw, ok := m["sslpassword"]; ok {
			sec.sslPassword = pw
			delete(m, "sslpassword")
		}
		// pg_dump's own fallback_application_name comes after the expanded
		// string and so replaces any given in it; ours is applied later.
		delete(m, "fallback_application_name")
		for _, p := range sortedPairs(m) {
			if !validKey(p.key) {
				return "", sec, &ConfigError{Msg: "parse -d connection string: invalid keyword"}
			}
			pairs = append(pairs, p)
		}
	}
	return composeConnString(pairs), sec, nil
}

// parseConfig runs pgx's parser (pgconn's, plus pgx's own keywords) on a
// string we composed. Its error is rebuilt without the quoted string.
func parseConfig(connString, sslPassword string) (*pgx.ConnConfig, error) {
	var opts pgx.ParseConfigOptions
	if sslPassword != "" {
		opts.GetSSLPassword = func(context.Context) string { return sslPassword }
	}
	pc, err := pgx.ParseConfigWithOptions(connString, opts)
	if err != nil {
		return nil, sanitizeParseError(err)
	}
	return pc, nil
}

// sanitizeParseError turns pgconn's ParseConfigError, whose text is
// "cannot parse `<redacted string>`: msg (cause)", into a ConfigError with
// only "msg" and the cause. pgconn's redaction is best effort and, for our
// keyword/value string, a fragment of a malformed URI password could sit in
// another field, so the string is never shown.
func sanitizeParseError(err error) error {
	var pce *pgconn.ParseConfigError
	if !errors.As(err, &pce) {
		return &ConfigError{Msg: "parse connection settings", Err: err}
	}
	// NewParseConfigError with an empty message renders exactly the prefix.
	prefix := pgconn.NewParseConfigError(pce.ConnString, "", nil).Error()
	msg, ok := strings.CutPrefix(pce.Error(), prefix)
	if !ok {
		msg = "invalid connection settings"
	}
	cause := pce.Unwrap()
	if cause != nil {
		msg = strings.TrimSuffix(msg, " ("+cause.Error()+")")
	}
	return &ConfigError{Msg: "parse connection settings: " + msg, Err: cause}
}

// fixupRuntimeParams applies the fallback application_name and deals with
// libpq keywords that pgconn does not know and would otherwise send to the
// server as (unknown) run-time parameters, whatever their source: -d string,
// service file or environment.
func fixupRuntimeParams(cfg *pgconn.Config, appName string) error {
	rp := cfg.RuntimeParams
	delete(rp, "fallback_application_name")
	if rp["application_name"] == "" {
		if appName == "" {
			appName = DefaultAppName
		}
		rp["application_name"] = appName
	}
	for k, v := range rp {
		switch k {
		case "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
			"tcp_user_timeout", "sslcompression", "gsslib", "gssdelegation":
			// Tuning or obsolete knobs with no security effect: ignore, as
			// pgconn's dialer keeps its own TCP keepalive defaults.
			delete(rp, k)
		case "gssencmode":
			if v == "require" {
				return &ConfigError{Msg: "gssencmode=require is not supported"}
			}
			delete(rp, k)
		case "load_balance_hosts":
			if v != "disable" {
				return &ConfigError{Msg: "load_balance_hosts=" + v + " is not supported"}
			}
			delete(rp, k)
		case "hostaddr", "requirepeer", "sslcrl", "sslcrldir",
			"ssl_min_protocol_version", "ssl_max_protocol_version":
			// Ignoring these would silently connect elsewhere or with
			// weaker checks than asked for.
			return &ConfigError{Msg: "connection option " + k + " is not supported"}
		}
	}
	return nil
}

// readBuffer is how much a connection reads from its socket at once.
// pgproto3 reads 8 KiB at a time, the size of the server's send buffer:
// a COPY TO of a table, which the server writes faster than the client
// takes it (the client also compresses), then costs one read system
// call per 8 KiB. Measured: 61,000 reads for the benchmark's main table.
const readBuffer = 256 << 10

// bufferedFrontend is pgproto3.NewFrontend reading through readBuffer.
// pgconn's SyncConn and Hijack do not see such a buffer; pgark uses
// neither.
func bufferedFrontend(r io.Reader, w io.Writer) *pgproto3.Frontend {
	return pgproto3.NewFrontend(bufio.NewReaderSize(r, readBuffer), w)
}
