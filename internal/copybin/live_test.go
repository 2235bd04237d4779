package copybin

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgark/pgark/internal/testcluster"
)

// liveColumns has one column of every supported type (two of numeric).
const liveColumns = `(id int8, b bool, i2 int2, i4 int4, i8 int8, o oid, f4 float4, f8 float8,
	t text, vc varchar(20), bp char(5), nm name, js json, jb jsonb, by bytea, u uuid,
	d date, ts timestamp, tstz timestamptz, n numeric, n2 numeric(12,2), ine inet, ci cidr)`

// liveEdges are the edge values, one statement per column group so that a
// failure names its values; columns not set are NULL.
var liveEdges = []string{
	`INSERT INTO src (id, b, i2, i4, i8, o) VALUES
		(1, true, 32767, 2147483647, 9223372036854775807, 4294967295),
		(2, false, -32768, -2147483648, -9223372036854775808, 0),
		(3, NULL, 0, 0, 0, 1)`,
	`INSERT INTO src (id, f4, f8) VALUES
		(10, 'NaN', 'NaN'), (11, 'Infinity', 'Infinity'), (12, '-Infinity', '-Infinity'), (13, '-0', '-0'),
		(14, '3.4028235e+38', '1.7976931348623157e+308'), (15, '1e-45', '5e-324'),
		(16, '1.17549435e-38', '2.2250738585072014e-308'), (17, 0.1, 0.1), (18, -1.5e-7, 1e100),
		(19, 1/3.0, 1/3.0), (20, 0, 0)`,
	`INSERT INTO src (id, t, vc, bp, nm) VALUES
		(30, E'tab\there', E'nl\nhere', 'ab', repeat('n', 63)),
		(31, E'cr\rhere', E'back\\slash', '', ''),
		(32, '\N', '', E'\\', 'x'),
		(33, '', '\.', '.', '\N'),
		(34, E'\\.', E'\\x41', E'\t', E'a\tb'),
		(35, E'ctl\b\f\v\x01\x7f\x1b', E'\\\\N', 'é😀', 'ünï'),
		(36, 'ünïcødé 😀 ' || repeat('long ', 2000), '\\N', NULL, NULL)`,
	`INSERT INTO src (id, js, jb) VALUES
		(40, '{"a": "tab\there \u00e9 \\ \"q\"", "n": 1.50}', '{"a": "é\t\\n", "b": [1, 2.5e10, null, true], "c": {"d": "\u00e9"}}'),
		(41, '{"k":"\u0000"}', '"\\\\"'),
		(42, E'[1,\n 2]', '[]'),
		(43, '"é😀"', '{"" : {"nested": [{"deep": -0.0}]}}')`,
	`INSERT INTO src (id, by, u) VALUES
		(50, '\x', '00000000-0000-0000-0000-000000000000'),
		(51, '\x00ff5c0a0d09', 'ffffffff-ffff-ffff-ffff-ffffffffffff'),
		(52, decode(repeat('5c', 1000), 'hex'), 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')`,
	`INSERT INTO src (id, d, ts, tstz) VALUES
		(60, 'infinity', 'infinity', 'infinity'),
		(61, '-infinity', '-infinity', '-infinity'),
		(62, '4714-11-24 BC', '4714-11-24 00:00:00 BC', '4714-11-24 12:00:00+00 BC'),
		(63, '5874897-12-31', '294276-12-31 23:59:59.999999', '294276-12-31 23:59:59.999999+00'),
		(64, '0001-01-01 BC', '0001-12-31 23:59:59.5 BC', '0001-01-01 00:00:00+00'),
		(65, '2000-02-29', '2000-01-01 00:00:00.000001', '1850-06-01 12:00:00 Europe/Amsterdam'),
		(66, '10000-01-01', '10000-01-01 12:00:00.12', '1900-01-01 00:00:00 Asia/Kolkata'),
		(67, '2000-01-01', '1999-12-31 23:59:59.123456', '1880-01-01 00:00:00 America/St_Johns'),
		(68, '0005-02-29 BC', '2024-02-29 12:34:56.1234', '2024-03-10 02:30:00.12345 America/New_York')`,
	`INSERT INTO src (id, n, n2) VALUES
		(70, 0, 0), (71, 0.00, 0.00), (72, -0.5, -0.01), (73, 1e-30, 9999999999.99), (74, 'NaN', -9999999999.99),
		(75, 12345678901234567890.123456789, 1), (76, -1, NULL), (77, 10000, 100), (78, 0.0001, 0.1),
		(79, ('1' || repeat('0', 131071))::numeric, NULL),
		(80, repeat('9', 131068)::numeric, NULL),
		(81, ('0.' || repeat('0', 16382) || '1')::numeric, NULL),
		(82, -repeat('1234', 1000)::numeric / 7, NULL)`,
	`INSERT INTO src (id, ine, ci) VALUES
		(90, '1.2.3.4', '10.0.0.0/8'), (91, '10.0.0.1/8', '1.2.3.4/32'), (92, '::1', '::/0'),
		(93, '::ffff:1.2.3.4', '2001:db8::/32'), (94, '::1.2.3.4', '::ffff:1.2.3.0/120'),
		(95, '2001:db8::1/64', '0.0.0.0/0'), (96, '0.0.0.0/0', '::1.2.3.4/128'), (97, '::/0', '1:0:0:2::/64'),
		(98, '1:0:0:2::3', 'fe80::/10'), (99, '1::2:0:0:3:4', '::ffff:0.0.0.0/96')`,
}

