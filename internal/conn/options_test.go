package conn_test

import (
	"context"
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/internal/conn"
)

// isolateEnv unsets every variable pgconn reads and points HOME, the
// password file and the service file into a fresh directory, which it
// returns.
func isolateEnv(t *testing.T) string {
	t.Helper()
	for _, k := range []string{
		"PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD", "PGAPPNAME",
		"PGCONNECT_TIMEOUT", "PGSSLMODE", "PGSSLKEY", "PGSSLCERT", "PGSSLCERTMODE", "PGSSLSNI",
		"PGSSLROOTCERT", "PGSSLPASSWORD", "PGSSLNEGOTIATION", "PGTARGETSESSIONATTRS",
		"PGSERVICE", "PGTZ", "PGOPTIONS", "PGMINPROTOCOLVERSION", "PGMAXPROTOCOLVERSION",
		"PGCHANNELBINDING", "PGREQUIREAUTH",
	} {
		t.Setenv(k, "") // restores the old value after the test
		os.Unsetenv(k)  // pgconn treats some present-but-empty variables as set
	}
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	t.Setenv("PGPASSFILE", filepath.Join(dir, "no-pgpass"))
	t.Setenv("PGSERVICEFILE", filepath.Join(dir, "no-services"))
	return dir
}

// escapePgpass escapes a .pgpass field.
func escapePgpass(s string) string {
	return strings.NewReplacer(`\`, `\\`, `:`, `\:`).Replace(s)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
}

// want lists the fields a case checks; empty strings are not checked.
type want struct {
	host, port, user, db, password, app string
	fallbacks                           []string // "host:port", TLS variants collapsed
	params                              map[string]string
	timeout                             time.Duration
}

func TestConfigPrecedence(t *testing.T) {
	osUser, err := user.Current()
	require.NoError(t, err)

	const services = `
[main]
host=/svc/main
port=6000
dbname=svcdb
user=svcuser
password=svc pass

[other]
host=/svc/other
dbname=otherdb
`
	pgpass := "localhost:5432:*:alice:" + escapePgpass(`pg:pass\word`) + "\n" +
		"*:*:*:bob:" + escapePgpass("bobs pass") + "\n"

	tests := []struct {
		name string
		env  map[string]string
		opts conn.Options
		args []string
		want want
	}{
		{
			name: "defaults",
			want: want{host: "/var/run/postgresql", port: "5432", user: osUser.Username, db: "", app: "pgark"},
		},
		{
			name: "environment",
			env:  map[string]string{"PGHOST": "/env/sock", "PGPORT": "5999", "PGUSER": "envuser", "PGDATABASE": "envdb", "PGAPPNAME": "envapp"},
			want: want{host: "/env/sock", port: "5999", user: "envuser", db: "envdb", app: "envapp"},
		},
		{
			name: "flags override environment",
			env:  map[string]string{"PGHOST": "/env/sock", "PGPORT": "5999", "PGUSER": "envuser", "PGDATABASE": "envdb"},
			opts: conn.Options{Host: "/flag/sock", Port: "5433", Username: "flaguser", DBName: "flagdb"},
			want: want{host: "/flag/sock", port: "5433", user: "flaguser", db: "flagdb"},
		},
		{
			name: "positional dbname",
			env:  map[string]string{"PGDATABASE": "envdb"},
			args: []string{"posdb"},
			want: want{db: "posdb"},
		},
		{
			name: "conninfo overrides flags it sets, flags fill the rest",
			env:  map[string]string{"PGHOST": "/env/sock"},
			opts: conn.Options{Host: "/flag/sock", Port: "5433", Username: "flaguser", DBName: "host=/ci/sock dbname=cidb"},
			want: want{host: "/ci/sock", port: "5433", user: "flaguser", db: "cidb"},
		},
		{
			name: "conninfo as positional argument",
			opts: conn.Options{Username: "flaguser"},
			args: []string{"port=6543 user=ciuser"},
			want: want{port: "6543", user: "ciuser"},
		},
		{
			name: "URI overrides flags it sets, flags fill the rest",
			opts: conn.Options{Host: "/flag/sock", Port: "5433", Username: "flaguser", DBName: "postgresql://uriuser@%2Furi%2Fsock/uridb"},
			want: want{host: "/uri/sock", port: "5433", user: "uriuser", db: "uridb"},
		},
		{
			name: "URI with only a database",
			opts: conn.Options{Host: "/flag/sock", Username: "flaguser", DBName: "postgres:///uridb?application_name=uriapp"},
			want: want{host: "/flag/sock", user: "flaguser", db: "uridb", app: "uriapp"},
		},
		{
			name: "URI password is decoded",
			opts: conn.Options{DBName: "postgresql://u:p%40ss%20w%27rd%5C@%2Ftmp/db"},
			want: want{host: "/tmp", user: "u", db: "db", password: `p@ss w'rd\`},
		},
		{
			name: "conninfo password with quotes and backslashes",
			opts: conn.Options{DBName: `host=/tmp password='it\'s a \\ secret'`},
			want: want{password: `it's a \ secret`},
		},
		{
			name: "socket directory with spaces and quotes",
			opts: conn.Options{Host: `/tmp/my 'odd' dir\x`, Username: "o'brien", DBName: "my db"},
			want: want{host: `/tmp/my 'odd' dir\x`, user: "o'brien", db: "my db"},
		},
		{
			name: "multiple hosts from flags",
			opts: conn.Options{Host: "/s1,/s2", Port: "5433,5434"},
			want: want{host: "/s1", port: "5433", fallbacks: []string{"/s2:5434"}},
		},
		{
			name: "multiple hosts from URI",
			opts: conn.Options{Port: "7777", DBName: "postgresql://h1:5433,h2:5434/db?sslmode=disable"},
			want: want{host: "h1", port: "5433", fallbacks: []string{"h2:5434"}},
		},
		{
			name: "PGPASSWORD",
			env:  map[string]string{"PGPASSWORD": "env secret"},
			want: want{password: "env secret"},
		},
		{
			name: "conninfo password beats PGPASSWORD",
			env:  map[string]string{"PGPASSWORD": "env secret"},
			opts: conn.Options{DBName: "password=mine"},
			want: want{password: "mine"},
		},
		{
			name: "pgpass for a socket matches localhost",
			env:  map[string]string{"PGPASSFILE": "{dir}/pgpass"},
			opts: conn.Options{Host: "/tmp", Username: "alice"},
			want: want{password: `pg:pass\word`},
		},
		{
			name: "pgpass wildcard",
			env:  map[string]string{"PGPASSFILE": "{dir}/pgpass"},
			opts: conn.Options{Host: "db.example", Port: "1234", Username: "bob", DBName: "x"},
			want: want{password: "bobs pass"},
		},
		{
			name: "PGPASSWORD beats pgpass",
			env:  map[string]string{"PGPASSFILE": "{dir}/pgpass", "PGPASSWORD": "env"},
			opts: conn.Options{Host: "/tmp", Username: "alice"},
			want: want{password: "env"},
		},
		{
			name: "PGSERVICE",
			env:  map[string]string{"PGSERVICEFILE": "{dir}/services", "PGSERVICE": "main", "PGHOST": "/env/sock"},
			want: want{host: "/svc/main", port: "6000", user: "svcuser", db: "svcdb", password: "svc pass"},
		},
		{
			name: "flags beat the service",
			env:  map[string]string{"PGSERVICEFILE": "{dir}/services", "PGSERVICE": "main"},
			opts: conn.Options{Host: "/flag/sock", Username: "flaguser"},
			want: want{host: "/flag/sock", port: "6000", user: "flaguser", db: "svcdb"},
		},
		{
			name: "service in conninfo beats PGSERVICE",
			env:  map[string]string{"PGSERVICEFILE": "{dir}/services", "PGSERVICE": "main"},
			opts: conn.Options{DBName: "service=other"},
			want: want{host: "/svc/other", port: "5432", db: "otherdb"},
		},
		{
			name: "application_name fallback",
			opts: conn.Options{AppName: "pgark-dump"},
			want: want{app: "pgark-dump"},
		},
		{
			name: "fallback_application_name is ours, not the user's",
			opts: conn.Options{DBName: "fallback_application_name=psql"},
			want: want{app: "pgark", params: map[string]string{"fallback_application_name": ""}},
		},
		{
			name: "PGCONNECT_TIMEOUT and PGOPTIONS",
			env:  map[string]string{"PGCONNECT_TIMEOUT": "7", "PGOPTIONS": "-c statement_timeout=0"},
			want: want{timeout: 7 * time.Second, params: map[string]string{"options": "-c statement_timeout=0"}},
		},
		{
			name: "harmless libpq-only options are dropped",
			opts: conn.Options{DBName: "keepalives=1 keepalives_idle=30 gssencmode=disable sslcompression=0"},
			want: want{params: map[string]string{"keepalives": "", "keepalives_idle": "", "gssencmode": "", "sslcompression": ""}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := isolateEnv(t)
			writeFile(t, filepath.Join(dir, "pgpass"), pgpass)
			writeFile(t, filepath.Join(dir, "services"), services)
			for k, v := range tt.env {
				t.Setenv(k, strings.ReplaceAll(v, "{dir}", dir))
			}
			opts := tt.opts
			require.NoError(t, opts.SetPositional(tt.args))
			cfg, err := opts.Config(context.Background())
			require.NoError(t, err)
			w := tt.want
			check := func(field, want, got string) {
				if want != "" {
					assert.Equal(t, want, got, field)
				}
			}
			check("host", w.host, cfg.Host)
			check("port", w.port, itoa(cfg.Port))
			check("user", w.user, cfg.User)
			check("dbname", w.db, cfg.Database)
			check("password", w.password, cfg.Password)
			check("application_name", w.app, cfg.RuntimeParams["application_name"])
			if w.fallbacks != nil {
				var got []string
				for _, fb := range cfg.Fallbacks {
					hp := fb.Host + ":" + itoa(fb.Port)
					if len(got) == 0 || got[len(got)-1] != hp {
						got = append(got, hp)
					}
				}
				assert.Equal(t, w.fallbacks, got, "fallbacks")
			}
			for k, v := range w.params {
				got, ok := cfg.RuntimeParams[k]
				if v == "" {
					assert.False(t, ok, "runtime param %s should be absent", k)
				} else {
					assert.Equal(t, v, got, "runtime param %s", k)
				}
			}
			if w.timeout != 0 {
				assert.Equal(t, w.timeout, cfg.ConnectTimeout)
			}
		})
	}
}

