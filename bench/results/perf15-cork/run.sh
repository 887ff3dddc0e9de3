#!/bin/sh
# Issue 15, corked echo writes: paired rounds of h/cork (bin/weir, weir-inline) against
# main at 2bca2a6 (bin/weir@2bca2a6[-inline]: scripts exec'ing bench/servers/weir built from
# `git archive 2bca2a6`), rawtcp and gws. Run from bench/ after
#   go build -o bin/ ./servers/weir ./servers/rawtcp ./servers/gws ./cmd/wsbench ./cmd/noise
# $1: tag (quiet or sleepers), $2: extra flags (e.g. -noise "-sleepers 64").
set -e
tag=$1; shift
S=weir,weir@2bca2a6,weir-inline,weir@2bca2a6-inline,rawtcp,gws
B=rawtcp,gws,weir@2bca2a6,weir@2bca2a6-inline
d=results/perf15-cork
{ date -u; uptime; } > $d/$tag-1000.uptime
bin/wsbench ratio -servers $S -base $B -conns 1000 -sizes 64,16384 -rounds 5 "$@" -out $d/$tag-1000.json > $d/$tag-1000.md 2> $d/$tag-1000.log
{ date -u; uptime; } >> $d/$tag-1000.uptime
{ date -u; uptime; } > $d/$tag-10k.uptime
bin/wsbench ratio -servers $S -base $B -conns 10000 -sizes 1024 -rounds 5 "$@" -out $d/$tag-10k.json > $d/$tag-10k.md 2> $d/$tag-10k.log
{ date -u; uptime; } >> $d/$tag-10k.uptime
