#!/bin/sh
# Idle wss at 15,000 connections, weir (this branch, h/wssheap) against weir@before (the base,
# main at fb00661), nbio and gorilla, twice; then a paired wss echo check. From the bench folder,
# after go build -o bin/ ./servers/weir ./servers/nbio ./servers/gorilla ./cmd/wsbench and
# (git archive fb00661 | tar -x -C /tmp/before; cd /tmp/before/bench && go build -o <this>/bin/weir@before ./servers/weir).
# The argument is the output folder (default results/tls-idle2).
set -x
O=${1:-results/tls-idle2}; mkdir -p $O
git rev-parse HEAD > $O/commit.txt
{ date -u; uptime; } > $O/load.txt
for i in 1 2; do
	bin/wsbench run -tls -scenarios idle -servers weir,weir@before,nbio,gorilla -out $O/idle$i.json 2>&1 | tr '\r' '\n' | grep -v connecting > $O/idle$i.txt
	{ date -u; uptime; } >> $O/load.txt
done
bin/wsbench ratio -tls -servers weir,weir@before -base weir@before \
  -conns 1000 -sizes 64 -rounds 3 -warm 1s -win 3s -out $O/echo-pair.json 2>&1 | tr '\r' '\n' | grep -v connecting > $O/echo-pair.txt
{ date -u; uptime; } >> $O/load.txt
