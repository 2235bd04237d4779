package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/internal/testcluster"
)

// Whole-cluster backups: pgark dumpall of a cluster with roles of every
// attribute (passwords too), memberships with their options and grantors,
// role settings in every database and in one, privileges on a parameter, a
// tablespace with options, privileges and a comment, and databases with
// owners, encodings, locales, connection limits, settings, comments,
// privileges and data; restored by pgark restore into a second, fresh
// cluster. Oracles: the shared catalogs of both clusters read by the same
// queries (globalsSignature), pg_dumpall --globals-only and pg_dump
// --create --schema-only where the machine's (15) can read the server, and
// the rows of every table. Then, in a third cluster: the globals without
// passwords, a single database restored with -C from a stream, and a
// database restored by a role that is no superuser and may only create
// databases.

// clusterCorpus is the source cluster's globals and databases; %[1]s is
// the tablespace's directory.
func clusterCorpus(major int, dir string) []string {
	stmts := []string{
		`CREATE ROLE admin_all SUPERUSER CREATEDB CREATEROLE LOGIN REPLICATION BYPASSRLS CONNECTION LIMIT 5
			VALID UNTIL '2099-01-01 00:00:00+00' PASSWORD 'secret one'`,
		`CREATE ROLE "Mixed Role" NOINHERIT LOGIN PASSWORD 'secret two'`,
		`CREATE ROLE grp NOLOGIN`,
		`CREATE ROLE grp2`,
		`CREATE ROLE member1 LOGIN`,
		`COMMENT ON ROLE grp IS 'a group''s role'`,
		`GRANT grp TO "Mixed Role" WITH ADMIN OPTION`,
		`GRANT pg_monitor TO member1`,
		`ALTER ROLE member1 SET work_mem = '8MB'`,
		`ALTER ROLE member1 SET search_path = "$user", public, "odd, name"`,
		`ALTER ROLE "Mixed Role" SET statement_timeout = '5s'`,
		fmt.Sprintf(`CREATE TABLESPACE "ts one" OWNER grp LOCATION '%s' WITH (seq_page_cost = 2, random_page_cost = 3)`, dir),
		`GRANT CREATE ON TABLESPACE "ts one" TO member1`,
		`COMMENT ON TABLESPACE "ts one" IS 'fast disk'`,
		`CREATE DATABASE "app one" OWNER "Mixed Role" TEMPLATE template0 ENCODING 'LATIN1' LOCALE 'C' TABLESPACE "ts one" CONNECTION LIMIT 20`,
		`ALTER DATABASE "app one" SET work_mem = '4MB'`,
		`CREATE DATABASE shop OWNER grp TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C.utf8'`,
		`ALTER DATABASE shop SET work_mem = '16MB'`,
		`ALTER DATABASE shop SET search_path = public, "odd"`,
		`ALTER ROLE member1 IN DATABASE shop SET work_mem = '32MB'`,
		`COMMENT ON DATABASE shop IS 'the shop'`,
		`REVOKE CONNECT, TEMPORARY ON DATABASE shop FROM PUBLIC`,
		`GRANT CONNECT ON DATABASE shop TO member1`,
	}
	if major >= 16 {
		stmts = append(stmts,
			`GRANT grp2 TO member1 WITH INHERIT FALSE, SET FALSE`,
			`GRANT grp TO member1 WITH ADMIN OPTION GRANTED BY "Mixed Role"`)
	} else {
		stmts = append(stmts, `GRANT grp2 TO member1`, `GRANT grp TO member1 WITH ADMIN OPTION`)
	}
	if major >= 15 {
		stmts = append(stmts, `GRANT SET ON PARAMETER work_mem TO grp`)
	}
	return stmts
}

// databaseCorpus fills the databases of clusterCorpus.
var databaseCorpus = map[string]string{
	"postgres": `CREATE TABLE public.kept (id integer PRIMARY KEY, v text);
		INSERT INTO public.kept SELECT g, 'k' || g FROM generate_series(1, 20) g;`,
	"app one": `CREATE TABLE public.menu (id integer PRIMARY KEY, dish text);
		INSERT INTO public.menu VALUES (1, 'café crème'), (2, 'crêpe'), (3, NULL);`,
	"shop": `CREATE SCHEMA odd;
		CREATE TABLE odd.orders (id integer PRIMARY KEY, item text NOT NULL);
		GRANT SELECT ON odd.orders TO member1;
		INSERT INTO odd.orders SELECT g, 'item ' || g FROM generate_series(1, 500) g;`,
}

