#!/usr/bin/env python3
"""Prints the idle7 table from the idle*.json files of a folder (default: this one's)."""
import glob, json, os, sys

d = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
print("| server | run | RSS 3.5 s after | RSS before the GC | held 10 s | held 150 s | held: lowest-highest | held: mean | after FreeOSMemory | Go heap | goroutines (process) | on the loops |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
rows = []
for f in sorted(glob.glob(os.path.join(d, "idle*.json"))):
    run = os.path.basename(f)[4:-5]
    for r in json.load(open(f)).get("idle") or []:
        held = [h["per_conn_kib"] for h in r.get("rss_held") or []]
        order = {"weir": 0, "weir@main": 1, "nbio": 2, "gorilla": 3}.get(r["server"], 4)
        rows.append((order, run, r, held))
for _, run, r, held in sorted(rows, key=lambda x: (x[0], x[1])):
    name = "**weir**" if r["server"] == "weir" else r["server"]
    h = lambda i: "%.2f" % held[i] if held else "-"
    rng = "%.2f-%.2f" % (min(held), max(held)) if held else "-"
    mean = "%.2f" % (sum(held) / len(held)) if held else "-"
    print("| %s | %s | %.2f | %.2f | %s | %s | %s | %s | %.2f | %.2f | %d | %d |" % (
        name, run, r["rss_per_conn_kib"], r["rss_before_gc_per_conn_kib"], h(0), h(-1), rng, mean,
        r["rss_freed_per_conn_kib"], r["heap_per_conn_kib"], r["goroutines"], r.get("tls_loop", 0)))
for f in sorted(glob.glob(os.path.join(d, "idle*.json"))):
    for msg in json.load(open(f)).get("failures") or []:
        print("- %s: %s" % (os.path.basename(f), msg))
