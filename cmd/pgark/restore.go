package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/spf13/cobra"

	"github.com/pgark/pgark/format"
	"github.com/pgark/pgark/internal/conn"
	"github.com/pgark/pgark/restore"
)

// restoreOptions are pg_restore's flags.
type restoreOptions struct {
	conn            conn.Options
	jobs            int
	clean           bool
	ifExists        bool
	create          bool
	noOwner         bool
	noACL           bool
	noComments      bool
	noTablespaces   bool
	noStatistics    bool
	statisticsOnly  bool
	schemaOnly      bool
	dataOnly        bool
	sections        []string
	single          bool
	exitOnError     bool
	disableTriggers bool
	textCopy        bool
	file            string
	list            bool
	useList         string
	verbose         bool

	// Selection by name, as pg_restore's (and --whole-table, pgark's).
	tables, wholeTables          []string // -t, --whole-table
	schemas, excludeSchemas      []string // -n, -N
	triggers, indexes, functions []string // -T, -I, -P
	filters                      []string // --filter
	strictNames                  bool     // --strict-names

	// --role, and what a cluster archive restores (dumpall.go).
	role              string
	cluster           restore.ClusterOptions
	tablespaceMapping []string

	stdin          io.Reader
	stdout, stderr io.Writer
}

const restoreLong = `Restore a pgark archive into a database (-d), write it out as an SQL script
(-f), or print its table of contents (-l), as pg_restore does.

The restore creates the pre-data objects in the archive's order on one
connection, loads table data with -j parallel COPY workers (several may load
one large table at once, block by block), builds indexes and constraints with
-j workers as their dependencies allow (a table's as soon as its data is
loaded, while other tables load), applies privileges, and refreshes
materialized views last. ARCHIVE is read at random; with "-" or no ARCHIVE it
is read from stdin front to back, running each part as it arrives (-c then is
refused).

As with pg_restore, a failed statement is reported and the restore goes on;
pgark then exits with status 1 ("errors ignored on restore: N"). -e stops at
the first error, -1 restores in one transaction. An interrupted or failed
restore says what was done and what was not.

A list file (-L) selects entries by the id that starts each line of
pgark list or restore -l output (lines starting with ';' are comments); the
entries run in the archive's order, whatever the order of the lines.

-t, -n, -N, -T, -I and -P select entries by name as pg_restore's do: each
takes one name, spelled as pgark list shows it (no quotes, no patterns),
and is repeatable. -t restores a relation (table, view, materialized view,
foreign table or sequence) and its data alone: no index, constraint,
trigger or owned sequence. -T takes a trigger's entry name, "TABLE
TRIGGER"; -P a function's name and argument types, 'f(integer, text)'.
With any of them only what they name is restored; -n restricts that (or
everything) to the objects of its schemas, leaving out the schemas
themselves and large objects; -N leaves its schemas' objects out. Comments
and privileges go with their object. With --strict-names each name must
select something, or the restore fails before it starts ('table "x" not
found'); like --whole-table, it needs the archive as a file.

--whole-table NAME, which pg_restore lacks, restores a table (or view,
materialized view, sequence) as pg_dump -t dumps it: with its data,
indexes, constraints, triggers, rules, policies, owned sequences and their
values, and their comments and privileges. It needs the archive as a file.

--filter FILE reads pg_restore 17's filter file: one rule a line,
"include table|schema|trigger|index|function NAME" or "exclude schema
NAME", like the flags; # starts a comment. FILE "-" is stdin.

--role ROLE runs SET ROLE ROLE in every session first, as pg_restore does.
With -O, -x and --no-tablespaces, a role that is no superuser (a managed
service's) can restore with -C: it creates the database, which it owns.

A cluster archive (pgark dumpall) is restored from a file into the
database -d names (postgres, say): the globals first (roles, their
memberships and settings, tablespaces; a role that exists is altered, not
created), then every database, created as -C creates one, with its
encoding, locale, owner, settings, comment and privileges. A database that
exists already (postgres, template1) is not created: its contents are
restored into it, as pg_dumpall's script does. -g restores the globals
alone, --no-roles leaves roles out (in every database too),
--include-database NAME and --exclude-database NAME pick databases, and
--tablespace-mapping OLD=NEW creates a tablespace located at OLD at NEW.

Planner statistics (STATISTICS DATA entries, from dump --statistics) are
restored last, after indexes and materialized view refreshes, which would
overwrite them; they need a PostgreSQL 18 target: on an older one each fails
(pg_restore_relation_stats does not exist there) and is reported as an
error, as pg_restore 18 does. --no-statistics leaves them out,
--statistics-only restores nothing else.`