// tablespaceDir makes a directory under the cluster's socket directory
// that the server's OS user owns.
func tablespaceDir(t *testing.T, c *testcluster.Cluster, name string) string {
	t.Helper()
	dir := filepath.Join(c.SocketDir(), name)
	require.NoError(t, os.Mkdir(dir, 0o700))
	fi, err := os.Stat(c.DataDir())
	require.NoError(t, err)
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && os.Geteuid() == 0 {
		require.NoError(t, os.Chown(dir, int(st.Uid), int(st.Gid)))
	}
	return dir
}

// globalsSignature reads the shared catalogs: roles with every attribute
// and password, memberships (with grantor and options on 16+), settings
// per role and database, privileges on parameters, tablespaces and
// databases with every property. Tablespace locations are rewritten by
// locations, so that a second cluster's can be compared.
func globalsSignature(t *testing.T, c *testcluster.Cluster, locations map[string]string) string {
	t.Helper()
	membership := "ur.rolname, um.rolname, a.admin_option"
	if c.Major() >= 16 {
		membership += ", ug.rolname, a.inherit_option, a.set_option"
	}
	locale := "''"
	switch {
	case c.Major() >= 17:
		locale = "d.datlocprovider::text || ':' || coalesce(d.datlocale, '') || ':' || coalesce(d.daticurules, '')"
	case c.Major() >= 16:
		locale = "d.datlocprovider::text || ':' || coalesce(d.daticulocale, '') || ':' || coalesce(d.daticurules, '')"
	case c.Major() >= 15:
		locale = "d.datlocprovider::text || ':' || coalesce(d.daticulocale, '')"
	}
	queries := []string{
		`SELECT 'role ' || (rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication,
			rolbypassrls, rolconnlimit, rolpassword, rolvaliduntil, shobj_description(oid, 'pg_authid'))::text
			FROM pg_authid WHERE rolname !~ '^pg_' ORDER BY 1`,
		`SELECT 'member ' || (` + membership + `)::text FROM pg_auth_members a JOIN pg_roles ur ON ur.oid = a.roleid
			JOIN pg_roles um ON um.oid = a.member LEFT JOIN pg_roles ug ON ug.oid = a.grantor ORDER BY 1`,
		`SELECT 'setting ' || (coalesce(d.datname, ''), coalesce(r.rolname, ''), s.setconfig)::text FROM pg_db_role_setting s
			LEFT JOIN pg_database d ON d.oid = s.setdatabase LEFT JOIN pg_roles r ON r.oid = s.setrole ORDER BY 1`,
		`SELECT 'tablespace ' || (spcname, pg_get_userbyid(spcowner), pg_tablespace_location(oid), spcacl, spcoptions,
			shobj_description(oid, 'pg_tablespace'))::text FROM pg_tablespace ORDER BY 1`,
		`SELECT 'database ' || (d.datname, pg_get_userbyid(d.datdba), pg_encoding_to_char(d.encoding), d.datcollate,
			d.datctype, ` + locale + `, d.datistemplate, d.datallowconn, d.datconnlimit, d.datacl, t.spcname,
			shobj_description(d.oid, 'pg_database'))::text
			FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace ORDER BY 1`,
	}
	if c.Major() >= 15 {
		queries = append(queries, `SELECT 'parameter ' || (parname, paracl)::text FROM pg_parameter_acl ORDER BY 1`)
	}
	ctx := context.Background()
	conn, err := c.Connect(ctx, "postgres")
	require.NoError(t, err)
	defer conn.Close(ctx)
	var b strings.Builder
	for _, q := range queries {
		rows, err := conn.Query(ctx, q)
		require.NoError(t, err, q)
		for rows.Next() {
			var s string
			require.NoError(t, rows.Scan(&s))
			for from, to := range locations {
				s = strings.ReplaceAll(s, from, to)
			}
			b.WriteString(s + "\n")
		}
		require.NoError(t, rows.Err(), q)
	}
	return b.String()
}

// pgDumpall is pg_dumpall --globals-only without its comment lines.
func pgDumpall(t *testing.T, bin string, c *testcluster.Cluster) string {
	t.Helper()
	out, err := exec.Command(bin, "--globals-only", "-d", c.ConnString("postgres")).CombinedOutput()
	require.NoError(t, err, "pg_dumpall: %s", out)
	return dumpNoise.ReplaceAllString(string(out), "")
}

// createDumpDB is pg_dump --create --schema-only of db: the database's
// creation and properties as well as its objects.
func createDumpDB(t *testing.T, bin string, c *testcluster.Cluster, db string) string {
	t.Helper()
	out, err := exec.Command(bin, "--create", "--schema-only", "-d", c.ConnString(db)).CombinedOutput()
	require.NoError(t, err, "pg_dump %s: %s", db, out)
	return dumpNoise.ReplaceAllString(string(out), "")
}

