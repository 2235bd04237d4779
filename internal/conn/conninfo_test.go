package conn

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// isolateEnv unsets every variable pgconn reads and points the password and
// service files at nothing, so that parsing depends only on the test.
func isolateEnv(tb interface {
	Setenv(key, value string)
	TempDir() string
}) {
	for _, k := range []string{
		"PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD", "PGAPPNAME",
		"PGCONNECT_TIMEOUT", "PGSSLMODE", "PGSSLKEY", "PGSSLCERT", "PGSSLCERTMODE", "PGSSLSNI",
		"PGSSLROOTCERT", "PGSSLPASSWORD", "PGSSLNEGOTIATION", "PGTARGETSESSIONATTRS",
		"PGSERVICE", "PGTZ", "PGOPTIONS", "PGMINPROTOCOLVERSION", "PGMAXPROTOCOLVERSION",
		"PGCHANNELBINDING", "PGREQUIREAUTH",
	} {
		tb.Setenv(k, "") // restores the old value at the end of the test
		os.Unsetenv(k)   // pgconn treats some present-but-empty variables as set
	}
	dir := tb.TempDir()
	tb.Setenv("HOME", dir)
	tb.Setenv("PGPASSFILE", filepath.Join(dir, "no-pgpass"))
	tb.Setenv("PGSERVICEFILE", filepath.Join(dir, "no-services"))
}

