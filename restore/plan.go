package restore

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/pgark/pgark/format"
	"github.com/pgark/pgark/schema"
)

// Entry kinds the engine treats specially (pg_dump's TOC names, as the
// archive stores them).
var (
	kindTable       = string(schema.KindTable)
	kindTableData   = string(schema.KindTableData)
	kindIndex       = string(schema.KindIndex)
	kindComment     = string(schema.KindComment)
	kindACL         = string(schema.KindACL)
	kindMatViewData = string(schema.KindMatViewData)
	kindBlobs       = string(schema.KindBlobs)
	kindStatistics  = string(schema.KindStatisticsData)
	kindConstraint  = string(schema.KindConstraint)
	kindFKey        = string(schema.KindFKConstraint)
)

// Phase is when an entry runs. Phases run one after the other.
type Phase uint8

// Phases, in the order they run.
const (
	// PhasePre: pre-data entries (and entries of section none other than
	// ACLs), in archive order, which is dependency order, on one
	// connection. Comments of pre-data objects run here, right after them.
	PhasePre Phase = iota
	// PhaseData: table data, loaded block by block in parallel, and the
	// data section's statements (SEQUENCE SET).
	PhaseData
	// PhasePost: post-data entries in parallel, each once the entries it
	// depends on are done and no running entry locks the same table.
	// Comments of post-data objects run here, after their object.
	PhasePost
	// PhaseACL: privileges (GRANT/REVOKE), in archive order, after
	// everything they might name exists, like pg_restore's ACL pass.
	PhaseACL
	// PhaseRefresh: REFRESH MATERIALIZED VIEW, last, once privileges are in
	// place (pg_restore's post-ACL pass), by dependencies; and planner
	// statistics (STATISTICS DATA, whatever their section), so that no
	// CREATE INDEX or refresh run after them overwrites them.
	PhaseRefresh
)

var phaseNames = [...]string{"pre-data", "data", "post-data", "privileges", "materialized view refresh"}

func (p Phase) String() string {
	if int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return "phase " + strconv.Itoa(int(p))
}

// PhaseOf says when e runs.
func PhaseOf(e *format.Entry) Phase {
	switch {
	case e.Kind == kindACL:
		return PhaseACL
	case e.Kind == kindMatViewData, e.Kind == kindStatistics:
		return PhaseRefresh
	case e.Section == format.SectionData || e.Copy != "":
		return PhaseData
	case e.Section == format.SectionPostData:
		return PhasePost
	}
	return PhasePre
}

// ownerSQL is the statement that gives e its owner, or "" when it has none
// of its own or -O was given. An entry that stands for several objects (a
// BLOB METADATA group of large objects) has one Ident line per object, and
// gets one statement for each.
func (o *Options) ownerSQL(e *format.Entry) string {
	if o.NoOwner || e.Owner == "" || e.Ident == "" {
		return ""
	}
	var b strings.Builder
	for l := range strings.Lines(e.Ident) {
		if l = strings.TrimSuffix(l, "\n"); l == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString("ALTER " + l + " OWNER TO " + schema.Ident(e.Owner) + ";")
	}
	return b.String()
}

// hasTriggers says whether e's data goes into a table whose triggers
// --disable-triggers disables: any data entry with a Copy but BLOBS.
func hasTriggers(e *format.Entry) bool { return e.Copy != "" && e.Kind != kindBlobs }

// Unit is data blocks of one entry that go to the server together: a
// block, or a chain of blocks holding one row that is larger than a block
// (each block but the chain's last Continues), fed to a single COPY. A
// restore's workers load runs of consecutive units of a table, which are
// Units too.
type Unit struct {
	Entry  *format.Entry
	Blocks []format.Block
}

// raw is the size of the unit's blocks once decompressed.
func (u Unit) raw() int64 {
	var n int64
	for _, b := range u.Blocks {
		n += int64(b.Raw)
	}
	return n
}

// Rows is the number of rows the unit holds.
func (u Unit) Rows() uint64 {
	var n uint64
	for _, b := range u.Blocks {
		n += uint64(b.Rows)
	}
	return n
}

// Plan is what a restore from a random-access archive will do, phase by
// phase. Entries point into the slice NewPlan was given.
type Plan struct {
	Drops   []*format.Entry // with -c: selected entries that have a Drop, in reverse archive order
	Pre     []*format.Entry
	Data    []*format.Entry // selected data entries (TABLE DATA, SEQUENCE SET), archive order
	Units   []Unit          // the data blocks of Data, chains grouped, in file order
	Post    []*format.Entry
	ACL     []*format.Entry
	Refresh []*format.Entry

	byID map[uint32]*format.Entry // every entry of the archive
}

