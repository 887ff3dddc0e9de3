#!/bin/sh
# wss:// idle, quiet then beside bin/noise -sleepers 64 (started 5 s before each run, killed after),
# new (weir) against the base (weir@eb31a74), order alternating.
cd "$(dirname "$0")/../.." || exit 1
R=results/garbage-2026-12-07
for i in 1 2; do
  uptime >> $R/load.txt
  bin/wsbench run -tls -scenarios idle -servers weir,weir@eb31a74 -out $R/wss-$i-a.json
  uptime >> $R/load.txt
  bin/wsbench run -tls -scenarios idle -servers weir@eb31a74,weir -out $R/wss-$i-b.json
done
n=0
for s in weir weir@eb31a74 weir@eb31a74 weir; do
  n=$((n+1))
  bin/noise -sleepers 64 > /dev/null 2>&1 &
  NOISE=$!
  sleep 5
  echo "sleepers-$n $s start: $(uptime)" >> $R/load.txt
  bin/wsbench run -tls -scenarios idle -servers $s -idle-hold 60s -out $R/wss-sleepers-$n.json
  echo "sleepers-$n $s end: $(uptime)" >> $R/load.txt
  kill $NOISE
  wait $NOISE 2>/dev/null
  sleep 5
done
uptime >> $R/load.txt
