#!/bin/sh
# Beside bin/noise -sleepers 64: the handshake slots, 32 (WEIR_MAX_TLS_HANDSHAKES) against the
# default (64 on 2 cores), no gctrace; then the default again with gctrace (bin/weir@gctrace is
# weir@gctrace.sh).
cd "$(dirname "$0")/../.." || exit 1
R=results/garbage-2026-12-07
for slots in 32 default gctrace; do
  bin/noise -sleepers 64 > /dev/null 2>&1 &
  NOISE=$!
  sleep 5
  echo "slots-$slots start: $(uptime)" >> $R/load.txt
  case $slots in
  default) bin/wsbench run -tls -scenarios idle -servers weir -out $R/slots-$slots-sleepers.json ;;
  gctrace) cp $R/weir@gctrace.sh bin/weir@gctrace
    bin/wsbench run -tls -scenarios idle -servers weir@gctrace -out $R/gctrace-slots64-sleepers-2.json
    rm bin/weir@gctrace ;;
  *) WEIR_MAX_TLS_HANDSHAKES=$slots bin/wsbench run -tls -scenarios idle -servers weir -out $R/slots-$slots-sleepers.json ;;
  esac
  echo "slots-$slots end: $(uptime)" >> $R/load.txt
  kill $NOISE
  wait $NOISE 2>/dev/null
  sleep 5
done
