#!/bin/sh
cd "$(dirname "$0")/../.."
O=results/tls-idle5
git rev-parse HEAD > $O/commit.txt
{ date -u; uptime; } > $O/load.txt
for i in 1 2 3; do
	bin/wsbench run -tls -scenarios idle -servers weir,nbio,gorilla -idle-hold 150s -out $O/idle$i.json 2>&1 | tr '\r' '\n' | grep -v "connecting\|held .* of" > $O/idle$i.txt
	{ date -u; uptime; } >> $O/load.txt
done
echo done >> $O/load.txt
