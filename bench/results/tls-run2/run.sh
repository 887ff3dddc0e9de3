#!/bin/sh
# The issue #17 run (results/tls-2026-12-06.md): from the bench folder, after
# go build -o bin/ ./servers/... ./cmd/wsbench; the argument is the output folder (default results/tls)
set -x
O=${1:-results/tls}; mkdir -p $O
git rev-parse HEAD > $O/commit.txt
{ date -u; uptime; } > $O/load.txt
bin/wsbench ratio -tls -servers weir,weir-goroutine,gws,gorilla,nbio -base gws,nbio,gorilla,weir-goroutine \
  -conns 1000 -sizes 64,16384 -rounds 5 -warm 1s -win 3s -out $O/echo.json > $O/echo.md
{ date -u; uptime; } >> $O/load.txt
bin/wsbench run -tls -scenarios idle -servers weir,weir-goroutine,gorilla,nbio,gws -out $O/idle.json
{ date -u; uptime; } >> $O/load.txt
bin/wsbench tlsstorm -servers weir,weir-goroutine,gorilla,nbio -rounds 3 -dur 3s -out $O/storm.json > $O/storm.md
{ date -u; uptime; } >> $O/load.txt
