#!/usr/bin/env bash
# Runs every Go fuzz target of a module briefly: scripts/fuzz.sh [module-dir]
# (the repository's root module by default; make fuzz-natsbridge passes natsbridge).
#
# Targets are found in the packages' test files (a `func FuzzX(` at the start of a
# line), so a new Fuzz function is picked up without editing this file.
#
# One instrumented build per package. `go test -c -fuzz=.` compiles and links the
# package's test binary with the same coverage instrumentation `go test -fuzz`
# uses; each target then runs from that binary with the flags `go test -fuzz`
# would pass it (-test.fuzz, -test.fuzztime, -test.fuzzcachedir in GOCACHE, so
# the generated corpus carries over between runs as before), in the package's
# directory (testdata/fuzz seeds are read, and a failing input is written, there).
# `go test -fuzz` per target relinked the instrumented test binary for every
# target: 7 links of the 19 targets, engine's the largest.
#
# Budgets are execution counts (-fuzztime Nx), not durations. With a duration, Go's
# fuzz coordinator up to 1.26 can report a bare "context deadline exceeded" failure
# when the deadline fires while a worker is mid-call (golang/go#75804, fixed in Go
# 1.27); on a loaded 2-core CI machine that happened with no failing input. A count
# has no deadline to race, and it makes a run do the same amount of work on a fast
# or a slow machine.
#
#   FUZZEXECS=N      executions per target (default 50000)
#   FUZZTIME=30s     a duration for every target instead (longer local runs; subject
#                    to the upstream race above on Go < 1.27)
#   GOFLAGS          passed through (make fuzz-natsbridge sets -tags=fuzzonly)
set -euo pipefail
GO=${GO:-go}
FUZZEXECS=${FUZZEXECS:-50000}
cd "$(dirname "$0")/.."
[ $# -eq 0 ] || cd "$1"

# budget prints the -fuzztime value for one target.
budget() {
  if [ -n "${FUZZTIME:-}" ]; then echo "$FUZZTIME"; return; fi
  case "$1" in
    # Each execution is a real TCP connection and handshake: about 20x slower.
    FuzzReader) echo "$((FUZZEXECS / 5))x" ;;
    *) echo "${FUZZEXECS}x" ;;
  esac
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log=$tmp/log
fuzzcache=$($GO env GOCACHE)/fuzz
# One `go list` names every package with its test files (build constraints
# applied); the targets are the Fuzz functions declared in them. (`go test
# -list` per package would compile and link every package's test binary
# just to list it: over a minute on a 2-core machine.)
found=0
while read -r pkg dir files; do
  [ -n "$files" ] || continue
  targets=$(cd "$dir" && grep -ho '^func Fuzz[A-Za-z0-9_]*(' $files | sed 's/^func //; s/($//' | sort -u || true)
  [ -n "$targets" ] || continue
  found=1
  bin=$tmp/$(echo "$pkg" | tr / _).test
  start=$SECONDS
  $GO test -c -fuzz=. -o "$bin" "$pkg" >"$log" 2>&1 || {
    echo "fuzz $pkg: build FAIL"; cat "$log"; exit 1; }
  echo "fuzz $pkg: built in $((SECONDS - start)) s"
  for target in $targets; do
    b=$(budget "$target")
    start=$SECONDS
    (cd "$dir" && "$bin" -test.paniconexit0 -test.run='^$' -test.fuzz="^${target}\$" \
      -test.fuzztime="$b" -test.fuzzcachedir="$fuzzcache/$pkg") >"$log" 2>&1 || {
      echo "fuzz $pkg $target ($b): FAIL"; cat "$log"; exit 1; }
    echo "fuzz $pkg $target ($b): ok in $((SECONDS - start)) s"
  done
done < <($GO list -f '{{.ImportPath}} {{.Dir}} {{join .TestGoFiles " "}} {{join .XTestGoFiles " "}}' ./...)
[ "$found" = 1 ] || echo "no fuzz targets yet"
