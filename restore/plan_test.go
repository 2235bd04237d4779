package restore

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/format"
)

func TestIfExists(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`DROP TABLE "s"."t";`, `DROP TABLE IF EXISTS "s"."t";`},
		{`DROP MATERIALIZED VIEW "s"."mv";`, `DROP MATERIALIZED VIEW IF EXISTS "s"."mv";`},
		{`DROP FUNCTION "s"."f"(integer);`, `DROP FUNCTION IF EXISTS "s"."f"(integer);`},
		{`DROP TRIGGER "tg" ON "s"."t";`, `DROP TRIGGER IF EXISTS "tg" ON "s"."t";`},
		{`DROP TEXT SEARCH CONFIGURATION "s"."c";`, `DROP TEXT SEARCH CONFIGURATION IF EXISTS "s"."c";`},
		{`DROP CAST (integer AS text);`, `DROP CAST IF EXISTS (integer AS text);`},
		{`DROP USER MAPPING FOR "u" SERVER "srv";`, `DROP USER MAPPING IF EXISTS FOR "u" SERVER "srv";`},
		{`ALTER TABLE ONLY "s"."t" DROP CONSTRAINT "c";`, `ALTER TABLE IF EXISTS ONLY "s"."t" DROP CONSTRAINT IF EXISTS "c";`},
		{`ALTER TABLE "s"."t" ALTER COLUMN "c" DROP DEFAULT;`, `ALTER TABLE IF EXISTS "s"."t" ALTER COLUMN "c" DROP DEFAULT;`},
		{`ALTER FOREIGN TABLE ONLY "s"."t" DROP CONSTRAINT "c";`, `ALTER FOREIGN TABLE IF EXISTS ONLY "s"."t" DROP CONSTRAINT IF EXISTS "c";`},
		{`DROP TABLE IF EXISTS "s"."t";`, `DROP TABLE IF EXISTS "s"."t";`},
		{"DROP INDEX \"s\".\"a\";\nDROP INDEX \"s\".\"b\";", "DROP INDEX IF EXISTS \"s\".\"a\";\nDROP INDEX IF EXISTS \"s\".\"b\";"},
		{`SELECT 1;`, `SELECT 1;`},
		{"SELECT pg_catalog.lo_unlink('16385');\nSELECT pg_catalog.lo_unlink('16386');",
			"SELECT pg_catalog.lo_unlink(oid) FROM pg_catalog.pg_largeobject_metadata WHERE oid = '16385';\n" +
				"SELECT pg_catalog.lo_unlink(oid) FROM pg_catalog.pg_largeobject_metadata WHERE oid = '16386';"},
		{`SELECT pg_catalog.lo_unlink('1 OR true');`, `SELECT pg_catalog.lo_unlink('1 OR true');`},
	} {
		assert.Equal(t, tc.want, IfExists(tc.in), tc.in)
	}
}

func TestParseList(t *testing.T) {
	ids, err := ParseList(strings.NewReader(";\n; header\n\n12; pre-data TABLE s t o\n  7 ; x\n3\n;4; commented out\n"))
	require.NoError(t, err)
	assert.Equal(t, map[uint32]bool{12: true, 7: true, 3: true}, ids)
	for _, bad := range []string{"x; TABLE\n", "12x; TABLE\n", "0;\n", "99999999999;\n"} {
		_, err := ParseList(strings.NewReader(bad))
		assert.Error(t, err, bad)
	}
}

// toc builds entries: each is kind, section and deps.
func toc() []format.Entry {
	pre, data, post := format.SectionPreData, format.SectionData, format.SectionPostData
	return []format.Entry{
		{ID: 1, Kind: "SCHEMA", Section: pre, Create: "c1", Drop: "d1"},
		{ID: 2, Kind: "TABLE", Section: pre, Deps: []uint32{1}, Create: "c2", Drop: "d2", Owner: "o", Ident: `TABLE "s"."a"`},
		{ID: 3, Kind: "TABLE", Section: pre, Deps: []uint32{1}, Create: "c3", Drop: "d3"},
		{ID: 4, Kind: "COMMENT", Section: pre, Deps: []uint32{2}, Create: "c4"},
		{ID: 5, Kind: "ACL", Section: pre, Deps: []uint32{2}, Create: "c5"},
		{ID: 6, Kind: "TABLE DATA", Section: data, Deps: []uint32{2}, Copy: "COPY a"},
		{ID: 7, Kind: "TABLE DATA", Section: data, Deps: []uint32{3}, Copy: "COPY b"},
		{ID: 8, Kind: "SEQUENCE SET", Section: data, Create: "c8"},
		{ID: 9, Kind: "CONSTRAINT", Section: post, Deps: []uint32{2}, Create: "c9"},
		{ID: 10, Kind: "INDEX", Section: post, Deps: []uint32{3}, Create: "c10"},
		{ID: 11, Kind: "INDEX", Section: post, Deps: []uint32{3}, Create: "c11"},
		{ID: 12, Kind: "FK CONSTRAINT", Section: post, Deps: []uint32{3, 2, 9}, Create: "c12"},
		{ID: 13, Kind: "COMMENT", Section: post, Deps: []uint32{10}, Create: "c13"},
		{ID: 14, Kind: "TRIGGER", Section: post, Deps: []uint32{7}, Create: "c14"},
		{ID: 15, Kind: "MATERIALIZED VIEW DATA", Section: post, Create: "c15"},
	}
}

