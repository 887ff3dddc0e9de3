#!/usr/bin/env python3
"""heapsplit.py BIN HEAP...: a heap profile's inuse_space split by who allocated
(the first matching frame of each stack, from `go tool pprof -traces`)."""
import re, subprocess, sys
groups = [("connections (engine.newConn, tlsloop.New)", r"engine\.\(\*engine\)\.newConn|tlsloop\.New"),
          ("tlsrec AEADs (hand-off, first record, keepalive)", r"tlsrec\.\(\*trafficKey\)\.aeadFor"),
          ("crypto/tls handshake", r"crypto/tls\.\(\*Conn\)\.handshakeContext"),
          ("tlshand/handoff (buffers, key log, Result)", r"internal/tlshand|internal/handoff"),
          ("engine workers, loops, queues", r"newWorker|workq|reactor|engine\.")]
unit = {"B": 1, "kB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}
for heap in sys.argv[2:]:
    out = subprocess.run(["go", "tool", "pprof", "-sample_index=inuse_space", "-traces", sys.argv[1], heap],
                         capture_output=True, text=True).stdout
    tot, by = 0.0, {}
    for blk in out.split("-----------+-------------------------------------------------------")[1:]:
        lines = [l for l in blk.strip("\n").split("\n") if l.strip() and "bytes:" not in l]
        if not lines:
            continue
        m = re.match(r"\s*([\d.]+)(B|kB|MB|GB)\s", lines[0])
        if not m:
            continue
        v = float(m.group(1)) * unit[m.group(2)]
        tot += v
        name = "other"
        for g, rx in groups:
            if any(re.search(rx, l) for l in lines):
                name = g
                break
        by[name] = by.get(name, 0) + v
    print(f"{heap}: {tot / 2**20:.1f} MB in use at the last GC")
    for k, v in sorted(by.items(), key=lambda x: -x[1]):
        print(f"  {v / 2**20:5.1f} MB  {k}")
