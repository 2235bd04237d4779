package testcluster

import "time"

// Config describes a cluster to create with New. The zero value is a
// cluster of the newest major DefaultSearch finds, on a unix socket only,
// with fsync off.
type Config struct {
	// Search says where the server binaries are; the zero value means
	// DefaultSearch() (which reads PGARK_PG_BIN and PGARK_PG_CACHE).
	Search Search
	// Major picks the PostgreSQL major version; 0 means the newest found.
	Major int
	// TCP makes the server also listen on 127.0.0.1 (at Port), and Host
	// return 127.0.0.1 instead of the socket directory.
	TCP bool
	// Fsync keeps fsync on. Off by default: clusters are throwaway and
	// turning it off makes them much faster.
	Fsync bool
	// PostgresqlConf lines are appended to postgresql.conf after the
	// defaults, so they override them (e.g. "archive_mode = on").
	PostgresqlConf []string
	// HBA lines are put at the top of pg_hba.conf, before the default trust
	// lines, so they take precedence (the first matching line wins).
	HBA []string
	// FromDataDir, if set, is an existing data directory (a restored base
	// backup, say) that New copies into the cluster's directory and starts
	// instead of running initdb: the copy is given to the server's OS user
	// and removed by Close; the original is not touched. Its
	// postgresql.conf is kept, with the settings above appended.
	FromDataDir string
	// StartTimeout bounds each server start (New, Restart) until it accepts
	// connections; 0 means 60 s. The caller's context may end it earlier.
	StartTimeout time.Duration
}

// Option changes a Config; Start takes options.
type Option func(*Config)

// WithMajor asks for a PostgreSQL major version, e.g. 16.
func WithMajor(major int) Option { return func(c *Config) { c.Major = major } }

// WithBinDir uses the server binaries in dir, whatever their major.
func WithBinDir(dir string) Option {
	return func(c *Config) { c.Search = Search{BinDir: dir} }
}

// WithSearch replaces where binaries are looked for.
func WithSearch(s Search) Option { return func(c *Config) { c.Search = s } }

// WithTCP makes the server listen on 127.0.0.1 too and connections use TCP.
func WithTCP() Option { return func(c *Config) { c.TCP = true } }

// WithFsync keeps fsync on (it is off by default).
func WithFsync() Option { return func(c *Config) { c.Fsync = true } }

// WithConfig appends lines to postgresql.conf, after and over the defaults.
func WithConfig(lines ...string) Option {
	return func(c *Config) { c.PostgresqlConf = append(c.PostgresqlConf, lines...) }
}

// WithHBA puts lines at the top of pg_hba.conf, before the trust defaults.
func WithHBA(lines ...string) Option {
	return func(c *Config) { c.HBA = append(c.HBA, lines...) }
}

// WithDataDir starts the cluster on a copy of the data directory dir
// instead of a new one (see Config.FromDataDir).
func WithDataDir(dir string) Option { return func(c *Config) { c.FromDataDir = dir } }

// WithStartTimeout bounds each server start.
func WithStartTimeout(d time.Duration) Option { return func(c *Config) { c.StartTimeout = d } }
