#!/bin/sh
# Issue #15's full paired run (bench/results/perf15-full-2026-12-07.md): from bench/, after
# go build -o bin/ ./servers/... ./cmd/wsbench ./cmd/noise. Every load mode runs the same
# neighbours beside every server: none, 2 CPU hogs, 2 loopback ping-pong processes, 64 sleepers.
set -x
O=${1:-results/perf15-full}; mkdir -p $O
git rev-parse HEAD > $O/commit.txt
for mode in quiet hogs pp sleepers; do
  case $mode in
    quiet) N="" ;;
    hogs) N="-hogs 2" ;;
    pp) N="-pp 2" ;;
    sleepers) N="-sleepers 64" ;;
  esac
  { echo "# $mode starts"; date -u; uptime; } >> $O/load.txt
  bin/wsbench ratio -servers weir,rawtcp,gws,nbio,gorilla -base rawtcp,gws -conns 1000 -sizes 64,16384 \
    -rounds 5 -noise "$N" -out $O/$mode-1000.json > $O/$mode-1000.md
  bin/wsbench ratio -servers weir,rawtcp,gws,nbio,gorilla -base rawtcp,gws -conns 10000 -sizes 1024 \
    -rounds 5 -noise "$N" -out $O/$mode-10000.json > $O/$mode-10000.md
done
{ echo "# ends"; date -u; uptime; } >> $O/load.txt
