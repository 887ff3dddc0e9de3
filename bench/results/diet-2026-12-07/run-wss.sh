#!/bin/sh
# wss:// idle at 15,000 (storm, then 3.5 s), the 352-byte Conn (bin/weir) and the
# 384-byte one (bin/weir@main), paired, orders alternating: one quiet pair, then
# pairs beside bin/noise -sleepers 64 (started 5 s before each run, killed after).
d=results/diet-2026-12-07
uptime >> $d/load-wss.txt
bin/wsbench run -tls -scenarios idle -servers weir,weir@main -connect-timeout 5m -out $d/wss-quiet-1.json > /dev/null 2>&1 || true
for i in 1 2 3; do
  if [ $((i % 2)) = 1 ]; then s=weir@main,weir; else s=weir,weir@main; fi
  bin/noise -sleepers 64 & np=$!
  sleep 5; uptime >> $d/load-wss.txt
  bin/wsbench run -tls -scenarios idle -servers $s -connect-timeout 5m -out $d/wss-sleepers-$i.json > /dev/null 2>&1 || true
  uptime >> $d/load-wss.txt
  kill $np; wait $np 2>/dev/null || true
done
