package main

import "github.com/spf13/cobra"

func newDumpCmd() *cobra.Command {
	return notBuiltCmd("dump",
		"Dump a database into a pgark archive (not built yet)",
		`Dump one database into a pgark archive, as pg_dump does.

When built, dump will take one consistent snapshot and share it with parallel
workers, split large tables, stream COPY data into zstd-compressed, checksummed
blocks, and write the archive's index at the end, to a file or to stdout.
Object selection will follow pg_dump's table and schema patterns.

It is not built yet: running it prints so and exits with status 2.`)
}
