#!/usr/bin/env python3
# Tables of results/tls-idle4 for tls-2026-12-07-idle4.md: one row per server and run
# (idle<i>.json; prof.json is run 6), then the MemStats of the profiled run in runtime/metrics' classes.
import json, os, sys
O = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(__file__)
loads = [l.split('load average: ')[1].split(',')[0] for l in open(os.path.join(O, 'load.txt')) if 'load average' in l]
print('| server | run | load before/after | RSS KiB/conn | RSS before the GC | RSS after FreeOSMemory | Go heap KiB/conn | goroutines (process) | on the loops |')
print('|---|---|---|---|---|---|---|---|---|')
order = ['weir', 'weir@main', 'nbio', 'gorilla']
for i in range(1, 7):
    f = os.path.join(O, 'idle%d.json' % i if i < 6 else 'prof.json')
    if not os.path.exists(f):
        continue
    rows = {r['server']: r for r in json.load(open(f))['idle']}
    for s in order:
        r = rows.get(s)
        if not r:
            continue
        run = str(i) if i < 6 else '6 (profiled)'
        b = lambda s: '**%s**' % s if r['server'] == 'weir' else s
        pre = r.get('rss_before_gc_per_conn_kib')
        print('| %s | %s | %s/%s | %s | %s | %.2f | %s | %d | %s |' % (b(s), run, loads[i - 1], loads[i] if i < len(loads) else '?',
              b('%.2f' % r['rss_per_conn_kib']), '%.2f' % pre if pre else '-', r['rss_freed_per_conn_kib'], b('%.2f' % r['heap_per_conn_kib']),
              r['goroutines'], r.get('tls_loop', 0) or '-'))
print()
print('| server | heap/objects | heap/unused | heap/free | heap/released | retained (inuse+free) | /gc/heap/goal | 1.1 × goal | stacks | metadata (mspan+mcache+GC+other) | GCs |')
print('|---|---|---|---|---|---|---|---|---|---|---|')
for s in ['weir', 'weir@main']:
    p = os.path.join(O, 'prof', 'idle-%s.memstats.json' % s)
    if not os.path.exists(p):
        continue
    m = json.load(open(p)); k = lambda v: '%.3f' % (v / 1024 / 15000)
    print('| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d |' % (s, k(m['HeapAlloc']), k(m['HeapInuse'] - m['HeapAlloc']),
          k(m['HeapIdle'] - m['HeapReleased']), k(m['HeapReleased']), k(m['HeapInuse'] + m['HeapIdle'] - m['HeapReleased']),
          k(m['NextGC']), k(1.1 * m['NextGC']), k(m['StackInuse']), k(m['MSpanInuse'] + m['MCacheInuse'] + m['GCSys'] + m['OtherSys']), m['NumGC']))
