#!/bin/bash
cd /work/wt/hop16/bench
OUT=/tmp/hop16/par; mkdir -p $OUT
for i in ${@:-1 2 3}; do for P in 0 -1; do
  echo "p$P $i start $(uptime)" >> $OUT/log
  bin/wsbench pubsub -shape nats -weir bin/psweir -parallel $P -subs 10000 -rounds 1 -rates 1,2 -p99 5s -warm 700ms -win 4s -sizes 128 -out $OUT/p$P-$i.json > $OUT/p$P-$i.md 2>$OUT/p$P-$i.err
done; done
echo done >> $OUT/log
