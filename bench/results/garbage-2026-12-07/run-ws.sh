#!/bin/sh
# ws:// idle, new (weir) against the base (weir@eb31a74), order alternating; then a breakdown round with -profile.
cd "$(dirname "$0")/../.." || exit 1
R=results/garbage-2026-12-07
for i in 1 2; do
  uptime >> $R/load.txt
  bin/wsbench run -scenarios idle -servers weir,weir@eb31a74 -out $R/ws-$i-a.json
  uptime >> $R/load.txt
  bin/wsbench run -scenarios idle -servers weir@eb31a74,weir -out $R/ws-$i-b.json
done
uptime >> $R/load.txt
bin/wsbench run -scenarios idle -servers weir,weir@eb31a74 -profile /tmp/gprof/ws-prof -out $R/ws-prof.json
uptime >> $R/load.txt
