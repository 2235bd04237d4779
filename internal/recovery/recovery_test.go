package recovery

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSettings(t *testing.T) {
	o := Options{Pgark: "/opt/it's 100%/pgark", Target: Target{Time: "2026-11-24 10:30:00+00"},
		Exclusive: true, Action: "promote", Timeline: "latest"}
	assert.Equal(t, []string{
		`restore_command = '''/opt/it''\''''s 100%%/pgark'' restore-wal %f %p ''/arch'''`,
		`recovery_target_time = '2026-11-24 10:30:00+00'`,
		`recovery_target_inclusive = off`,
		`recovery_target_action = 'promote'`,
		`recovery_target_timeline = 'latest'`,
	}, settings(o, "/arch"))
	assert.Equal(t, []string{`restore_command = '''/p'' restore-wal %f %p ''/a'''`, `recovery_target = 'immediate'`},
		settings(Options{Pgark: "/p", Target: Target{Immediate: true}}, "/a"))
	assert.Equal(t, []string{`restore_command = '''/p'' restore-wal %f %p ''/a'''`},
		settings(Options{Pgark: "/p"}, "/a"), "no target: to the end of the archive")
}

func TestCheck(t *testing.T) {
	base := Options{From: "b", Dir: "d", Pgark: "/p"}
	for _, tm := range []string{"2026-11-24 10:30:00+00", "2026-11-24 10:30:00.123456+05:30", "2026-11-24 10:30:00",
		"2026-11-24T10:30:00Z", "2026-11-24 10:30:00 UTC"} {
		o := base
		o.Target.Time = tm
		require.NoError(t, o.Check(), tm)
	}
	o := base
	o.Target = Target{LSN: "0/3000000"}
	o.Exclusive, o.Action, o.Timeline = true, "shutdown", "3"
	require.NoError(t, o.Check())
	o.Timeline = "0"
	assert.ErrorContains(t, o.Check(), "invalid target timeline")
	o = base
	o.Target = Target{Immediate: true, XID: "5"}
	assert.ErrorContains(t, o.Check(), "at most one")
}