func itoa(p uint16) string { return strconv.Itoa(int(p)) }

func TestConfigSSLMode(t *testing.T) {
	isolateEnv(t)
	o := conn.Options{Host: "db.example"}
	cfg, err := o.Config(context.Background())
	require.NoError(t, err)
	assert.NotNil(t, cfg.TLSConfig, "default sslmode=prefer tries TLS first")
	require.Len(t, cfg.Fallbacks, 1)
	assert.Nil(t, cfg.Fallbacks[0].TLSConfig)

	t.Setenv("PGSSLMODE", "disable")
	cfg, err = o.Config(context.Background())
	require.NoError(t, err)
	assert.Nil(t, cfg.TLSConfig)
	assert.Empty(t, cfg.Fallbacks)

	o.DBName = "sslmode=require"
	cfg, err = o.Config(context.Background())
	require.NoError(t, err)
	assert.NotNil(t, cfg.TLSConfig, "-d beats PGSSLMODE")
	assert.Empty(t, cfg.Fallbacks)
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		opts conn.Options
		want string
	}{
		{"bad port", conn.Options{Port: "notaport"}, "conn: parse connection settings: invalid port"},
		{"bad conninfo", conn.Options{DBName: "host=/tmp password='unterminated"}, "conn: parse -d connection string: invalid connection string: unterminated quoted value"},
		{"bad URI", conn.Options{DBName: "postgresql://u:p%zz@h/db"}, "conn: parse -d connection string: invalid URI: password: invalid percent-encoded token"},
		{"bad keyword", conn.Options{DBName: "postgresql://h/db?a%20b=c"}, "conn: parse -d connection string: invalid keyword"},
		{"hostaddr", conn.Options{DBName: "hostaddr=127.0.0.1"}, "conn: connection option hostaddr is not supported"},
		{"missing service", conn.Options{DBName: "service=nope"}, "conn: parse connection settings: failed to read service: failed to read service file"},
		{"nul byte", conn.Options{Host: "a\x00b"}, "conn: invalid host: contains a NUL byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateEnv(t)
			_, err := tt.opts.Config(context.Background())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "cannot parse", "pgconn's quoted connection string must not be shown")
			var ce *conn.ConfigError
			assert.ErrorAs(t, err, &ce)
		})
	}
}