func ids(list []*format.Entry) []uint32 {
	out := []uint32{}
	for _, e := range list {
		out = append(out, e.ID)
	}
	return out
}

func TestNewPlan(t *testing.T) {
	entries := toc()
	blocks := []format.Block{
		{Entry: 6, Seq: 0, Rows: 5},
		{Entry: 7, Seq: 0, Rows: 2},
		{Entry: 6, Seq: 1, Continues: true},
		{Entry: 6, Seq: 2, Continues: true},
		{Entry: 6, Seq: 3, Rows: 1},
		{Entry: 7, Seq: 1, Rows: 3},
	}
	p, err := NewPlan(entries, blocks, Options{Clean: true})
	require.NoError(t, err)
	assert.Equal(t, []uint32{1, 2, 3, 4}, ids(p.Pre))
	assert.Equal(t, []uint32{6, 7, 8}, ids(p.Data))
	assert.Equal(t, []uint32{9, 10, 11, 12, 13, 14}, ids(p.Post))
	assert.Equal(t, []uint32{5}, ids(p.ACL))
	assert.Equal(t, []uint32{15}, ids(p.Refresh))
	assert.Equal(t, []uint32{3, 2, 1}, ids(p.Drops))
	require.Len(t, p.Units, 4)
	assert.Len(t, p.Units[2].Blocks, 3, "the chain is one unit")
	assert.EqualValues(t, 1, p.Units[2].Rows())

	p, err = NewPlan(entries, blocks, Options{Sections: []format.Section{format.SectionData}, List: map[uint32]bool{7: true, 8: true, 2: true}})
	require.NoError(t, err)
	assert.Empty(t, p.Pre)
	assert.Equal(t, []uint32{7, 8}, ids(p.Data))
	assert.Len(t, p.Units, 2)

	p, err = NewPlan(entries, nil, Options{NoACL: true, NoComments: true, Sections: []format.Section{format.SectionPreData}})
	require.NoError(t, err)
	assert.Equal(t, []uint32{1, 2, 3}, ids(p.Pre))
	assert.Empty(t, p.ACL)
	assert.Empty(t, p.Post)

	_, err = NewPlan(entries, blocks[:3], Options{})
	assert.ErrorContains(t, err, "continues")

	o := Options{}
	assert.Equal(t, `ALTER TABLE "s"."a" OWNER TO "o";`, o.ownerSQL(&entries[1]))
	assert.Empty(t, o.ownerSQL(&entries[2]))
	o.NoOwner = true
	assert.Empty(t, o.ownerSQL(&entries[1]))
}

func TestTasks(t *testing.T) {
	entries := toc()
	p, err := NewPlan(entries, nil, Options{})
	require.NoError(t, err)
	tasks := newTasks(p.byID, p.Post, true)
	byID := map[uint32]*task{}
	for _, tk := range tasks {
		byID[tk.e.ID] = tk
	}
	assert.Equal(t, []tableLock{{2, lockExclusive}}, byID[9].locks, "a constraint locks its table")
	assert.Equal(t, []tableLock{{3, lockShare}}, byID[10].locks, "indexes of one table build together")
	assert.Equal(t, []tableLock{{3, lockShare}}, byID[11].locks)
	assert.Equal(t, []tableLock{{2, lockShareRowExclusive}, {3, lockShareRowExclusive}}, byID[12].locks,
		"a foreign key locks both tables")
	assert.Equal(t, []int{0}, byID[12].deps, "and waits for the key it references")
	assert.Equal(t, []int{1}, byID[13].deps, "a comment waits for its index")
	assert.Equal(t, []tableLock{{3, lockExclusive}}, byID[14].locks, "a dependency on table data locks its table")
	assert.Empty(t, byID[13].locks, "a comment locks nothing")

	// Leaving the key out: the foreign key still waits for what the key
	// waited for, here nothing in the list.
	sub := []*format.Entry{p.byID[10], p.byID[12]}
	tasks = newTasks(p.byID, sub, true)
	assert.Empty(t, tasks[1].deps)

	// Through an entry that is left out: 13 -> 10 (out) -> nothing; a
	// chain through an out entry to one that is in.
	entries[9].Deps = []uint32{9} // index 10 now depends on constraint 9
	p2, err := NewPlan(entries, nil, Options{})
	require.NoError(t, err)
	tasks = newTasks(p2.byID, []*format.Entry{p2.byID[9], p2.byID[13]}, true)
	assert.Equal(t, []int{0}, tasks[1].deps, "comment 13 waits for 9 through index 10")
}

