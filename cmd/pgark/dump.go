package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/pgark/pgark/dump"
	"github.com/pgark/pgark/format"
	"github.com/pgark/pgark/internal/conn"
	"github.com/pgark/pgark/schema"
	"github.com/pgark/pgark/schema/catalog"
)

// dumpOptions are pg_dump's flags that pgark dump takes.
type dumpOptions struct {
	conn                   conn.Options
	file                   string
	format                 string
	jobs                   int
	compress               string
	schemaOnly             bool
	dataOnly               bool
	sections               []string
	noOwner                bool
	noPrivileges           bool
	noComments             bool
	noTablespaces          bool
	textCopy               bool
	lockWaitTimeout        string
	snapshot               string
	serializableDeferrable bool
	verbose                bool
	statistics             bool // --statistics, and its pg_dump 18 companions
	noStatistics           bool
	statisticsOnly         bool

	// Selection by name, as pg_dump's.
	tables, excludeTables                 []string // -t, -T
	tablesAndChildren, excludeAndChildren []string
	schemas, excludeSchemas               []string // -n, -N
	excludeData, excludeDataAndChildren   []string
	strictNames                           bool
	largeObjects, noLargeObjects          bool
	where                                 []string // TABLE:CONDITION
	extensions                            []string // -e
	noPublications, noSubscriptions       bool
	noSecurityLabels                      bool
	filters                               []string // --filter FILE

	stdin          io.Reader // for --filter -
	stdout, stderr io.Writer
	// load reads the catalog; nil means catalog.Load followed by schema.Sort.
	load dump.LoadFunc
}

const dumpLong = `Dump one database into a pgark archive, as pg_dump -Fc does.

The dump reads the catalog and every table at one point in time: a leader
connection opens a REPEATABLE READ transaction, locks every table it dumps
in ACCESS SHARE mode and exports its snapshot, which -j parallel workers
share. Table data, biggest tables first, is cut into zstd-compressed,
checksummed blocks of about 1 MiB; the archive's index is written at the end.

With -f FILE the archive is written to a temporary file beside FILE, synced
and renamed into place only when it is complete: after a failure or an
interruption nothing new is at FILE. The file is created readable by its
owner only, since it holds the database's data. Without -f, or with -f -,
the archive goes to stdout.

-Z takes zstd, zstd:N (levels 1 to 22; the default is zstd:1), none, or a
bare level N as pg_dump does (0 meaning none).

As in pg_dump, -s leaves out table data, sequence values and materialized
view refreshes, and --section keeps the named sections; comments and
privileges go with their object. -a keeps table data and sequence values
and, unlike pg_dump, the refreshes of populated materialized views, so that
a schema-only restore followed by a data-only one brings them back too.
-j needs no directory format: every archive is one file.

Objects are selected by name as pg_dump selects them. -t/--table, -T,
-n/--schema, -N and --exclude-table-data take patterns, each flag
repeatable: * matches any characters, ? one, a dot separates schema and
name, unquoted letters are folded to lower case and "double quotes" keep a
name as it is (-t '"My Schema"."Big.Table"'). A -t pattern without a dot
matches the tables visible on the database's default search_path. With -t
only the matching tables, views, materialized views and sequences are
dumped, with their indexes, constraints, triggers, comments, privileges,
data and owned sequences; no schema, function, type or large object, and
-n/-N have no effect. With -n only the objects of the matching schemas are
dumped (and no large object). Objects they depend on are not added: restoring
may need them. --table-and-children, --exclude-table-and-children and
--exclude-table-data-and-children (pg_dump 16's) include the tables that
inherit from those matched; partitioned tables are not dumped by pgark yet.
--strict-names makes a -t or -n pattern that matches nothing an error.
Unlike pg_dump, -n public does not write CREATE SCHEMA public, which every
database has. -e/--extension PATTERN dumps only the matching extensions
(with their configuration tables' rows) and, as with -n, no object that is
in no schema (cast, language, foreign data wrapper, publication...) and no
large object; extensions are dumped otherwise only when everything is.
--no-publications, --no-subscriptions and --no-security-labels leave those
out.

--filter FILE reads pg_dump 17's filter file ("-" is stdin): one rule a
line, "include table|table_and_children|schema|extension PATTERN" or
"exclude table|table_and_children|table_data|table_data_and_children|schema
PATTERN", the same as the flags; # starts a comment.

--where 'TABLE:CONDITION', which pg_dump lacks, dumps only the rows of the
tables TABLE matches (a -t pattern; quote a colon in a name) for which
CONDITION, an SQL expression on their columns, is true, in the dump's
snapshot; the tables' definitions are dumped whole. CONDITION runs with an
empty search_path, so qualify what is not in pg_catalog; it is checked
before anything is written. Several --where on one table are ANDed.
Example: --where 'public.orders:created_at >= now() - interval ''30 days'''

--statistics (pg_dump 18's, off by default) adds the planner statistics of
tables, materialized views and indexes, read from pg_class and pg_stats, as
STATISTICS DATA entries that call pg_restore_relation_stats and
pg_restore_attribute_stats: tables' in the data section, indexes' and
materialized views' in post-data. -s and -a keep them; --statistics-only
dumps nothing else. Any source from PostgreSQL 13 on; restoring them needs a
PostgreSQL 18 target (older ones lack the functions: restore
--no-statistics skips them).`

