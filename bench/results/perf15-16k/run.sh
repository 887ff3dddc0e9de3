#!/bin/sh
# Issue 15, 16 KiB echo: paired rounds of this branch (bin/weir) against main (bin/weir@main:
# a script exec'ing bench/servers/weir built from `git archive` of /work/main's HEAD), rawtcp
# and gws. Run from bench/ after
#   go build -o bin/ ./servers/weir ./servers/rawtcp ./servers/gws ./cmd/wsbench ./cmd/noise
# $1: tag, $2: sizes, then extra flags (e.g. -noise "-sleepers 64").
set -e
tag=$1; sizes=$2; shift 2
S=${SERVERS:-weir,weir@main,rawtcp,gws}
B=${BASES:-rawtcp,gws,weir@main}
d=results/perf15-16k
{ date -u; uptime; git rev-parse --short HEAD; } > $d/$tag.uptime
bin/wsbench ratio -servers $S -base $B -conns 1000 -sizes $sizes -rounds ${ROUNDS:-5} "$@" -out $d/$tag.json > $d/$tag.md 2> $d/$tag.log
{ date -u; uptime; } >> $d/$tag.uptime