func newRestoreCmd() *cobra.Command {
	o := &restoreOptions{}
	cmd := &cobra.Command{
		Use:   "restore [connection-option...] (-d DBNAME | -f FILE | -l) [option...] [ARCHIVE | -]",
		Short: "Restore a pgark archive into a database or an SQL script",
		Long:  restoreLong,
		Args:  usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.stdin, o.stdout, o.stderr = cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr()
			return runRestore(cmd.Context(), o, args)
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	o.conn.AddFlags(fs)
	fs.IntVarP(&o.jobs, "jobs", "j", 1, "use this many parallel jobs to restore")
	fs.BoolVarP(&o.clean, "clean", "c", false, "clean (drop) database objects before recreating them")
	fs.BoolVar(&o.ifExists, "if-exists", false, "use IF EXISTS when dropping objects")
	fs.BoolVarP(&o.create, "create", "C", false, "create the target database")
	fs.BoolVarP(&o.noOwner, "no-owner", "O", false, "skip restoration of object ownership")
	fs.BoolVarP(&o.noACL, "no-privileges", "x", false, "skip restoration of access privileges (grant/revoke)")
	fs.BoolVar(&o.noACL, "no-acl", false, "same as --no-privileges")
	fs.BoolVar(&o.noComments, "no-comments", false, "do not restore comments")
	fs.BoolVar(&o.noTablespaces, "no-tablespaces", false, "do not restore tablespace assignments")
	fs.BoolVar(&o.noStatistics, "no-statistics", false, "do not restore statistics")
	fs.BoolVar(&o.statisticsOnly, "statistics-only", false, "restore only the statistics, not schema or data")
	fs.BoolVarP(&o.schemaOnly, "schema-only", "s", false, "restore only the schema, no data")
	fs.BoolVarP(&o.dataOnly, "data-only", "a", false, "restore only the data, no schema")
	fs.StringArrayVar(&o.sections, "section", nil, "restore named section (pre-data, data, or post-data); repeatable")
	fs.StringArrayVarP(&o.tables, "table", "t", nil, "restore the relation `NAME` (table, view, etc.) alone, with its data")
	fs.StringArrayVar(&o.wholeTables, "whole-table", nil,
		"restore the table `NAME` with its data, indexes, constraints, triggers and owned sequences")
	fs.StringArrayVarP(&o.schemas, "schema", "n", nil, "restore only objects in the schema `NAME`")
	fs.StringArrayVarP(&o.excludeSchemas, "exclude-schema", "N", nil, "do not restore objects in the schema `NAME`")
	fs.StringArrayVarP(&o.triggers, "trigger", "T", nil, "restore the trigger `NAME` (\"TABLE TRIGGER\")")
	fs.StringArrayVarP(&o.indexes, "index", "I", nil, "restore the index `NAME`")
	fs.StringArrayVarP(&o.functions, "function", "P", nil, "restore the function `NAME(ARGTYPES)`")
	fs.StringArrayVar(&o.filters, "filter", nil, "restore or skip objects based on the rules in `FILE`")
	fs.BoolVar(&o.strictNames, "strict-names", false, "require each -n, -t, -I, -P, -T and --whole-table name to select something")
	fs.BoolVarP(&o.single, "single-transaction", "1", false, "restore as a single transaction")
	fs.BoolVarP(&o.exitOnError, "exit-on-error", "e", false, "exit on error, default is to continue")
	fs.BoolVar(&o.disableTriggers, "disable-triggers", false, "disable triggers during data-only restore")
	fs.BoolVar(&o.textCopy, "text-copy", false, "load table data as COPY text, never converted to COPY binary")
	fs.StringVarP(&o.file, "file", "f", "", "output file name (- for stdout): write an SQL script, or the list with -l")
	fs.BoolVarP(&o.list, "list", "l", false, "print summarized TOC of the archive")
	fs.StringVarP(&o.useList, "use-list", "L", "", "use table of contents from this file for selecting output")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "verbose mode")
	o.addClusterFlags(fs)
	_ = fs.MarkHidden("no-acl")
	return cmd
}

