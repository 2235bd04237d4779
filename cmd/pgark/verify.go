package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// verifyOptions are what pgark verify works with; it has no flags yet.
type verifyOptions struct {
	stdin  io.Reader
	stdout io.Writer
}

func newVerifyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "verify FILE|-",
		Short: "Check every checksum of an archive",
		Long: `Check an archive whole: the file header, the footer, the index, every entry
and every data block's checksum, decompressing each block.

On success verify prints one line with the archive's entries, data blocks,
rows and sizes, and exits 0. Otherwise it names each damaged record (entry,
data block, index or footer) and its byte offset, and exits 1.

With "-" the archive is read from stdin front to back; the index and footer
at its end are checked against what was read, so a stream cut short fails.`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerify(cmd.Context(), verifyOptions{stdin: cmd.InOrStdin(), stdout: cmd.OutOrStdout()}, args)
		},
	}
}

func runVerify(ctx context.Context, opts verifyOptions, args []string) error {
	in, err := openArchive(args[0], opts.stdin)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	defer in.Close()
	if in.reader != nil {
		if err := in.reader.Verify(ctx); err != nil {
			return &damageError{name: in.name, err: err}
		}
	}
	s, err := in.read(ctx)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	_, err = fmt.Fprintf(opts.stdout, "%s: OK, %d entries, %d data blocks, %d rows, %s raw, %s stored\n",
		in.name, len(s.entries), s.total.blocks, s.total.rows, humanBytes(s.total.raw), humanBytes(s.total.stored))
	if err != nil {
		return fmt.Errorf("verify: write result: %w", err)
	}
	return nil
}

// damageError is what Reader.Verify found: one error, or several joined (one
// per damaged block), which it lists one per line.
type damageError struct {
	name string
	err  error
}

func (e *damageError) Error() string {
	joined, ok := e.err.(interface{ Unwrap() []error })
	if !ok || len(joined.Unwrap()) == 1 {
		return fmt.Sprintf("verify %s: %v", e.name, e.err)
	}
	errs := joined.Unwrap()
	var b strings.Builder
	fmt.Fprintf(&b, "verify %s: %d problems:", e.name, len(errs))
	for _, err := range errs {
		b.WriteString("\n  ")
		b.WriteString(err.Error())
	}
	return b.String()
}

func (e *damageError) Unwrap() error { return e.err }
