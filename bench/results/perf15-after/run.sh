#!/bin/sh
# Issue 15 after-measurements (helper loopfix), from the bench folder.
set -x
bin/wsbench chop -servers weir@main,weir@p2,weir@p3,weir@l1,weir-inline -chops 64,2048 -reps 3 -gap 20us -perf > results/perf15-after/chop.md 2> results/perf15-after/chop.log
bin/wsbench ratio -servers weir@main,weir@l1,rawtcp,gws -rounds 3 -perf -out results/perf15-after/quiet.json > results/perf15-after/quiet.md 2> results/perf15-after/quiet.log
bin/wsbench ratio -servers weir@main,weir@l1,rawtcp,gws -rounds 3 -perf -noise "-sleepers 64" -out results/perf15-after/sleepers.json > results/perf15-after/sleepers.md 2> results/perf15-after/sleepers.log
