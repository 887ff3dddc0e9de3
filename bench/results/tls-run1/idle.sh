#!/bin/sh
# The idle scenario again, with the RSS after FreeOSMemory (srvkit /free): from the bench folder.
O=results/tls-run1
{ date -u; uptime; } >> $O/load.txt
bin/wsbench run -tls -scenarios idle -servers weir,weir-goroutine,gorilla,nbio,gws -out $O/idle.json
{ date -u; uptime; } >> $O/load.txt
