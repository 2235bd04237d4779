package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pgark/pgark/dump"
	"github.com/pgark/pgark/internal/conn"
	"github.com/pgark/pgark/restore"
	"github.com/pgark/pgark/schema"
	"github.com/pgark/pgark/schema/catalog"
)

// dumpallOptions are pg_dumpall's flags that pgark dumpall takes.
type dumpallOptions struct {
	conn             conn.Options
	database         string // -l
	file             string
	jobs             int
	compress         string
	globalsOnly      bool
	rolesOnly        bool
	tablespacesOnly  bool
	noRolePasswords  bool
	excludeDatabases []string
	schemaOnly       bool
	dataOnly         bool
	noOwner          bool
	noPrivileges     bool
	noComments       bool
	noSecurityLabels bool
	noTablespaces    bool
	textCopy         bool
	lockWaitTimeout  string
	verbose          bool

	stdout, stderr io.Writer
}

const dumpallLong = `Dump a whole cluster into one pgark archive, as pg_dumpall does: the
globals (roles with every attribute and their passwords, role memberships
with their ADMIN, INHERIT and SET options and grantors, role settings,
privileges on parameters, tablespaces with their options, privileges and
comments), then every database that accepts connections but template0,
template1 first, each with what pgark dump writes for it: its creation
(encoding, locale, owner, tablespace), settings, comment and privileges,
its objects and data. Each database is dumped at a snapshot of its own.

pgark restore -d postgres ARCHIVE restores it all (see its help: -g,
--no-roles, --include-database, --exclude-database, --tablespace-mapping).

The globals and the list of databases are read from the database -l names
(postgres by default); -d takes a connection string whose other settings
apply to every database. Reading passwords needs a superuser: a role that
is not one (a managed service's) dumps with --no-role-passwords, which
reads pg_roles instead of pg_authid.

-g dumps the globals alone, -r the roles alone, -t the tablespaces alone.
--exclude-database PATTERN (repeatable) leaves out the databases PATTERN
matches (psql's pattern rules). -f, -j, -Z, -s, -a, -O, -x, --no-comments,
--no-tablespaces and --lock-wait-timeout are pgark dump's.`

func newDumpallCmd() *cobra.Command {
	o := &dumpallOptions{}
	cmd := &cobra.Command{
		Use:   "dumpall [connection-option...] [option...]",
		Short: "Dump a whole cluster (globals and every database) into one pgark archive",
		Long:  dumpallLong,
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.stdout, o.stderr = cmd.OutOrStdout(), cmd.ErrOrStderr()
			return runDumpall(cmd.Context(), o)
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	o.conn.AddFlags(fs)
	fs.StringVarP(&o.database, "database", "l", "postgres", "the database to read globals and the list of databases from")
	fs.StringVarP(&o.file, "file", "f", "", "output file name (- or none for stdout)")
	fs.IntVarP(&o.jobs, "jobs", "j", 1, "use this many parallel jobs to dump each database's table data")
	fs.StringVarP(&o.compress, "compress", "Z", "", "compression: zstd, zstd:N, none, or a level N (0 means none)")
	fs.BoolVarP(&o.globalsOnly, "globals-only", "g", false, "dump only global objects, no databases")
	fs.BoolVarP(&o.rolesOnly, "roles-only", "r", false, "dump only roles, no databases or tablespaces")
	fs.BoolVarP(&o.tablespacesOnly, "tablespaces-only", "t", false, "dump only tablespaces, no databases or roles")
	fs.BoolVar(&o.noRolePasswords, "no-role-passwords", false, "do not dump passwords for roles")
	fs.StringArrayVar(&o.excludeDatabases, "exclude-database", nil, "exclude databases whose name matches `PATTERN`")
	fs.BoolVarP(&o.schemaOnly, "schema-only", "s", false, "dump only the schema, no data")
	fs.BoolVarP(&o.dataOnly, "data-only", "a", false, "dump only the data, not the schema (nor the globals)")
	fs.BoolVarP(&o.noOwner, "no-owner", "O", false, "skip restoration of object ownership")
	fs.BoolVarP(&o.noPrivileges, "no-privileges", "x", false, "do not dump privileges (grant/revoke)")
	fs.BoolVar(&o.noPrivileges, "no-acl", false, "same as --no-privileges")
	fs.BoolVar(&o.noComments, "no-comments", false, "do not dump comments")
	fs.BoolVar(&o.noSecurityLabels, "no-security-labels", false, "do not dump security labels")
	fs.BoolVar(&o.noTablespaces, "no-tablespaces", false, "do not dump tablespaces nor tablespace assignments")
	fs.BoolVar(&o.textCopy, "text-copy", false, "store table data as COPY text, never as COPY binary (for pgark before 2026-11-24)")
	fs.StringVar(&o.lockWaitTimeout, "lock-wait-timeout", "", "fail after waiting TIMEOUT for a table lock")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "verbose mode: progress messages on stderr")
	_ = fs.MarkHidden("no-acl")
	return cmd
}

