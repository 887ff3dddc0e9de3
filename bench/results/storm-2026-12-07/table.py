#!/usr/bin/env python3
"""table.py RUN.json...: one markdown row per server and run (wsbench run -tls
-scenarios idle with the connect-phase GC readings of cmd/wsbench/idlegc.go)."""
import json, sys, os
print("| run | server | conns | RSS 3.5 s | before the GC | after FreeOSMemory | Go heap | held (last) | max goal (MB) | max heap objects (MB) | end goal / live (MB) | GC cycles | connect (s) | handshakes/s |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for f in sys.argv[1:]:
    d = json.load(open(f))
    for r in d.get("idle") or []:
        g = r.get("gc") or {}
        held = r.get("rss_held") or []
        c = r.get("connect_s", 0)
        print(f"| {os.path.basename(f)[:-5]} | {r['server']} | {r['conns']} | {r['rss_per_conn_kib']:.2f} | {r.get('rss_before_gc_per_conn_kib', 0):.2f} | "
              f"{r['rss_freed_per_conn_kib']:.2f} | {r['heap_per_conn_kib']:.2f} | {held[-1]['per_conn_kib'] if held else '':{'.2f' if held else ''}} | "
              f"{g.get('max_goal_mb', 0):.1f} | {g.get('max_heap_objects_mb', 0):.1f} | {g.get('goal_mb', 0):.1f} / {g.get('live_mb', 0):.1f} | "
              f"{g.get('cycles', '')} | {c:.0f} | {r['conns'] / c if c else 0:.0f} |")
