#!/bin/sh
# Paired A/B (-test.run ^$: "x" would also run the tests whose names hold an x) of the engine benchmarks: each build's test binary (go test -c -o
# /tmp/ab/NAME.test ./engine at its commit), ROUNDS rounds, the order of the
# builds rotating per round; output in /tmp/ab/NAME.txt (appended).
# usage: [BENCH=regexp] [TAG=suffix] ab.sh ROUNDS NAME...
rounds=$1; shift
cd /work/wt/chop/engine
r=0
while [ $r -lt $rounds ]; do
  set -- "$@" # the builds, rotated below
  for b in "$@"; do
    /tmp/ab/$b.test -test.run '^$' -test.bench "${BENCH:-Echo|Broadcast}" -test.benchtime 20000x -test.count 1 >> /tmp/ab/$b${TAG}.txt 2>&1
  done
  first=$1; shift; set -- "$@" $first
  r=$((r+1))
done
echo done > /tmp/ab/done