func TestSetPositional(t *testing.T) {
	o := conn.Options{}
	require.NoError(t, o.SetPositional(nil))
	require.NoError(t, o.SetPositional([]string{"db"}))
	assert.Equal(t, "db", o.DBName)

	o = conn.Options{DBName: "fromflag"}
	err := o.SetPositional([]string{"db"})
	require.EqualError(t, err, `conn: too many command-line arguments (first is "db")`)

	o = conn.Options{}
	err = o.SetPositional([]string{"a", "b"})
	require.EqualError(t, err, `conn: too many command-line arguments (first is "b")`)
}

func TestAddFlags(t *testing.T) {
	tests := []struct {
		args []string
		want conn.Options
	}{
		{
			args: []string{"-h", "/sock", "-p", "5433", "-U", "alice", "-d", "db"},
			want: conn.Options{Host: "/sock", Port: "5433", Username: "alice", DBName: "db"},
		},
		{
			args: []string{"--host=/sock", "--port=5433", "--username=alice", "--dbname=host=x dbname=y"},
			want: conn.Options{Host: "/sock", Port: "5433", Username: "alice", DBName: "host=x dbname=y"},
		},
		{args: []string{"-w"}, want: conn.Options{NoPassword: true}},
		{args: []string{"-W"}, want: conn.Options{ForcePassword: true}},
		{args: []string{"-W", "-w"}, want: conn.Options{NoPassword: true}},
		{args: []string{"--no-password", "--password"}, want: conn.Options{ForcePassword: true}},
		{args: []string{"-wW"}, want: conn.Options{ForcePassword: true}},
		{args: []string{"-W", "--password=false"}, want: conn.Options{}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var o conn.Options
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			o.AddFlags(fs)
			require.NoError(t, fs.Parse(tt.args))
			assert.Equal(t, tt.want, o)
		})
	}

	var o conn.Options
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	o.AddFlags(fs)
	usage := fs.FlagUsages()
	for _, f := range []string{"-h, --host", "-p, --port", "-U, --username", "-d, --dbname", "-w, --no-password", "-W, --password"} {
		assert.Contains(t, usage, f)
	}
	assert.NotContains(t, usage, "--password string", "-W takes no value")
}

