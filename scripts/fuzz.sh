#!/usr/bin/env bash
# Runs every Go fuzz target in the module for $FUZZTIME each (default 3s).
# Targets are discovered with `go test -list`, so a new Fuzz function is picked up
# without editing this file.
set -euo pipefail
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-3s}
cd "$(dirname "$0")/.."
found=0
for pkg in $($GO list ./...); do
  for target in $($GO test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
    found=1
    echo "fuzz $pkg $target ($FUZZTIME)"
    $GO test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "$pkg" >/tmp/weir-fuzz.log 2>&1 || {
      cat /tmp/weir-fuzz.log; exit 1; }
  done
done
[ "$found" = 1 ] || echo "no fuzz targets yet"
