package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/weir-ws/weir/internal/loadgen"
)

// ratio is "wsbench ratio": the echo cells only, in interleaved rounds (servers in
// a rotated order each round, every server its own process), with each round's
// server CPU per message divided by the baselines' of the same round (paired
// ratios), so that a slow spell of a shared machine cancels out. Per message it
// also counts context switches (/proc/PID/task/*/status) and, with -perf,
// syscalls, epoll and futex calls (perf stat tracepoints). -noise starts
// cmd/noise with the given flags beside every server for the whole run.

// ratioCell is one server's figures in one round at one size.
type ratioCell struct {
	Server   string             `json:"server"`
	Round    int                `json:"round"`
	Size     int                `json:"size"`
	Conns    int                `json:"conns"`
	Msgs     uint64             `json:"msgs"`
	Seconds  float64            `json:"seconds"`
	CPUus    float64            `json:"cpu_us_per_msg"`
	UserUs   float64            `json:"user_us_per_msg"` // the user-space part of CPUus (utime)
	P99us    float64            `json:"p99_us"`
	CtxSw    float64            `json:"ctxsw_per_msg"`
	NvCtxSw  float64            `json:"nvctxsw_per_msg"`
	Perf     map[string]float64 `json:"perf_per_msg,omitempty"`
	Load1    float64            `json:"load1"`
	Threads  int64              `json:"threads"`
	RunqWait float64            `json:"runq_wait_us_per_msg"` // schedstat: time runnable but not running
	// wss runs: weir's counters after the window (loop vs goroutine mode).
	TLSLoop      uint64 `json:"tls_loop,omitempty"`
	TLSGoroutine uint64 `json:"tls_goroutine,omitempty"`
	// -probe: the fixed-rate latency probe's round trips in the window (probe.go).
	Probe *probeResult `json:"probe,omitempty"`
}

type ratioOut struct {
	Command string      `json:"command"`
	Noise   string      `json:"noise"`
	Started string      `json:"started"`
	Cells   []ratioCell `json:"cells"`
}

// perfEvents are counted with perf stat -p for the measuring window.
var perfEvents = []string{
	"raw_syscalls:sys_enter", "syscalls:sys_enter_epoll_pwait", "syscalls:sys_enter_epoll_wait",
	"syscalls:sys_enter_futex", "syscalls:sys_enter_read", "syscalls:sys_enter_write",
	"syscalls:sys_enter_writev", "syscalls:sys_enter_nanosleep", "context-switches", "cpu-migrations",
}

func runRatio(args []string) {
	fs := flag.NewFlagSet("ratio", flag.ExitOnError)
	only := fs.String("servers", "weir,weir-inline,weir-goroutine,rawtcp,gws,gorilla", "servers")
	conns := fs.Int("conns", 1000, "connections")
	sizesF := fs.String("sizes", "64,16384", "message sizes")
	rounds := fs.Int("rounds", 5, "rounds")
	warm := fs.Duration("warm", time.Second, "warm-up per cell")
	win := fs.Duration("win", 3*time.Second, "measuring window per cell")
	noise := fs.String("noise", "", "start bin/noise with these flags beside every server (space-separated)")
	usePerf := fs.Bool("perf", false, "count syscalls with perf stat -p during each window")
	out := fs.String("out", "", "write the cells as JSON here")
	base := fs.String("base", "rawtcp,gws", "baselines the ratios are taken against")
	useTLS := fs.Bool("tls", false, "wss: servers with a self-signed certificate, generators over TLS (tls.go)")
	probeN := fs.Int("probe", 0, "latency probe: this many more connections sending at a fixed rate beside the echo load (probe.go); 0: none")
	probeRate := fs.Float64("probe-rate", 200, "latency probe: messages a second, all its connections together")
	fs.Parse(args)
	if *probeN > 0 && *useTLS {
		fatal(fmt.Errorf("ratio: -probe does not speak TLS"))
	}

	var sizes []int
	for _, s := range strings.Split(*sizesF, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			fatal(err)
		}
		sizes = append(sizes, n)
	}
	servers := pickServers(allServers(), *only)
	killChildrenOnSignal()
	self, _ := os.Executable()
	dir, _ := os.Getwd()
	r := &runner{p: plan{perGen: 8000, nsrc: 8}, dir: dir, self: self, res: &Results{}}
	servers = keepTLS(*useTLS, servers)
	if *useTLS {
		r.setupTLS()
	}

	if *noise != "" {
		nc := exec.Command(filepath.Join(dir, "bin/noise"), strings.Fields(*noise)...)
		nc.Stderr = os.Stderr
		if err := nc.Start(); err != nil {
			fatal(err)
		}
		trackChild(nc)
		defer func() { nc.Process.Signal(syscall.SIGTERM); nc.Wait(); untrackChild(nc) }()
		time.Sleep(2 * time.Second)
	}
	res := ratioOut{Command: "wsbench ratio " + strings.Join(args, " "), Noise: *noise,
		Started: time.Now().UTC().Format(time.RFC3339)}
	for round := range *rounds {
		for _, s := range rotated(servers, round) {
			res.Cells = append(res.Cells, r.ratioCells(s, round, *conns, sizes, *warm, *win, *usePerf, *probeN, *probeRate)...)
		}
	}
	if *out != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		os.WriteFile(*out, b, 0o644)
	}
	fmt.Print(ratioReport(res, sizes, servers, strings.Split(*base, ",")))
}

