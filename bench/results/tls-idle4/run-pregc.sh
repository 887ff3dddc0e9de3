#!/bin/sh
# Three more runs of the two weir builds with wsbench's RSS read just before the collector
# runs (rss_before_gc_per_conn_kib: the RSS the connect phase left). From the bench folder.
set -x
O=${1:-results/tls-idle4}; mkdir -p $O
for i in 1 2 3; do
	bin/wsbench run -tls -scenarios idle -servers weir,weir@main -out $O/pregc$i.json 2>&1 | tr '\r' '\n' | grep -v connecting > $O/pregc$i.txt
	{ date -u; uptime; } >> $O/load-pregc.txt
done
