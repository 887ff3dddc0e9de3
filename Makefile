# weir: developer entry points. `make test` is what CI runs (via .ci/run).
GO        ?= go
ADDR      ?= 127.0.0.1:8080

.PHONY: all test test-extra test-long vet race fuzz fuzz-natsbridge cross crosscheck bench bench-micro bench-full run run-cluster lint interop natsbridge docs docs-check

all: test

## test: vet, race-enabled tests (every fuzz target's seed corpus included), a
## type check for darwin, freebsd and windows, the docs' Go snippets, the NATS
## bridge's module, and the interop suite against real peers. From a cold build
## cache on two cores: 513 and 530 s in two runs on a quiet machine (2026-12-06).
test: vet race crosscheck docs-check natsbridge interop

## test-extra: what CI runs after `make test`, kept out of it for time (each
## compiles the standard library once more, about a minute cold): a short
## fuzzing run of every fuzz target, both modules', with coverage guidance,
## and darwin's full `go vet`.
test-extra: fuzz fuzz-natsbridge cross

vet:
	$(GO) vet ./...
	cd metrics/prom && $(GO) vet ./...

## race: the tests with the race detector. -vet=off: `go test` would vet
## every package again (its curated subset of vet's checks) against the race
## build; `make vet` has run all of vet's checks on the same files already.
## (The only files -race adds are bufpool's and deflate's race_test.go, a
## constant each.)
race:
	$(GO) test -race -vet=off -count=1 ./...
	cd metrics/prom && $(GO) test -race -vet=off -count=1 ./...

## test-long: the race suite with the long size sweeps and soaks as well. One
## scheme opts them in: the environment variable WEIR_LONG=1, read by a
## package's long() test helper (deflate/helpers_test.go); without it a test
## leaves its long cases out. They add sizes and durations, never code paths
## the default run misses. (`go test -short` is separate: it trims the
## engine's 10k-connection scale tests further.)
test-long:
	WEIR_LONG=1 $(GO) test -race -count=1 -timeout 60m ./...

## fuzz: run each Go fuzz target briefly (FUZZEXECS=1000000 or FUZZTIME=1m for longer)
fuzz:
	GO=$(GO) ./scripts/fuzz.sh

## cross: the kqueue and fallback code must keep building on other platforms.
## darwin gets `go vet`: it compiles every package another imports for
## darwin (the standard library, x/sys and the kqueue code with its
## assembly) and type-checks every package, tests and commands too, then runs
## vet's checks on the BSD files (unsafe pointers in the kqueue and writev
## code). freebsd and windows are type-checked from source
## (scripts/crosscheck: every package with its tests and every import, the
## standard library's included, build constraints applied for each): a
## per-OS break is a type error, and this finds them without compiling the
## standard library twice more (a cold `go vet` is about a minute a platform
## on two cores; the type check a few seconds). What that leaves out: vet's
## analyzers on the files only freebsd or windows builds (internal/sock's
## tcpopts_freebsd.go and the *_other.go stubs). `go build` per GOOS added
## only the two main packages' compile and link, which cannot fail on one
## amd64 OS alone (frame's assembly is per GOARCH; no linkname).
cross: crosscheck
	GOOS=darwin GOARCH=amd64 $(GO) vet ./...

## crosscheck: the type check alone, for all three (seconds; in make test).
crosscheck:
	$(GO) run ./scripts/crosscheck -goos darwin,freebsd,windows ./...

## bench-micro: micro-benchmarks of every hot path
bench-micro:
	$(GO) test -run '^$$' -bench . -benchmem ./frame ./bufpool ./upgrade ./deflate ./poller
	$(GO) test -run '^$$' -bench 'Echo|IdleConn' -benchmem ./engine

## bench: weir against gorilla, gobwas, gws, nbio, coder and Node ws, quick subset (<5 min)
bench:
	cd bench && npm ci --no-audit --no-fund --prefix servers/nodews && $(GO) build -o bin/ ./servers/... ./cmd/wsbench \
	  && bin/wsbench run -quick && bin/wsbench report -in results/results-quick.json -md results/quick/benchmarks.md -charts results/quick

## bench-full: the full comparison, echo cells and storm 3 times (medians); rewrites docs/benchmarks.md and its charts (about 35 min)
bench-full:
	cd bench && npm ci --no-audit --no-fund --prefix servers/nodews && $(GO) build -o bin/ ./servers/... ./cmd/wsbench \
	  && bin/wsbench run && bin/wsbench report

## natsbridge: the NATS cluster bridge, its own module (so the main module keeps
## its three dependencies): vet, the race suite against in-process NATS
## servers (a 3-server cluster, a server killed mid-stream). Its fuzz targets'
## seeds run in that suite; fuzz-natsbridge fuzzes them (make test-extra).
## The fuzz runs build with -tags fuzzonly, which leaves out the test files
## that start NATS servers: the fuzzer's instrumented build would otherwise
## compile nats-server a third time (after vet and -race), 40 s of a cold run.
## (-vet=off: see race.)
natsbridge:
	cd natsbridge && $(GO) vet ./... && $(GO) test -race -vet=off -count=1 -timeout 5m ./...

fuzz-natsbridge:
	GOFLAGS=-tags=fuzzonly GO=$(GO) ./scripts/fuzz.sh natsbridge

interop/node_modules: interop/package.json interop/package-lock.json
	cd interop && npm ci --no-audit --no-fund
	@touch $@

## interop: weir against real peers (npm ws, websocket, watershed; Chromium; Python
## websockets; gorilla, gobwas) and the bad-peer suite; then checks that the
## committed docs/conformance.md says what this run found. It writes nothing. A
## peer that is not installed is skipped with one line naming what to install,
## and its cells are left out of the check; under CI=true nothing may skip.
## (Local directory mode, no package argument, so that those lines show.)
## -parallel 8: most cases wait on peers, drips and timeouts rather than
## the CPU, and the default (GOMAXPROCS, 2 here) left them queued: the
## suite took 422 s, and 181 s with 8.
INTEROP_PARALLEL ?= 8
interop: interop/node_modules
	cd interop && $(GO) test -count=1 -timeout 9m -parallel $(INTEROP_PARALLEL) -args -check-doc

## docs: regenerate the generated docs: docs/conformance.md from a full interop
## run (refused unless every peer ran). docs/benchmarks.md has its own target,
## bench-full.
docs: interop/node_modules
	cd interop && $(GO) test -count=1 -timeout 9m -parallel $(INTEROP_PARALLEL) -args -update-doc

## docs-check: every Go snippet in README.md and docs/*.md builds and runs as
## written: whole programs are vetted, the rest must be quoted from an
## example*_test.go (whose output go test checks). Every `make TARGET` the
## docs show is a target here, and every test, benchmark, fuzz target and
## example they name is declared. See scripts/docsnippets.
docs-check:
	GO=$(GO) $(GO) run ./scripts/docsnippets

## run: the demo server
run:
	$(GO) run ./cmd/weir serve -addr $(ADDR)

## run-cluster: the demo as a cluster: an in-process NATS server and two weir
## nodes bridged through it (http://127.0.0.1:8081/ and :8082; NATS_ADDR,
## NODE_A, NODE_B move them). See scripts/run-cluster.sh.
run-cluster:
	GO=$(GO) ./scripts/run-cluster.sh

lint: vet docs-check
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