// engineOptions checks the flag combinations pg_dumpall refuses and maps
// the flags onto the engine's options.
func (o *dumpallOptions) engineOptions() (dump.AllOptions, error) {
	usage := func(msg string) (dump.AllOptions, error) {
		return dump.AllOptions{}, &usageError{cmd: "pgark dumpall", err: errors.New(msg)}
	}
	switch {
	case o.globalsOnly && o.rolesOnly:
		return usage("options -g/--globals-only and -r/--roles-only cannot be used together")
	case o.globalsOnly && o.tablespacesOnly:
		return usage("options -g/--globals-only and -t/--tablespaces-only cannot be used together")
	case o.rolesOnly && o.tablespacesOnly:
		return usage("options -r/--roles-only and -t/--tablespaces-only cannot be used together")
	case o.schemaOnly && o.dataOnly:
		return usage("options -s/--schema-only and -a/--data-only cannot be used together")
	case o.jobs < 1:
		return usage("invalid number of parallel jobs")
	}
	only := o.globalsOnly || o.rolesOnly || o.tablespacesOnly
	if only && len(o.excludeDatabases) > 0 {
		return usage("option --exclude-database cannot be used together with -g/--globals-only, -r/--roles-only, or -t/--tablespaces-only")
	}
	codec, level, err := parseCompress(o.compress)
	if err != nil {
		return usage(err.Error())
	}
	opts := dump.AllOptions{
		GlobalsOnly: only,
		Database: dump.Options{
			Jobs:            o.jobs,
			Codec:           codec,
			Level:           level,
			SchemaOnly:      o.schemaOnly,
			DataOnly:        o.dataOnly,
			NoOwner:         o.noOwner,
			NoPrivileges:    o.noPrivileges,
			NoComments:      o.noComments,
			NoTablespaces:   o.noTablespaces,
			TextCopy:        o.textCopy,
			LockWaitTimeout: o.lockWaitTimeout,
			ToolVersion:     version,
			Load:            loadCatalog(catalog.Options{NoSecurityLabels: o.noSecurityLabels}),
			LoadDatabase:    loadDatabase,
		},
	}
	for _, s := range o.excludeDatabases {
		p, err := schema.ParseSchemaPattern(s)
		if err != nil {
			return usage(err.Error())
		}
		opts.ExcludeDatabases = append(opts.ExcludeDatabases, p.Name)
	}
	gopts := catalog.GlobalsOptions{
		NoRoles:          o.tablespacesOnly,
		NoTablespaces:    o.rolesOnly || o.noTablespaces,
		NoRolePasswords:  o.noRolePasswords,
		NoSecurityLabels: o.noSecurityLabels,
	}
	opts.LoadGlobals = func(ctx context.Context, q dump.Querier) ([]*schema.Object, error) {
		return catalog.LoadGlobals(ctx, q, gopts)
	}
	return opts, nil
}

// loadDatabase reads the database's own objects (DATABASE and the rest).
func loadDatabase(ctx context.Context, q dump.Querier) ([]*schema.Object, error) {
	return catalog.LoadDatabase(ctx, q)
}

func runDumpall(ctx context.Context, o *dumpallOptions) error {
	opts, err := o.engineOptions()
	if err != nil {
		return err
	}
	o.conn.Prompt = promptPassword
	c, err := o.conn.Connector(ctx)
	if err != nil {
		return fmt.Errorf("dumpall: %w", err)
	}
	opts.Connector = c.ForDatabase(o.database)
	if o.verbose {
		var mu sync.Mutex // events come from several workers
		progress := func(e dump.Event) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(o.stderr, "pgark: dumpall: %s\n", e)
		}
		opts.Progress, opts.Database.Progress = progress, progress
	}
	if o.file == "" || o.file == "-" {
		bw := bufio.NewWriterSize(o.stdout, 1<<20)
		opts.Out = bw
		if err := dump.RunAll(ctx, opts); err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("dumpall: write stdout: %w", err)
		}
		return nil
	}
	return writeFileAtomic(o.file, func(w io.Writer) error {
		opts.Out = w
		return dump.RunAll(ctx, opts)
	})
}

// addClusterFlags registers pgark restore's flags for --role and cluster
// archives.
func (o *restoreOptions) addClusterFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.role, "role", "", "do SET ROLE `ROLENAME` before restore")
	fs.BoolVarP(&o.cluster.GlobalsOnly, "globals-only", "g", false, "cluster archive: restore only the globals (roles, tablespaces)")
	fs.BoolVar(&o.cluster.NoRoles, "no-roles", false, "cluster archive: do not restore roles, their memberships and settings")
	fs.StringArrayVar(&o.cluster.Databases, "include-database", nil, "cluster archive: restore the database `NAME` (repeatable; default all)")
	fs.StringArrayVar(&o.cluster.ExcludeDatabases, "exclude-database", nil, "cluster archive: do not restore the database `NAME`")
	fs.StringArrayVar(&o.tablespaceMapping, "tablespace-mapping", nil, "cluster archive: create the tablespace at `OLDDIR=NEWDIR` at NEWDIR")
}

// clusterOptions maps --role and the cluster archive flags onto opts.
func (o *restoreOptions) clusterOptions(opts *restore.Options) error {
	opts.Role = o.role
	opts.Cluster = o.cluster
	for _, m := range o.tablespaceMapping {
		from, to, ok := strings.Cut(m, "=")
		if !ok || !strings.HasPrefix(from, "/") || !strings.HasPrefix(to, "/") {
			return fmt.Errorf("invalid tablespace mapping %q: want OLDDIR=NEWDIR, both absolute", m)
		}
		if opts.Cluster.TablespaceMapping == nil {
			opts.Cluster.TablespaceMapping = map[string]string{}
		}
		opts.Cluster.TablespaceMapping[from] = to
	}
	if o.cluster.GlobalsOnly && (len(o.cluster.Databases) > 0 || len(o.cluster.ExcludeDatabases) > 0) {
		return errors.New("option -g/--globals-only cannot be used with --include-database or --exclude-database")
	}
	return nil
}
