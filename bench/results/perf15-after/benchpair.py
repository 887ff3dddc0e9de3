import re, statistics, collections
def load(f):
    d = collections.defaultdict(list); a = {}
    for line in open(f):
        m = re.match(r'^(Benchmark\S+)\s+\d+\s+([\d.]+) ns/op.*?(\d+) allocs/op', line)
        if m:
            d[m.group(1)].append(float(m.group(2))); a[m.group(1)] = max(a.get(m.group(1), 0), int(m.group(3)))
    return d, a
m, am = load('/tmp/lf-bench-main.txt'); b, ab = load('/tmp/lf-bench-branch.txt')
print("| benchmark | main ns/op median [min-max] | branch ns/op | branch/main per round, median [min-max] | allocs/op main / branch |")
print("|---|---|---|---|---|")
for k in m:
    n = min(len(m[k]), len(b.get(k, [])))
    if not n: continue
    r = [b[k][i]/m[k][i] for i in range(n)]
    f = lambda v: f"{statistics.median(v):.0f} [{min(v):.0f}-{max(v):.0f}]"
    print(f"| {k} | {f(m[k][:n])} | {f(b[k][:n])} | {statistics.median(r):.2f} [{min(r):.2f}-{max(r):.2f}] | {am[k]} / {ab[k]} |")
print("rounds:", n)