// liveRandom adds 20000 random rows, every column set in most of them.
const liveRandom = `
INSERT INTO src
SELECT g,
	random() < 0.5,
	(random() * 65535 - 32768)::int2,
	(random() * 4294967295 - 2147483648)::int8::int4,
	((random() - 0.5) * 1.8e19)::numeric::int8,
	(random() * 4294967295)::int8::oid,
	((random() - 0.5) * 10 ^ (random() * 70 - 35))::float4,
	((random() - 0.5) * 10 ^ (random() * 600 - 300))::float8,
	s.txt,
	left(s.txt, 20),
	left(s.txt, (random() * 5)::int),
	left(s.txt, 63),
	json_build_object('k', s.txt, 'n', g * random(), 'u', 'é😀', 'a', json_build_array(g, s.txt))::json,
	jsonb_build_object('k', s.txt, 'n', round((random() * 1e6)::numeric, 3), 'nested', jsonb_build_object(coalesce(s.txt, ''), g)),
	CASE WHEN random() < 0.1 THEN '\x'::bytea ELSE decode(md5(g::text) || md5(s.txt), 'hex') || convert_to(s.txt, 'UTF8') END,
	gen_random_uuid(),
	date '4714-11-24 BC' + (random() * 2147483493)::int,
	timestamp '4714-11-24 00:00:00 BC' + make_interval(days => (random() * 109203527)::int, secs => s.secs),
	timestamptz '4714-11-24 12:00:00+00 BC' + make_interval(days => (random() * 109203520)::int, secs => s.secs),
	CASE WHEN random() < 0.02 THEN 'NaN'::numeric
		ELSE round(((random() - 0.5) * 10 ^ (random() * 50 - 25))::numeric, (random() * 40)::int) END,
	round(((random() - 0.5) * 2e10)::numeric, 2),
	CASE WHEN random() < 0.5 THEN set_masklen(s.v4::inet, (random() * 32)::int)
		ELSE set_masklen(s.v6::inet, (random() * 128)::int) END,
	CASE WHEN random() < 0.5 THEN network(set_masklen(s.v4::inet, (random() * 32)::int))
		ELSE network(set_masklen(s.v6::inet, (random() * 128)::int)) END
FROM generate_series(100, 20099) g,
LATERAL (SELECT
	(SELECT string_agg((ARRAY['a', 'b', E'\t', E'\n', E'\\', E'\r', 'é', '😀', ' ', 'N', '.', E'\b', '"', '{', E'\x01'])
		[1 + (random() * 14)::int], '') FROM generate_series(1, (random() * 30)::int + 0 * g)) AS txt,
	CASE (random() * 6)::int WHEN 0 THEN 0 WHEN 1 THEN 0.5 WHEN 2 THEN round((random() * 86399)::numeric, 3)
		ELSE random() * 86399.999 END AS secs,
	(random() * 255)::int || '.' || (random() * 255)::int || '.' || (random() * 255)::int || '.' || (random() * 255)::int AS v4,
	CASE WHEN random() < 0.2 THEN '::ffff:' || (random() * 255)::int || '.1.2.' || (random() * 255)::int
		ELSE (SELECT string_agg(CASE WHEN random() < 0.4 THEN '0' ELSE to_hex((random() * 65535)::int) END, ':')
			FROM generate_series(1, 8 + 0 * g)) END AS v6
) s`

// liveSettings are those of pgark's dump sessions.
const liveSettings = `SET DateStyle = ISO; SET IntervalStyle = postgres; SET extra_float_digits = 3;
	SET bytea_output = hex; SET client_encoding = 'UTF8'; `

