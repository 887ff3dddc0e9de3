#!/bin/sh
# Idle wss at 15,000 connections (issue #17): weir (branch h/wss17: the keys and compact
# state of an idle connection outside the Go heap) against weir@2bca2a6 (its base), paired
# and interleaved, the order swapped each round, each held 150 s after the snapshot. From the
# bench folder, after go build -o bin/ ./servers/weir ./cmd/wsbench and
# (git archive 2bca2a6 | tar -x -C /tmp/wss17base; cd /tmp/wss17base/bench && go build -o <this>/bin/weir@2bca2a6 ./servers/weir).
O=${1:-results/tls-2026-12-07-idle6}; mkdir -p $O
N=${ROUNDS:-3}
F=${FIRST:-1} # the first round's number (later rounds append to load.txt and commit.txt)
git rev-parse HEAD >> $O/commit.txt
{ echo "rounds $F-$N"; date -u; uptime; } >> $O/load.txt
for i in $(seq $F $N); do
	if [ $((i % 2)) = 1 ]; then S=weir,weir@2bca2a6; else S=weir@2bca2a6,weir; fi
	bin/wsbench run -tls -scenarios idle -servers $S -idle-hold ${HOLD:-150s} -out $O/idle$i.json 2>&1 | tr '\r' '\n' | grep -v "connecting\|held .* of" > $O/idle$i.txt
	{ date -u; uptime; } >> $O/load.txt
done
echo done >> $O/load.txt