func newDumpCmd() *cobra.Command {
	o := &dumpOptions{}
	cmd := &cobra.Command{
		Use:   "dump [connection-option...] [option...] [DBNAME]",
		Short: "Dump a database into a pgark archive",
		Long:  dumpLong,
		Args:  usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.stdin, o.stdout, o.stderr = cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr()
			return runDump(cmd.Context(), o, args)
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	o.conn.AddFlags(fs)
	fs.StringVarP(&o.file, "file", "f", "", "output file name (- or none for stdout)")
	fs.StringVarP(&o.format, "format", "F", "", "output format: only c (custom), the pgark archive, is written")
	fs.IntVarP(&o.jobs, "jobs", "j", 1, "use this many parallel jobs to dump table data")
	fs.StringVarP(&o.compress, "compress", "Z", "", "compression: zstd, zstd:N, none, or a level N (0 means none)")
	fs.BoolVarP(&o.schemaOnly, "schema-only", "s", false, "dump only the schema, no data")
	fs.BoolVarP(&o.dataOnly, "data-only", "a", false, "dump only the data, not the schema")
	fs.StringArrayVar(&o.sections, "section", nil, "dump named section (pre-data, data, or post-data); repeatable")
	fs.BoolVarP(&o.noOwner, "no-owner", "O", false, "skip restoration of object ownership")
	fs.BoolVarP(&o.noPrivileges, "no-privileges", "x", false, "do not dump privileges (grant/revoke)")
	fs.BoolVar(&o.noPrivileges, "no-acl", false, "same as --no-privileges")
	fs.BoolVar(&o.noComments, "no-comments", false, "do not dump comments")
	fs.BoolVar(&o.noTablespaces, "no-tablespaces", false, "do not dump tablespace assignments")
	fs.BoolVar(&o.textCopy, "text-copy", false, "store table data as COPY text, never as COPY binary (for pgark before 2026-11-24)")
	fs.StringVar(&o.lockWaitTimeout, "lock-wait-timeout", "", "fail after waiting TIMEOUT for a table lock")
	fs.StringVar(&o.snapshot, "snapshot", "", "use given snapshot for the dump")
	fs.BoolVar(&o.serializableDeferrable, "serializable-deferrable", false, "wait until the dump can run without anomalies")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "verbose mode: progress messages on stderr")
	fs.StringArrayVarP(&o.tables, "table", "t", nil, "dump only the tables, views and sequences matching `PATTERN`")
	fs.StringArrayVarP(&o.excludeTables, "exclude-table", "T", nil, "do NOT dump the tables matching `PATTERN`")
	fs.StringArrayVar(&o.tablesAndChildren, "table-and-children", nil, "like -t `PATTERN`, with the tables that inherit from them")
	fs.StringArrayVar(&o.excludeAndChildren, "exclude-table-and-children", nil, "like -T `PATTERN`, with the tables that inherit from them")
	fs.StringArrayVarP(&o.schemas, "schema", "n", nil, "dump only the schemas matching `PATTERN`")
	fs.StringArrayVarP(&o.excludeSchemas, "exclude-schema", "N", nil, "do NOT dump the schemas matching `PATTERN`")
	fs.StringArrayVar(&o.excludeData, "exclude-table-data", nil, "do NOT dump data of the tables matching `PATTERN`")
	fs.StringArrayVar(&o.excludeDataAndChildren, "exclude-table-data-and-children", nil,
		"like --exclude-table-data `PATTERN`, with the tables that inherit from them")
	fs.BoolVar(&o.strictNames, "strict-names", false, "require each -t/-n pattern to match at least one object")
	fs.BoolVarP(&o.largeObjects, "large-objects", "b", false, "include large objects, also with -t/-n/-e")
	fs.BoolVar(&o.largeObjects, "blobs", false, "same as --large-objects")
	fs.BoolVarP(&o.noLargeObjects, "no-large-objects", "B", false, "exclude large objects")
	fs.BoolVar(&o.noLargeObjects, "no-blobs", false, "same as --no-large-objects")
	fs.BoolVar(&o.statistics, "statistics", false, "dump planner statistics too (PostgreSQL 18 restores them)")
	fs.BoolVar(&o.noStatistics, "no-statistics", false, "do not dump statistics (the default)")
	fs.BoolVar(&o.statisticsOnly, "statistics-only", false, "dump only the statistics, not the schema or data")
	fs.StringArrayVar(&o.where, "where", nil, "dump only the rows of the tables TABLE matches for which CONDITION is true (`TABLE:CONDITION`)")
	fs.StringArrayVarP(&o.extensions, "extension", "e", nil, "dump only the extensions matching `PATTERN`")
	fs.BoolVar(&o.noPublications, "no-publications", false, "do not dump publications")
	fs.BoolVar(&o.noSubscriptions, "no-subscriptions", false, "do not dump subscriptions")
	fs.BoolVar(&o.noSecurityLabels, "no-security-labels", false, "do not dump security label assignments")
	fs.StringArrayVar(&o.filters, "filter", nil, "dump or skip objects based on the rules in `FILE`")
	_ = fs.MarkHidden("no-acl")
	return cmd
}

