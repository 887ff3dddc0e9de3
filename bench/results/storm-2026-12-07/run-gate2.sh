#!/bin/sh
# Rounds 2-3 of run-gate.sh (both orders).
cd "$(dirname "$0")" || exit 1
./run-pair.sh gate-2-a weir,weir@gate
./run-pair.sh gate-2-b weir@gate,weir