// NewPlan selects (see selector.selects) and orders the entries of an
// archive (entries and blocks as a format.Reader returns them) for opts.
// It fails if the -L list names an entry the archive does not have, or a
// chain of blocks is broken.
func NewPlan(entries []format.Entry, blocks []format.Block, opts Options) (*Plan, error) {
	p := &Plan{byID: make(map[uint32]*format.Entry, len(entries))}
	for i := range entries {
		p.byID[entries[i].ID] = &entries[i]
	}
	for id := range opts.List {
		if p.byID[id] == nil {
			return nil, fmt.Errorf("restore: list file names entry %d, which the archive does not have", id)
		}
	}
	sel := newSelector(&opts, entries)
	for i := range entries {
		e := &entries[i]
		if !sel.selects(e) {
			continue
		}
		switch PhaseOf(e) {
		case PhasePre:
			p.Pre = append(p.Pre, e)
		case PhaseData:
			p.Data = append(p.Data, e)
		case PhasePost:
			p.Post = append(p.Post, e)
		case PhaseACL:
			p.ACL = append(p.ACL, e)
		case PhaseRefresh:
			p.Refresh = append(p.Refresh, e)
		}
		if opts.Clean && !opts.Create && e.Drop != "" {
			p.Drops = append(p.Drops, e)
		}
	}
	slices.Reverse(p.Drops)
	if opts.Select.StrictNames {
		if err := sel.strictNames(); err != nil {
			return nil, err
		}
	}

	loads := map[uint32]bool{}
	for _, e := range p.Data {
		if e.Copy != "" {
			loads[e.ID] = true
		}
	}
	var chain *Unit
	for _, b := range blocks {
		if chain != nil {
			if b.Entry != chain.Entry.ID {
				return nil, fmt.Errorf("restore: entry %d data block %d continues, but the next block belongs to entry %d", chain.Entry.ID, chain.Blocks[len(chain.Blocks)-1].Seq, b.Entry)
			}
			chain.Blocks = append(chain.Blocks, b)
			if !b.Continues {
				p.Units = append(p.Units, *chain)
				chain = nil
			}
			continue
		}
		e := p.byID[b.Entry]
		if e == nil {
			return nil, fmt.Errorf("restore: data block %d of entry %d, which the archive does not have", b.Seq, b.Entry)
		}
		if !loads[b.Entry] {
			continue
		}
		u := Unit{Entry: e, Blocks: []format.Block{b}}
		if b.Continues {
			chain = &u
			continue
		}
		p.Units = append(p.Units, u)
	}
	if chain != nil {
		return nil, fmt.Errorf("restore: the last data block (entry %d) continues, but nothing follows", chain.Entry.ID)
	}
	return p, nil
}

// task is an entry of a parallel phase with what it waits for.
type task struct {
	e     *format.Entry
	step  step
	deps  []int // indexes of the tasks it waits for
	locks []tableLock
	// build is the stepBuild task a stepAttach task follows; failed says
	// that a stepBuild task failed, so its attach is skipped.
	build  *task
	failed bool
	// data are the data entries whose units the task waits for, allData
	// says it waits for all units (see waitForData).
	data    []uint32
	allData bool
}

// step is the part of its entry a task runs.
type step uint8

const (
	stepWhole  step = iota // the entry's Create
	stepBuild              // its Build: a key's unique index, a foreign key added NOT VALID
	stepAttach             // its Attach: the key on that index, the foreign key validated
)

// tableLock is a lock a task takes on a table (a TABLE entry id).
type tableLock struct {
	table uint32
	mode  lockMode
}

// lockMode is a table lock mode, as the scheduler tells them apart: the
// modes of PostgreSQL the phases' statements take, each standing for the
// strongest it may be.
type lockMode uint8

const (
	// lockRowShare: VALIDATE CONSTRAINT of a foreign key, on the table it
	// references (ROW SHARE).
	lockRowShare lockMode = iota
	// lockShare: CREATE INDEX, a key's index build (SHARE).
	lockShare
	// lockShareRowExclusive: ADD FOREIGN KEY, on both tables (SHARE ROW
	// EXCLUSIVE); VALIDATE CONSTRAINT on its own table (SHARE UPDATE
	// EXCLUSIVE, which conflicts with the same modes here).
	lockShareRowExclusive
	// lockExclusive: anything else (up to ACCESS EXCLUSIVE).
	lockExclusive
	lockModes
)