// engineOptions checks the flag combinations pg_dump refuses and maps the
// flags onto the engine's options.
func (o *dumpOptions) engineOptions() (dump.Options, error) {
	usage := func(msg string) (dump.Options, error) {
		return dump.Options{}, &usageError{cmd: "pgark dump", err: errors.New(msg)}
	}
	switch {
	case o.schemaOnly && o.dataOnly:
		return usage("options -s/--schema-only and -a/--data-only cannot be used together")
	case o.jobs < 1:
		return usage("invalid number of parallel jobs")
	case o.statistics && o.noStatistics:
		return usage("options --statistics and --no-statistics cannot be used together")
	case o.statisticsOnly && o.noStatistics:
		return usage("options --statistics-only and --no-statistics cannot be used together")
	case o.statisticsOnly && o.schemaOnly:
		return usage("options -s/--schema-only and --statistics-only cannot be used together")
	case o.statisticsOnly && o.dataOnly:
		return usage("options -a/--data-only and --statistics-only cannot be used together")
	}
	switch strings.ToLower(o.format) {
	case "", "c", "custom":
	default:
		return usage(fmt.Sprintf("unsupported output format %q: pgark dump writes only its archive (-Fc); "+
			"pgark restore -f FILE turns an archive into an SQL script", o.format))
	}
	codec, level, err := parseCompress(o.compress)
	if err != nil {
		return usage(err.Error())
	}
	opts := dump.Options{
		Jobs:                   o.jobs,
		Codec:                  codec,
		Level:                  level,
		SchemaOnly:             o.schemaOnly,
		DataOnly:               o.dataOnly,
		StatisticsOnly:         o.statisticsOnly,
		NoOwner:                o.noOwner,
		NoPrivileges:           o.noPrivileges,
		NoComments:             o.noComments,
		NoTablespaces:          o.noTablespaces,
		TextCopy:               o.textCopy,
		LockWaitTimeout:        o.lockWaitTimeout,
		Snapshot:               o.snapshot,
		SerializableDeferrable: o.serializableDeferrable,
		ToolVersion:            version,
		Load:                   o.load,
	}
	for _, s := range o.sections {
		var sec schema.Section
		switch s {
		case "pre-data":
			sec = schema.SectionPreData
		case "data":
			sec = schema.SectionData
		case "post-data":
			sec = schema.SectionPostData
		default:
			return usage(fmt.Sprintf("unrecognized section name: %q", s))
		}
		opts.Sections = append(opts.Sections, sec)
	}
	rules, err := readFilters("pgark dump", o.filters, o.stdin)
	if err != nil {
		return dump.Options{}, err
	}
	if err := o.addFilters(rules); err != nil {
		return usage(err.Error())
	}
	sel, err := o.selection()
	if err != nil {
		return usage(err.Error())
	}
	if opts.Load == nil {
		opts.Load = loadCatalog(catalog.Options{Select: sel, NoPublications: o.noPublications,
			NoSubscriptions: o.noSubscriptions, NoSecurityLabels: o.noSecurityLabels,
			Statistics: o.statistics || o.statisticsOnly})
		// The database's own entries, which restore -C uses, unless -t or
		// -n select objects (as pg_dump's include_everything).
		if len(sel.Tables) == 0 && len(sel.Schemas) == 0 {
			opts.LoadDatabase = loadDatabase
		}
	}
	return opts, nil
}

