#!/bin/sh
# ws:// idle, two more rounds (orders alternating), after the breakdown runs.
cd "$(dirname "$0")/../.." || exit 1
R=results/garbage-2026-12-07
for i in 3 4; do
  uptime >> $R/load.txt
  bin/wsbench run -scenarios idle -servers weir@eb31a74,weir -out $R/ws-$i-b.json
  uptime >> $R/load.txt
  bin/wsbench run -scenarios idle -servers weir,weir@eb31a74 -out $R/ws-$i-a.json
done
uptime >> $R/load.txt
