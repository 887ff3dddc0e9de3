#!/bin/sh
# The compute gate experiment (bin/weir@gate, built from /tmp/storm-gate: gate.patch)
# against bin/weir, beside the sleepers, both orders (run-pair.sh).
cd "$(dirname "$0")" || exit 1
./run-pair.sh gate-1-a weir,weir@gate
./run-pair.sh gate-1-b weir@gate,weir