// selection compiles the name selection flags.
func (o *dumpOptions) selection() (catalog.Selection, error) {
	sel := catalog.Selection{StrictNames: o.strictNames}
	tables := func(patterns []string, children bool, into *[]catalog.TablePattern) error {
		for _, s := range patterns {
			p, err := schema.ParseRelationPattern(s)
			if err != nil {
				return err
			}
			*into = append(*into, catalog.TablePattern{Pattern: p, WithChildren: children})
		}
		return nil
	}
	for _, x := range []struct {
		patterns []string
		children bool
		into     *[]catalog.TablePattern
	}{
		{o.tables, false, &sel.Tables},
		{o.tablesAndChildren, true, &sel.Tables},
		{o.excludeTables, false, &sel.ExcludeTables},
		{o.excludeAndChildren, true, &sel.ExcludeTables},
		{o.excludeData, false, &sel.ExcludeTableData},
		{o.excludeDataAndChildren, true, &sel.ExcludeTableData},
	} {
		if err := tables(x.patterns, x.children, x.into); err != nil {
			return sel, err
		}
	}
	for _, x := range []struct {
		patterns []string
		into     *[]schema.NamePattern
	}{{o.schemas, &sel.Schemas}, {o.excludeSchemas, &sel.ExcludeSchemas}} {
		for _, s := range x.patterns {
			p, err := schema.ParseSchemaPattern(s)
			if err != nil {
				return sel, err
			}
			*x.into = append(*x.into, p)
		}
	}
	sel.LargeObjects, sel.NoLargeObjects = o.largeObjects, o.noLargeObjects
	for _, w := range o.where {
		f, err := parseWhere(w)
		if err != nil {
			return sel, err
		}
		sel.Where = append(sel.Where, f)
	}
	for _, s := range o.extensions {
		p, err := catalog.ParseExtensionPattern(s)
		if err != nil {
			return sel, err
		}
		sel.Extensions = append(sel.Extensions, p)
	}
	return sel, nil
}

// parseWhere reads --where TABLE:CONDITION: TABLE is a relation pattern,
// cut at the first colon outside double quotes.
func parseWhere(s string) (catalog.RowFilter, error) {
	inQuotes := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			inQuotes = !inQuotes
		case ':':
			if inQuotes {
				continue
			}
			table, cond := s[:i], strings.TrimSpace(s[i+1:])
			if table == "" || cond == "" {
				return catalog.RowFilter{}, fmt.Errorf("invalid --where %q: want TABLE:CONDITION", s)
			}
			p, err := schema.ParseRelationPattern(table)
			if err != nil {
				return catalog.RowFilter{}, err
			}
			return catalog.RowFilter{Table: p, Condition: cond}, nil
		}
	}
	return catalog.RowFilter{}, fmt.Errorf("invalid --where %q: want TABLE:CONDITION", s)
}

