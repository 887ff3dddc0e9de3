#!/bin/bash
cd /work/wt/nats/bench
echo "subs2 load=$(cut -d' ' -f1 /proc/loadavg)"
bin/wsbench pubsub -shape nats -subs 2 -rounds 3 -warm 700ms -win 1500ms -rates 50,200 -p99 100ms -sizes 128 -out /tmp/natsrun/subs2.json 2>/dev/null | grep '^| 128'
for i in 5 6 7; do
  for v in base fix; do
    cp /tmp/natsrun/psweir-$v bin/psweir
    l=$(cut -d' ' -f1 /proc/loadavg)
    row=$(bin/wsbench pubsub -shape nats -subs 200 -rounds 3 -warm 700ms -win 1500ms -rates 50 -p99 100ms -sizes 128 -out /tmp/natsrun/ab-$v-$i.json 2>/dev/null | grep '^| 128')
    echo "$i $v load=$l $row"
  done
done
cp /tmp/natsrun/psweir-fix bin/psweir
echo done