// conflict says whether two locks on one table cannot be held at once.
func (m lockMode) conflict(o lockMode) bool {
	switch min(m, o) {
	case lockRowShare:
		return max(m, o) == lockExclusive
	case lockShare:
		return max(m, o) >= lockShareRowExclusive
	}
	return true
}

// instant says whether t holds its locks for a moment only, reading no
// table: a key's attach (ADD ... USING INDEX, on the index its build
// made) or a foreign key's ADD ... NOT VALID.
func (t *task) instant() bool {
	switch t.e.Kind {
	case kindConstraint:
		return t.step == stepAttach
	case kindFKey:
		return t.step == stepBuild
	}
	return false
}

// tables are the table entries the task works on, whatever the lock.
func (t *task) tables() []uint32 {
	out := make([]uint32, len(t.locks))
	for i, l := range t.locks {
		out[i] = l.table
	}
	return out
}

// newTasks orders list (entries of one parallel phase, in archive order)
// for the scheduler. A task waits for the tasks it depends on, directly or
// through entries that are not in list (so that leaving an entry out of a
// restore does not let what depends on it start early). As pg_restore
// does (identify_locking_dependencies), an entry locks the tables it
// depends on: an index in SHARE mode (the indexes of a table build
// together), a foreign key in SHARE ROW EXCLUSIVE mode, anything else
// (ALTER TABLE ... ADD CONSTRAINT, CREATE TRIGGER) exclusively. Knowing
// them, the scheduler never hands a worker an entry that would wait on the
// server for a lock another worker holds.
//
// With split, an entry with Build and Attach is two tasks, Build then
// Attach, which what depends on the entry waits for: for a primary key or
// unique constraint, the index build under the SHARE lock, then the
// exclusive attach; for a foreign key, the ADD ... NOT VALID, then the
// validation, which locks the referenced table only in ROW SHARE mode, so
// that the foreign keys to one table validate at once.
func newTasks(byID map[uint32]*format.Entry, list []*format.Entry, split bool) []*task {
	var tasks []*task
	index := make(map[uint32]int, len(list))
	for _, e := range list {
		if split && (e.Kind == kindConstraint || e.Kind == kindFKey) && e.Build != "" && e.Attach != "" {
			b := &task{e: e, step: stepBuild}
			tasks = append(tasks, b, &task{e: e, step: stepAttach, deps: []int{len(tasks)}, build: b})
		} else {
			tasks = append(tasks, &task{e: e})
		}
		index[e.ID] = len(tasks) - 1
	}
	// reach[id]: the tasks that entry id (not in list) stands for.
	reach := map[uint32][]int{}
	var through func(id uint32, seen map[uint32]bool) []int
	through = func(id uint32, seen map[uint32]bool) []int {
		if r, ok := reach[id]; ok {
			return r
		}
		if seen[id] {
			return nil // deps point backwards in a valid archive; be safe anyway
		}
		seen[id] = true
		var out []int
		if e := byID[id]; e != nil {
			for _, d := range e.Deps {
				if i, ok := index[d]; ok {
					out = append(out, i)
				} else {
					out = append(out, through(d, seen)...)
				}
			}
		}
		slices.Sort(out)
		out = slices.Compact(out)
		reach[id] = out
		return out
	}
	for i, t := range tasks {
		e := t.e
		for _, d := range e.Deps {
			if j, ok := index[d]; ok {
				t.deps = append(t.deps, j)
			} else {
				t.deps = append(t.deps, through(d, map[uint32]bool{})...)
			}
		}
		slices.Sort(t.deps)
		t.deps = slices.Compact(t.deps)
		// A task can only wait for an earlier one: archive order is
		// dependency order, and this keeps the scheduler free of cycles.
		t.deps = slices.DeleteFunc(t.deps, func(j int) bool { return j >= i })
		if e.Kind != kindComment {
			t.locks = taskLocks(byID, t)
		}
	}
	return tasks
}

// taskLocks lists the locks t takes on the tables its entry depends on.
func taskLocks(byID map[uint32]*format.Entry, t *task) []tableLock {
	e := t.e
	mode := lockExclusive
	switch {
	case e.Kind == kindIndex || (e.Kind == kindConstraint && t.step == stepBuild):
		mode = lockShare
	case e.Kind == kindFKey:
		mode = lockShareRowExclusive
	}
	tables := tableLocks(byID, e)
	own := ownTable(byID, e, tables)
	out := make([]tableLock, len(tables))
	for i, id := range tables {
		out[i] = tableLock{table: id, mode: mode}
		if e.Kind == kindFKey && t.step == stepAttach && own != 0 && id != own {
			out[i].mode = lockRowShare
		}
	}
	return out
}

