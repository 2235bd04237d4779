package schema

import (
	"cmp"
	"container/heap"
	"fmt"
	"slices"
	"strings"
)

// derived kinds belong to another object and share its Ref; a dependency on
// that Ref means the defining object, never these.
var derived = map[Kind]bool{
	KindTableData: true, KindSequenceSet: true, KindMatViewData: true,
	KindComment: true, KindACL: true, KindSequenceOwnedBy: true,
	KindShellType: true, KindBlobs: true,
	KindTableAttach: true, KindIndexAttach: true, KindRowSecurity: true,
	KindSecLabel: true,
}

// node is a unit of ordering: a top-level object, or a part split off.
type node struct {
	obj    *Object
	parent *node // for a separate part
	shell  *node // for a type that has a shell: the shell
	index  int   // position in the priority order
	edges  []edge
}

// edge says from must follow to; via is the inline part that brought the
// dependency into its parent, nil when the node needs it itself.
type edge struct {
	to  *node
	via *Object
}

// shellDep is a function's dependency on a type that Sort has sent to the
// type's shell instead, to break the loop between a type and its I/O
// functions.
type shellDep struct {
	fn  *Object
	typ Ref
}

// Sort orders objects for restore, the way pg_dump does: by kind priority,
// then schema and name, adjusted as little as possible so that every
// object follows what it depends on. It assigns IDs 1..n in that order and
// sets DepIDs. Parts (a table's CHECK constraints and defaults) stay inside
// their parent unless that makes a loop: then, as pg_dump does, the part is
// split off into an object of its own, which Sort returns in its place.
//
// A view's definition is such a part (of Kind RULE): split off, the view is
// created with a dummy definition of the right columns and the part
// replaces it in post-data, as pg_dump does. A part that needs an object of
// a later section than its parent's (a view's definition that needs a
// primary key) is split off too.
//
// A type and its I/O functions (or a range type and its canonical
// function) need each other. As pg_dump does, the loader gives such a type
// a shell (an object of Kind SHELL TYPE and the type's Ref, "CREATE TYPE
// s.t;"), and Sort makes each function the type depends on depend on the
// shell instead of the type. A shell needs nothing but its schema, whatever
// its Deps say (the catalog hands it the type's). Shells no function needs
// are left out of the result.
func Sort(objs []*Object) ([]*Object, error) {
	toShell := map[shellDep]bool{}
	for attempt := 0; ; attempt++ {
		nodes := buildGraph(objs, toShell)
		if splitAcrossSections(nodes) {
			continue
		}
		order, loop := topoSort(nodes)
		if len(order) == len(nodes) {
			return finish(dropUnusedShells(order)), nil
		}
		if loop == nil {
			return nil, fmt.Errorf("schema: sort stalled on %d objects without finding a loop", len(nodes)-len(order))
		}
		if !useShell(loop, toShell) && !splitPart(loop) {
			return nil, fmt.Errorf("schema: dependency loop that cannot be broken: %s", describeLoop(loop))
		}
	}
}