func TestDumpallRoundTrip(t *testing.T) {
	testcluster.EachMajor(t, testDumpallRoundTrip)
}

func testDumpallRoundTrip(t *testing.T, c *testcluster.Cluster) {
	src := tablespaceDir(t, c, "ts_src")
	for _, s := range clusterCorpus(c.Major(), src) {
		c.Exec(t, "postgres", s)
	}
	for db, sql := range databaseCorpus {
		c.Exec(t, db, sql)
	}
	rt := &roundTrip{t: t, c: c}
	work := t.TempDir()
	archive := filepath.Join(work, "cluster.pgark")
	rt.pgark(nil, append(rt.connFlags(), "dumpall", "-j", "2", "-f", archive)...)
	rt.pgark(nil, "verify", archive)
	list := rt.pgark(nil, "list", archive)
	require.Contains(t, list, ";     Database: app one (LATIN1)")
	require.Regexp(t, `(?m)^\d+; pre-data ROLE - "Mixed Role" -$`, list)
	require.Regexp(t, `(?m)^\d+; pre-data DATABASE - shop grp  database=shop$`, list)
	require.NotContains(t, list, "secret")

	// pg_dump and pg_dumpall 15 read servers up to 15.
	var pgDump, pgDumpAll string
	if bin, err := c.ClientBin("pg_dump"); err == nil && clientMajor(t, bin) >= c.Major() {
		pgDump = bin
		pgDumpAll, err = c.ClientBin("pg_dumpall")
		require.NoError(t, err)
	}

	c2 := testcluster.Start(t, testcluster.WithMajor(c.Major()))
	dst := tablespaceDir(t, c2, "ts_dst")
	rt2 := &roundTrip{t: t, c: c2}
	rt2.pgark(nil, append(rt2.connFlags(), "restore", "-j", "2", "-d", "postgres", "--tablespace-mapping", src+"="+dst, archive)...)

	want := globalsSignature(t, c, nil)
	// PostgreSQL 13 hashes passwords with MD5 by default, later majors with SCRAM.
	require.Regexp(t, `SCRAM-SHA-256\$|,md5[0-9a-f]{32},`, want, "the corpus has passwords")
	require.Equal(t, want, globalsSignature(t, c2, map[string]string{dst: src}))
	for _, db := range []string{"postgres", "app one", "shop"} {
		require.Empty(t, rowDifferences(tableRows(t, c, db), tableRows(t, c2, db)), db)
		if pgDump != "" {
			a, z := createDumpDB(t, pgDump, c, db), createDumpDB(t, pgDump, c2, db)
			require.Equal(t, a, strings.ReplaceAll(z, dst, src), "pg_dump --create --schema-only of %s", db)
		}
	}
	if pgDumpAll != "" {
		// The only difference allowed: the tablespace's location, which
		// must differ on a second cluster of the same machine.
		require.Equal(t, pgDumpall(t, pgDumpAll, c), strings.ReplaceAll(pgDumpall(t, pgDumpAll, c2), dst, src))
	}

	// The oracles can fail.
	c2.Exec(t, "postgres", `ALTER ROLE member1 IN DATABASE shop SET work_mem = '33MB'`)
	require.NotEqual(t, want, globalsSignature(t, c2, map[string]string{dst: src}))
	if pgDumpAll != "" {
		c2.Exec(t, "postgres", `ALTER ROLE grp2 CONNECTION LIMIT 3`)
		require.NotEqual(t, pgDumpall(t, pgDumpAll, c), strings.ReplaceAll(pgDumpall(t, pgDumpAll, c2), dst, src))
	}

	t.Run("script", func(t *testing.T) {
		// The same restore as a psql script, into a third cluster.
		c3 := testcluster.Start(t, testcluster.WithMajor(c.Major()))
		dst := tablespaceDir(t, c3, "ts_dst")
		rt3 := &roundTrip{t: t, c: c3}
		script := filepath.Join(work, "cluster.sql")
		rt3.pgark(nil, "restore", "-f", script, "--tablespace-mapping", src+"="+dst, archive)
		psql, err := c3.ClientBin("psql")
		require.NoError(t, err)
		// Without ON_ERROR_STOP, as pg_dumpall's scripts run: CREATE ROLE
		// of the bootstrap superuser fails, and only that.
		out, err := exec.Command(psql, "-X", "-q", "-d", c3.ConnString("postgres"), "-f", script).CombinedOutput()
		require.NoError(t, err, "%s", out)
		require.Equal(t, 1, strings.Count(string(out), "ERROR:"), "%s", out)
		require.Contains(t, string(out), `role "postgres" already exists`)
		require.Equal(t, want, globalsSignature(t, c3, map[string]string{dst: src}))
		for _, db := range []string{"postgres", "app one", "shop"} {
			require.Empty(t, rowDifferences(tableRows(t, c, db), tableRows(t, c3, db)), db)
		}
	})

	t.Run("no passwords, stream, no superuser", func(t *testing.T) {
		c3 := testcluster.Start(t, testcluster.WithMajor(c.Major()))
		rt3 := &roundTrip{t: t, c: c3}

		// Globals without passwords: the same roles, none with a password.
		globals := filepath.Join(work, "globals.pgark")
		rt.pgark(nil, append(rt.connFlags(), "dumpall", "-g", "--no-role-passwords", "-f", globals)...)
		rt3.pgark(nil, append(rt3.connFlags(), "restore", "-d", "postgres", "--no-tablespaces", globals)...)
		require.Equal(t, "0", c3.QueryValue(t, "postgres", "SELECT count(*) FROM pg_authid WHERE rolpassword IS NOT NULL"))
		require.Equal(t, "5", c3.QueryValue(t, "postgres", "SELECT count(*) FROM pg_roles WHERE rolname IN ('admin_all', 'Mixed Role', 'grp', 'grp2', 'member1')"))
		noPasswords := regexp.MustCompile(`(?m)^role (.*),(?:"?SCRAM[^,]*|md5[0-9a-f]{32}),`)
		rolesOf := func(sig string) string {
			var b strings.Builder
			for _, l := range strings.Split(sig, "\n") {
				if strings.HasPrefix(l, "role ") || strings.HasPrefix(l, "member ") || strings.HasPrefix(l, `setting ("",`) {
					b.WriteString(noPasswords.ReplaceAllString(l, "role $1,,") + "\n")
				}
			}
			return b.String()
		}
		require.Equal(t, rolesOf(want), rolesOf(globalsSignature(t, c3, nil)))

		// One database, dumped alone and restored with -C from a stream:
		// created with its encoding, locales, owner, settings, comment and
		// privileges.
		one := filepath.Join(work, "shop.pgark")
		rt.pgark(nil, append(rt.connFlags(), "dump", "-f", one, "shop")...)
		f, err := os.Open(one)
		require.NoError(t, err)
		defer f.Close()
		rt3.pgark(f, append(rt3.connFlags(), "restore", "-C", "-d", "postgres", "-")...)
		props := `SELECT (pg_get_userbyid(datdba), pg_encoding_to_char(encoding), datcollate, datctype, datconnlimit, datacl,
			shobj_description(oid, 'pg_database'), (SELECT array_agg(s.setconfig::text ORDER BY s.setrole)
			FROM pg_db_role_setting s WHERE s.setdatabase = d.oid))::text FROM pg_database d WHERE datname = 'shop'`
		require.Equal(t, c.QueryValue(t, "postgres", props), c3.QueryValue(t, "postgres", props))
		require.Empty(t, rowDifferences(tableRows(t, c, "shop"), tableRows(t, c3, "shop")))
		if pgDump != "" {
			require.Equal(t, createDumpDB(t, pgDump, c, "shop"), createDumpDB(t, pgDump, c3, "shop"))
		}

		// A role that may only create databases restores "app one" from
		// the cluster archive, logged in as another role and with --role:
		// no owners, privileges, tablespaces or roles, and the database is
		// its own.
		c3.Exec(t, "postgres", `CREATE ROLE restorer NOLOGIN CREATEDB; CREATE ROLE login_user LOGIN; GRANT restorer TO login_user`)
		flags := []string{"-h", c3.Host(), "-p", fmt.Sprint(c3.Port()), "-U", "login_user"}
		rt3.pgark(nil, append(flags, "restore", "-j", "2", "-d", "postgres", "--role", "restorer",
			"--no-owner", "--no-privileges", "--no-tablespaces", "--no-roles", "--include-database", "app one", archive)...)
		appProps := `SELECT (pg_get_userbyid(datdba), pg_encoding_to_char(encoding), datcollate, datctype, datconnlimit,
			(SELECT s.setconfig::text FROM pg_db_role_setting s WHERE s.setdatabase = d.oid))::text
			FROM pg_database d WHERE datname = 'app one'`
		require.Equal(t, `(restorer,LATIN1,C,C,20,{work_mem=4MB})`, c3.QueryValue(t, "postgres", appProps))
		require.Equal(t, strings.Replace(c.QueryValue(t, "postgres", appProps), `"Mixed Role"`, "restorer", 1),
			c3.QueryValue(t, "postgres", appProps))
		require.Empty(t, rowDifferences(tableRows(t, c, "app one"), tableRows(t, c3, "app one")))
		require.Equal(t, "restorer", c3.QueryValue(t, "app one", "SELECT tableowner FROM pg_tables WHERE tablename = 'menu'"))
	})
}
