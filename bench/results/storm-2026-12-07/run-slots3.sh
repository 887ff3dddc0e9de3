#!/bin/sh
# Round 3 of run-slots.sh (both orders), run after it.
cd "$(dirname "$0")" || exit 1
./run-pair.sh slots-3-a weir,weir@s32
./run-pair.sh slots-3-b weir@s32,weir