// TestTasksUsingIndex: a key with Build and Attach is two tasks, the build
// under the shared lock its table's index builds take, the attach
// exclusive after it; what depends on the key waits for the attach.
func TestTasksUsingIndex(t *testing.T) {
	entries := toc()
	entries[8].Build, entries[8].Attach = "b9", "a9"     // constraint 9 on table 2
	entries[13].Build, entries[13].Attach = "b14", "a14" // not split: only keys and foreign keys are
	entries[8].Deps = []uint32{2}
	p, err := NewPlan(entries, nil, Options{})
	require.NoError(t, err)

	tasks := newTasks(p.byID, p.Post, true)
	require.Equal(t, uint32(9), tasks[0].e.ID)
	require.Equal(t, uint32(9), tasks[1].e.ID)
	build, attach := tasks[0], tasks[1]
	assert.Equal(t, stepBuild, build.step)
	assert.Equal(t, []tableLock{{2, lockShare}}, build.locks)
	assert.Equal(t, stepAttach, attach.step)
	assert.Equal(t, []int{0}, attach.deps)
	assert.Equal(t, []tableLock{{2, lockExclusive}}, attach.locks)
	assert.Same(t, build, attach.build)
	for _, tk := range tasks {
		if tk.e.ID == 12 {
			assert.Equal(t, []int{1}, tk.deps, "the foreign key waits for the attach")
		}
	}

	for _, tk := range tasks {
		if tk.e.ID == 14 {
			assert.Equal(t, stepWhole, tk.step)
		}
	}

	// Into a script, or for a reader that does not split: one task.
	tasks = newTasks(p.byID, p.Post, false)
	assert.Equal(t, stepWhole, tasks[0].step)
	assert.Equal(t, uint32(10), tasks[1].e.ID)
}

// TestTasksNotValid: a foreign key with Build and Attach is added NOT
// VALID, locking both tables as ADD FOREIGN KEY does, then validated,
// which locks the referenced table only in ROW SHARE mode; what depends on
// it waits for the validation.
func TestTasksNotValid(t *testing.T) {
	entries := toc()
	entries[1].Schema, entries[1].Name = "s", "a"
	entries[2].Schema, entries[2].Name = "s", "a b" // a prefix of the other's name: "a" and "a b" differ
	entries[11].Schema, entries[11].Name = "s", "a b fk"
	entries[11].Build, entries[11].Attach = "b12", "a12"
	entries[12].Deps = []uint32{12} // comment 13 on the foreign key
	p, err := NewPlan(entries, nil, Options{})
	require.NoError(t, err)
	tasks := newTasks(p.byID, p.Post, true)
	var steps []*task
	for _, tk := range tasks {
		if tk.e.ID == 12 {
			steps = append(steps, tk)
		}
	}
	require.Len(t, steps, 2)
	add, validate := steps[0], steps[1]
	assert.Equal(t, stepBuild, add.step)
	assert.Equal(t, []tableLock{{2, lockShareRowExclusive}, {3, lockShareRowExclusive}}, add.locks)
	assert.Equal(t, stepAttach, validate.step)
	assert.Same(t, add, validate.build)
	// "a b fk" is table "a b"'s (3) and "a"'s ("a" + " " begins it too):
	// not one table, so both stay locked as ADD FOREIGN KEY locks them.
	assert.Equal(t, []tableLock{{2, lockShareRowExclusive}, {3, lockShareRowExclusive}}, validate.locks)
	for _, tk := range tasks {
		if tk.e.ID == 13 {
			assert.Equal(t, []int{slices.Index(tasks, validate)}, tk.deps, "the comment waits for the validation")
		}
	}

	entries[2].Name = "b"
	entries[11].Name = "b fk"
	p, err = NewPlan(entries, nil, Options{})
	require.NoError(t, err)
	tasks = newTasks(p.byID, p.Post, true)
	for _, tk := range tasks {
		if tk.e.ID == 12 && tk.step == stepAttach {
			assert.Equal(t, []tableLock{{2, lockRowShare}, {3, lockShareRowExclusive}}, tk.locks,
				"validating, it locks the referenced table in ROW SHARE mode")
		}
	}
}

