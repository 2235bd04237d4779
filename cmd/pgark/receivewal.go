package main

import "github.com/spf13/cobra"

func newReceivewalCmd() *cobra.Command {
	return notBuiltCmd("receivewal",
		"Stream WAL from a server into a directory (not built yet)",
		`Stream write-ahead log from a server over the replication protocol into a
directory, as pg_receivewal does.

When built, receivewal will write each segment as .partial, fsync it and
rename it when complete, follow timeline switches, and can use a replication
slot so the server keeps WAL until it has been received.

It is not built yet: running it prints so and exits with status 2.`)
}
