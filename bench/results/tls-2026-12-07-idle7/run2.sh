#!/bin/sh
# Rounds 2 and later of idle7: as run.sh, but one wsbench invocation per
# server, so that the order really alternates (wsbench runs the servers of one
# invocation in its own list's order, weir before weir@main, whatever the
# order of -servers: run.sh's round 1, and idle6's "swapped" rounds, ran weir
# first every time). Odd rounds weir first, even rounds weir@main first.
O=${OUT:-results/tls-2026-12-07-idle7}; mkdir -p $O
N=${ROUNDS:-4}
F=${FIRST:-2}
git rev-parse HEAD >> $O/commit.txt
{ echo "rounds $F-$N (run2.sh)"; date -u; uptime; } >> $O/load.txt
for i in $(seq $F $N); do
	if [ $((i % 2)) = 1 ]; then S="weir weir@main"; else S="weir@main weir"; fi
	for s in $S; do
		{ echo "round $i: $s"; date -u; uptime; } >> $O/load.txt
		bin/wsbench run -tls -scenarios idle -servers $s -idle-hold ${HOLD:-150s} -out $O/idle$i-$s.json 2>&1 | tr '\r' '\n' | grep -v "connecting\|held .* of" > $O/idle$i-$s.txt
	done
	{ date -u; uptime; } >> $O/load.txt
done
echo done >> $O/load.txt