// engineOptions checks the flag combinations pg_restore refuses and maps
// the flags onto the engine's options.
func (o *restoreOptions) engineOptions() (restore.Options, error) {
	usage := func(msg string) (restore.Options, error) {
		return restore.Options{}, &usageError{cmd: "pgark restore", err: errors.New(msg)}
	}
	switch {
	case o.conn.DBName == "" && o.file == "" && !o.list:
		return usage("one of -d/--dbname, -f/--file and -l/--list is required (use -f - for a script on stdout)")
	case o.conn.DBName != "" && o.file != "" && !o.list:
		return usage("options -d/--dbname and -f/--file cannot be used together")
	case o.schemaOnly && o.dataOnly:
		return usage("options -s/--schema-only and -a/--data-only cannot be used together")
	case (o.schemaOnly || o.dataOnly) && len(o.sections) > 0:
		return usage("options -s/--schema-only and -a/--data-only cannot be used with --section")
	case o.dataOnly && o.clean:
		return usage("options -c/--clean and -a/--data-only cannot be used together")
	case o.ifExists && !o.clean:
		return usage("option --if-exists requires option -c/--clean")
	case o.single && o.jobs > 1:
		return usage("cannot specify both --single-transaction and multiple jobs")
	case o.single && o.create:
		return usage("options -C/--create and -1/--single-transaction cannot be used together")
	case o.statisticsOnly && (o.noStatistics || o.schemaOnly || o.dataOnly):
		return usage("option --statistics-only cannot be used with --no-statistics, -s/--schema-only or -a/--data-only")
	case o.jobs < 1:
		return usage("invalid number of parallel jobs")
	case o.file != "" && o.jobs > 1 && !o.list:
		return usage("-j/--jobs applies only to a database restore, not to -f/--file")
	}
	opts := restore.Options{
		Jobs:              o.jobs,
		NoOwner:           o.noOwner,
		NoACL:             o.noACL,
		NoComments:        o.noComments,
		NoTablespaces:     o.noTablespaces,
		NoStatistics:      o.noStatistics,
		StatisticsOnly:    o.statisticsOnly,
		Clean:             o.clean,
		IfExists:          o.ifExists,
		Create:            o.create,
		SingleTransaction: o.single,
		ExitOnError:       o.exitOnError,
		DisableTriggers:   o.disableTriggers,
		TextCopy:          o.textCopy,
		Select: restore.Selection{Tables: o.tables, WholeTables: o.wholeTables, Schemas: o.schemas,
			ExcludeSchemas: o.excludeSchemas, Triggers: o.triggers, Indexes: o.indexes, Functions: o.functions,
			StrictNames: o.strictNames},
	}
	if err := o.clusterOptions(&opts); err != nil {
		return usage(err.Error())
	}
	rules, err := readFilters("pgark restore", o.filters, o.stdin)
	if err != nil {
		return restore.Options{}, err
	}
	if err := restoreFilters(rules, &opts.Select); err != nil {
		return restore.Options{}, &usageError{cmd: "pgark restore", err: err}
	}
	switch {
	case o.schemaOnly:
		opts.Sections = []format.Section{format.SectionPreData, format.SectionPostData}
	case o.dataOnly:
		opts.Sections = []format.Section{format.SectionData}
	}
	for _, s := range o.sections {
		sec, err := format.ParseSection(s)
		if err != nil || sec == format.SectionNone {
			return usage(fmt.Sprintf("unrecognized section name: %q", s))
		}
		opts.Sections = append(opts.Sections, sec)
	}
	if o.useList != "" {
		f, err := os.Open(o.useList)
		if err != nil {
			return restore.Options{}, fmt.Errorf("open list file: %w", err)
		}
		defer f.Close()
		if opts.List, err = restore.ParseList(f); err != nil {
			return restore.Options{}, err
		}
	}
	return opts, nil
}

