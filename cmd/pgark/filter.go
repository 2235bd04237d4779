package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/pgark/pgark/restore"
	"github.com/pgark/pgark/schema"
)

// readFilters reads --filter files, in pg_dump 17's format; "-" is stdin.
// A file that is not one is a usage error.
func readFilters(cmd string, paths []string, stdin io.Reader) ([]schema.FilterRule, error) {
	var rules []schema.FilterRule
	for _, path := range paths {
		r := stdin
		if path != "-" {
			f, err := os.Open(path)
			if err != nil {
				return nil, fmt.Errorf("could not open filter file: %w", err)
			}
			defer f.Close()
			r = f
		}
		more, err := schema.ParseFilter(r, path)
		var fe *schema.FilterError
		switch {
		case errors.As(err, &fe):
			return nil, &usageError{cmd: cmd, err: err}
		case err != nil:
			return nil, err
		}
		rules = append(rules, more...)
	}
	return rules, nil
}

// addFilters adds --filter rules to the selection flags, as pg_dump 17
// reads them; the types pg_dump refuses are refused with its message.
func (o *dumpOptions) addFilters(rules []schema.FilterRule) error {
	for _, r := range rules {
		var into *[]string
		switch {
		case r.Include && r.Object == schema.FilterTable:
			into = &o.tables
		case r.Include && r.Object == schema.FilterTableAndChildren:
			into = &o.tablesAndChildren
		case r.Include && r.Object == schema.FilterSchema:
			into = &o.schemas
		case r.Include && r.Object == schema.FilterExtension:
			into = &o.extensions
		case !r.Include && r.Object == schema.FilterTable:
			into = &o.excludeTables
		case !r.Include && r.Object == schema.FilterTableAndChildren:
			into = &o.excludeAndChildren
		case !r.Include && r.Object == schema.FilterTableData:
			into = &o.excludeData
		case !r.Include && r.Object == schema.FilterTableDataAndChildren:
			into = &o.excludeDataAndChildren
		case !r.Include && r.Object == schema.FilterSchema:
			into = &o.excludeSchemas
		case r.Object == schema.FilterExtension, r.Include && r.Object == schema.FilterForeignData:
			// pg_dump takes these (--exclude-extension,
			// --include-foreign-data); pgark dump has no such selection.
			return r.Errorf(`%s filter for "%s" is not supported by pgark dump yet`, r.Command(), r.Object)
		default:
			return r.NotAllowed()
		}
		*into = append(*into, r.Pattern)
	}
	return nil
}

// restoreFilters adds --filter rules to a restore selection, as pg_restore
// 17 reads them: the names are taken as they are written (quotes too).
func restoreFilters(rules []schema.FilterRule, sel *restore.Selection) error {
	for _, r := range rules {
		var into *[]string
		switch {
		case r.Include && r.Object == schema.FilterTable:
			into = &sel.Tables
		case r.Include && r.Object == schema.FilterSchema:
			into = &sel.Schemas
		case r.Include && r.Object == schema.FilterTrigger:
			into = &sel.Triggers
		case r.Include && r.Object == schema.FilterIndex:
			into = &sel.Indexes
		case r.Include && r.Object == schema.FilterFunction:
			into = &sel.Functions
		case !r.Include && r.Object == schema.FilterSchema:
			into = &sel.ExcludeSchemas
		default:
			return r.NotAllowed()
		}
		*into = append(*into, r.Pattern)
	}
	return nil
}
