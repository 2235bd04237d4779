package replication

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgark/pgark/internal/conn"
	"github.com/pgark/pgark/internal/wal"
)

var (
	// ErrUnsupportedServer is wrapped by errors for commands the server's
	// version does not support here.
	ErrUnsupportedServer = errors.New("replication: server version not supported")
	// ErrSlotNotFound is returned by ReadReplicationSlot for a slot that
	// does not exist.
	ErrSlotNotFound = errors.New("replication: replication slot does not exist")
	// ErrProtocol is wrapped by errors for messages that break the protocol.
	ErrProtocol = errors.New("replication: protocol violation")
)

// Connect opens a physical replication connection (replication=true) with
// cfg, which must come from pgconn.ParseConfig (conn.Options.Config, say),
// prompting for a password as conn.Connect does.
func Connect(ctx context.Context, cfg *pgconn.Config, prompt conn.PromptFunc) (*pgconn.PgConn, error) {
	return conn.Connect(ctx, conn.ReplicationConfig(cfg, conn.ReplicationPhysical), prompt)
}

// Minimum server versions (server_version_num) of what this package does.
const (
	MinVersion                    = 100000 // PostgreSQL 10: every command here but the two below
	MinVersionBaseBackup          = 150000 // BASE_BACKUP's 'n'/'d'/'p'/'m' CopyData stream
	MinVersionReadReplicationSlot = 150000 // READ_REPLICATION_SLOT
)

// CheckServerVersion returns an error wrapping ErrUnsupportedServer when a
// server of version (server_version_num) cannot run what, one of the
// commands named by the MinVersion constants ("BASE_BACKUP",
// "READ_REPLICATION_SLOT"; anything else is checked against MinVersion).
func CheckServerVersion(version int, what string) error {
	min := MinVersion
	switch what {
	case "BASE_BACKUP":
		min = MinVersionBaseBackup
	case "READ_REPLICATION_SLOT":
		min = MinVersionReadReplicationSlot
	}
	if version < min {
		return fmt.Errorf("%w: %s needs PostgreSQL %d or later, the server is %s",
			ErrUnsupportedServer, what, min/10000, versionString(version))
	}
	return nil
}

func versionString(v int) string {
	if v >= 100000 {
		return fmt.Sprintf("%d.%d", v/10000, v%10000)
	}
	return fmt.Sprintf("%d.%d.%d", v/10000, v/100%100, v%100)
}

// checkVersion asks the server its version and checks it with
// CheckServerVersion.
func checkVersion(ctx context.Context, c *pgconn.PgConn, what string) (int, error) {
	v, err := conn.ServerVersion(ctx, c)
	if err != nil {
		return 0, err
	}
	return v, CheckServerVersion(v, what)
}

// row runs a command that returns at most one row and returns it by column
// name; NULL columns are absent. It returns nil for no row.
func row(ctx context.Context, c *pgconn.PgConn, sql string) (map[string][]byte, error) {
	results, err := c.Exec(ctx, sql).ReadAll()
	if err != nil {
		return nil, err
	}
	for _, r := range results {
		if r.Err != nil {
			return nil, r.Err
		}
	}
	if len(results) != 1 {
		return nil, fmt.Errorf("%w: %d results, want 1", ErrProtocol, len(results))
	}
	r := results[0]
	if len(r.Rows) == 0 {
		return nil, nil
	}
	if len(r.Rows) > 1 {
		return nil, fmt.Errorf("%w: %d rows, want 1", ErrProtocol, len(r.Rows))
	}
	m := make(map[string][]byte, len(r.FieldDescriptions))
	for i, fd := range r.FieldDescriptions {
		if i < len(r.Rows[0]) && r.Rows[0][i] != nil {
			m[fd.Name] = r.Rows[0][i]
		}
	}
	return m, nil
}

// SystemInfo is IDENTIFY_SYSTEM's answer.
type SystemInfo struct {
	SystemID string         // the cluster's unique system identifier (a uint64, as text)
	Timeline wal.TimelineID // current timeline
	XLogPos  wal.LSN        // current WAL flush position
	DBName   string         // the database for replication=database connections, else ""
}

// IdentifySystem runs IDENTIFY_SYSTEM.
func IdentifySystem(ctx context.Context, c *pgconn.PgConn) (SystemInfo, error) {
	m, err := row(ctx, c, "IDENTIFY_SYSTEM")
	if err != nil {
		return SystemInfo{}, fmt.Errorf("replication: identify system: %w", err)
	}
	info, err := parseSystemInfo(m)
	if err != nil {
		return SystemInfo{}, fmt.Errorf("replication: identify system: %w", err)
	}
	return info, nil
}

