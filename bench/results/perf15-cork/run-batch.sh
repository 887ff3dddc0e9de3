#!/bin/sh
# corkBatchMax variants, pool mode only: weir@cork64 (h/cork as is, 64 turns),
# weir@corkA (16 turns), weir@corkB (64 turns or 50 µs since the first corked
# write), weir@2bca2a6 (main). $1: tag, $2: "64" or "10k", $3...: extra flags.
set -e
tag=$1; cell=$2; shift 2
S=weir@cork64,weir@corkA,weir@corkB,weir@2bca2a6
B=weir@2bca2a6,weir@cork64
d=results/perf15-cork
{ date -u; uptime; } > $d/$tag-$cell.uptime
case $cell in
64)  bin/wsbench ratio -servers $S -base $B -conns 1000 -sizes 64 "$@" -out $d/$tag-$cell.json > $d/$tag-$cell.md 2> $d/$tag-$cell.log ;;
10k) bin/wsbench ratio -servers $S -base $B -conns 10000 -sizes 1024 "$@" -out $d/$tag-$cell.json > $d/$tag-$cell.md 2> $d/$tag-$cell.log ;;
esac
{ date -u; uptime; } >> $d/$tag-$cell.uptime