func TestLiveRoundTrip(t *testing.T) {
	testcluster.EachMajor(t, func(t *testing.T, c *testcluster.Cluster) {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
		defer cancel()
		c.CreateDB(t, "cb")
		c.Exec(t, "cb", "SET TimeZone = 'UTC'; CREATE TABLE src "+liveColumns+"; CREATE TABLE dst (LIKE src);")
		for _, sql := range liveEdges {
			c.Exec(t, "cb", "SET TimeZone = 'UTC'; "+sql)
		}
		c.Exec(t, "cb", "SET TimeZone = 'UTC'; "+liveRandom)
		conn, err := c.Connect(ctx, "cb")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		oids := columnTypes(ctx, t, conn, "src")
		conv, err := New(oids)
		if err != nil {
			t.Fatal(err)
		}
		for _, tz := range []string{"UTC", "Asia/Kolkata", "America/St_Johns", "Europe/Amsterdam"} {
			t.Run(strings.ReplaceAll(tz, "/", "_"), func(t *testing.T) {
				exec(ctx, t, conn, liveSettings+"SET TimeZone = '"+tz+"'; TRUNCATE dst")
				text := copyOut(ctx, t, conn, "COPY src TO STDOUT")
				out := Header(nil)
				if out, err = conv.AppendRows(out, text); err != nil {
					t.Fatalf("convert: %v\nrow: %q", err, nthLine(text, err))
				}
				out = Trailer(out)
				if _, err := conn.PgConn().CopyFrom(ctx, bytes.NewReader(out), "COPY dst FROM STDIN WITH (FORMAT binary)"); err != nil {
					t.Fatalf("binary copy: %v", err)
				}
				// The oracle: every row of dst equals its source row, as text.
				src := queryValue(ctx, t, conn, "SELECT count(*)::text FROM src")
				if dst := queryValue(ctx, t, conn, "SELECT count(*)::text FROM dst"); src != dst || src != "20060" {
					t.Fatalf("src has %s rows, dst %s, want 20060", src, dst)
				}
				diff := queryValue(ctx, t, conn, `SELECT coalesce(string_agg(x.r, E'\n'), '') FROM (
					(SELECT 'src ' || ss::text AS r FROM src ss EXCEPT ALL SELECT 'src ' || dd::text FROM dst dd)
					UNION ALL
					(SELECT 'dst ' || dd::text FROM dst dd EXCEPT ALL SELECT 'dst ' || ss::text FROM src ss)
					ORDER BY 1 LIMIT 20) x`)
				if diff != "" {
					t.Fatalf("rows differ:\n%s", diff)
				}
			})
		}
	})
}

// TestLiveRefused feeds the converter text written with other settings,
// which it must refuse rather than misread.
func TestLiveRefused(t *testing.T) {
	testcluster.EachMajor(t, func(t *testing.T, c *testcluster.Cluster) {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		c.CreateDB(t, "cb")
		c.Exec(t, "cb", `CREATE TABLE r (d date, ts timestamp, tstz timestamptz, by bytea, n numeric, f float8);
			INSERT INTO r VALUES ('2024-02-29', '2024-02-29 12:00:00', '2024-02-29 12:00:00+00', '\x01', 1, 1)`)
		conn, err := c.Connect(ctx, "cb")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		oids := columnTypes(ctx, t, conn, "r")
		for _, tt := range []struct {
			set    string
			column int
		}{
			{"SET DateStyle = 'German'", 0},
			{"SET DateStyle = 'SQL, DMY'", 0},
			{"SET DateStyle = 'Postgres'", 0},
			{"SET bytea_output = 'escape'", 3},
		} {
			t.Run(tt.set, func(t *testing.T) {
				exec(ctx, t, conn, "RESET ALL; "+liveSettings+tt.set)
				text := copyOut(ctx, t, conn, "COPY r TO STDOUT")
				conv, err := New(oids)
				if err != nil {
					t.Fatal(err)
				}
				_, err = conv.AppendRows(nil, text)
				var re *RowError
				if !errors.As(err, &re) || re.Column != tt.column {
					t.Fatalf("text %q: got %v, want an error in column %d", text, err, tt.column)
				}
			})
		}
		// Infinite numerics exist from PostgreSQL 14 on; they are refused.
		if c.Major() >= 14 {
			exec(ctx, t, conn, "RESET ALL; "+liveSettings+"TRUNCATE r; INSERT INTO r (n) VALUES ('Infinity')")
			conv, err := New(oids)
			if err != nil {
				t.Fatal(err)
			}
			text := copyOut(ctx, t, conn, "COPY r TO STDOUT")
			if _, err := conv.AppendRows(nil, text); err == nil {
				t.Fatalf("numeric Infinity accepted: %q", text)
			}
		}
	})
}

