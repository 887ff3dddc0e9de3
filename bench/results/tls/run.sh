#!/bin/sh
# The issue #17 run (results/tls-2026-12-07-final.md): from the bench folder, after
# go build -o bin/ ./servers/... ./cmd/wsbench ./cmd/noise; the argument is the output folder
# (default results/tls). Echo against the peers (5 paired rounds), idle at 15,000 held 150 s
# quiet and then beside bin/noise -sleepers 64, the handshake storm full and resumed.
set -x
O=${1:-results/tls}; mkdir -p $O
git rev-parse HEAD > $O/commit.txt
{ date -u; uptime; } > $O/load.txt
bin/wsbench ratio -tls -servers weir,weir-goroutine,gws,gorilla,nbio -base gws,nbio,gorilla,weir-goroutine \
  -conns 1000 -sizes 64,16384 -rounds 5 -warm 1s -win 3s -out $O/echo.json > $O/echo.md
{ date -u; uptime; } >> $O/load.txt
bin/wsbench tlsstorm -servers weir,weir-goroutine,gorilla,nbio -rounds 3 -dur 3s -out $O/storm.json > $O/storm.md
{ date -u; uptime; } >> $O/load.txt
bin/wsbench run -tls -scenarios idle -idle-hold 150s -servers weir,weir-goroutine,gorilla,nbio,gws -out $O/idle.json
{ date -u; uptime; } >> $O/load.txt
# the same beside 64 sleeper threads (a busy gateway box: many runnable threads); the 2026-12-07
# run wrote the first of these to idle-load.json and it was renamed idle-load-1.json after
bin/noise -sleepers 64 & NOISE=$!
bin/wsbench run -tls -scenarios idle -idle-hold 150s -connect-timeout 5m -servers weir,nbio,gorilla -out $O/idle-load-1.json
{ date -u; uptime; } >> $O/load.txt
bin/wsbench run -tls -scenarios idle -idle-hold 150s -connect-timeout 5m -servers weir -out $O/idle-load-2.json
kill $NOISE; wait $NOISE
{ date -u; uptime; } >> $O/load.txt
