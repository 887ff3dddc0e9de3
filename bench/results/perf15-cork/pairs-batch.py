#!/usr/bin/env python3
"""Paired per-round ratios for the corkBatchMax variants (run-batch.sh):
python3 pairs-batch.py FILE.json ... Prints, per file, medians of CPU/msg, p99,
msg/s per server, then median [min-max] over rounds of the CPU/msg and p99 ratios,
and of p99 x msg/s (the closed loop's p99 in units of its mean round trip, conns / msg/s)."""
import json, statistics, sys

SERVERS = ["weir@cork64", "weir@corkA", "weir@corkB", "weir@2bca2a6"]
PAIRS = [("weir@cork64", "weir@2bca2a6"), ("weir@corkA", "weir@2bca2a6"),
         ("weir@corkB", "weir@2bca2a6"), ("weir@corkA", "weir@cork64"),
         ("weir@corkB", "weir@cork64"), ("weir@corkB", "weir@corkA")]

def mr(xs):
    xs = sorted(xs)
    return f"{statistics.median(xs):.2f} [{xs[0]:.2f}-{xs[-1]:.2f}]" if xs else "-"

for fn in sys.argv[1:]:
    d = json.load(open(fn))
    cells = {(c["server"], c["size"], c["round"]): c for c in d["cells"]}
    sizes = sorted({c["size"] for c in d["cells"]})
    rounds = sorted({c["round"] for c in d["cells"]})
    conns = d["cells"][0]["conns"]
    print(f"\n{fn} (noise: {d.get('noise','')!r}, {len(rounds)} rounds)")
    for size in sizes:
        print(f"\n{conns} x {size} B | CPU µs/msg | p99 µs | msg/s | load1 (medians)")
        for s in SERVERS:
            cs = [cells[(s, size, k)] for k in rounds if (s, size, k) in cells]
            if cs:
                f = lambda key: statistics.median(c[key] for c in cs)
                print(f"{s} | {f('cpu_us_per_msg'):.1f} | {f('p99_us'):.0f} | {statistics.median(c['msgs'] / c['seconds'] for c in cs):.0f} | {f('load1'):.0f}")
        print(f"\npair | CPU ratio per round | CPU median [range] | p99 ratio per round | p99 median [range] | p99 in mean RTTs: median [range] | load1")
        for a, b in PAIRS:
            r, p, q, l = [], [], [], []
            for k in rounds:
                ca, cb = cells.get((a, size, k)), cells.get((b, size, k))
                if ca and cb and cb["cpu_us_per_msg"] > 0:
                    r.append(ca["cpu_us_per_msg"] / cb["cpu_us_per_msg"])
                    if cb["p99_us"] > 0:
                        p.append(ca["p99_us"] / cb["p99_us"])
                        # closed loop: mean RTT = conns / (msg/s); p99 in mean RTTs
                        q.append((ca["p99_us"] * ca["msgs"] / ca["seconds"]) / (cb["p99_us"] * cb["msgs"] / cb["seconds"]))
                    l += [ca["load1"], cb["load1"]]
            if r:
                print(f"{a} / {b} | {', '.join(f'{x:.2f}' for x in r)} | {mr(r)} | {', '.join(f'{x:.2f}' for x in p)} | {mr(p)} | {mr(q)} | {min(l):.0f}-{max(l):.0f}")

# Every given file's rounds pooled (paired within each round), per size.
if len(sys.argv) > 2:
    cells = {}
    for i, fn in enumerate(sys.argv[1:]):
        for c in json.load(open(fn))["cells"]:
            cells[(c["server"], c["size"], i, c["round"])] = c
    for size in sorted({k[1] for k in cells}):
        keys = sorted({(i, r) for (_, sz, i, r) in cells if sz == size})
        print(f"\npooled over {len(sys.argv) - 1} files, {size} B | CPU | p99 | p99 in mean RTTs (median [range], n rounds)")
        for a, b in PAIRS:
            ks = [k for k in keys if (a, size) + k in cells and (b, size) + k in cells]
            A = [cells[(a, size) + k] for k in ks]
            B = [cells[(b, size) + k] for k in ks]
            r = [x["cpu_us_per_msg"] / y["cpu_us_per_msg"] for x, y in zip(A, B)]
            p = [x["p99_us"] / y["p99_us"] for x, y in zip(A, B)]
            q = [(x["p99_us"] * x["msgs"] / x["seconds"]) / (y["p99_us"] * y["msgs"] / y["seconds"]) for x, y in zip(A, B)]
            if r:
                print(f"{a} / {b} | {mr(r)} | {mr(p)} | {mr(q)} | n={len(r)}")