// buildGraph makes the nodes, in priority order, and their edges; toShell
// says which functions' dependencies on types go to the types' shells.
func buildGraph(objs []*Object, toShell map[shellDep]bool) []*node {
	var nodes []*node
	byRef := map[Ref]*node{}   // defining objects and parts, by catalog identity
	shellOf := map[Ref]*node{} // shell types, by their type's identity
	for _, o := range objs {
		n := &node{obj: o}
		nodes = append(nodes, n)
		if !derived[o.Kind] {
			byRef[o.Ref] = n
		}
		if o.Kind == KindShellType {
			shellOf[o.Ref] = n
		}
		for _, p := range o.Parts {
			if p.Separate {
				pn := &node{obj: p, parent: n}
				nodes = append(nodes, pn)
				byRef[p.Ref] = pn
			} else {
				byRef[p.Ref] = n
			}
		}
	}
	for r, sh := range shellOf {
		if t := byRef[r]; t != nil && t.obj.Kind == KindType {
			t.shell = sh
		}
	}
	resolve := func(r Ref) *node {
		if n, ok := byRef[r]; ok {
			return n
		}
		return byRef[r.Whole()]
	}
	// Comments and ACLs sort with their target.
	target := func(n *node) *node {
		if (n.obj.Kind == KindComment || n.obj.Kind == KindACL || n.obj.Kind == KindSecLabel) && len(n.obj.Deps) > 0 {
			if t := resolve(n.obj.Deps[0]); t != nil {
				return t
			}
		}
		return n
	}
	priority := func(n *node) int {
		if t := target(n); t != n {
			return t.obj.Priority()
		}
		return n.obj.Priority()
	}
	slices.SortStableFunc(nodes, func(a, b *node) int {
		ta, tb := target(a), target(b)
		return cmp.Or(
			cmp.Compare(priority(a), priority(b)),
			strings.Compare(ta.obj.Schema, tb.obj.Schema),
			strings.Compare(ta.obj.Name, tb.obj.Name),
			cmp.Compare(kindRank(a.obj.Kind), kindRank(b.obj.Kind)),
			strings.Compare(a.obj.Name, b.obj.Name),
			cmp.Compare(a.obj.Ref.OID, b.obj.Ref.OID),
			cmp.Compare(a.obj.Ref.Sub, b.obj.Ref.Sub),
		)
	})
	for i, n := range nodes {
		n.index = i
	}
	add := func(from *node, r Ref, via *Object) {
		to := resolve(r)
		if to != nil && to.obj.Kind == KindType && toShell[shellDep{fn: from.obj, typ: to.obj.Ref}] {
			to = shellOf[to.obj.Ref]
		}
		if to != nil && to != from {
			from.edges = append(from.edges, edge{to: to, via: via})
		}
	}
	for _, n := range nodes {
		for _, r := range n.obj.Deps {
			if n.obj.Kind == KindShellType && r.Class != ClassPgNamespace {
				continue // a shell needs its schema only
			}
			add(n, r, nil)
		}
		if n.parent != nil {
			n.edges = append(n.edges, edge{to: n.parent})
		}
		for _, p := range n.obj.Parts {
			if !p.Separate {
				for _, r := range p.Deps {
					add(n, r, p)
				}
			}
		}
	}
	// A materialized view's refresh follows the refreshes of the
	// materialized views it reads.
	dataOf := map[*node]*node{}
	for _, n := range nodes {
		if n.obj.Kind == KindMatViewData {
			if mv := resolve(n.obj.Ref); mv != nil {
				dataOf[mv] = n
			}
		}
	}
	for mv, d := range dataOf {
		for _, e := range mv.edges {
			if d2, ok := dataOf[e.to]; ok && d2 != d {
				d.edges = append(d.edges, edge{to: d2})
			}
		}
	}
	// A materialized view's statistics follow its refresh, which resets
	// them.
	for _, n := range nodes {
		if n.obj.Kind == KindStatisticsData && len(n.obj.Deps) > 0 {
			if d, ok := dataOf[resolve(n.obj.Deps[0])]; ok {
				n.edges = append(n.edges, edge{to: d})
			}
		}
	}
	return nodes
}

// kindRank breaks ties between objects of one name: a type's shell, the
// object, then its comment, then its ACL.
func kindRank(k Kind) int {
	switch k {
	case KindShellType:
		return 0
	case KindComment, KindSecLabel:
		return 2
	case KindACL:
		return 3
	}
	return 1
}

// nodeHeap yields ready nodes in priority order.
type nodeHeap []*node

func (h nodeHeap) Len() int           { return len(h) }
func (h nodeHeap) Less(i, j int) bool { return h[i].index < h[j].index }
func (h nodeHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *nodeHeap) Push(x any)        { *h = append(*h, x.(*node)) }
func (h *nodeHeap) Pop() any {
	old := *h
	n := old[len(old)-1]
	*h = old[:len(old)-1]
	return n
}

// topoSort emits, at each step, the first node in priority order whose
// dependencies are all emitted. If it stalls, it returns what it emitted
// and a loop among the rest.
func topoSort(nodes []*node) ([]*node, []edge) {
	pending := make(map[*node]int, len(nodes))
	dependents := map[*node][]*node{}
	for _, n := range nodes {
		seen := map[*node]bool{}
		for _, e := range n.edges {
			if !seen[e.to] {
				seen[e.to] = true
				pending[n]++
				dependents[e.to] = append(dependents[e.to], n)
			}
		}
	}
	h := &nodeHeap{}
	for _, n := range nodes {
		if pending[n] == 0 {
			heap.Push(h, n)
		}
	}
	order := make([]*node, 0, len(nodes))
	for h.Len() > 0 {
		n := heap.Pop(h).(*node)
		order = append(order, n)
		for _, d := range dependents[n] {
			if pending[d]--; pending[d] == 0 {
				heap.Push(h, d)
			}
		}
	}
	if len(order) < len(nodes) {
		for _, n := range nodes {
			if pending[n] > 0 {
				if loop := findLoop(n, pending); loop != nil {
					return order, loop
				}
			}
		}
	}
	return order, nil
}

