#!/bin/sh
# Idle ws:// at 15,000: the 352-byte Conn (bin/weir, e39ff2e) against the
# 384-byte one (bin/weir@main, 686b5c5), same run, orders alternating; then
# the same beside bin/noise -sleepers 64 (started 5 s before, killed after).
# From bench/: results/diet-2026-12-07/run.sh
set -e
d=results/diet-2026-12-07
for i in 1 2 3; do
  if [ $((i % 2)) = 1 ]; then s=weir,weir@main; else s=weir@main,weir; fi
  uptime >> $d/load.txt
  bin/wsbench run -scenarios idle -servers $s -out $d/ws-$i.json > $d/ws-$i.log 2>&1
done
for i in 1 2 3; do
  if [ $((i % 2)) = 1 ]; then s=weir@main,weir; else s=weir,weir@main; fi
  bin/noise -sleepers 64 & np=$!
  sleep 5; uptime >> $d/load.txt
  bin/wsbench run -scenarios idle -servers $s -out $d/ws-sleepers-$i.json > $d/ws-sleepers-$i.log 2>&1 || true
  uptime >> $d/load.txt
  kill $np; wait $np 2>/dev/null || true
done