// loadCatalog returns a loader that reads the database's objects that
// opts select and puts them in restore order.
func loadCatalog(opts catalog.Options) dump.LoadFunc {
	return func(ctx context.Context, q dump.Querier) ([]*schema.Object, error) {
		cat, err := catalog.Load(ctx, q, opts)
		if err != nil {
			return nil, err
		}
		return schema.Sort(cat.Objects)
	}
}

// parseCompress reads -Z: zstd, zstd:N, zstd:level=N, none, or pg_dump's
// bare level N (0 meaning none).
func parseCompress(s string) (format.Codec, int, error) {
	if s == "" {
		return format.CodecZstd, 0, nil
	}
	method, detail, hasDetail := strings.Cut(s, ":")
	if n, err := strconv.Atoi(method); err == nil && !hasDetail {
		if n == 0 {
			return format.CodecNone, 0, nil
		}
		method, detail, hasDetail = "zstd", method, true
	}
	switch strings.ToLower(method) {
	case "none":
		if hasDetail && detail != "0" {
			return 0, 0, fmt.Errorf("invalid compression %q: none takes no level", s)
		}
		return format.CodecNone, 0, nil
	case "zstd":
		if !hasDetail {
			return format.CodecZstd, 0, nil
		}
		n, err := strconv.Atoi(strings.TrimPrefix(detail, "level="))
		if err != nil || n < 1 || n > 22 {
			return 0, 0, fmt.Errorf("invalid compression %q: zstd levels are 1 to 22", s)
		}
		return format.CodecZstd, n, nil
	case "gzip", "lz4":
		return 0, 0, fmt.Errorf("unsupported compression %q: pgark archives are compressed with zstd (or none)", s)
	}
	return 0, 0, fmt.Errorf("invalid compression %q: use zstd, zstd:N, none or a level N", s)
}

func runDump(ctx context.Context, o *dumpOptions, args []string) error {
	opts, err := o.engineOptions()
	if err != nil {
		return err
	}
	if err := o.conn.SetPositional(args); err != nil {
		return &usageError{cmd: "pgark dump", err: err}
	}
	o.conn.Prompt = promptPassword
	if opts.Connector, err = o.conn.Connector(ctx); err != nil {
		return fmt.Errorf("dump: %w", err)
	}
	var bar *progressBar
	if o.verbose {
		var mu sync.Mutex // events come from several workers
		opts.Progress = func(e dump.Event) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(o.stderr, "pgark: dump: %s\n", e)
		}
	} else if bar = newProgressBar(o.stderr, false); bar != nil {
		opts.Progress = bar.dumpProgress()
	}
	if o.file == "" || o.file == "-" {
		bw := bufio.NewWriterSize(o.stdout, 1<<20)
		opts.Out = bw
		err := dump.Run(ctx, opts)
		if err == nil {
			if err = bw.Flush(); err != nil {
				err = fmt.Errorf("dump: write stdout: %w", err)
			}
		}
		bar.finish(err == nil)
		return err
	}
	err = writeFileAtomic(o.file, func(w io.Writer) error {
		opts.Out = w
		return dump.Run(ctx, opts)
	})
	bar.finish(err == nil)
	return err
}

// writeFileAtomic runs write on a temporary file in path's directory, then
// syncs it, renames it to path and syncs the directory. If anything fails
// the temporary file is removed and path is left as it was.
func writeFileAtomic(path string, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if base == "" {
		return fmt.Errorf("dump: output file %q names a directory", path)
	}
	f, err := os.CreateTemp(dir, "."+base+".pgark-tmp-*")
	if err != nil {
		return fmt.Errorf("dump: create output file: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("dump: write %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("dump: sync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("dump: close %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("dump: rename %s to %s: %w", tmp, path, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("dump: sync directory %s: %w", dir, err)
	}
	return nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