// findLoop searches, among nodes not yet emitted, for a cycle through
// start, shortest first, and returns its edges.
func findLoop(start *node, pending map[*node]int) []edge {
	type step struct {
		n    *node
		path []edge
	}
	queue := []step{{n: start}}
	visited := map[*node]bool{start: true}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, e := range s.n.edges {
			if pending[e.to] == 0 {
				continue
			}
			path := append(slices.Clip(s.path), e)
			if e.to == start {
				return path
			}
			if !visited[e.to] {
				visited[e.to] = true
				queue = append(queue, step{n: e.to, path: path})
			}
		}
	}
	return nil
}

// splitPart breaks a loop by making an inline part that brings one of its
// edges into its parent a separate object, as pg_dump separates a CHECK
// constraint or a default. It reports whether it found one.
func splitPart(loop []edge) bool {
	for _, e := range loop {
		if e.via != nil && !e.via.Separate {
			e.via.Separate = true
			return true
		}
	}
	return false
}

// splitAcrossSections splits off the inline parts that need an object of a
// later section than their parent's (a view grouping by a table's primary
// key needs the constraint, in post-data), as pg_dump does. It reports
// whether it split any.
func splitAcrossSections(nodes []*node) bool {
	split := false
	for _, n := range nodes {
		for _, e := range n.edges {
			if e.via != nil && !e.via.Separate && e.to.obj.Section() > n.obj.Section() {
				e.via.Separate = true
				split = true
			}
		}
	}
	return split
}

// useShell breaks a loop between a type and a function it depends on (its
// input or output function, a range's canonical function) by making the
// function depend on the type's shell instead, as pg_dump does. It reports
// whether the loop had such an edge whose type has a shell.
func useShell(loop []edge, toShell map[shellDep]bool) bool {
	for i, e := range loop {
		from := loop[(i+len(loop)-1)%len(loop)].to
		if e.via != nil || e.to.shell == nil || (from.obj.Kind != KindFunction && from.obj.Kind != KindProcedure) {
			continue
		}
		if !slices.ContainsFunc(e.to.edges, func(b edge) bool { return b.to == from }) {
			continue // the type does not need this function itself
		}
		k := shellDep{fn: from.obj, typ: e.to.obj.Ref}
		if !toShell[k] {
			toShell[k] = true
			return true
		}
	}
	return false
}

// dropUnusedShells leaves out the shell types no function depends on.
func dropUnusedShells(order []*node) []*node {
	used := map[*node]bool{}
	for _, n := range order {
		for _, e := range n.edges {
			if e.to.obj.Kind == KindShellType {
				used[e.to] = true
			}
		}
	}
	return slices.DeleteFunc(order, func(n *node) bool { return n.obj.Kind == KindShellType && !used[n] })
}

func describeLoop(loop []edge) string {
	var names []string
	for _, e := range loop {
		names = append(names, e.to.obj.String())
	}
	return strings.Join(append(names, names[0]), " -> ")
}

// finish assigns IDs and DepIDs in emitted order.
func finish(order []*node) []*Object {
	out := make([]*Object, len(order))
	for i, n := range order {
		n.obj.ID = i + 1
		out[i] = n.obj
	}
	for _, n := range order {
		n.obj.DepIDs = n.obj.DepIDs[:0]
		for _, e := range n.edges {
			if !slices.Contains(n.obj.DepIDs, e.to.obj.ID) {
				n.obj.DepIDs = append(n.obj.DepIDs, e.to.obj.ID)
			}
		}
		slices.Sort(n.obj.DepIDs)
		if k := n.obj.Kind; (k == KindComment || k == KindACL || k == KindSecLabel) && len(n.obj.Deps) > 0 {
			for _, e := range n.edges {
				n.obj.section = e.to.obj.Section()
				break
			}
		}
	}
	return out
}
