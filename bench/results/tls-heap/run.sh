#!/bin/sh
# Idle wss at 15,000 connections, weir (this branch, h/tlsheap) against weir@before (the base,
# /work/main at 0fbb01d): from the bench folder, after go build -o bin/ ./servers/weir ./cmd/wsbench
# and (cd /work/main/bench && go build -o <this>/bin/weir@before ./servers/weir).
# The argument is the output folder (default results/tls-heap).
set -x
O=${1:-results/tls-heap}; mkdir -p $O
git rev-parse HEAD > $O/commit.txt
{ date -u; uptime; } > $O/load.txt
bin/wsbench run -tls -scenarios idle -servers weir,weir@before -out $O/idle.json
{ date -u; uptime; } >> $O/load.txt
