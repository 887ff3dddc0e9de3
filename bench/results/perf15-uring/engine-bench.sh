#!/bin/sh
# Paired BenchmarkEcho: main's test binary then the branch's, alternating, 3 rounds.
# /tmp/ue-main.test: go test -c in /work/main/engine (28353eb); /tmp/ue-cork.test: the branch.
cd /work/wt/uringecho/engine
for i in 1 2 3; do
  /tmp/ue-main.test -test.run x -test.bench 'BenchmarkEcho' -test.benchtime 20000x -test.count 1 >> /tmp/ue-bench-main.txt 2>&1
  /tmp/ue-cork.test -test.run x -test.bench 'BenchmarkEcho' -test.benchtime 20000x -test.count 1 >> /tmp/ue-bench-cork.txt 2>&1
done
