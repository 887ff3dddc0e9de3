#!/usr/bin/env python3
"""classes.py RUN.json...: runtime/metrics memory classes per connection over the
baseline, read beside the RSS before /stats' GC ("pre") and after /free."""
import json, sys, os
keys = [("heap/objects", "heap objects"), ("heap/free", "heap free"), ("heap/released", "heap released"),
        ("heap/unused", "heap unused"), ("heap/stacks", "stacks"), ("metadata/mspan/inuse", "mspan"),
        ("metadata/other", "other metadata")]
print("| run | server | when | " + " | ".join(k[1] for k in keys) + " |")
print("|---|---|---|" + "---|" * len(keys))
for f in sys.argv[1:]:
    for r in json.load(open(f)).get("idle") or []:
        g = r.get("gc") or {}
        b = g.get("base")
        for when in ("pre", "after_free"):
            p = g.get(when)
            if not b or not p:
                continue
            v = [(p[f"/memory/classes/{k}:bytes"] - b[f"/memory/classes/{k}:bytes"]) / r["conns"] for k, _ in keys]
            print(f"| {os.path.basename(f)[:-5]} | {r['server']} | {when} | " + " | ".join(f"{x:.0f}" for x in v) + " |")
