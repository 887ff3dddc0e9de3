#!/bin/bash
# usage: chopperf.sh OUT MODE [chop args...]
out=$1; mode=$2; shift 2
cd /work/wt/chop/bench
${WEIR:-bin/weir} -mode $mode > /tmp/srv.$$ 2>&1 &
spid=$!
sleep 0.3
addr=$(sed -n 's/.*ws=\([^ ]*\).*/\1/p' /tmp/srv.$$)
bin/wsbench chop -addr $addr -reps 1 "$@" >/dev/null  # warm
perf record -q -g -o $out -p $spid 2>/dev/null &
ppid=$!
sleep 0.3
bin/wsbench chop -addr $addr "$@"
kill -INT $ppid; wait $ppid
kill $spid; wait $spid 2>/dev/null
