package restore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pgark/pgark/format"
	"github.com/pgark/pgark/schema"
)

// Kinds of a database's own entries and of a cluster's globals.
var (
	kindDatabase           = string(schema.KindDatabase)
	kindDatabaseProperties = string(schema.KindDatabaseProperties)
	kindRole               = string(schema.KindRole)
	kindRoleMembership     = string(schema.KindRoleMembership)
	kindRoleSettings       = string(schema.KindRoleSettings)
	kindTablespace         = string(schema.KindTablespace)
)

// ClusterOptions say what a restore of a cluster archive (format version
// 2, pgark dumpall) restores. The zero value restores everything.
type ClusterOptions struct {
	// GlobalsOnly (-g) restores the globals (roles, tablespaces) alone.
	GlobalsOnly bool
	// NoRoles (--no-roles) leaves out roles, their memberships and
	// settings (in every database too) and the privileges on parameters:
	// for a target where roles are managed elsewhere, or cannot be
	// created by the restoring role.
	NoRoles bool
	// Databases (--include-database), if any, are the only databases
	// restored; ExcludeDatabases (--exclude-database) are not restored.
	// Names are exact. The globals are restored all the same (unless
	// NoRoles, Options.NoTablespaces).
	Databases, ExcludeDatabases []string
	// TablespaceMapping (--tablespace-mapping OLD=NEW) creates the
	// tablespaces located at OLD at NEW instead.
	TablespaceMapping map[string]string
}

// ErrClusterStream is returned for a cluster archive read from a stream.
var ErrClusterStream = errors.New("restore: a cluster archive (pgark dumpall) is restored from a file, not a stream")

// databaseEntry is the DATABASE entry of an archive's entries, or nil.
func databaseEntry(entries []format.Entry) *format.Entry {
	for i := range entries {
		if entries[i].Kind == kindDatabase {
			return &entries[i]
		}
	}
	return nil
}

// skipsDatabaseEntry reports whether e is one of the database's own
// entries that opts leave out. The DATABASE entry never runs in a phase:
// with -C the restore runs it to create the database before it connects
// there. The database's properties, the roles' settings in it, and its
// comment, security label and privileges are restored only with -C, as
// pg_restore restores them; the roles' settings not with --no-roles.
func (o *Options) skipsDatabaseEntry(e *format.Entry) bool {
	switch e.Kind {
	case kindDatabase:
		return true
	case kindDatabaseProperties:
		return !o.Create
	case kindRoleSettings:
		return !o.Create || o.Cluster.NoRoles
	case kindComment, kindACL, "SECURITY LABEL":
		return e.Schema == "" && strings.HasPrefix(e.Name, "DATABASE ") && !o.Create
	}
	return false
}

// databaseCreate is the DATABASE entry's CREATE DATABASE, with the
// entry's tablespace as TABLESPACE = unless --no-tablespaces.
func (r *runner) databaseCreate(e *format.Entry) string {
	if e.Tablespace == "" || r.opts.NoTablespaces {
		return e.Create
	}
	return strings.TrimSuffix(strings.TrimSpace(e.Create), ";") + " TABLESPACE = " + schema.Ident(e.Tablespace) + ";"
}

// wantsGlobal says whether opts restore global entry e: by -x, --no-comments,
// sections and -L as any entry, by --no-roles and --no-tablespaces.
func (o *Options) wantsGlobal(e *format.Entry) bool {
	// A global ROLE SETTINGS entry is no database's: judge it as -C would.
	withCreate := *o
	withCreate.Create = true
	if !withCreate.selectsAlone(e) {
		return false
	}
	roleKind := e.Kind == kindRole || e.Kind == kindRoleMembership || e.Kind == kindRoleSettings
	onRole := (e.Kind == kindComment || e.Kind == "SECURITY LABEL") && strings.HasPrefix(e.Name, "ROLE ")
	onParameter := e.Kind == kindACL && strings.HasPrefix(e.Name, "PARAMETER ")
	if o.Cluster.NoRoles && (roleKind || onRole || onParameter) {
		return false
	}
	onTablespace := (e.Kind == kindComment || e.Kind == kindACL || e.Kind == "SECURITY LABEL") && strings.HasPrefix(e.Name, "TABLESPACE ")
	if o.NoTablespaces && (e.Kind == kindTablespace || onTablespace) {
		return false
	}
	return true
}