func columnTypes(ctx context.Context, t *testing.T, conn *pgx.Conn, table string) []uint32 {
	t.Helper()
	rows, err := conn.Query(ctx, "SELECT atttypid FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum", table)
	if err != nil {
		t.Fatal(err)
	}
	oids, err := pgx.CollectRows(rows, pgx.RowTo[uint32])
	if err != nil {
		t.Fatal(err)
	}
	return oids
}

func exec(ctx context.Context, t *testing.T, conn *pgx.Conn, sql string) {
	t.Helper()
	if _, err := conn.PgConn().Exec(ctx, sql).ReadAll(); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func queryValue(ctx context.Context, t *testing.T, conn *pgx.Conn, sql string) string {
	t.Helper()
	var v string
	if err := conn.QueryRow(ctx, sql).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

func copyOut(ctx context.Context, t *testing.T, conn *pgx.Conn, sql string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := conn.PgConn().CopyTo(ctx, &buf, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return buf.Bytes()
}

// nthLine returns the row a *RowError names, cut to 300 bytes.
func nthLine(text []byte, err error) string {
	var re *RowError
	if !errors.As(err, &re) {
		return ""
	}
	lines := bytes.SplitN(text, []byte("\n"), re.Row+2)
	if re.Row >= len(lines) {
		return ""
	}
	line := lines[re.Row]
	if fields := bytes.Split(line, []byte("\t")); re.Column >= 0 && re.Column < len(fields) {
		line = []byte("column " + strconv.Itoa(re.Column) + ": " + string(fields[re.Column]))
	}
	return string(line[:min(len(line), 300)])
}

// TestLiveDecode checks the Decoder against the server: the binary COPY of
// every edge and random row, decoded, is byte for byte the text COPY of the
// same rows (TimeZone UTC, pgark's dump settings), on every major.
func TestLiveDecode(t *testing.T) {
	testcluster.EachMajor(t, func(t *testing.T, c *testcluster.Cluster) {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
		defer cancel()
		c.CreateDB(t, "cb")
		c.Exec(t, "cb", "SET TimeZone = 'UTC'; CREATE TABLE src "+liveColumns)
		for _, sql := range liveEdges {
			c.Exec(t, "cb", "SET TimeZone = 'UTC'; "+sql)
		}
		if c.Major() >= 14 { // numeric infinities: the Decoder writes them, the Converter refuses them
			c.Exec(t, "cb", `INSERT INTO src (id, n) VALUES (83, 'Infinity'), (84, '-Infinity')`)
		}
		c.Exec(t, "cb", "SET TimeZone = 'UTC'; "+liveRandom)
		conn, err := c.Connect(ctx, "cb")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		exec(ctx, t, conn, liveSettings+"SET TimeZone = 'UTC'")
		dec, err := NewDecoder(columnTypes(ctx, t, conn, "src"))
		if err != nil {
			t.Fatal(err)
		}
		text := copyOut(ctx, t, conn, "COPY src TO STDOUT")
		bin := copyOut(ctx, t, conn, "COPY src TO STDOUT (FORMAT binary)")
		head := Header(nil)
		if !bytes.HasPrefix(bin, head) || !bytes.HasSuffix(bin, Trailer(nil)) {
			t.Fatalf("unexpected binary COPY framing: %q ... %q", bin[:min(len(bin), 19)], bin[max(0, len(bin)-2):])
		}
		got, err := dec.AppendRows(nil, bin[len(head):len(bin)-2])
		if err != nil {
			t.Fatal(err)
		}
		wantLines, gotLines := bytes.Split(text, []byte("\n")), bytes.Split(got, []byte("\n"))
		if len(wantLines) != len(gotLines) {
			t.Fatalf("decoded %d lines, want %d", len(gotLines), len(wantLines))
		}
		bad := 0
		for i := range wantLines {
			w, g := bytes.Split(wantLines[i], []byte("\t")), bytes.Split(gotLines[i], []byte("\t"))
			for col := range max(len(w), len(g)) {
				if col >= len(w) || col >= len(g) || !bytes.Equal(w[col], g[col]) {
					var wv, gv []byte
					if col < len(w) {
						wv = w[col]
					}
					if col < len(g) {
						gv = g[col]
					}
					t.Errorf("row %d column %d: decoded %.200q, server wrote %.200q", i, col, gv, wv)
					if bad++; bad == 20 {
						t.FailNow()
					}
				}
			}
		}
	})
}
