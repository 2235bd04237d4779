package main

import "github.com/spf13/cobra"

func newArchiveWALCmd() *cobra.Command {
	return notBuiltCmd("archive-wal",
		"Copy a completed WAL segment into the WAL archive (not built yet)",
		`Copy one completed WAL segment into the WAL archive, for use as the server's
archive_command.

When built, archive-wal will copy the segment the server names, fsync it,
and only then report success, so the server never removes a segment that
is not safely archived. Archiving the same segment twice with the same
content will succeed.

It is not built yet: running it prints so and exits with status 2.`)
}

func newRestoreWALCmd() *cobra.Command {
	return notBuiltCmd("restore-wal",
		"Fetch a WAL segment from the WAL archive (not built yet)",
		`Fetch one WAL segment or timeline history file from the WAL archive, for
use as the server's restore_command during recovery.

When built, restore-wal will copy the file the server asks for into place
and exit non-zero when the archive does not have it, as restore_command
requires.

It is not built yet: running it prints so and exits with status 2.`)
}
