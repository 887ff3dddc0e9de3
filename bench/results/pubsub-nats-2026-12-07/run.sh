#!/bin/bash
# usage: run.sh SUBS OUTDIR ITER...   (interleaves before/after, one round each, natsprobe beside)
cd /work/wt/hop16/bench
SUBS=$1; OUT=$2; shift 2
mkdir -p $OUT
if [ $SUBS = 10000 ]; then ARGS="-rates 1,2 -p99 5s -warm 700ms -win 4s"; else ARGS="-rates 50,200 -p99 100ms -warm 700ms -win 1500ms"; fi
for i in "$@"; do
 for V in before after; do
  if [ $V = before ]; then VA="-weir bin/psweir@main -nats-inproc"; else VA="-weir bin/psweir"; fi
  P=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
  bin/natsd -listen 127.0.0.1:$P -addr 127.0.0.1:0 -stats 127.0.0.1:0 >/dev/null & NP=$!
  sleep 0.5
  bin/natsprobe -url nats://127.0.0.1:$P -dur 300s > $OUT/$V-$i.probe 2>&1 & PP=$!
  echo "$V $i start $(date -u +%T) $(uptime)" >> $OUT/log
  bin/wsbench pubsub -shape nats $VA -subs $SUBS -rounds 1 $ARGS -sizes 128,4096 -out $OUT/$V-$i.json > $OUT/$V-$i.md 2>$OUT/$V-$i.err
  echo "$V $i end $(date -u +%T) $(uptime)" >> $OUT/log
  kill $PP; sleep 0.3; kill $NP; wait $NP 2>/dev/null
 done
done
