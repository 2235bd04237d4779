package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// listOptions are what pgark list works with; it has no flags yet.
type listOptions struct {
	stdin  io.Reader
	stdout io.Writer
}

func newListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list FILE|-",
		Short: "Print an archive's table of contents",
		Long: `Print an archive's table of contents, one entry per line, as pg_restore -l
does: a header of ';' comment lines (when and from what the archive was made,
entry and block counts, sizes), then per entry

  ID; SECTION KIND SCHEMA NAME OWNER  rows=N size=SIZE stored=SIZE

where the statistics appear for entries that hold table data, summed over
their blocks (size is the data uncompressed, stored is what it takes in the
archive). SCHEMA, NAME and OWNER are "-" when empty and quoted when they hold
spaces or other separators. In a cluster archive (pgark dumpall) an entry of a
database ends with database=NAME, and the header lists the databases.

FILE is read at random: only the footer, the index and the entries. With "-"
the archive is read from stdin front to back, which also checks it whole.`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runList(cmd.Context(), listOptions{stdin: cmd.InOrStdin(), stdout: cmd.OutOrStdout()}, args)
		},
	}
}

func runList(ctx context.Context, opts listOptions, args []string) error {
	in, err := openArchive(args[0], opts.stdin)
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	defer in.Close()
	s, err := in.read(ctx)
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	if err := s.writeTOC(opts.stdout); err != nil {
		return fmt.Errorf("list: write table of contents: %w", err)
	}
	return nil
}
