# Thin wrappers around the go tool; every target is phony.
.PHONY: build test test-all-versions fuzz bench bench-go lint demo

VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
# FUZZTIME is a duration (30s) or a count of inputs (20000x); CI uses a count.
FUZZTIME ?= 30s
# Each new interesting input is minimized for up to this long; go's default
# (60s) can swallow a whole short run.
FUZZMINIMIZETIME ?= 5s
# Extra PostgreSQL majors for the tests, such as PG_MAJORS="13 18".
PG_MAJORS ?=
# Every PostgreSQL major pgark supports, for test-all-versions.
ALL_PG_MAJORS ?= 13 14 15 16 17 18

# A static binary: no cgo, no local paths, stamped with version and commit.
build:
	CGO_ENABLED=0 go build -trimpath \
		-ldflags "-s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)" \
		-o bin/pgark ./cmd/pgark

# install-postgres.sh puts PostgreSQL server binaries where the live-database
# tests find them; it is idempotent, so running it every time is cheap.
# The live-database tests run on every major installed (testcluster.EachMajor):
# on a fresh machine that is the machine's PostgreSQL alone.
test:
	bash scripts/install-postgres.sh $(PG_MAJORS)
	go test ./... -count=1 -timeout 30m

# The same tests on every supported major (fetched into .cache/pg once), plus
# the restores across majors (cmd/pgark TestCrossVersion). PGARK_ALL_VERSIONS=1
# makes the version tests fail, not shrink, when a major is missing.
test-all-versions:
	bash scripts/install-postgres.sh $(ALL_PG_MAJORS)
	PGARK_ALL_VERSIONS=1 go test ./... -count=1 -timeout 45m

# Runs every fuzz target of every package for FUZZTIME each, one at a time
# (go test -fuzz takes a single target in a single package).
fuzz:
	@set -e; \
	for pkg in $$(go list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./...); do \
		targets=$$(go test -list '^Fuzz' $$pkg) || exit 1; \
		for name in $$(printf '%s\n' "$$targets" | grep '^Fuzz' || true); do \
			echo "== $$pkg $$name ($(FUZZTIME))"; \
			go test $$pkg -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME); \
		done; \
	done

# The side-by-side harness (bench/cmd/pgark-bench): pgark dump/restore against
# pg_dump/pg_restore 15 on one throwaway server, BENCH_RUNS runs each (medians),
# BENCH_ROWS rows in the dominant table; the report goes to stdout and, as JSON,
# to BENCH_OUT. PGARK=path measures that binary instead of building one. Then
# the Go micro-benchmarks (bench-go alone runs just those).
BENCH_ROWS ?= 2000000
BENCH_RUNS ?= 5
BENCH_OUT  ?= bin/bench-report.json
PGARK      ?=
bench:
	bash scripts/install-postgres.sh
	go run ./bench/cmd/pgark-bench -rows $(BENCH_ROWS) -runs $(BENCH_RUNS) -out $(BENCH_OUT) $(if $(PGARK),-pgark $(PGARK))
	go test -run '^$$' -bench . ./...

bench-go:
	go test -run '^$$' -bench . ./...

# The main job end to end on a throwaway PostgreSQL: dump, list, verify,
# restore into a new database, and a check that both match.
demo:
	bash scripts/demo.sh

lint:
	@unformatted=$$(find . -name '*.go' -not -path './.git/*' -not -path './.cache/*' -print0 | xargs -0 -r gofmt -l); \
	if [ -n "$$unformatted" ]; then echo "gofmt -l reports:"; echo "$$unformatted"; exit 1; fi
	go vet ./...
	go test -count=1 ./internal/archtest
