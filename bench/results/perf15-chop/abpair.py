# Paired per-round ratios of two builds' engine benchmarks (ab.sh output).
# usage: python3 abpair.py A.txt B.txt  -> B/A per round
import re, statistics, collections, sys
def load(f):
    d = collections.defaultdict(list); a = {}
    # A log line (a WARN from the engine) may sit between a benchmark's name and its figures.
    for m in re.finditer(r'^(Benchmark\S+)\s+(?:\d{4}/\d\d/\d\d [^\n]*\n)?\s*\d+\s+([\d.]+) ns/op[^\n]*?(\d+) allocs/op', open(f).read(), re.M):
        d[m.group(1)].append(float(m.group(2))); a[m.group(1)] = max(a.get(m.group(1), 0), int(m.group(3)))
    return d, a
A, B = sys.argv[1], sys.argv[2]
na, nb = A.split('/')[-1][:-4], B.split('/')[-1][:-4]
m, am = load(A); b, ab = load(B)
print(f"| benchmark | {na} ns/op median [min-max] | {nb} ns/op | {nb}/{na} per round, median [min-max] | allocs/op {na} / {nb} |")
print("|---|---|---|---|---|")
for k in m:
    n = min(len(m[k]), len(b.get(k, [])))
    if not n: continue
    r = [b[k][i]/m[k][i] for i in range(n)]
    f = lambda v: f"{statistics.median(v):.0f} [{min(v):.0f}-{max(v):.0f}]"
    print(f"| {k} | {f(m[k][:n])} | {f(b[k][:n])} | {statistics.median(r):.2f} [{min(r):.2f}-{max(r):.2f}] | {am[k]} / {ab[k]} |")
print("\nrounds:", n)