func TestLockConflicts(t *testing.T) {
	// PostgreSQL's table of conflicting lock modes, for the modes here
	// (SHARE ROW EXCLUSIVE standing for SHARE UPDATE EXCLUSIVE too).
	want := map[[2]lockMode]bool{
		{lockRowShare, lockRowShare}:                   false,
		{lockRowShare, lockShare}:                      false,
		{lockRowShare, lockShareRowExclusive}:          false,
		{lockRowShare, lockExclusive}:                  true,
		{lockShare, lockShare}:                         false,
		{lockShare, lockShareRowExclusive}:             true,
		{lockShare, lockExclusive}:                     true,
		{lockShareRowExclusive, lockShareRowExclusive}: true,
		{lockShareRowExclusive, lockExclusive}:         true,
		{lockExclusive, lockExclusive}:                 true,
	}
	for k, v := range want {
		assert.Equal(t, v, k[0].conflict(k[1]), "%d vs %d", k[0], k[1])
		assert.Equal(t, v, k[1].conflict(k[0]), "%d vs %d", k[1], k[0])
	}
}

func TestLargeObjectEntries(t *testing.T) {
	meta := &format.Entry{ID: 1, Section: format.SectionPreData, Kind: "BLOB METADATA", Name: "5..6", Owner: "Bob Smith",
		Ident: "LARGE OBJECT 5\nLARGE OBJECT 6", Create: "SELECT pg_catalog.lo_create('5');\nSELECT pg_catalog.lo_create('6');"}
	o := Options{}
	assert.Equal(t, "ALTER LARGE OBJECT 5 OWNER TO \"Bob Smith\";\nALTER LARGE OBJECT 6 OWNER TO \"Bob Smith\";", o.ownerSQL(meta))
	o.NoOwner = true
	assert.Empty(t, o.ownerSQL(meta))

	blobs := &format.Entry{ID: 2, Section: format.SectionData, Kind: "BLOBS", Copy: blobsCopy, Deps: []uint32{1}}
	data := &format.Entry{ID: 3, Section: format.SectionData, Kind: "TABLE DATA", Copy: `COPY "s"."t" FROM stdin;`}
	assert.Equal(t, PhasePre, PhaseOf(meta))
	assert.Equal(t, PhaseData, PhaseOf(blobs))
	assert.False(t, hasTriggers(blobs), "--disable-triggers has no table to touch")
	assert.True(t, hasTriggers(data))
}

// pos is pick's position, without the weight.
func pos(k int, _ int64) int { return k }

func TestPickTask(t *testing.T) {
	index, key := &format.Entry{Kind: kindIndex}, &format.Entry{Kind: kindConstraint}
	tasks := []*task{
		{e: key, locks: []tableLock{{1, lockExclusive}}}, // 0: a constraint on small table 1
		{e: index, locks: []tableLock{{2, lockShare}}},   // 1: an index on big table 2
		{e: index, locks: []tableLock{{2, lockShare}}},   // 2: another
		{e: key, locks: []tableLock{{2, lockExclusive}}}, // 3: a constraint on 2
		{e: &format.Entry{Kind: "COMMENT"}},              // 4: no table
	}
	weight := []int64{10, 1000, 1000, 1000, 0}
	dependents := make([][]int, len(tasks))
	h := heldLocks{}
	// pick returns a position in the ready list.
	assert.Equal(t, 1, pos(h.pick([]int{0, 1, 2, 3, 4}, tasks, weight, dependents)), "the biggest table first, archive order on ties")
	h.take(tasks[1], 1)
	assert.Equal(t, 1, pos(h.pick([]int{0, 2, 3, 4}, tasks, weight, dependents)), "indexes of one table build together")
	h.take(tasks[2], 1)
	assert.Equal(t, 0, pos(h.pick([]int{0, 3, 4}, tasks, weight, dependents)), "a constraint waits while the table's indexes build")
	h.take(tasks[1], -1)
	h.take(tasks[2], -1)
	assert.Equal(t, 1, pos(h.pick([]int{0, 3, 4}, tasks, weight, dependents)), "then goes")
	h.take(tasks[3], 1)
	assert.Equal(t, -1, pos(h.pick([]int{1, 2}, tasks, weight, dependents)), "no index build while a constraint holds the table")
	assert.Equal(t, 1, pos(h.pick([]int{1, 4}, tasks, weight, dependents)))
}

