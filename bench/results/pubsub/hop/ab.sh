#!/bin/bash
# paired A/B: psweir without (base) and with (fix) the yield, alternating
cd /work/wt/nats/bench
for i in 1 2 3 4; do
  for v in base fix; do
    cp /tmp/natsrun/psweir-$v bin/psweir
    l=$(cut -d' ' -f1 /proc/loadavg)
    row=$(bin/wsbench pubsub -shape nats -subs 200 -rounds 2 -warm 700ms -win 1500ms -rates 50 -p99 100ms -sizes 128 -out /tmp/natsrun/ab-$v-$i.json 2>/dev/null | grep '^| 128')
    echo "$i $v load=$l $row"
  done
done
cp /tmp/natsrun/psweir-fix bin/psweir