func TestForcePasswordPrompts(t *testing.T) {
	isolateEnv(t)
	t.Setenv("PGPASSWORD", "from-env")
	var prompts []string
	o := conn.Options{
		Username:      "alice",
		ForcePassword: true,
		Prompt: func(_ context.Context, msg string) (string, error) {
			prompts = append(prompts, msg)
			return "typed", nil
		},
	}
	cfg, err := o.Config(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "typed", cfg.Password, "-W beats PGPASSWORD")
	assert.Equal(t, []string{"Password for user alice: "}, prompts)

	o.DBName = "password=inline"
	cfg, err = o.Config(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "inline", cfg.Password, "as in pg_dump, a password in -d beats -W")

	o.Prompt = nil
	_, err = o.Config(context.Background())
	require.ErrorIs(t, err, conn.ErrNoPrompt)

	o.Prompt = func(context.Context, string) (string, error) { return "", errors.New("no tty") }
	o.DBName = ""
	_, err = o.Config(context.Background())
	require.ErrorContains(t, err, "read password: no tty")
}

func TestReplicationConfig(t *testing.T) {
	isolateEnv(t)
	cfg, err := (&conn.Options{Host: "/tmp"}).Config(context.Background())
	require.NoError(t, err)
	r := conn.ReplicationConfig(cfg, conn.ReplicationPhysical)
	assert.Equal(t, "true", r.RuntimeParams["replication"])
	assert.NotContains(t, cfg.RuntimeParams, "replication", "the original is not modified")
	assert.Equal(t, "database", conn.ReplicationConfig(cfg, conn.ReplicationDatabase).RuntimeParams["replication"])
	assert.Equal(t, cfg.RuntimeParams["application_name"], r.RuntimeParams["application_name"])
}

func TestNeedsPassword(t *testing.T) {
	authErr := &pgconn.PgError{Severity: "FATAL", Code: "28P01"}
	assert.True(t, conn.NeedsPassword(authErr, ""))
	assert.False(t, conn.NeedsPassword(authErr, "tried"), "a supplied password that failed is not a missing one")
	assert.False(t, conn.NeedsPassword(&pgconn.PgError{Code: "28000"}, ""), "e.g. peer or ident failure")
	assert.False(t, conn.NeedsPassword(errors.New("dial error"), ""))
}
