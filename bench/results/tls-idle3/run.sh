#!/bin/sh
# Idle wss at 15,000 connections (issue #17), four runs: weir (branch h/diet17), weir@before (its
# base, main at f65ec35), weir@dropexp (this weir with Config.TLSDropExporter: a script that sets
# WEIR_TLS_DROP_EXPORTER=1 and execs bin/weir), nbio and gorilla. From the bench folder, after
# go build -o bin/ ./servers/weir ./servers/nbio ./servers/gorilla ./cmd/wsbench and
# (git archive f65ec35 | tar -x -C /tmp/before; cd /tmp/before/bench && go build -o <this>/bin/weir@before ./servers/weir).
# The argument is the output folder (default results/tls-idle3).
set -x
O=${1:-results/tls-idle3}; mkdir -p $O
git rev-parse HEAD > $O/commit.txt
{ date -u; uptime; } > $O/load.txt
for i in 1 2 3 4; do
	bin/wsbench run -tls -scenarios idle -servers weir,weir@before,weir@dropexp,nbio,gorilla -out $O/idle$i.json 2>&1 | tr '\r' '\n' | grep -v connecting > $O/idle$i.txt
	{ date -u; uptime; } >> $O/load.txt
done
