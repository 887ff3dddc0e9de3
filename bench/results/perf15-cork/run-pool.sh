#!/bin/sh
# Pool mode only, after the look-ahead pause (9abd8d5): h/cork vs weir@2bca2a6 vs rawtcp.
# $1: tag, $2...: extra flags (e.g. -noise "-sleepers 64").
set -e
tag=$1; shift
S=weir,weir@2bca2a6,rawtcp
d=results/perf15-cork
{ date -u; uptime; } > $d/$tag-1000.uptime
bin/wsbench ratio -servers $S -base rawtcp,weir@2bca2a6 -conns 1000 -sizes 64,16384 -rounds 5 "$@" -out $d/$tag-1000.json > $d/$tag-1000.md 2> $d/$tag-1000.log
{ date -u; uptime; } >> $d/$tag-1000.uptime
{ date -u; uptime; } > $d/$tag-10k.uptime
bin/wsbench ratio -servers $S -base rawtcp,weir@2bca2a6 -conns 10000 -sizes 1024 -rounds 5 "$@" -out $d/$tag-10k.json > $d/$tag-10k.md 2> $d/$tag-10k.log
{ date -u; uptime; } >> $d/$tag-10k.uptime
