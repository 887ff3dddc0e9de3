#!/bin/sh
# Idle wss at 15,000 connections (issue #17), five runs: weir (branch h/rss17), weir@main (its
# base, main at b9915a9), nbio and gorilla, then one profiled run of the two weir builds
# (heap profile and runtime.MemStats 3.5 s after the last connection, before /free). From the
# bench folder, after go build -o bin/ ./servers/weir ./servers/nbio ./servers/gorilla ./cmd/wsbench
# and (git archive b9915a9 | tar -x -C /tmp/main; cd /tmp/main/bench && go build -o <this>/bin/weir@main ./servers/weir).
# The argument is the output folder (default results/tls-idle4); SERVERS overrides the list.
set -x
O=${1:-results/tls-idle4}; mkdir -p $O
S=${SERVERS:-weir,weir@main,nbio,gorilla}
git rev-parse HEAD > $O/commit.txt
{ date -u; uptime; } > $O/load.txt
for i in 1 2 3 4 5; do
	bin/wsbench run -tls -scenarios idle -servers $S -out $O/idle$i.json 2>&1 | tr '\r' '\n' | grep -v connecting > $O/idle$i.txt
	{ date -u; uptime; } >> $O/load.txt
done
bin/wsbench run -tls -scenarios idle -servers weir,weir@main -profile $O/prof -out $O/prof.json 2>&1 | tr '\r' '\n' | grep -v connecting > $O/prof.txt
{ date -u; uptime; } >> $O/load.txt
