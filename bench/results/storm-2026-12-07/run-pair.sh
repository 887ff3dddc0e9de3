#!/bin/sh
# One wss idle run of 15,000 beside `bin/noise -sleepers 64` (started 5 s
# before, killed after): run-pair.sh NAME SERVERS (comma-separated, run in that order).
cd "$(dirname "$0")/../.." || exit 1
R=results/storm-2026-12-07
name=$1 servers=$2
bin/noise -sleepers 64 > /dev/null 2>&1 &
NOISE=$!
sleep 5
echo "$name start: $(uptime)" >> $R/load.txt
bin/wsbench run -tls -scenarios idle -connect-timeout 6m -servers $servers -out $R/$name.json > $R/$name.log 2>&1
echo "$name end: $(uptime)" >> $R/load.txt
kill $NOISE
wait $NOISE 2>/dev/null
sleep 5