// TestPickInstant: a key's attach and a foreign key's ADD ... NOT VALID go
// first; one that others wait for and must wait itself holds back the
// long tasks that would conflict with it, not the others.
func TestPickInstant(t *testing.T) {
	pk := &format.Entry{Kind: kindConstraint}
	fk := &format.Entry{Kind: kindFKey}
	tasks := []*task{
		{e: pk, step: stepBuild, locks: []tableLock{{1, lockShare}}},                                         // 0: big table 1's key, its index
		{e: &format.Entry{Kind: kindIndex}, locks: []tableLock{{1, lockShare}}},                              // 1: an index on 1
		{e: &format.Entry{Kind: kindIndex}, locks: []tableLock{{1, lockShare}}},                              // 2: another
		{e: pk, step: stepAttach, locks: []tableLock{{1, lockExclusive}}},                                    // 3: the key's attach
		{e: &format.Entry{Kind: kindIndex}, locks: []tableLock{{2, lockShare}}},                              // 4: an index on small table 2
		{e: fk, step: stepBuild, locks: []tableLock{{1, lockShareRowExclusive}, {2, lockShareRowExclusive}}}, // 5: 2's foreign key to 1
		{e: fk, step: stepAttach, locks: []tableLock{{1, lockRowShare}, {2, lockShareRowExclusive}}},         // 6: its validation
	}
	weight := []int64{1000, 1000, 1000, 1000, 10, 1000, 1000}
	dependents := [][]int{{3}, nil, nil, {5}, nil, {6}, nil}
	h := heldLocks{}
	h.take(tasks[1], 1) // index 1 builds; the key's index is built
	assert.Equal(t, 2, pos(h.pick([]int{2, 3, 4}, tasks, weight, dependents)),
		"the attach waits for index 1, and index 2 waits for the attach: the small table's index goes")
	dependents[3] = nil
	assert.Equal(t, 0, pos(h.pick([]int{2, 3, 4}, tasks, weight, dependents)), "an attach nothing waits for holds nothing back")
	dependents[3] = []int{5}
	h.take(tasks[1], -1)
	assert.Equal(t, 1, pos(h.pick([]int{2, 3, 4}, tasks, weight, dependents)), "instant tasks first")
	h.take(tasks[4], 1)
	assert.Equal(t, -1, pos(h.pick([]int{2, 5}, tasks, weight, dependents)),
		"the foreign key waits for the small table's index, and index 2 for the foreign key")
	h.take(tasks[4], -1)
	assert.Equal(t, 1, pos(h.pick([]int{2, 5}, tasks, weight, dependents)))
	h.take(tasks[5], 1)
	h.take(tasks[5], -1)
	assert.Equal(t, 0, pos(h.pick([]int{2, 6}, tasks, weight, dependents)), "archive order on ties")
	h.take(tasks[2], 1)
	assert.Equal(t, 0, pos(h.pick([]int{6}, tasks, weight, dependents)), "the validation runs while index 2 builds")

	// An instant task stands for the heaviest that could start after it.
	small := []*task{
		{e: pk, step: stepAttach, locks: []tableLock{{2, lockExclusive}}},
		{e: &format.Entry{Kind: kindIndex}, locks: []tableLock{{3, lockShare}}},
	}
	k, w := heldLocks{}.pick([]int{0, 1}, small, []int64{10, 500}, [][]int{nil, nil})
	assert.Equal(t, 0, k)
	assert.Equal(t, int64(500), w)
	k, w = heldLocks{}.pick([]int{0}, small, []int64{10, 500}, [][]int{nil, nil})
	assert.Equal(t, 0, k)
	assert.Equal(t, int64(10), w, "alone, it weighs what its table does")
}

// TestGateWeights: a unit weighs at least as much as the heaviest task
// that waits for its data.
func TestGateWeights(t *testing.T) {
	big, small, other := &format.Entry{ID: 1}, &format.Entry{ID: 2}, &format.Entry{ID: 3}
	us := []Unit{{Entry: big}, {Entry: small}, {Entry: other}, {Entry: big}}
	weights := []int64{1000, 10, 20, 1000}
	tasks := []*task{
		{data: []uint32{1}},    // an index on big
		{data: []uint32{2, 1}}, // small's foreign key to big
		{data: []uint32{3}},    // an index on other
		{allData: true},
	}
	gateWeights(us, weights, tasks, []int64{1000, 1000, 20, 5000})
	assert.Equal(t, []int64{1000, 1000, 20, 1000}, weights)
}
