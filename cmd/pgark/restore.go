package main

import "github.com/spf13/cobra"

func newRestoreCmd() *cobra.Command {
	return notBuiltCmd("restore",
		"Restore a pgark archive into a database (not built yet)",
		`Restore a pgark archive into a database, or write it out as an SQL script,
as pg_restore does.

When built, restore will plan from the archive's index, create the pre-data
objects, load table data with parallel COPY workers, build indexes and
constraints in parallel, and apply privileges last. A list written by
pgark list and edited by hand will select what to restore, as pg_restore's
list file does.

It is not built yet: running it prints so and exits with status 2.`)
}
