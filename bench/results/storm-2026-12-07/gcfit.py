#!/usr/bin/env python3
"""gcfit.py TRACE...: for each GODEBUG=gctrace=1 log of a storm, the marked heap C
less what the connections keep (L, growing linearly from 1.5 MB at the storm's start to
the live heap of the first forced GC after it) against the heap allocated during the
mark (B - A): least-squares C - L = a + b (B - A). a is what is live and not the
connections' (the handshakes in flight, buffers); b near 1 means the excess is the
allocation during the mark, which the GC counts as marked (runtime.gcmarknewobject)."""
import re, sys, statistics as s
for f in sys.argv[1:]:
    rows, forced = [], []
    for l in open(f):
        m = re.match(r'gc (\d+) @([\d.]+)s .*?: ([\d.]+)\+([\d.]+)\+([\d.]+) ms clock.*?(\d+)->(\d+)->(\d+) MB, (\d+) MB goal', l)
        if not m:
            continue
        v = [float(x) for x in m.groups()]
        (forced if 'forced' in l else rows).append(v)
    rows = rows[3:]  # the start-up cycles
    lend = forced[-1][7] if forced else rows[-1][7]
    t0, t1 = rows[0][1], rows[-1][1]
    x = [r[6] - r[5] for r in rows]
    y = [r[7] - (1.5 + (lend - 1.5) * (r[1] - t0) / (t1 - t0)) for r in rows]
    mx, my = s.mean(x), s.mean(y)
    b = sum((a - mx) * (c - my) for a, c in zip(x, y)) / sum((a - mx) ** 2 for a in x)
    a = my - b * mx
    r = sum((p - mx) * (q - my) for p, q in zip(x, y)) / len(x) / (s.pstdev(x) * s.pstdev(y))
    print(f"{f}: {len(rows)} cycles, mark median {s.median(r_[3] for r_ in rows):.0f} ms (max {max(r_[3] for r_ in rows):.0f}), "
          f"B-A median {s.median(x):.0f} MB (max {max(x):.0f}), C-L = {a:.2f} + {b:.2f} (B-A) MB, r = {r:.2f}, largest goal {max(r_[8] for r_ in rows):.0f} MB")
