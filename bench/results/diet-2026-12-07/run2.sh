#!/bin/sh
# Rounds 4-6 beside bin/noise -sleepers 64, as run.sh's second half.
d=results/diet-2026-12-07
for i in 4 5 6; do
  if [ $((i % 2)) = 1 ]; then s=weir@main,weir; else s=weir,weir@main; fi
  bin/noise -sleepers 64 & np=$!
  sleep 5; uptime >> $d/load.txt
  bin/wsbench run -scenarios idle -servers $s -out $d/ws-sleepers-$i.json > /dev/null 2>&1 || true
  uptime >> $d/load.txt
  kill $np; wait $np 2>/dev/null || true
done