// runCluster restores a cluster archive: the globals first, on a session
// to the target database, then each database, as pg_dumpall's script
// does: created (with -C semantics: its encoding, locale, owner,
// properties and privileges) and restored as an archive of one database
// is. A database that exists in the target (postgres and template1 always
// do, for a script) is not created and gets its contents but not its
// properties, as pg_dumpall restores postgres and template1 without
// --clean. A database that fails does not stop the others, unless -e.
func runCluster(ctx context.Context, ar *format.Reader, t Target, opts Options) (*Result, error) {
	info := ar.Info()
	switch {
	case opts.Clean:
		return &Result{}, errors.New("restore: --clean is not supported for a cluster archive")
	case opts.SingleTransaction:
		return &Result{}, errors.New("restore: --single-transaction cannot restore a cluster archive (CREATE DATABASE cannot run in a transaction)")
	}
	for _, name := range slices.Concat(opts.Cluster.Databases, opts.Cluster.ExcludeDatabases) {
		if !slices.ContainsFunc(info.Databases, func(d format.DatabaseInfo) bool { return d.Name == name }) {
			return &Result{}, fmt.Errorf("restore: the archive has no database %q", name)
		}
	}
	entries := ar.Entries()
	roles, databases := map[string]bool{}, map[string]bool{"postgres": true, "template1": true}
	if t.DB != nil {
		var err error
		if roles, databases, err = existing(ctx, t, opts.Role); err != nil {
			return &Result{}, err
		}
	}

	total := &Result{Complete: true}
	var fatal error
	add := func(what string, res *Result, err error) {
		total.Entries += res.Entries
		total.EntriesDone += res.EntriesDone
		total.Blocks += res.Blocks
		total.BlocksLoaded += res.BlocksLoaded
		total.Rows += res.Rows
		total.Errors = append(total.Errors, res.Errors...)
		for _, n := range res.NotDone {
			total.NotDone = append(total.NotDone, what+": "+n)
		}
		total.Complete = total.Complete && res.Complete
		var ie *IgnoredError
		if err != nil && !errors.As(err, &ie) && fatal == nil {
			fatal = fmt.Errorf("%s: %w", what, err)
		}
	}

	var globals []*format.Entry
	for i := range entries {
		if e := &entries[i]; e.Database == "" && opts.wantsGlobal(e) {
			globals = append(globals, e)
		}
	}
	if len(globals) > 0 {
		res, err := runGlobals(ctx, info, globals, roles, t, opts)
		add("globals", res, err)
	}
	if opts.Cluster.GlobalsOnly {
		return total, clusterEnd(total, fatal)
	}
	for _, db := range info.Databases {
		if ctx.Err() != nil || (fatal != nil && opts.ExitOnError) {
			total.Complete = false
			total.NotDone = append(total.NotDone, "database "+db.Name)
			continue
		}
		if slices.Contains(opts.Cluster.ExcludeDatabases, db.Name) ||
			(len(opts.Cluster.Databases) > 0 && !slices.Contains(opts.Cluster.Databases, db.Name)) {
			continue
		}
		var dbEntries []format.Entry
		ids := map[uint32]bool{}
		for _, e := range entries {
			if e.Database == db.Name {
				dbEntries = append(dbEntries, e)
				ids[e.ID] = true
			}
		}
		var blocks []format.Block
		for _, b := range ar.Blocks() {
			if ids[b.Entry] {
				blocks = append(blocks, b)
			}
		}
		o := opts
		o.Create = !databases[db.Name]
		connectTo := ""
		if !o.Create {
			connectTo = db.Name
		}
		if opts.OnError != nil {
			o.OnError = func(e *EntryError) {
				e.Database = db.Name
				opts.OnError(e)
			}
		}
		dbInfo := info
		dbInfo.Cluster, dbInfo.Databases = false, nil
		dbInfo.Database, dbInfo.Encoding = db.Name, db.Encoding
		res, err := runEntries(ctx, ar, dbInfo, dbEntries, blocks, t, o, connectTo)
		add("database "+db.Name, res, err)
	}
	return total, clusterEnd(total, fatal)
}

