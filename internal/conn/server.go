package conn

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// ReplicationMode is the value of the replication startup parameter.
type ReplicationMode string

const (
	// ReplicationPhysical (replication=true) opens a physical walsender:
	// IDENTIFY_SYSTEM, BASE_BACKUP, START_REPLICATION of WAL. The database
	// name is ignored by the server.
	ReplicationPhysical ReplicationMode = "true"
	// ReplicationDatabase (replication=database) opens a walsender bound to
	// the database, which also accepts SQL; used for logical slots and by
	// pg_basebackup when a database name is given.
	ReplicationDatabase ReplicationMode = "database"
)

// ReplicationConfig returns a copy of cfg that opens replication
// connections in the given mode. cfg is not modified. target_session_attrs
// checks (cfg.ValidateConnect) are kept; those that run SQL (primary,
// standby, prefer-standby) fail on a physical walsender, as in libpq.
func ReplicationConfig(cfg *pgconn.Config, mode ReplicationMode) *pgconn.Config {
	c := cfg.Copy()
	if c.RuntimeParams == nil {
		c.RuntimeParams = make(map[string]string)
	}
	c.RuntimeParams["replication"] = string(mode)
	return c
}

// ServerVersion returns the server's version as server_version_num
// (e.g. 150004 for 15.4, 90624 for 9.6.24). It uses the server_version
// parameter reported at startup and falls back to SHOW server_version_num,
// which also works on replication connections.
func ServerVersion(ctx context.Context, c *pgconn.PgConn) (int, error) {
	if v, err := parseServerVersion(c.ParameterStatus("server_version")); err == nil {
		return v, nil
	}
	res, err := c.Exec(ctx, "SHOW server_version_num").ReadAll()
	if err != nil {
		return 0, fmt.Errorf("show server_version_num: %w", err)
	}
	if len(res) != 1 || len(res[0].Rows) != 1 || len(res[0].Rows[0]) != 1 {
		return 0, errors.New("show server_version_num: unexpected result shape")
	}
	s := string(res[0].Rows[0][0])
	v, err := strconv.Atoi(s)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("show server_version_num: invalid value %q", s)
	}
	return v, nil
}

// parseServerVersion converts a server_version string ("15.4 (Debian
// 15.4-1.pgdg120+1)", "9.6.24", "17devel", "16beta2", "16rc1") into the
// server_version_num encoding.
func parseServerVersion(s string) (int, error) {
	end := 0
	for end < len(s) && (s[end] == '.' || ('0' <= s[end] && s[end] <= '9')) {
		end++
	}
	parts := strings.Split(strings.TrimSuffix(s[:end], "."), ".")
	nums := make([]int, 0, 3)
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 99 && len(nums) > 0 {
			return 0, fmt.Errorf("conn: invalid server version %q", s)
		}
		nums = append(nums, n)
	}
	for len(nums) < 3 {
		nums = append(nums, 0)
	}
	switch {
	case nums[0] >= 10: // major.minor
		return nums[0]*10000 + nums[1], nil
	case nums[0] >= 7: // major.major.minor
		return nums[0]*10000 + nums[1]*100 + nums[2], nil
	}
	return 0, fmt.Errorf("conn: invalid server version %q", s)
}
