#!/bin/sh
# Handshake throughput, bin/weir (64 slots on 2 cores) against bin/weir@s32:
# the storm scenario (32 dialers, full and resumed), then far clients
# (-rtt 100ms: each client holds its Finished back 100 ms) with 160 dialers.
cd "$(dirname "$0")/../.." || exit 1
R=results/storm-2026-12-07
echo "tlsstorm start: $(uptime)" >> $R/load.txt
bin/wsbench tlsstorm -servers weir,weir@s32,weir@gate -rounds 4 -dur 3s -out $R/tlsstorm.json > $R/tlsstorm.txt 2>&1
echo "tlsstorm-rtt start: $(uptime)" >> $R/load.txt
bin/wsbench tlsstorm -servers weir,weir@s32,weir@gate -rounds 3 -dur 5s -conc 160 -rtt 100ms -out $R/tlsstorm-rtt100.json > $R/tlsstorm-rtt100.txt 2>&1
echo "tlsstorm end: $(uptime)" >> $R/load.txt
