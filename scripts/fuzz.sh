#!/usr/bin/env bash
# Runs every Go fuzz target in the module briefly.
#
# Targets are found in the packages' test files (a `func FuzzX(` at the start of a
# line), so a new Fuzz function is picked up without editing this file.
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
set -euo pipefail
GO=${GO:-go}
FUZZEXECS=${FUZZEXECS:-50000}
cd "$(dirname "$0")/.."

# budget prints the -fuzztime value for one target.
budget() {
  if [ -n "${FUZZTIME:-}" ]; then echo "$FUZZTIME"; return; fi
  case "$1" in
    # Each execution is a real TCP connection and handshake: about 20x slower.
    FuzzReader) echo "$((FUZZEXECS / 5))x" ;;
    *) echo "${FUZZEXECS}x" ;;
  esac
}

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# One `go list` names every package with its test files (build constraints
# applied); the targets are the Fuzz functions declared in them. (`go test
# -list` per package would compile and link every package's test binary
# just to list it: over a minute on a 2-core machine.)
found=0
while read -r pkg dir files; do
  [ -n "$files" ] || continue
  for target in $(cd "$dir" && grep -ho '^func Fuzz[A-Za-z0-9_]*(' $files | sed 's/^func //; s/($//' | sort -u); do
    found=1
    b=$(budget "$target")
    start=$SECONDS
    $GO test -run '^$' -fuzz "^${target}\$" -fuzztime "$b" "$pkg" >"$log" 2>&1 || {
      echo "fuzz $pkg $target ($b): FAIL"; cat "$log"; exit 1; }
    echo "fuzz $pkg $target ($b): ok in $((SECONDS - start)) s"
  done
done < <($GO list -f '{{.ImportPath}} {{.Dir}} {{join .TestGoFiles " "}} {{join .XTestGoFiles " "}}' ./...)
[ "$found" = 1 ] || echo "no fuzz targets yet"