// clusterEnd is the error of a cluster restore: the first that stopped a
// part of it, else the count of errors ignored.
func clusterEnd(res *Result, fatal error) error {
	switch {
	case fatal != nil:
		return fatal
	case len(res.Errors) > 0:
		return &IgnoredError{N: len(res.Errors)}
	}
	return nil
}

// existing reads the roles and databases the target has.
func existing(ctx context.Context, t Target, role string) (roles, databases map[string]bool, err error) {
	c, err := t.DB.Connect(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("restore: connect: %w", err)
	}
	s, err := newConnSession(ctx, c, format.Info{}, role)
	if err != nil {
		return nil, nil, fmt.Errorf("restore: %w", err)
	}
	defer s.close(ctx)
	rows, err := s.query(ctx, "SELECT 'r', rolname FROM pg_catalog.pg_roles UNION ALL SELECT 'd', datname FROM pg_catalog.pg_database")
	if err != nil {
		return nil, nil, fmt.Errorf("restore: read the target's roles and databases: %w", err)
	}
	roles, databases = map[string]bool{}, map[string]bool{}
	for _, r := range rows {
		if r[0] == "r" {
			roles[r[1]] = true
		} else {
			databases[r[1]] = true
		}
	}
	return roles, databases, nil
}

// runGlobals runs the globals in archive order (pg_dumpall's order) on one
// session to the target database. A role that exists already is not
// created, only altered (into a database; a script creates every role, as
// pg_dumpall's does, and psql goes on past the ones that exist).
// Tablespaces are created at their mapped location.
func runGlobals(ctx context.Context, info format.Info, list []*format.Entry, roles map[string]bool, t Target, opts Options) (*Result, error) {
	opts.Create, opts.Jobs = false, 1
	info.Database, info.Encoding = "", ""
	r, err := newRunner(info, t, opts)
	if err != nil {
		return &Result{}, err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	r.cancel = cancel
	for _, e := range list {
		r.track.add(e, hasSQL(e))
	}
	err = func() error {
		if err := r.setup(ctx, 1); err != nil {
			return err
		}
		for _, e := range list {
			if err := ctx.Err(); err != nil {
				return context.Cause(ctx)
			}
			run, after := *e, ""
			switch e.Kind {
			case kindRole:
				if first, rest, ok := strings.Cut(e.Create, "\n"); ok && roles[e.Name] && first == "CREATE ROLE "+schema.Ident(e.Name)+";" {
					run.Create = rest
				}
			case kindTablespace:
				// CREATE TABLESPACE cannot run in the implicit transaction
				// of several statements: its options follow on their own.
				run.Create, after, _ = strings.Cut(mapLocation(e.Create, opts.Cluster.TablespaceMapping), "\n")
			}
			if err := r.runEntry(ctx, r.main, &run); err != nil {
				return err
			}
			if after == "" {
				continue
			}
			if err := r.main.exec(ctx, after); err != nil {
				if err := r.fail(ctx, r.main, e, -1, after, err); err != nil {
					return err
				}
			}
		}
		return nil
	}()
	return r.end(ctx, err, true)
}

// mapLocation rewrites the LOCATION of a TABLESPACE entry's CREATE
// TABLESPACE by the mapping of old to new locations.
func mapLocation(create string, mapping map[string]string) string {
	for from, to := range mapping {
		old := " LOCATION " + schema.Literal(from) + ";"
		if strings.Contains(create, old) {
			return strings.Replace(create, old, " LOCATION "+schema.Literal(to)+";", 1)
		}
	}
	return create
}
