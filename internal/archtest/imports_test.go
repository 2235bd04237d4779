package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/pgark/pgark"

// graph maps a package (path relative to the module) to the packages of
// ours it imports in non-test files.
type graph map[string][]string

// rule forbids packages matched by from to reach packages matched by deny.
type rule struct {
	text string // the rule as STYLE.md states it
	from func(pkg string) bool
	deny func(pkg string) bool
}

// in reports whether pkg is one of roots or below one of them.
func in(pkg string, roots ...string) bool {
	for _, r := range roots {
		if pkg == r || strings.HasPrefix(pkg, r+"/") {
			return true
		}
	}
	return false
}

// pureSchema is the object model: schema/ without schema/catalog.
func pureSchema(pkg string) bool { return in(pkg, "schema") && !in(pkg, "schema/catalog") }

var physical = []string{"internal/replication", "internal/wal", "internal/basebackup", "internal/recovery", "internal/receivewal"}

func rules() []rule {
	return []rule{
		{
			text: "format imports nothing of ours",
			from: func(p string) bool { return in(p, "format") },
			deny: func(p string) bool { return !in(p, "format") },
		},
		{
			text: "schema imports nothing of ours (schema/catalog excepted)",
			from: pureSchema,
			deny: func(p string) bool { return !pureSchema(p) },
		},
		{
			text: "dump never imports restore",
			from: func(p string) bool { return in(p, "dump") },
			deny: func(p string) bool { return in(p, "restore") },
		},
		{
			text: "restore never imports dump",
			from: func(p string) bool { return in(p, "restore") },
			deny: func(p string) bool { return in(p, "dump") },
		},
		{
			text: "internal/replication, wal, basebackup and recovery never import dump, restore, schema or format",
			from: func(p string) bool { return in(p, physical...) },
			deny: func(p string) bool { return in(p, "dump", "restore", "schema", "format") },
		},
		{
			text: "nothing imports cmd",
			from: func(p string) bool { return !in(p, "cmd") },
			deny: func(p string) bool { return in(p, "cmd") },
		},
		{
			text: "nothing imports bench",
			from: func(p string) bool { return !in(p, "bench") },
			deny: func(p string) bool { return in(p, "bench") },
		},
		{
			text: "internal/testcluster is imported only by tests and bench",
			from: func(p string) bool { return !in(p, "bench", "internal/testcluster") },
			deny: func(p string) bool { return in(p, "internal/testcluster") },
		},
	}
}

// check returns one violation per (package, rule, forbidden package), each
// naming the shortest import chain. The search does not continue past a
// forbidden package, so one bad import is reported once, not once for each
// package behind it.
func check(g graph, rs []rule) []string {
	pkgs := make([]string, 0, len(g))
	for p := range g {
		pkgs = append(pkgs, p)
	}
	slices.Sort(pkgs)
	var out []string
	for _, r := range rs {
		for _, start := range pkgs {
			if !r.from(start) {
				continue
			}
			parent := map[string]string{start: ""}
			queue := []string{start}
			for len(queue) > 0 {
				p := queue[0]
				queue = queue[1:]
				for _, q := range g[p] {
					if _, seen := parent[q]; seen {
						continue
					}
					parent[q] = p
					if r.deny(q) {
						out = append(out, fmt.Sprintf("%s: violates %q", chain(parent, q), r.text))
						continue
					}
					queue = append(queue, q)
				}
			}
		}
	}
	return out
}

func chain(parent map[string]string, last string) string {
	var path []string
	for p := last; p != ""; p = parent[p] {
		path = append(path, p)
	}
	slices.Reverse(path)
	return strings.Join(path, " -> ")
}

// listPackage is the part of go list -json output the test reads.
type listPackage struct {
	ImportPath string
	Imports    []string
	Error      *struct{ Err string }
}

// loadGraph runs go list on every package of the module. Packages that go
// list cannot fully load (someone's work in progress) are logged and
// contribute the imports it could read.
func loadGraph(t *testing.T) graph {
	t.Helper()
	cmd := exec.Command("go", "list", "-e", "-json=ImportPath,Imports,Error", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s/...: %v\n%s", module, err, stderr.String())
	}
	g := graph{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		if p.Error != nil {
			t.Logf("go list: %s: %s", p.ImportPath, p.Error.Err)
		}
		rel, ok := ours(p.ImportPath)
		if !ok {
			continue
		}
		g[rel] = nil
		for _, imp := range p.Imports {
			if r, ok := ours(imp); ok {
				g[rel] = append(g[rel], r)
			}
		}
	}
	return g
}

