package main

import "github.com/spf13/cobra"

func newRecoverCmd() *cobra.Command {
	return notBuiltCmd("recover",
		"Prepare a base backup for point-in-time recovery (not built yet)",
		`Lay a base backup out as a data directory ready for point-in-time recovery.

When built, recover will restore the backup into a data directory, write
recovery.signal and the recovery settings (restore_command using
pgark restore-wal, the recovery target) into postgresql.auto.conf, so that
starting the server replays WAL to the chosen point.

It is not built yet: running it prints so and exits with status 2.`)
}
