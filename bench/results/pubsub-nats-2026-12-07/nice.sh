#!/bin/bash
# usage: nice.sh plain|nice N  -- traced after-layout runs, 128 B at 2/s; "nice": natsd and node B reniced to -10 once started
cd /work/wt/hop16/bench
V=$1; i=$2; d=/tmp/hop16/nice/$V-$i; rm -rf $d; mkdir -p /tmp/hop16/nice
echo "$V $i start $(uptime)" >> /tmp/hop16/nice/log
bin/wsbench pubsub -shape nats -weir bin/psweir-trace -trace $d -subs 10000 -rounds 1 -warm 700ms -win 8s -rates 2 -p99 5s -sizes 128 -out $d.json > $d.md 2>$d.err &
W=$!
if [ $V = nice ]; then
  for k in $(seq 1 100); do
    for p in $(pgrep -P $W); do
      if grep -qa -e 'bin/natsd' -e 'B.trace' /proc/$p/cmdline 2>/dev/null; then renice -n -10 -p $p >/dev/null; fi
    done
    sleep 0.2
  done &
fi
wait $W
echo "$V $i end $(uptime)" >> /tmp/hop16/nice/log
