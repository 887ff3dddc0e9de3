#!/bin/sh
# One ingredient of the heavy mix at a time; harness at nice -20, weir pool vs raw TCP, 64 B.
cd "$(dirname "$0")/../.."
for v in "hogs:-hogs 4" "pp:-pp 4 -pairs 32" "pplock:-pp 4 -pairs 32 -lock" "sleepers:-sleepers 64"; do
  name=${v%%:*}; args=${v#*:}
  echo "== $name ($args) $(uptime)"
  timeout 200 nice -n -20 bin/wsbench ratio -servers weir,rawtcp -sizes 64 -rounds 4 -perf \
    -noise "$args" -out results/perf15/vary-$name.json 2>results/perf15/vary-$name.log > results/perf15/vary-$name.md
done