// ownTable is the table of e's constraint among tables, the one whose
// name begins e's ("table constraint"), or 0 when that is not one table.
func ownTable(byID map[uint32]*format.Entry, e *format.Entry, tables []uint32) uint32 {
	var own uint32
	for _, id := range tables {
		if t := byID[id]; t.Schema == e.Schema && strings.HasPrefix(e.Name, t.Name+" ") {
			if own != 0 {
				return 0
			}
			own = id
		}
	}
	return own
}

// tableLocks lists the tables e depends on, as TABLE entry ids; a
// dependency on a TABLE DATA entry stands for its table.
func tableLocks(byID map[uint32]*format.Entry, e *format.Entry) []uint32 {
	var out []uint32
	for _, d := range e.Deps {
		de := byID[d]
		if de == nil {
			continue
		}
		switch de.Kind {
		case kindTable:
			out = append(out, de.ID)
		case kindTableData:
			for _, dd := range de.Deps {
				if t := byID[dd]; t != nil && t.Kind == kindTable {
					out = append(out, t.ID)
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// waitForData makes tasks (of post-data) wait for the data (the data
// entries of the restore) they need, for a restore that runs post-data
// while it loads data, as pg_restore -j does. An index, a key, or a
// foreign key waits for the data of the tables it locks, when each has
// its own data entry in data. Everything else waits for all the data: a
// task on a partitioned table (whose partitions have the data), a
// constraint that may recurse to inheritance children (a CHECK), a
// trigger or rule, a comment, anything that may change how rows load.
func waitForData(byID map[uint32]*format.Entry, tasks []*task, data []*format.Entry) {
	dataOf := map[uint32]uint32{}
	for _, e := range data {
		if e.Copy == "" {
			continue
		}
		for _, id := range dataTables(byID, e) {
			dataOf[id] = e.ID
		}
	}
	for _, t := range tasks {
		t.data, t.allData = nil, false
		early := t.e.Kind == kindIndex || t.e.Kind == kindFKey || (t.e.Kind == kindConstraint && t.step != stepWhole)
		tables := t.tables()
		if !early || len(tables) == 0 {
			t.allData = true
			continue
		}
		for _, id := range tables {
			d, ok := dataOf[id]
			if !ok {
				t.data, t.allData = nil, true
				break
			}
			t.data = append(t.data, d)
		}
	}
}

// dataTables are the tables (TABLE entry ids) data entry e loads.
func dataTables(byID map[uint32]*format.Entry, e *format.Entry) []uint32 {
	var out []uint32
	for _, d := range e.Deps {
		if te := byID[d]; te != nil && te.Kind == kindTable {
			out = append(out, d)
		}
	}
	return out
}

// unitSizes is how much data units hold for each table (TABLE entry id),
// in raw bytes.
func unitSizes(byID map[uint32]*format.Entry, units []Unit) map[uint32]int64 {
	out := map[uint32]int64{}
	for _, u := range units {
		for _, id := range dataTables(byID, u.Entry) {
			out[id] += u.raw()
		}
	}
	return out
}

// unitWeights weighs each unit by the data of its table.
func unitWeights(byID map[uint32]*format.Entry, units []Unit, sizes map[uint32]int64) []int64 {
	out := make([]int64, len(units))
	for i, u := range units {
		for _, id := range dataTables(byID, u.Entry) {
			out[i] = max(out[i], sizes[id])
		}
	}
	return out
}

// gateWeights raises weights (of units, in order) to the weight of the
// heaviest task that waits for their data: a small table's data that a
// foreign key to a big table waits for goes before that big table's index
// builds, so that the foreign key can be added as soon as the big table's
// key is, and validate while its other indexes build (see pick).
func gateWeights(units []Unit, weights []int64, tasks []*task, taskWeight []int64) {
	gate := map[uint32]int64{}
	for i, t := range tasks {
		for _, id := range t.data {
			gate[id] = max(gate[id], taskWeight[i])
		}
	}
	for i, u := range units {
		weights[i] = max(weights[i], gate[u.Entry.ID])
	}
}

// taskWeights weighs each task by the data of its heaviest table.
func taskWeights(tasks []*task, sizes map[uint32]int64) []int64 {
	out := make([]int64, len(tasks))
	for i, t := range tasks {
		for _, id := range t.tables() {
			out[i] = max(out[i], sizes[id])
		}
	}
	return out
}

// ParseList reads a list file in the shape pgark list and pg_restore -l
// write: every line that is not empty and does not start with ';' begins
// with an entry id followed by ';' or white space; the rest of the line is
// ignored. The entries it names are restored, in the archive's order (the
// order of the lines does not matter, unlike pg_restore, which follows it:
// pgark's order is dependency order, which an edited list may break).
func ParseList(r io.Reader) (map[uint32]bool, error) {
	ids := map[uint32]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == ';' {
			continue
		}
		end := strings.IndexFunc(line, func(r rune) bool { return r < '0' || r > '9' })
		if end < 0 {
			end = len(line)
		}
		if end == 0 || (end < len(line) && line[end] != ';' && line[end] != ' ' && line[end] != '\t') {
			return nil, fmt.Errorf("restore: list file line %d: %q does not start with an entry id", n, clip(line, 40))
		}
		id, err := strconv.ParseUint(line[:end], 10, 32)
		if err != nil || id == 0 {
			return nil, fmt.Errorf("restore: list file line %d: invalid entry id %q", n, line[:end])
		}
		ids[uint32(id)] = true
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("restore: read list file: %w", err)
	}
	return ids, nil
}

// IfExists rewrites a Drop statement (or several, one a line) the way
// pg_restore does for --if-exists: DROP <object type> IF EXISTS <name>,
// ALTER TABLE IF EXISTS ..., and DROP CONSTRAINT IF EXISTS. The object
// type is the run of bare upper-case keywords after DROP (every identifier
// pgark writes is quoted, so the name never looks like one).
func IfExists(drop string) string {
	lines := strings.Split(drop, "\n")
	for i, l := range lines {
		lines[i] = ifExistsLine(l)
	}
	return strings.Join(lines, "\n")
}

func ifExistsLine(l string) string {
	trimmed := strings.TrimLeft(l, " \t")
	indent := l[:len(l)-len(trimmed)]
	if strings.Contains(trimmed, " IF EXISTS ") {
		return l
	}
	// A large object: SELECT pg_catalog.lo_unlink('oid'); becomes what
	// pg_restore writes, an unlink of what pg_largeobject_metadata has.
	if oid, ok := strings.CutPrefix(trimmed, "SELECT pg_catalog.lo_unlink('"); ok {
		if oid, ok = strings.CutSuffix(oid, "');"); ok && oid != "" && strings.Trim(oid, "0123456789") == "" {
			return indent + "SELECT pg_catalog.lo_unlink(oid) FROM pg_catalog.pg_largeobject_metadata WHERE oid = '" + oid + "';"
		}
		return l
	}
	switch {
	case strings.HasPrefix(trimmed, "DROP "):
		rest := trimmed[len("DROP "):]
		kw, name := keywordRun(rest)
		if kw == "" || name == "" {
			return l
		}
		// DROP USER MAPPING FOR role SERVER s: the name starts at FOR.
		if before, ok := strings.CutSuffix(kw, " FOR"); ok {
			return indent + "DROP " + before + " IF EXISTS FOR " + name
		}
		return indent + "DROP " + kw + " IF EXISTS " + name
	case strings.HasPrefix(trimmed, "ALTER "):
		rest := trimmed[len("ALTER "):]
		kw, name := keywordRun(rest)
		if before, ok := strings.CutSuffix(kw, " ONLY"); ok {
			kw, name = before, "ONLY "+name
		}
		switch kw {
		case "TABLE", "FOREIGN TABLE", "MATERIALIZED VIEW", "INDEX", "VIEW", "SEQUENCE":
		default:
			return l
		}
		out := indent + "ALTER " + kw + " IF EXISTS " + name
		return strings.Replace(out, " DROP CONSTRAINT ", " DROP CONSTRAINT IF EXISTS ", 1)
	}
	return l
}

// keywordRun splits s after its leading bare upper-case words.
func keywordRun(s string) (kw, rest string) {
	i := 0
	for i < len(s) {
		j := strings.IndexByte(s[i:], ' ')
		if j < 0 {
			break
		}
		word := s[i : i+j]
		if word == "" || strings.IndexFunc(word, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0 {
			break
		}
		i += j + 1
	}
	return strings.TrimSuffix(s[:i], " "), s[i:]
}

// firstLine is the first line of a statement, for messages.
func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// errCycle means the scheduler found nothing it could start: a dependency
// loop, which a valid archive cannot have.
var errCycle = errors.New("restore: entries wait for each other")