func runRestore(ctx context.Context, o *restoreOptions, args []string) error {
	path := "-"
	if len(args) == 1 {
		path = args[0]
	}
	if path == "-" && slices.Contains(o.filters, "-") {
		return &usageError{cmd: "pgark restore", err: errors.New("--filter - and the archive cannot both be read from stdin")}
	}
	opts, err := o.engineOptions()
	if err != nil {
		return err
	}
	in, err := openArchive(path, o.stdin)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer in.Close()

	if o.list {
		return restoreList(ctx, o, in)
	}

	var bar *progressBar
	if o.verbose {
		opts.Verbose = func(msg string) { fmt.Fprintf(o.stderr, "pgark: %s\n", msg) }
	} else if o.file == "" {
		bar = newProgressBar(o.stderr, false)
		if bar != nil {
			opts.Progress = bar.restoreProgress()
		}
	}
	errOut := bar.writer(o.stderr)
	opts.OnError = func(e *restore.EntryError) { fmt.Fprintf(errOut, "pgark: error: %v\n", e) }
	var target restore.Target
	var out *os.File // the script file, removed if the restore fails
	switch {
	case o.file == "-":
		target.Script = o.stdout
	case o.file != "":
		if out, err = os.Create(o.file); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		target.Script = out
	default:
		o.conn.Prompt = promptPassword
		c, err := o.conn.Connector(ctx)
		if err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		target.DB = c
	}

	var res *restore.Result
	if in.reader != nil {
		res, err = restore.Run(ctx, in.reader, target, opts)
	} else {
		res, err = restore.RunStream(ctx, in.stream, target, opts)
	}
	bar.finish(err == nil)
	if out != nil {
		if cerr := out.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("write %s: %w", o.file, cerr)
		}
		if err != nil {
			_ = os.Remove(o.file)
			fmt.Fprintf(o.stderr, "pgark: restore: the incomplete script %s was removed\n", o.file)
		}
	}
	if err != nil {
		// What was done and not done, once the restore had begun: a
		// restore that could not start (no connection, not an archive)
		// has nothing to report but its error.
		var ie *restore.IgnoredError
		if started := res.EntriesDone > 0 || res.BlocksLoaded > 0 || len(res.Errors) > 0; started && (!errors.As(err, &ie) || !res.Complete) {
			fmt.Fprintf(o.stderr, "pgark: restore: %s\n", res)
		}
		return fmt.Errorf("restore: %w", err)
	}
	if o.verbose {
		fmt.Fprintf(o.stderr, "pgark: restore: %s\n", res)
	}
	return nil
}

// restoreList prints the table of contents (-l), to -f FILE if given.
func restoreList(ctx context.Context, o *restoreOptions, in *archiveInput) error {
	s, err := in.read(ctx)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	w := o.stdout
	if o.file != "" && o.file != "-" {
		f, err := os.Create(o.file)
		if err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		defer f.Close()
		w = f
	}
	if err := s.writeTOC(w); err != nil {
		return fmt.Errorf("restore: write table of contents: %w", err)
	}
	return nil
}