// ratioCells runs one server through every size once.
func (r *runner) ratioCells(s server, round, n int, sizes []int, warm, win time.Duration, usePerf bool, probeN int, probeRate float64) []ratioCell {
	r.label = fmt.Sprintf("r%d %s", round, s.name)
	sp, err := r.startServer(s, false, "")
	if err != nil {
		r.fail("%v", err)
		return nil
	}
	defer sp.stop()
	var cells []ratioCell
	for _, size := range sizes {
		r.label = fmt.Sprintf("r%d %s %d×%dB", round, s.name, n, size)
		o := genOptions()
		o.Size = size
		gs, got, err := r.startGens(s, sp.ws, n, 0, o)
		if err != nil {
			r.fail("%v", err)
			continue
		}
		var pr *probe
		if probeN > 0 {
			if pr, err = startProbe(sp.ws, s.raw, probeN, probeRate, size); err != nil {
				r.fail("%v", err)
				gs.quit()
				continue
			}
		}
		gs.send(loadgen.CmdGo)
		time.Sleep(warm)
		gs.send(loadgen.CmdMark)
		if _, err := gs.collect(loadgen.EvMarked, 30*time.Second, nil); err != nil {
			r.fail("%v", err)
			gs.quit()
			if pr != nil {
				pr.close()
			}
			continue
		}
		if pr != nil {
			pr.mark()
		}
		var perfOut *bytes.Buffer
		var perfCmd *exec.Cmd
		if usePerf {
			perfOut = &bytes.Buffer{}
			perfCmd = exec.Command("perf", "stat", "-x,", "-p", strconv.Itoa(sp.pid),
				"-e", strings.Join(perfEvents, ","), "--", "sleep", fmt.Sprintf("%.3f", win.Seconds()))
			perfCmd.Stderr = perfOut
			if perfCmd.Start() != nil {
				perfCmd = nil
			}
		}
		u0, _, _ := cpuSplit(sp.pid)
		c0, sw0, nv0, rq0, t0 := sp.cpu(), 0.0, 0.0, 0.0, time.Now()
		sw0, nv0 = ctxSwitches(sp.pid)
		rq0 = runqWait(sp.pid)
		time.Sleep(win)
		gs.send(loadgen.CmdReport)
		c1, t1 := sp.cpu(), time.Now()
		u1, _, _ := cpuSplit(sp.pid)
		var probed *probeResult
		if pr != nil {
			res := pr.result()
			probed = &res
			pr.close()
		}
		sw1, nv1 := ctxSwitches(sp.pid)
		rq1 := runqWait(sp.pid)
		thr := threads(sp.pid)
		var ts tlsStats
		if r.tlsCert != "" {
			sp.get("/stats", &ts)
		}
		ms, err := gs.collect(loadgen.EvResult, 30*time.Second, nil)
		gs.send(loadgen.CmdStop)
		gs.quit()
		if perfCmd != nil {
			perfCmd.Wait()
		}
		if err != nil {
			r.fail("%v", err)
			continue
		}
		c := ratioCell{Server: s.name, Round: round, Size: size, Conns: got,
			Seconds: t1.Sub(t0).Seconds(), Load1: load1(), Threads: thr,
			TLSLoop: ts.Loop, TLSGoroutine: ts.Goroutine, Probe: probed}
		var counts loadgen.Hist
		for _, m := range ms {
			c.Msgs += m.Msgs
			counts.Merge(m.Hist)
		}
		if c.Msgs > 0 {
			// Messages are counted by the generators from their mark to their
			// report, which brackets this window closely enough at these rates.
			m := float64(c.Msgs)
			c.CPUus = (c1 - c0) / m * 1e6
			c.UserUs = (u1 - u0) / m * 1e6
			c.CtxSw = (sw1 - sw0) / m
			c.NvCtxSw = (nv1 - nv0) / m
			c.RunqWait = (rq1 - rq0) / 1e3 / m
			if perfOut != nil {
				c.Perf = parsePerf(perfOut.Bytes(), m)
			}
		}
		c.P99us = float64(counts.Quantile(.99)) / float64(time.Microsecond)
		r.progress("%.0f msg/s, CPU %.2f µs/msg (user %.2f), ctxsw %.3f/msg, load %.1f, tls loop/goroutine %d/%d%s\n",
			float64(c.Msgs)/c.Seconds, c.CPUus, c.UserUs, c.CtxSw, c.Load1, c.TLSLoop, c.TLSGoroutine, c.Probe.String())
		cells = append(cells, c)
	}
	return cells
}

