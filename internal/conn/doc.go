// Package conn turns pg_dump-style connection options and libpq's
// environment into PostgreSQL connections.
//
// # Settings
//
// Options holds pg_dump's connection flags (-h, -p, -U, -d, -w, -W and the
// positional DBNAME); AddFlags registers them on a pflag.FlagSet. Everything
// else libpq users rely on comes from pgconn.ParseConfig, which this package
// always goes through: PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE,
// PGSSLMODE and the other PGSSL* variables, PGAPPNAME, PGCONNECT_TIMEOUT,
// PGOPTIONS, PGTARGETSESSIONATTRS, PGPASSFILE and ~/.pgpass, PGSERVICE,
// PGSERVICEFILE and ~/.pg_service.conf, socket directories as hosts, and
// comma-separated lists of hosts and ports. The package itself reads no
// environment variables.
//
// Precedence, lowest first, as in pg_dump:
//
//  1. libpq defaults (socket directory, port 5432, OS user name);
//  2. PG* environment variables;
//  3. the service file entry named by PGSERVICE or service=;
//  4. -h, -p, -U;
//  5. every setting written in -d (or the positional DBNAME) when it is a
//     key=value string or a postgres:// URI. pg_dump expands the dbname
//     after its other keywords, so a host in -d beats -h while -p still
//     supplies the port if -d names none. A plain database name only sets
//     the database.
//
// The password comes from -d if it holds one, else from the -W prompt, else
// from PGPASSWORD or the service file, else from the password file
// (matched with "localhost" for socket connections, as libpq does).
// application_name defaults to "pgark" (libpq's fallback_application_name)
// when neither PGAPPNAME, -d nor the service file sets it.
//
// # Passwords
//
// The package never reads the terminal: the command supplies a PromptFunc.
// With -w it is never called; with -W it is called before connecting;
// otherwise, like psql and pg_dump, it is called only when the server
// demands a password and none was supplied (see NeedsPassword), and the
// connection is retried once. A Connector remembers a prompted password so
// that parallel workers ask once.
//
// No error from this package contains a password. Passwords are taken out
// of -d before the rest is handed to pgconn, whose parse errors quote the
// connection string, and those errors are rebuilt without the string
// (ConfigError). Connection failures are reported as ConnectError
// ("connect to host=... port=... user=... dbname=...: cause").
//
// # Concurrency
//
// Options is plain data for one goroutine. A Connector is immutable apart
// from its remembered password and is safe for concurrent use; concurrent
// connects that all need a password prompt once. Each connection it returns
// belongs to the caller, and, as with pgconn, must be used by one goroutine
// at a time.
package conn
