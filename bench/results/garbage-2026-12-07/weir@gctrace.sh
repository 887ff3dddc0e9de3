#!/bin/sh
# bin/weir with GODEBUG=gctrace=1, its trace to /tmp/gprof/gctrace-PID.log (copied to gctrace/ after).
GODEBUG=gctrace=1 exec /work/wt/garbage/bench/bin/weir "$@" 2>>/tmp/gprof/gctrace-$$.log