// ratioReport renders the cells as Markdown: per server and size the medians
// [min-max] over rounds, then the paired per-round ratios against each baseline.
func ratioReport(res ratioOut, sizes []int, servers []server, bases []string) string {
	var b strings.Builder
	get := func(srv string, size, round int) *ratioCell {
		for i := range res.Cells {
			c := &res.Cells[i]
			if c.Server == srv && c.Size == size && c.Round == round {
				return c
			}
		}
		return nil
	}
	maxRound := 0
	for _, c := range res.Cells {
		maxRound = max(maxRound, c.Round+1)
	}
	mr := func(v []float64) string {
		if len(v) == 0 {
			return "-"
		}
		s := slices.Clone(v)
		slices.Sort(s)
		return fmt.Sprintf("%.3g [%.3g-%.3g]", median(slices.Clone(s)), s[0], s[len(s)-1])
	}
	fmt.Fprintf(&b, "\n`%s`  noise: `%s`\n", res.Command, res.Noise)
	for _, size := range sizes {
		fmt.Fprintf(&b, "\n#### %d B\n\n| server | CPU µs/msg | msg/s | p99 µs | ctxsw/msg | nonvol/msg | runq-wait µs/msg | syscalls/msg | epoll/msg | futex/msg | load1 |", size)
		for _, base := range bases {
			fmt.Fprintf(&b, " / %s (paired) |", base)
		}
		fmt.Fprintf(&b, "\n|---|---|---|---|---|---|---|---|---|---|---|")
		for range bases {
			b.WriteString("---|")
		}
		b.WriteString("\n")
		for _, s := range servers {
			var cpu, rate, p99, sw, nv, rq, sc, ep, fx, ld []float64
			ratios := make([][]float64, len(bases))
			for round := range maxRound {
				c := get(s.name, size, round)
				if c == nil || c.Msgs == 0 {
					continue
				}
				cpu = append(cpu, c.CPUus)
				rate = append(rate, float64(c.Msgs)/c.Seconds)
				p99 = append(p99, c.P99us)
				sw = append(sw, c.CtxSw)
				nv = append(nv, c.NvCtxSw)
				rq = append(rq, c.RunqWait)
				ld = append(ld, c.Load1)
				if c.Perf != nil {
					sc = append(sc, c.Perf["syscalls"])
					ep = append(ep, c.Perf["epoll_pwait"]+c.Perf["epoll_wait"])
					fx = append(fx, c.Perf["futex"])
				}
				for i, base := range bases {
					if bc := get(base, size, round); bc != nil && bc.Msgs > 0 && bc.CPUus > 0 {
						ratios[i] = append(ratios[i], c.CPUus/bc.CPUus)
					}
				}
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |", s.name, mr(cpu), mr(rate), mr(p99),
				mr(sw), mr(nv), mr(rq), mr(sc), mr(ep), mr(fx), mr(ld))
			for i := range bases {
				fmt.Fprintf(&b, " %s |", mr(ratios[i]))
			}
			b.WriteString("\n")
		}
		probeTable(&b, res, size, servers, bases, maxRound, get, mr)
	}
	return b.String()
}

// probeTable renders the latency probe's figures for one size, when the run had
// one: per server the medians [min-max] over rounds of the probe's p50 and p99,
// then the p99's paired per-round ratios against each baseline.
func probeTable(b *strings.Builder, res ratioOut, size int, servers []server, bases []string, rounds int,
	get func(string, int, int) *ratioCell, mr func([]float64) string) {
	any := false
	for _, c := range res.Cells {
		any = any || c.Size == size && c.Probe != nil
	}
	if !any {
		return
	}
	fmt.Fprintf(b, "\nLatency probe (fixed rate beside the echo load), %d B:\n\n| server | probe p50 µs | probe p99 µs | probe max µs | samples | errors |", size)
	for _, base := range bases {
		fmt.Fprintf(b, " p99 / %s (paired) |", base)
	}
	b.WriteString("\n|---|---|---|---|---|---|")
	for range bases {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, s := range servers {
		var p50, p99, pmax, n, errs []float64
		ratios := make([][]float64, len(bases))
		for round := range rounds {
			c := get(s.name, size, round)
			if c == nil || c.Probe == nil || c.Probe.N == 0 {
				continue
			}
			p50 = append(p50, c.Probe.P50us)
			p99 = append(p99, c.Probe.P99us)
			pmax = append(pmax, c.Probe.MaxUs)
			n = append(n, float64(c.Probe.N))
			errs = append(errs, float64(c.Probe.Errors))
			for i, base := range bases {
				if bc := get(base, size, round); bc != nil && bc.Probe != nil && bc.Probe.P99us > 0 {
					ratios[i] = append(ratios[i], c.Probe.P99us/bc.Probe.P99us)
				}
			}
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |", s.name, mr(p50), mr(p99), mr(pmax), mr(n), mr(errs))
		for i := range bases {
			fmt.Fprintf(b, " %s |", mr(ratios[i]))
		}
		b.WriteString("\n")
	}
}
