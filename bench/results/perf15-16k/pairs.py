#!/usr/bin/env python3
"""Paired per-round ratios and per-message profiles from wsbench ratio JSON files.
usage: pairs.py FILE.json SERVER[,SERVER...] BASE[,BASE...]"""
import json, statistics as st, sys

def mr(v):
    v = [x for x in v if x is not None]
    if not v:
        return "-"
    return "%.3g [%.3g-%.3g]" % (st.median(v), min(v), max(v))

d = json.load(open(sys.argv[1]))
servers, bases = sys.argv[2].split(","), sys.argv[3].split(",")
cells = {(c["server"], c["size"], c["round"]): c for c in d["cells"]}
sizes = sorted({c["size"] for c in d["cells"]})
rounds = sorted({c["round"] for c in d["cells"]})
print("`%s`" % d["command"])
for size in sizes:
    print("\n%d B: per message (median [min-max] over rounds)\n" % size)
    print("| server | CPU µs | user µs | msg/s | syscalls | read | write(v) | epoll | futex | nanosleep | ctxsw (perf) | load1 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for s in servers + [b for b in bases if b not in servers]:
        cs = [cells.get((s, size, r)) for r in rounds]
        cs = [c for c in cs if c and c["msgs"]]
        p = lambda k: [c.get("perf_per_msg", {}).get(k) for c in cs]
        w = [ (c.get("perf_per_msg", {}).get("write", 0) + c.get("perf_per_msg", {}).get("writev", 0)) if c.get("perf_per_msg") else None for c in cs]
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (s, mr([c["cpu_us_per_msg"] for c in cs]),
              mr([c.get("user_us_per_msg") for c in cs]), mr([c["msgs"] / c["seconds"] for c in cs]),
              mr(p("syscalls")), mr(p("read")), mr(w), mr([ (x or 0) + (y or 0) if x is not None else None for x, y in zip(p("epoll_pwait"), p("epoll_wait"))]),
              mr(p("futex")), mr(p("nanosleep")), mr(p("context-switches")), mr([c["load1"] for c in cs])))
    print("\n%d B: paired per-round ratios, server CPU per message (probe p99 where the run had -probe)\n" % size)
    print("| server / base | CPU: median [range] | per round | probe p99: median [range] | closed-loop p99 |")
    print("|---|---|---|---|---|")
    for s in servers:
        for b in bases:
            if b == s:
                continue
            rs, ps, cl = [], [], []
            for r in rounds:
                a, c = cells.get((s, size, r)), cells.get((b, size, r))
                if not a or not c or not a["msgs"] or not c["msgs"]:
                    continue
                rs.append(a["cpu_us_per_msg"] / c["cpu_us_per_msg"])
                if a.get("probe") and c.get("probe") and c["probe"].get("P99us"):
                    ps.append(a["probe"]["P99us"] / c["probe"]["P99us"])
                if c["p99_us"]:
                    cl.append(a["p99_us"] / c["p99_us"])
            print("| %s / %s | %s | %s | %s | %s |" % (s, b, mr(rs), ", ".join("%.2f" % x for x in rs), mr(ps), mr(cl)))
    if any(cells.get((s, size, r), {}).get("probe") for s in servers for r in rounds):
        print("\n%d B: latency probe (4 connections, 200 msg/s in all, beside the echo load), ms\n" % size)
        print("| server | probe p50 | probe p99 | probe max | samples (+out) |")
        print("|---|---|---|---|---|")
        for s in servers + [b for b in bases if b not in servers]:
            cs = [cells.get((s, size, r)) for r in rounds]
            cs = [c for c in cs if c and c.get("probe")]
            print("| %s | %s | %s | %s | %s |" % (s, mr([c["probe"]["P50us"] / 1e3 for c in cs]), mr([c["probe"]["P99us"] / 1e3 for c in cs]),
                  mr([c["probe"]["MaxUs"] / 1e3 for c in cs]), mr([c["probe"]["N"] + c["probe"].get("Out", 0) for c in cs])))
