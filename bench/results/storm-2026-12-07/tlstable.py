#!/usr/bin/env python3
"""tlstable.py TLSSTORM.json...: medians [range] per mode and server of wsbench
tlsstorm cells, and each server's handshakes/s over weir's in the same round."""
import json, sys, statistics as s
for f in sys.argv[1:]:
    d = json.load(open(f))
    cells = d["cells"]
    servers = list(dict.fromkeys(c["server"] for c in cells))
    print(f"`{d['command']}`\n")
    print("| mode | server | handshakes/s | server CPU µs/handshake | ÷ weir, per round | resumed | errors | load1 |")
    print("|---|---|---|---|---|---|---|---|")
    for mode in ("full", "resumed"):
        for srv in servers:
            c = [x for x in cells if x["server"] == srv and x["mode"] == mode]
            ps = [x["per_sec"] for x in c]
            cpu = [x["server_cpu_us_per_handshake"] for x in c]
            ld = [x["load1"] for x in c]
            r = []
            for x in c:
                w = [y for y in cells if y["server"] == "weir" and y["mode"] == mode and y["round"] == x["round"]]
                if w and srv != "weir":
                    r.append(x["per_sec"] / w[0]["per_sec"])
            ratio = f"{s.median(r):.2f} [{min(r):.2f}-{max(r):.2f}]" if r else "-"
            print(f"| {mode} | {srv} | {s.median(ps):.0f} [{min(ps):.0f}-{max(ps):.0f}] | {s.median(cpu):.0f} [{min(cpu):.0f}-{max(cpu):.0f}] | {ratio} | "
                  f"{sum(x['resumed'] for x in c)}/{sum(x['handshakes'] for x in c)} | {sum(x['errors'] for x in c)} | {s.median(ld):.1f} [{min(ld):.1f}-{max(ld):.1f}] |")
    print()
