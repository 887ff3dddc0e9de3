#!/bin/sh
cd /work/wt/loopfix/engine
for i in 1 2 3 4 5; do
  /tmp/lf-engine-main.test -test.run x -test.bench 'Echo|Broadcast' -test.benchtime 20000x -test.count 1 >> /tmp/lf-bench-main.txt 2>&1
  /tmp/lf-engine-branch.test -test.run x -test.bench 'Echo|Broadcast' -test.benchtime 20000x -test.count 1 >> /tmp/lf-bench-branch.txt 2>&1
done
echo done > /tmp/lf-bench.done
