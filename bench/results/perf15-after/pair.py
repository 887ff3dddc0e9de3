# Paired per-round ratios of server CPU per message between two servers of a
# wsbench ratio JSON: python3 pair.py FILE.json A B  (prints A/B per size).
import json, sys, statistics
d = json.load(open(sys.argv[1]))
a, b = sys.argv[2], sys.argv[3]
cells = d['cells']
keys = [k for k in cells[0] if 'cpu' in k.lower()]
ck = keys[0]
by = {}
for c in cells:
    by[(c['server'], c['size'], c['round'])] = c
for size in sorted({c['size'] for c in cells}):
    rs = []
    for r in sorted({c['round'] for c in cells}):
        ca, cb = by.get((a, size, r)), by.get((b, size, r))
        if ca and cb and cb[ck]:
            rs.append(ca[ck] / cb[ck])
    if rs:
        print(f"{size} B: {a}/{b} CPU/msg per round {[round(x,3) for x in rs]} median {statistics.median(rs):.3f} [{min(rs):.3f}-{max(rs):.3f}]")
