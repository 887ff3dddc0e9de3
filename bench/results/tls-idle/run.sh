#!/bin/sh
# Idle wss before/after the idle AEAD drop (results/tls-2026-12-06-idle.md): from the bench folder,
# after go build -o bin/ ./servers/... ./cmd/wsbench and the "before" server built from the base
# commit as bin/weir@before (cd <base tree>/bench && go build -o <this>/bin/weir@before ./servers/weir).
# The argument is the output folder (default results/tls-idle).
set -x
O=${1:-results/tls-idle}; mkdir -p $O
git rev-parse HEAD > $O/commit.txt
{ date -u; uptime; } > $O/load.txt
bin/wsbench run -tls -scenarios idle -servers weir,weir@before,nbio,gorilla,gws -out $O/idle.json
{ date -u; uptime; } >> $O/load.txt
bin/wsbench ratio -tls -servers weir,weir@before,gws,gorilla,nbio -base weir@before,gws,nbio,gorilla \
  -conns 1000 -sizes 64 -rounds 3 -warm 1s -win 3s -out $O/echo.json > $O/echo.md
{ date -u; uptime; } >> $O/load.txt
# the busy path once more, weir against its base alone, 5 rounds
bin/wsbench ratio -tls -servers weir,weir@before -base weir@before \
  -conns 1000 -sizes 64 -rounds 5 -warm 1s -win 3s -out $O/echo-pair.json > $O/echo-pair.md
{ date -u; uptime; } >> $O/load.txt
