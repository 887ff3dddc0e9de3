#!/bin/bash
# drive.sh BIN RATE SIZE SECS OUTPREFIX [perf]: server + 2 psgen (chat 1000x10), profile SECS at RATE.
BIN=$1 RATE=$2 SIZE=$3 SECS=$4 OUT=$5 PERF=$6
cd "$(dirname "$0")/../.."   # bench/
rm -f $OUT.*
$BIN -addr 127.0.0.1:0 -stats 127.0.0.1:0 -cpuprofile $OUT.pprof > $OUT.srv 2>&1 &
SP=$!
for i in $(seq 50); do grep -q LISTEN $OUT.srv && break; sleep 0.1; done
L=$(grep LISTEN $OUT.srv); WS=$(echo $L | sed 's/.*ws=\([^ ]*\).*/\1/'); PUB=$(echo $L | sed 's/.*pub=\([^ ]*\).*/\1/')
mkfifo $OUT.f0 $OUT.f1
bin/wsbench psgen -ws $WS -subs 5000 -first 0 -topics 1000 -ptopics 1000 -pub $PUB < $OUT.f0 > $OUT.g0 2>&1 &
G0=$!
bin/wsbench psgen -ws $WS -subs 5000 -first 5000 -topics 1000 -ptopics 1000 < $OUT.f1 > $OUT.g1 2>&1 &
G1=$!
exec 3>$OUT.f0 4>$OUT.f1
for i in $(seq 300); do [ $(grep -c ready $OUT.g0 $OUT.g1 | awk -F: '{s+=$2} END{print s}') = 2 ] && break; sleep 0.2; done
echo "size $SIZE" >&3; echo "rate $RATE" >&3
sleep 2
T0=$(awk '{print $14+$15}' /proc/$SP/stat)
echo mark >&3; echo mark >&4
if [ "$PERF" = perf ]; then perf record -F 999 -g -p $SP -o $OUT.perf -- sleep $SECS 2>/dev/null >/dev/null
elif [ "$PERF" = stat ]; then perf stat -e task-clock,context-switches,syscalls:sys_enter_io_uring_enter,syscalls:sys_enter_writev,raw_syscalls:sys_enter -p $SP -o $OUT.stat -- sleep $SECS
else sleep $SECS; fi
echo report >&3; echo report >&4
T1=$(awk '{print $14+$15}' /proc/$SP/stat)
sleep 0.5
D=$(grep -h '^{' $OUT.g0 $OUT.g1 | python3 -c 'import sys,json
t=0
for l in sys.stdin:
  d=json.loads(l); t+=d["n"]
print(t)')
echo "ticks=$((T1-T0)) deliveries=$D load=$(cut -d' ' -f1 /proc/loadavg)" | tee $OUT.sum
grep -h '^{' $OUT.g0 | head -c 300; echo
exec 3>&- 4>&-
kill $G0 $G1; kill -TERM $SP; wait $SP 2>/dev/null