func parseSystemInfo(m map[string][]byte) (SystemInfo, error) {
	var info SystemInfo
	if m == nil {
		return info, fmt.Errorf("%w: no row", ErrProtocol)
	}
	info.SystemID = string(m["systemid"])
	if _, err := strconv.ParseUint(info.SystemID, 10, 64); err != nil {
		return info, fmt.Errorf("%w: systemid %q", ErrProtocol, info.SystemID)
	}
	var err error
	if info.Timeline, err = wal.ParseTimelineID(string(m["timeline"])); err != nil {
		return info, fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	if info.XLogPos, err = wal.ParseLSN(string(m["xlogpos"])); err != nil {
		return info, fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	info.DBName = string(m["dbname"])
	return info, nil
}

// Show runs SHOW name, which walsenders accept for any setting, and
// returns the value as SHOW prints it.
func Show(ctx context.Context, c *pgconn.PgConn, name string) (string, error) {
	if !validIdent(name, true) {
		return "", fmt.Errorf("replication: show: invalid setting name %q", name)
	}
	m, err := row(ctx, c, "SHOW "+name)
	if err != nil {
		return "", fmt.Errorf("replication: show %s: %w", name, err)
	}
	for _, v := range m {
		return string(v), nil
	}
	return "", fmt.Errorf("replication: show %s: %w: no value", name, ErrProtocol)
}

// SegmentSize returns the server's wal_segment_size.
func SegmentSize(ctx context.Context, c *pgconn.PgConn) (wal.SegmentSize, error) {
	v, err := Show(ctx, c, "wal_segment_size")
	if err != nil {
		return 0, err
	}
	return wal.ParseSegmentSize(v)
}

// TimelineHistory is a timeline history file as TIMELINE_HISTORY sends it.
type TimelineHistory struct {
	FileName string // e.g. 00000002.history
	Content  []byte
}

// TimelineHistoryFile runs TIMELINE_HISTORY tli: the history file of
// timeline tli (which must be 2 or later; timeline 1 has none).
func TimelineHistoryFile(ctx context.Context, c *pgconn.PgConn, tli wal.TimelineID) (TimelineHistory, error) {
	if tli == 0 {
		return TimelineHistory{}, errors.New("replication: timeline history: invalid timeline 0")
	}
	m, err := row(ctx, c, "TIMELINE_HISTORY "+tli.String())
	if err != nil {
		return TimelineHistory{}, fmt.Errorf("replication: timeline history %s: %w", tli, err)
	}
	h := TimelineHistory{FileName: string(m["filename"]), Content: m["content"]}
	if h.FileName != wal.HistoryFileName(tli) {
		return TimelineHistory{}, fmt.Errorf("replication: timeline history %s: %w: file name %q", tli, ErrProtocol, h.FileName)
	}
	return h, nil
}

// SlotOptions are CREATE_REPLICATION_SLOT's options for a physical slot.
type SlotOptions struct {
	// Temporary slots are dropped when the connection ends or on error.
	Temporary bool
	// ReserveWAL makes the slot keep WAL from now on, rather than from the
	// first time a client streams from it.
	ReserveWAL bool
}

// Slot is CREATE_REPLICATION_SLOT's answer.
type Slot struct {
	Name string
	// ConsistentPoint is the server's consistent_point: meaningful for
	// logical slots only; physical ones report InvalidLSN (see
	// ReadReplicationSlot for where WAL is reserved from).
	ConsistentPoint wal.LSN
}

// CreateReplicationSlot creates a physical replication slot.
func CreateReplicationSlot(ctx context.Context, c *pgconn.PgConn, name string, opts SlotOptions) (Slot, error) {
	if err := ValidateSlotName(name); err != nil {
		return Slot{}, err
	}
	v, err := conn.ServerVersion(ctx, c)
	if err != nil {
		return Slot{}, fmt.Errorf("replication: create slot %s: %w", name, err)
	}
	m, err := row(ctx, c, slotCommand(v, name, opts))
	if err != nil {
		return Slot{}, fmt.Errorf("replication: create slot %s: %w", name, err)
	}
	s := Slot{Name: string(m["slot_name"])}
	if cp, ok := m["consistent_point"]; ok {
		if s.ConsistentPoint, err = wal.ParseLSN(string(cp)); err != nil {
			return Slot{}, fmt.Errorf("replication: create slot %s: %w: %w", name, ErrProtocol, err)
		}
	}
	return s, nil
}

// slotCommand is CREATE_REPLICATION_SLOT for a server of version v: the
// parenthesized options from 15, the older keywords before (which 15 and
// later still accept, but may not forever).
func slotCommand(v int, name string, opts SlotOptions) string {
	cmd := "CREATE_REPLICATION_SLOT " + name
	if opts.Temporary {
		cmd += " TEMPORARY"
	}
	cmd += " PHYSICAL"
	if opts.ReserveWAL {
		if v >= 150000 {
			cmd += " (RESERVE_WAL)"
		} else {
			cmd += " RESERVE_WAL"
		}
	}
	return cmd
}

// SlotInfo is READ_REPLICATION_SLOT's answer for an existing slot.
type SlotInfo struct {
	Type       string         // "physical" or "logical"
	RestartLSN wal.LSN        // InvalidLSN if the slot reserves no WAL yet
	RestartTLI wal.TimelineID // 0 if RestartLSN is invalid
}

// ReadReplicationSlot runs READ_REPLICATION_SLOT (PostgreSQL 15 and
// later). A slot that does not exist is ErrSlotNotFound.
func ReadReplicationSlot(ctx context.Context, c *pgconn.PgConn, name string) (SlotInfo, error) {
	if err := ValidateSlotName(name); err != nil {
		return SlotInfo{}, err
	}
	if _, err := checkVersion(ctx, c, "READ_REPLICATION_SLOT"); err != nil {
		return SlotInfo{}, err
	}
	m, err := row(ctx, c, "READ_REPLICATION_SLOT "+name)
	if err != nil {
		return SlotInfo{}, fmt.Errorf("replication: read slot %s: %w", name, err)
	}
	return parseSlotInfo(name, m)
}

func parseSlotInfo(name string, m map[string][]byte) (SlotInfo, error) {
	if len(m) == 0 || m["slot_type"] == nil {
		return SlotInfo{}, fmt.Errorf("replication: read slot %s: %w", name, ErrSlotNotFound)
	}
	info := SlotInfo{Type: string(m["slot_type"])}
	var err error
	if v, ok := m["restart_lsn"]; ok {
		if info.RestartLSN, err = wal.ParseLSN(string(v)); err != nil {
			return SlotInfo{}, fmt.Errorf("replication: read slot %s: %w: %w", name, ErrProtocol, err)
		}
	}
	if v, ok := m["restart_tli"]; ok {
		if info.RestartTLI, err = wal.ParseTimelineID(string(v)); err != nil {
			return SlotInfo{}, fmt.Errorf("replication: read slot %s: %w: %w", name, ErrProtocol, err)
		}
	}
	return info, nil
}

// DropReplicationSlot drops a replication slot. With wait, it waits for a
// slot in use to become free rather than failing.
func DropReplicationSlot(ctx context.Context, c *pgconn.PgConn, name string, wait bool) error {
	if err := ValidateSlotName(name); err != nil {
		return err
	}
	cmd := "DROP_REPLICATION_SLOT " + name
	if wait {
		cmd += " WAIT"
	}
	if _, err := c.Exec(ctx, cmd).ReadAll(); err != nil {
		return fmt.Errorf("replication: drop slot %s: %w", name, err)
	}
	return nil
}

// ValidateSlotName checks a replication slot name as the server does
// (ReplicationSlotValidateName): 1 to 63 characters of a-z, 0-9 and _.
// Valid names need no quoting in replication commands.
func ValidateSlotName(name string) error {
	if len(name) == 0 || len(name) > 63 {
		return fmt.Errorf("replication: invalid slot name %q: must be 1 to 63 characters", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return fmt.Errorf("replication: invalid slot name %q: only lower case letters, digits and _", name)
		}
	}
	return nil
}

// validIdent reports whether s is an unquoted identifier the replication
// grammar accepts; with dotted, "a.b" too (custom settings).
func validIdent(s string, dotted bool) bool {
	if s == "" || len(s) > 63*2+1 {
		return false
	}
	start := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', c == '_':
			start = false
		case '0' <= c && c <= '9', c == '$':
			if start {
				return false
			}
		case c == '.' && dotted && !start && i < len(s)-1:
			start = true
		default:
			return false
		}
	}
	return true
}
