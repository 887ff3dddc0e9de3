#!/usr/bin/env python3
"""Paired per-round ratios from wsbench ratio JSON: python3 pairs.py FILE.json ...
Prints, per size, median [min-max] over rounds of CPU/msg and p99 ratios for the pairs below."""
import json, statistics, sys

PAIRS = [("weir", "weir@2bca2a6"), ("weir-inline", "weir@2bca2a6-inline"),
         ("weir", "rawtcp"), ("weir-inline", "rawtcp"), ("weir@2bca2a6", "rawtcp"),
         ("weir@2bca2a6-inline", "rawtcp"), ("weir", "gws"), ("weir-inline", "gws")]

def mr(xs):
    xs = sorted(xs)
    return f"{statistics.median(xs):.3g} [{xs[0]:.3g}-{xs[-1]:.3g}]" if xs else "-"

for fn in sys.argv[1:]:
    d = json.load(open(fn))
    cells = {}
    for c in d["cells"]:
        cells[(c["server"], c["size"], c["round"])] = c
    sizes = sorted({c["size"] for c in d["cells"]})
    rounds = sorted({c["round"] for c in d["cells"]})
    print(f"\n{fn} (noise: {d.get('noise','')!r})")
    for size in sizes:
        conns = d["cells"][0]["conns"]
        print(f"\n{conns} x {size} B | CPU ratio per round | median [range] | p99 ratio median [range] | load1")
        for a, b in PAIRS:
            r, p, l = [], [], []
            for k in rounds:
                ca, cb = cells.get((a, size, k)), cells.get((b, size, k))
                if ca and cb and cb["cpu_us_per_msg"] > 0:
                    r.append(ca["cpu_us_per_msg"] / cb["cpu_us_per_msg"])
                    if cb["p99_us"] > 0:
                        p.append(ca["p99_us"] / cb["p99_us"])
                    l += [ca["load1"], cb["load1"]]
            print(f"{a} / {b} | {', '.join(f'{x:.2f}' for x in r)} | {mr(r)} | {mr(p)} | {mr(l)}")
