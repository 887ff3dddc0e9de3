#!/bin/sh
# Idle wss at 15,000 connections (issue #17): weir (branch h/wssmem: the record
# layer's Conn in the 192-byte size class) against weir@main (main at 2be77d5,
# this branch's base), paired and interleaved, the order swapped each round,
# each held 150 s after the snapshot; nbio and gorilla after them where time
# allows (ALL=1). From the bench folder, after go build -o bin/ ./servers/weir
# ./servers/nbio ./servers/gorilla ./cmd/wsbench here and
# (cd /work/main/bench && go build -o <this>/bin/weir@main ./servers/weir).
O=${OUT:-results/tls-2026-12-07-idle7}; mkdir -p $O
N=${ROUNDS:-3}
F=${FIRST:-1} # the first round's number (later rounds append to load.txt and commit.txt)
git rev-parse HEAD >> $O/commit.txt
{ echo "rounds $F-$N"; date -u; uptime; } >> $O/load.txt
for i in $(seq $F $N); do
	if [ $((i % 2)) = 1 ]; then S=weir,weir@main; else S=weir@main,weir; fi
	if [ -n "$ALL" ]; then S=$S,nbio,gorilla; fi
	{ echo "round $i: $S"; date -u; uptime; } >> $O/load.txt
	bin/wsbench run -tls -scenarios idle -servers $S -idle-hold ${HOLD:-150s} -out $O/idle$i.json 2>&1 | tr '\r' '\n' | grep -v "connecting\|held .* of" > $O/idle$i.txt
	{ date -u; uptime; } >> $O/load.txt
done
echo done >> $O/load.txt
