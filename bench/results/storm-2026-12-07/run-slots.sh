#!/bin/sh
# Slots: bin/weir (Config.MaxTLSHandshakes' default, 64 on 2 cores) against
# bin/weir@s32 (weir@s32.sh: 32), beside the sleepers, 4 rounds, the order
# alternating (run-pair.sh).
cd "$(dirname "$0")" || exit 1
for i in 1 2; do
  ./run-pair.sh slots-$i-a weir,weir@s32
  ./run-pair.sh slots-$i-b weir@s32,weir
done
