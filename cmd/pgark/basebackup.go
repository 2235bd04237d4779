package main

import "github.com/spf13/cobra"

func newBasebackupCmd() *cobra.Command {
	return notBuiltCmd("basebackup",
		"Take a physical base backup of a cluster (not built yet)",
		`Take a physical base backup of a running cluster over the replication
protocol, as pg_basebackup does.

When built, basebackup will write a backup directory or a plain data
directory, check the server's backup manifest, and can include the WAL needed
to make the backup consistent.

It is not built yet: running it prints so and exits with status 2.`)
}
