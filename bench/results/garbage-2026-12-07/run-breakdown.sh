#!/bin/sh
# Breakdowns: runtime/metrics memory classes at the baseline, before and after /stats' GC
# (-profile), for ws (both builds), wss beside the sleepers (both), and the new build's
# wss allocations per connection (heap profile sampling every allocation).
cd "$(dirname "$0")/../.." || exit 1
R=results/garbage-2026-12-07
P=/tmp/gprof/bd
uptime >> $R/load.txt
bin/wsbench run -scenarios idle -servers weir,weir@eb31a74 -profile $P/ws -out $R/bd-ws.json
bin/noise -sleepers 64 > /dev/null 2>&1 &
NOISE=$!
sleep 5
echo "bd-wss-sleepers start: $(uptime)" >> $R/load.txt
bin/wsbench run -tls -scenarios idle -servers weir,weir@eb31a74 -profile $P/wss-sleepers -out $R/bd-wss-sleepers.json
echo "bd-wss-sleepers end: $(uptime)" >> $R/load.txt
kill $NOISE
wait $NOISE 2>/dev/null
sleep 5
SRVKIT_MEMPROFILERATE=1 bin/wsbench run -tls -scenarios idle -servers weir -profile $P/wss-alloc -out /tmp/gprof/bd-wss-alloc.json
uptime >> $R/load.txt
