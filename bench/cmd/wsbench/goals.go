package main

import (
	"fmt"
)

// The goals section of docs/benchmarks.md and the methodology text.

// goals checks weir's stated targets against this run's figures.
func (p *reporter) goals() {
	r := p.r
	p.f("## weir's goals, checked against this run\n\n")
	p.f("| goal | weir | best competitor | verdict |\n|---|---:|---:|---|\n")
	verdict := func(ok bool, by float64) string {
		if ok {
			return "met"
		}
		return fmt.Sprintf("**missed** (by %.0f%%)", by*100)
	}
	// Echo CPU per message below every peer and below raw TCP, at each size.
	for _, e := range r.Echo {
		if e.Server != "weir" || e.Deflate {
			continue
		}
		rows := p.echoRows(false, nominal(e.Conns), e.Size)
		best, bestName := 0.0, ""
		for _, o := range rows {
			if !isWeir(o.Server) && o.CPUPerMsg > 0 && (best == 0 || o.CPUPerMsg < best) {
				best, bestName = o.CPUPerMsg, o.Server
			}
		}
		if best > 0 {
			p.f("| echo %d×%s server CPU/msg below every peer and raw TCP | %.2f µs | %.2f µs (%s) | %s |\n",
				nominal(e.Conns), size(e.Size), e.CPUPerMsg, best, bestName, verdict(e.CPUPerMsg < best, e.CPUPerMsg/best-1))
		}
		if e.Size == 16384 {
			bt, btName := 0.0, ""
			for _, o := range rows {
				if isPeer(o.Server) && o.MsgsPerSec > bt {
					bt, btName = o.MsgsPerSec, o.Server
				}
			}
			if bt > 0 {
				p.f("| echo %d×16 KiB throughput above every peer | %.0f msg/s | %.0f msg/s (%s) | %s |\n",
					nominal(e.Conns), e.MsgsPerSec, bt, btName, verdict(e.MsgsPerSec > bt, 1-e.MsgsPerSec/bt))
			}
		}
	}
	var weirIdle, nbioIdle float64
	for _, e := range r.Idle {
		if !e.Deflate && e.Server == "weir" {
			weirIdle = e.RSSPerConnKiB
		}
		if !e.Deflate && e.Server == "nbio" {
			nbioIdle = e.RSSPerConnKiB
		}
	}
	if weirIdle > 0 && nbioIdle > 0 {
		p.f("| idle RSS/conn at most half of nbio's | %.2f KiB | %.2f KiB (half: %.2f) | %s |\n",
			weirIdle, nbioIdle, nbioIdle/2, verdict(weirIdle <= nbioIdle/2, weirIdle/(nbioIdle/2)-1))
	}
	var weirB, gwsB float64
	for _, e := range r.Bcast {
		switch e.Server {
		case "weir":
			weirB = e.Millis
		case "gws":
			gwsB = e.Millis
		}
	}
	if weirB > 0 && gwsB > 0 {
		p.f("| broadcast faster than gws | %.1f ms | %.1f ms (gws) | %s |\n", weirB, gwsB, verdict(weirB < gwsB, weirB/gwsB-1))
	}
	var weirS, bestS float64
	bestSName := ""
	for _, e := range r.Storm {
		if e.Server == "weir" {
			weirS = e.PerSec
		} else if isPeer(e.Server) && e.PerSec > bestS {
			bestS, bestSName = e.PerSec, e.Server
		}
	}
	if weirS > 0 && bestS > 0 {
		p.f("| handshakes/s above every peer | %.0f /s | %.0f /s (%s) | %s |\n", weirS, bestS, bestSName, verdict(weirS > bestS, 1-weirS/bestS))
	}
	p.f("\n")
}

const methodology = `## How it is measured

- Every server is its own process (bench/servers/*), doing the same job: echo every
  message back with its opcode, broadcast one message on a trigger, and report
  memory statistics (Go: runtime.MemStats after runtime.GC; Node: process.memoryUsage
  after gc()). All servers run one after the other in one run, with the same
  generator and settings; compare ratios within a run, not absolute numbers across
  machines.
- The load generator (internal/loadgen, the same one as weir bench) runs on weir's own client
  (engine.NewClient with a Handler: no goroutine per connection), in as many
  processes as the open-file limit needs, dialling from 127.0.0.2 and up with
  IP_BIND_ADDRESS_NO_PORT. The raw TCP baseline is driven by one goroutine per
  connection sending the same bytes without framing.
- Generator and server share the machine's CPUs, so throughput and latency depend
  on how well each server leaves CPU to the generator; **server CPU per message**
  (utime+stime from /proc/PID/stat, 10 ms ticks) is the fair per-unit cost.
- Latencies come from a log histogram with 2 % buckets; under a closed loop the
  round trip is dominated by queueing (connections / throughput).
- Known limits: gobwas runs goroutine-per-connection (not its netpoll mode) and has
  no permessage-deflate here; the Node server is single-threaded; the kernel
  figures are machine-wide and include the generator's sockets.

## How to run

From the repository root (the bench folder is its own Go module):

    cd bench && npm ci --prefix servers/nodews && go build -o bin/ ./servers/... ./cmd/wsbench
    bin/wsbench run            # full run, about 35 minutes on 2 cores: results/results.json
    bin/wsbench report -in results/results.json -md ../docs/benchmarks.md -charts results
    bin/wsbench run -quick     # the quick subset (make bench), under 5 minutes

` + "`bin/wsbench run -servers weir,gws -scenarios echo,idle -profile prof`" + ` narrows a
run and writes CPU profiles of the weir servers (go tool pprof bin/weir prof/*.pprof).
bin/wsbench run -scenarios storm -merge results/results.json -out results/results.json
reruns one scenario and keeps the others from an earlier run (the header above lists
every command that went into the results).

`