func TestParseKeywordValue(t *testing.T) {
	tests := []struct {
		in   string
		want map[string]string
	}{
		{"", map[string]string{}},
		{"   ", map[string]string{}},
		{"dbname=foo", map[string]string{"dbname": "foo"}},
		{"database=foo", map[string]string{"dbname": "foo"}},
		{"host = /tmp  port= 5433\tuser =bob", map[string]string{"host": "/tmp", "port": "5433", "user": "bob"}},
		{`password='a b'`, map[string]string{"password": "a b"}},
		{`password='it\'s'`, map[string]string{"password": "it's"}},
		{`password='back\\slash'`, map[string]string{"password": `back\slash`}},
		{`password=un\ quoted`, map[string]string{"password": "un quoted"}},
		{`password=trail\`, map[string]string{"password": "trail"}},
		{`password=''`, map[string]string{"password": ""}},
		{`password=`, map[string]string{"password": ""}},
		{`dbname=a dbname=b`, map[string]string{"dbname": "b"}},
		{`options='-c search_path=x'`, map[string]string{"options": "-c search_path=x"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseKeywordValue(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseKeywordValueErrors(t *testing.T) {
	for _, in := range []string{
		"dbname",
		"=x",
		"password=Secret1 oops",
		"password='Secret1",
		`password='Secret1\'`,
		"dbname=x\x00y",
	} {
		t.Run(in, func(t *testing.T) {
			_, err := parseConnString(in)
			require.Error(t, err)
			assert.NotContains(t, err.Error(), "Secret1")
			assert.NotContains(t, err.Error(), "oops")
		})
	}
}

func TestParseURI(t *testing.T) {
	tests := []struct {
		in   string
		want map[string]string
	}{
		{"postgresql://", map[string]string{}},
		{"postgres://host/db", map[string]string{"host": "host", "dbname": "db"}},
		{"postgresql://u:p%40ss%3Aw@h:5433/d", map[string]string{"user": "u", "password": "p@ss:w", "host": "h", "port": "5433", "dbname": "d"}},
		{"postgresql://u:@h", map[string]string{"user": "u", "host": "h"}},
		{"postgresql://%2Ftmp%2Fmy%20dir/db", map[string]string{"host": "/tmp/my dir", "dbname": "db"}},
		{"postgresql:///db?host=/tmp&port=5433", map[string]string{"host": "/tmp", "port": "5433", "dbname": "db"}},
		{"postgresql://[::1]:5433/db", map[string]string{"host": "::1", "port": "5433", "dbname": "db"}},
		{"postgresql://h1:5433,h2,[::1]:5435/db", map[string]string{"host": "h1,h2,::1", "port": "5433,,5435", "dbname": "db"}},
		{"postgresql://h1,h2/db", map[string]string{"host": "h1,h2", "port": ",", "dbname": "db"}},
		{"postgresql://h/?ssl=true", map[string]string{"host": "h", "sslmode": "require"}},
		{"postgresql://h/?ssl=true&sslmode=disable", map[string]string{"host": "h", "sslmode": "disable"}},
		{"postgresql://h/?sslmode=disable&ssl=true", map[string]string{"host": "h", "sslmode": "require"}},
		{"postgresql://h/?database=x&application_name=a%20b", map[string]string{"host": "h", "dbname": "x", "application_name": "a b"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseConnString(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseURIErrors(t *testing.T) {
	for _, in := range []string{
		"postgresql://u:Secret1%zz@h/db",
		"postgresql://u:Secret1%00@h/db",
		"postgresql://u:Secret1 x@h/db",
		"postgresql://[::1/db",
		"postgresql://[]/db",
		"postgresql://[::1]x/db",
		"postgresql://h/db?password",
		"postgresql://h/db?password=Secret1=x",
	} {
		t.Run(in, func(t *testing.T) {
			_, err := parseConnString(in)
			require.Error(t, err)
			assert.NotContains(t, err.Error(), "Secret1")
		})
	}
}

// TestComposeMatchesPgconn checks that parsing a connection string with our
// parser and composing it again gives pgconn the same settings as the
// original string.
func TestComposeMatchesPgconn(t *testing.T) {
	isolateEnv(t)
	for _, in := range []string{
		"dbname=foo host=/tmp port=5433 user=bob password='a b\\'c'",
		`host='/tmp/my dir' application_name='x\\y' options='-c a=b'`,
		"host=h1,h2 port=5433,5434 sslmode=disable connect_timeout=3",
		"service=nothing servicefile=/nonexistent",
		"user= dbname=x",
		"postgresql://u:p%40ss%3Aw@h:5433/d?sslmode=disable",
		"postgresql://%2Ftmp%2Fmy%20dir/db?application_name=a%27b",
		"postgresql://h1:5433,h2,[::1]:5435/db?sslmode=disable",
		"postgresql://h1,h2/db?ssl=true",
		"postgres:///?host=/tmp&target_session_attrs=read-write",
	} {
		t.Run(in, func(t *testing.T) {
			want, wantErr := pgconn.ParseConfig(in)
			m, err := parseConnString(in)
			require.NoError(t, err)
			got, gotErr := pgconn.ParseConfig(composeConnString(sortedPairs(m)))
			if wantErr != nil {
				require.Error(t, gotErr)
				return
			}
			require.NoError(t, gotErr)
			assert.Equal(t, summary(want), summary(got))
		})
	}
}

// summary renders what a Config connects to, for comparisons.
func summary(c *pgconn.Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "host=%s port=%d db=%s user=%s pw=%s timeout=%v tls=%t validate=%t\n",
		c.Host, c.Port, c.Database, c.User, c.Password, c.ConnectTimeout, c.TLSConfig != nil, c.ValidateConnect != nil)
	for _, fb := range c.Fallbacks {
		fmt.Fprintf(&b, "fallback %s:%d tls=%t\n", fb.Host, fb.Port, fb.TLSConfig != nil)
	}
	keys := make([]string, 0, len(c.RuntimeParams))
	for k := range c.RuntimeParams {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "param %s=%s\n", k, c.RuntimeParams[k])
	}
	return b.String()
}

func FuzzParseConnString(f *testing.F) {
	isolateEnv(f)
	for _, s := range []string{
		"dbname=foo host=/tmp", `password='a\'b' x=\\`, "a = 'b c'", "=", "'", `k=\`,
		"postgresql://u:p@h:1,h2/d?x=y&ssl=true", "postgres://[::1]:5/", "postgresql://a@b@c/?%41=%42",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := parseConnString(s)
		if err != nil {
			return
		}
		for k := range m {
			if !validKey(k) {
				return // rejected before composing
			}
		}
		if u, ok := m["user"]; ok && u == "" {
			// pgconn keeps an empty URI user but drops an empty keyword
			// user (then using the OS user); we get the latter. Harmless.
			return
		}
		want, wantErr := pgconn.ParseConfig(s)
		got, gotErr := pgconn.ParseConfig(composeConnString(sortedPairs(m)))
		if wantErr != nil || gotErr != nil {
			// Errors may differ in wording, not in outcome, except where
			// pgconn's URI parser rejects what it would accept as keywords.
			if (wantErr == nil) != (gotErr == nil) && uriPrefixLen(s) == 0 {
				t.Fatalf("pgconn error %v, ours %v", wantErr, gotErr)
			}
			return
		}
		if summary(want) != summary(got) {
			t.Fatalf("parse %q:\npgconn: %s\nours:   %s", s, summary(want), summary(got))
		}
	})
}

func FuzzQuoteValue(f *testing.F) {
	isolateEnv(f)
	for _, s := range []string{"", "a b", `it's`, `\`, `\'`, "'", " lead", "trail "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if strings.IndexByte(v, 0) >= 0 {
			return
		}
		cfg, err := pgconn.ParseConfig("application_name=" + quoteValue(v) + " host=/tmp")
		require.NoError(t, err)
		require.Equal(t, v, cfg.RuntimeParams["application_name"])
		m, err := parseKeywordValue("x=" + quoteValue(v))
		require.NoError(t, err)
		require.Equal(t, v, m["x"])
	})
}

func TestParseServerVersion(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"15.4 (Debian 15.4-1.pgdg120+1)", 150004},
		{"15.4", 150004},
		{"9.6.24", 90624},
		{"9.6", 90600},
		{"17devel", 170000},
		{"16beta2", 160000},
		{"10.23", 100023},
		{"18.0", 180000},
	}
	for _, tt := range tests {
		got, err := parseServerVersion(tt.in)
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
	for _, bad := range []string{"", "devel", "6.5", "15.100", "x15"} {
		_, err := parseServerVersion(bad)
		assert.Error(t, err, bad)
	}
}