func ours(importPath string) (string, bool) {
	if importPath == module {
		return ".", true
	}
	return strings.CutPrefix(importPath, module+"/")
}

func TestImportRules(t *testing.T) {
	g := loadGraph(t)
	if _, ok := g["internal/archtest"]; !ok {
		t.Fatalf("go list did not report internal/archtest itself; got %d packages: the listing is broken", len(g))
	}
	t.Logf("checked %d packages", len(g))
	for _, v := range check(g, rules()) {
		t.Error(v)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		g    graph
		want []string
	}{
		{
			name: "layout as intended",
			g: graph{
				"cmd/pgark":            {"dump", "restore", "format", "internal/conn", "internal/basebackup"},
				"dump":                 {"format", "schema", "schema/catalog", "internal/conn"},
				"restore":              {"format", "schema", "internal/conn"},
				"schema":               nil,
				"schema/catalog":       {"schema", "internal/conn"},
				"format":               nil,
				"internal/basebackup":  {"internal/replication", "internal/wal", "internal/storage"},
				"internal/replication": {"internal/conn", "internal/wal"},
				"internal/testcluster": {"internal/conn"},
				"bench":                {"dump", "restore", "internal/testcluster"},
			},
		},
		{
			name: "format imports ours",
			g:    graph{"format": {"internal/conn"}, "internal/conn": nil},
			want: []string{`format -> internal/conn: violates "format imports nothing of ours"`},
		},
		{
			name: "format subpackage may import format",
			g:    graph{"format/internal/zstdpool": {"format"}, "format": nil},
		},
		{
			name: "schema imports its catalog reader",
			g:    graph{"schema": {"schema/catalog"}, "schema/catalog": {"schema"}},
			want: []string{`schema -> schema/catalog: violates "schema imports nothing of ours (schema/catalog excepted)"`},
		},
		{
			name: "dump reaches restore through another package",
			g:    graph{"dump": {"internal/conn"}, "internal/conn": {"restore"}, "restore": nil},
			want: []string{`dump -> internal/conn -> restore: violates "dump never imports restore"`},
		},
		{
			name: "restore imports dump",
			g:    graph{"restore": {"dump"}, "dump": nil},
			want: []string{`restore -> dump: violates "restore never imports dump"`},
		},
		{
			name: "wal imports format",
			g:    graph{"internal/wal": {"format"}, "format": nil},
			want: []string{`internal/wal -> format: violates "internal/replication, wal, basebackup and recovery never import dump, restore, schema or format"`},
		},
		{
			name: "imports of cmd and bench",
			g:    graph{"restore": {"cmd/pgark/ui", "bench"}, "cmd/pgark/ui": nil, "bench": nil},
			want: []string{
				`restore -> cmd/pgark/ui: violates "nothing imports cmd"`,
				`restore -> bench: violates "nothing imports bench"`,
			},
		},
		{
			name: "testcluster outside tests and bench",
			g: graph{
				"dump":                         {"internal/testcluster"},
				"internal/testcluster":         nil,
				"internal/testcluster/pgbin":   {"internal/testcluster"},
				"bench/datasets":               {"internal/testcluster"},
				"internal/replication/reptest": {"internal/testcluster"},
			},
			want: []string{
				`dump -> internal/testcluster: violates "internal/testcluster is imported only by tests and bench"`,
				`internal/replication/reptest -> internal/testcluster: violates "internal/testcluster is imported only by tests and bench"`,
			},
		},
		{
			name: "one bad import is reported once",
			g:    graph{"format": {"internal/conn"}, "internal/conn": {"internal/wal"}, "internal/wal": nil},
			want: []string{`format -> internal/conn: violates "format imports nothing of ours"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := check(tt.g, rules())
			if !slices.Equal(got, tt.want) {
				t.Errorf("check:\ngot  %q\nwant %q", got, tt.want)
			}
		})
	}
}
