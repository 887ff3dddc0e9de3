package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/weir-ws/weir/internal/loadgen"
)

// server is one benchmark server program.
type server struct {
	name    string
	cmd     []string // relative to the bench folder
	raw     bool     // raw TCP: no WebSocket framing
	deflate bool     // supports permessage-deflate
	goSrv   bool     // a Go server (heap figures meaningful)
}

// pickServers returns the servers of all named in list (comma-separated), in
// the list's order: a run goes through its servers in that order, so that
// runs which swap the order really do (unknown names are left out).
func pickServers(all []server, list string) []server {
	want := strings.Split(list, ",")
	out := slices.DeleteFunc(slices.Clone(all), func(s server) bool { return !slices.Contains(want, s.name) })
	slices.SortStableFunc(out, func(a, b server) int {
		return slices.Index(want, a.name) - slices.Index(want, b.name)
	})
	return out
}

func allServers() []server {
	// Other builds of weir's pool-mode server (bin/weir@TAG, e.g. built from the
	// main branch) can be named in -servers for paired before/after runs.
	var extra []server
	if ps, _ := filepath.Glob("bin/weir@*"); len(ps) > 0 {
		for _, p := range ps {
			extra = append(extra, server{name: filepath.Base(p), cmd: []string{p}, deflate: true, goSrv: true})
		}
	}
	return append([]server{
		{name: "weir", cmd: []string{"bin/weir"}, deflate: true, goSrv: true},
		{name: "weir-inline", cmd: []string{"bin/weir", "-mode", "inline"}, deflate: true, goSrv: true},
		{name: "weir-goroutine", cmd: []string{"bin/weir", "-mode", "goroutine"}, deflate: true, goSrv: true},
		{name: "gws", cmd: []string{"bin/gws"}, deflate: true, goSrv: true},
		{name: "gorilla", cmd: []string{"bin/gorilla"}, deflate: true, goSrv: true},
		{name: "gobwas", cmd: []string{"bin/gobwas"}, goSrv: true},
		{name: "nbio", cmd: []string{"bin/nbio"}, deflate: true, goSrv: true},
		{name: "coder", cmd: []string{"bin/coder"}, deflate: true, goSrv: true},
		{name: "nodews", cmd: []string{"node", "--expose-gc", "servers/nodews/server.js"}, deflate: true},
		{name: "rawtcp", cmd: []string{"bin/rawtcp"}, raw: true, goSrv: true},
	}, extra...)
}

// plan holds a run's settings.
type plan struct {
	echoConns  []int
	echoSizes  []int
	warm, win  time.Duration
	idleConns  int
	bcastConns int
	bcastReps  int
	stormDur   time.Duration
	stormConc  int
	zConns     int
	zIdle      int
	perGen     int
	nsrc       int
	scenarios  map[string]bool
	profileDir string
	rounds     int           // echo cells are run this many times (medians kept)
	idleHold   time.Duration // idle: after the usual readings, hold the connections this long more, reading the RSS
	connectMax time.Duration // how long the generators may take to connect (default 3 min)
}

type runner struct {
	p     plan
	dir   string // bench folder
	self  string
	res   *Results
	label string

	tlsCert, tlsKey string // wss runs (-tls): the servers' certificate and key (tls.go)
}

func runRun(args []string) {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	quick := fs.Bool("quick", false, "the quick subset (under 5 minutes)")
	out := fs.String("out", "", "results JSON (default results/results.json, or results-quick.json)")
	only := fs.String("servers", "", "comma-separated server names (default: all)")
	scen := fs.String("scenarios", "echo,idle,broadcast,storm,deflate", "scenarios to run")
	prof := fs.String("profile", "", "write CPU profiles of the weir servers into this folder")
	rounds := fs.Int("rounds", 0, "run every echo cell and storm this many times, servers in a rotated order, and keep the medians (0: 3, or 1 with -quick)")
	merge := fs.String("merge", "", "read this results file and replace only the scenarios run now (the rest is kept); written to -out")
	useTLS := fs.Bool("tls", false, "wss: servers with a self-signed certificate, generators over TLS (tls.go)")
	connectMax := fs.Duration("connect-timeout", 3*time.Minute, "how long the generators may take to connect (a wss storm of 15,000 beside bin/noise -sleepers 64 takes 2-3 min)")
	idleHold := fs.Duration("idle-hold", 0, "idle: hold the connections this much longer after the readings, reading the RSS every 10 s (RSSHeld: the last; steady idle, once the runtime has given back what the connect phase left)")
	fs.Parse(args)

	p := plan{
		echoConns: []int{1000, 10000}, echoSizes: []int{64, 1024, 16384},
		warm: 2 * time.Second, win: 5 * time.Second,
		idleConns: 15000, bcastConns: 10000, bcastReps: 3,
		stormDur: 5 * time.Second, stormConc: 32,
		zConns: 1000, zIdle: 15000, perGen: 8000, nsrc: 8,
	}
	if *quick {
		p.echoConns, p.echoSizes = []int{1000}, []int{64, 16384}
		p.warm, p.win = time.Second, 2*time.Second
		p.idleConns, p.bcastConns, p.bcastReps = 5000, 5000, 1
		p.stormDur, p.zConns, p.zIdle = 2*time.Second, 1000, 0
	}
	p.rounds = *rounds
	if p.rounds <= 0 {
		p.rounds = 3
		if *quick {
			p.rounds = 1
		}
	}
	p.scenarios = map[string]bool{}
	for _, s := range strings.Split(*scen, ",") {
		p.scenarios[strings.TrimSpace(s)] = true
	}
	p.profileDir = *prof
	p.idleHold = *idleHold
	p.connectMax = *connectMax
	killChildrenOnSignal()
	if *out == "" {
		*out = "results/results.json"
		if *quick {
			*out = "results/results-quick.json"
		}
	}
	self, _ := os.Executable()
	dir, _ := os.Getwd()
	r := &runner{p: p, dir: dir, self: self, res: &Results{
		Started: time.Now().UTC().Format(time.RFC3339), Command: "wsbench run " + strings.Join(args, " "),
		Quick: *quick, Machine: machine(), Versions: versions(dir),
		Settings: map[string]any{
			"echo_conns": p.echoConns, "echo_sizes": p.echoSizes, "warmup_s": p.warm.Seconds(),
			"window_s": p.win.Seconds(), "idle_conns": p.idleConns, "bcast_conns": p.bcastConns,
			"bcast_reps": p.bcastReps, "storm_s": p.stormDur.Seconds(), "storm_conc_per_gen": p.stormConc,
			"deflate_echo_conns": p.zConns, "deflate_idle_conns": p.zIdle, "conns_per_gen_process": p.perGen,
			"source_addrs": p.nsrc, "echo_rounds": p.rounds,
		}}}
	servers := allServers()
	if *only != "" {
		servers = pickServers(servers, *only)
	}
	servers = keepTLS(*useTLS, servers)
	if *useTLS {
		r.setupTLS()
		r.res.Settings["tls"] = true
	}
	t0 := time.Now()
	if p.scenarios["echo"] {
		// Rounds, each with the servers in a rotated order, so that a slow spell
		// of the (shared, noisy) machine does not land on one server's cells.
		for round := range p.rounds {
			for _, s := range rotated(servers, round) {
				r.echo(s, false, p.echoConns, p.echoSizes)
			}
		}
	}
	if p.scenarios["idle"] {
		for _, s := range servers {
			r.idle(s, false, p.idleConns)
		}
	}
	if p.scenarios["broadcast"] {
		for _, s := range servers {
			r.bcast(s)
		}
	}
	if p.scenarios["storm"] {
		for round := range p.rounds {
			for _, s := range rotated(servers, round) {
				r.storm(s)
			}
		}
		r.res.Storm = medianStorms(r.res.Storm)
	}
	if p.scenarios["deflate"] {
		for round := range p.rounds {
			for _, s := range rotated(servers, round) {
				if s.deflate {
					r.echo(s, true, []int{p.zConns}, []int{1024})
				}
			}
		}
		for _, s := range servers {
			if s.deflate && p.zIdle > 0 {
				r.idle(s, true, p.zIdle)
			}
		}
	}
	r.res.Echo = medianCells(r.res.Echo)
	r.res.Seconds = time.Since(t0).Seconds()
	if *merge != "" {
		r.res = mergeInto(*merge, r.res, p.scenarios)
	}
	os.MkdirAll(filepath.Dir(*out), 0o755)
	b, _ := json.MarshalIndent(r.res, "", "  ")
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		fatal(err)
	}
	fmt.Fprintf(os.Stderr, "\nwrote %s (%.0f s)\n", *out, r.res.Seconds)
}

func (r *runner) fail(format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	fmt.Fprintf(os.Stderr, "\n%s: %s\n", r.label, msg)
	r.res.Failures = append(r.res.Failures, r.label+": "+msg)
}

func (r *runner) progress(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "\r\033[K[%s] %s", r.label, fmt.Sprintf(format, a...))
}

// srvProc is a running server.
type srvProc struct {
	cmd   *exec.Cmd
	pid   int
	ws    string
	stats string
	pub   string // pub/sub servers: the publish ingress
}

func freePort() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func (r *runner) startServer(s server, deflate bool, profile string) (*srvProc, error) {
	args := append([]string{}, s.cmd[1:]...)
	args = append(args, "-addr", freePort(), "-stats", freePort())
	args = append(args, r.serverArgs()...)
	if deflate {
		args = append(args, "-deflate")
	}
	if profile != "" {
		args = append(args, "-cpuprofile", profile)
	}
	cmd := exec.Command(s.cmd[0], args...)
	cmd.Dir = r.dir
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	trackChild(cmd)
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "LISTEN ") {
				line <- sc.Text()
			}
		}
	}()
	select {
	case l := <-line:
		p := &srvProc{cmd: cmd}
		for _, f := range strings.Fields(l)[1:] {
			k, v, _ := strings.Cut(f, "=")
			switch k {
			case "ws":
				p.ws = v
			case "stats":
				p.stats = v
			case "pid":
				p.pid, _ = strconv.Atoi(v)
			case "pub":
				p.pub = v
			}
		}
		time.Sleep(300 * time.Millisecond) // let a just-started runtime settle
		return p, nil
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("no LISTEN line from %v", s.cmd)
	}
}

func (p *srvProc) stop() {
	defer untrackChild(p.cmd)
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
}

func (p *srvProc) get(path string, v any) error {
	c := http.Client{Timeout: 30 * time.Second}
	resp, err := c.Get("http://" + p.stats + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}

func (p *srvProc) cpu() float64 {
	c, _ := cpuSeconds(p.pid)
	return c
}

// genOptions are a generator's options before startGens fills in the target,
// the connections and the source addresses: the defaults `wsbench gen` has.
func genOptions() loadgen.Options {
	return loadgen.Options{Size: 64, Concurrency: 32, StormFor: 2 * time.Second}
}

// spawn runs this executable as `wsbench gen`, a generator child.
func (r *runner) spawn(o loadgen.Options) *exec.Cmd {
	cmd := exec.Command(r.self, append([]string{"gen"}, o.Args()...)...)
	cmd.Stderr = os.Stderr
	return cmd
}

// gens is a scenario's generator processes.
type gens struct{ f *loadgen.Fleet }

// startGens starts enough generator processes for n connections (procs: that
// many; 0: as many as the per-process limit needs) with o, and waits until all
// have connected, showing a live progress line.
func (r *runner) startGens(s server, target string, n, procs int, o loadgen.Options) (*gens, int, error) {
	if procs <= 0 {
		procs = max(1, (n+r.p.perGen-1)/r.p.perGen)
	}
	o.Target, o.Conns, o.Sources, o.Raw = r.target(target), n, r.p.nsrc, s.raw
	f, err := loadgen.StartFleet(context.Background(), loadgen.Split(o, procs), r.spawn, nil)
	if err != nil {
		return nil, 0, err
	}
	trackFleet(f)
	g := &gens{f: f}
	up := make([]atomic.Int64, procs)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				var sum int64
				for i := range up {
					sum += up[i].Load()
				}
				r.progress("connecting %d/%d", sum, n)
			}
		}
	}()
	ready, err := g.collect(loadgen.EvReady, cmp.Or(r.p.connectMax, 3*time.Minute), func(i int, e loadgen.Event) { up[i].Store(e.Conns) })
	close(done)
	if err != nil {
		g.quit()
		return nil, 0, fmt.Errorf("connecting: %w", err)
	}
	total, failed := 0, int64(0)
	for _, e := range ready {
		total += int(e.Conns)
		failed += e.Failed
	}
	if failed > 0 {
		r.fail("%d connections failed", failed)
	}
	return g, total, nil
}

// send gives every generator cmd.
func (g *gens) send(cmd string) { g.f.Send(cmd) }

// collect waits up to timeout for the next event named ev from every generator;
// seen (nil: none) gets the events before it.
func (g *gens) collect(ev string, timeout time.Duration, seen func(int, loadgen.Event)) ([]loadgen.Event, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return g.f.Collect(ctx, ev, seen)
}

// quit ends the generators and waits for them.
func (g *gens) quit() {
	g.f.Close()
	untrackFleet(g.f)
}

func (r *runner) echo(s server, deflate bool, conns, sizes []int) {
	kind := "echo"
	if deflate {
		kind = "deflate-echo"
	}
	r.label = kind + " " + s.name
	profile := ""
	if r.p.profileDir != "" && strings.HasPrefix(s.name, "weir") {
		os.MkdirAll(r.p.profileDir, 0o755)
		profile, _ = filepath.Abs(filepath.Join(r.p.profileDir, kind+"-"+s.name+".pprof"))
	}
	sp, err := r.startServer(s, deflate, profile)
	if err != nil {
		r.fail("%v", err)
		return
	}
	defer sp.stop()
	for _, n := range conns {
		for _, size := range sizes {
			r.label = fmt.Sprintf("%s %s %d×%dB", kind, s.name, n, size)
			o := genOptions()
			o.Size, o.Deflate, o.Text = size, deflate, deflate
			gs, got, err := r.startGens(s, sp.ws, n, 0, o)
			if err != nil {
				r.fail("%v", err)
				continue
			}
			gs.send(loadgen.CmdGo)
			r.progress("warm-up %v", r.p.warm)
			time.Sleep(r.p.warm)
			gs.send(loadgen.CmdMark)
			if _, err := gs.collect(loadgen.EvMarked, 30*time.Second, nil); err != nil {
				r.fail("%v", err)
				gs.quit()
				continue
			}
			c0, t0 := sp.cpu(), time.Now()
			for el := time.Duration(0); el < r.p.win; el += time.Second {
				r.progress("measuring %v/%v", el, r.p.win)
				time.Sleep(min(time.Second, r.p.win-el))
			}
			gs.send(loadgen.CmdReport)
			c1, t1 := sp.cpu(), time.Now()
			ms, err := gs.collect(loadgen.EvResult, 30*time.Second, nil)
			gs.send(loadgen.CmdStop)
			gs.quit()
			if err != nil {
				r.fail("%v", err)
				continue
			}
			row := EchoRow{Server: s.name, Conns: got, Size: size, Deflate: deflate,
				Seconds: t1.Sub(t0).Seconds(), CPUSeconds: c1 - c0}
			var counts loadgen.Hist
			for _, m := range ms {
				row.Msgs += m.Msgs
				row.Errors += m.Errors
				counts.Merge(m.Hist)
			}
			row.MsgsPerSec = float64(row.Msgs) / row.Seconds
			us := func(q float64) float64 { return float64(counts.Quantile(q)) / float64(time.Microsecond) }
			row.P50us, row.P99us, row.P999us = us(.5), us(.99), us(.999)
			if row.Msgs > 0 {
				row.CPUPerMsg = row.CPUSeconds / float64(row.Msgs) * 1e6
			}
			r.res.Echo = append(r.res.Echo, row)
			r.progress("%.0f msg/s p50 %.0fµs p99 %.0fµs, server CPU %.2f µs/msg\n",
				row.MsgsPerSec, row.P50us, row.P99us, row.CPUPerMsg)
		}
	}
}

type srvStats struct {
	HeapAlloc  float64 `json:"heap_alloc"`
	Goroutines float64 `json:"goroutines"`
	Conns      float64 `json:"conns"`
	tlsStats
}

func (r *runner) idle(s server, deflate bool, n int) {
	r.label = fmt.Sprintf("idle %s %d", s.name, n)
	if deflate {
		r.label = "deflate-" + r.label
	}
	if r.tlsCert != "" {
		r.label = "wss " + r.label
	}
	sp, err := r.startServer(s, deflate, "")
	if err != nil {
		r.fail("%v", err)
		return
	}
	defer sp.stop()
	var st0, st1 srvStats
	time.Sleep(time.Second)
	if err := sp.get("/stats", &st0); err != nil {
		r.fail("stats: %v", err)
		return
	}
	rss0, _ := statusKiB(sp.pid, "VmRSS")
	if s.goSrv && r.p.profileDir != "" {
		r.saveIdleFile(sp, s.name, "/memclasses", ".memclasses-0.json") // the baseline, beside rss0
	}
	tcp0, slab0 := sockstatTCPMemBytes(), slabBytes()
	o := genOptions()
	o.Deflate = deflate
	var gcw *gcWatch
	var base map[string]float64
	if s.goSrv {
		base = readClasses(sp)
		gcw = watchGC(sp) // idlegc.go: the GC goal and heap through the connect phase
	}
	connStart := time.Now()
	gs, got, err := r.startGens(s, sp.ws, n, 0, o)
	connSecs := time.Since(connStart).Seconds()
	idleGC := gcw.stop()
	if err != nil {
		r.fail("%v", err)
		return
	}
	defer gs.quit()
	r.progress("settling")
	time.Sleep(3 * time.Second)
	rssPre, _ := statusKiB(sp.pid, "VmRSS")
	if idleGC != nil {
		idleGC.Base, idleGC.Pre = base, readClasses(sp)
	}
	if s.goSrv && r.p.profileDir != "" {
		r.saveIdleFile(sp, s.name, "/memclasses", ".memclasses-pre.json") // before /stats' GC
	}
	if err := sp.get("/stats", &st1); err != nil {
		r.fail("stats: %v", err)
		return
	}
	time.Sleep(500 * time.Millisecond)
	rss1, _ := statusKiB(sp.pid, "VmRSS")
	tcp1, slab1 := sockstatTCPMemBytes(), slabBytes()
	if s.goSrv && r.p.profileDir != "" {
		r.saveIdleProfiles(sp, s.name) // tls.go: heap profile and MemStats, for the idle breakdown
	}
	// Held: the same connections, idle for longer, before /free (whose
	// effect would show otherwise).
	var rssHeld []HeldRSS
	for held := time.Duration(0); held < r.p.idleHold && got > 0; {
		step := min(10*time.Second, r.p.idleHold-held)
		r.progress("held %v of %v", held, r.p.idleHold)
		time.Sleep(step)
		held += step
		rss, _ := statusKiB(sp.pid, "VmRSS")
		rssHeld = append(rssHeld, HeldRSS{Seconds: held.Seconds(), PerConnKiB: float64(rss-rss0) / float64(got)})
	}
	rssFree := int64(-1)
	if s.goSrv {
		var ok map[string]any
		if sp.get("/free", &ok) == nil {
			time.Sleep(500 * time.Millisecond)
			rssFree, _ = statusKiB(sp.pid, "VmRSS")
			if idleGC != nil {
				idleGC.AfterFree = readClasses(sp) // idlegc.go
			}
		}
	}
	if got == 0 {
		r.fail("no connections")
		return
	}
	row := IdleRow{Server: s.name, Deflate: deflate, Conns: got,
		RSSPerConnKiB: float64(rss1-rss0) / float64(got), HeapPerConnKiB: -1,
		Goroutines: int64(st1.Goroutines), Threads: threads(sp.pid),
		KernelTCPPerKiB: float64(tcp1-tcp0) / 1024 / float64(got), SlabPerConnKiB: -1,
		TLS: r.tlsCert != "", TLSLoop: st1.Loop, TLSGoroutine: st1.tlsStats.Goroutine, RSSFreedPerConnKiB: -1,
		RSSBeforeGCPerConnKiB: float64(rssPre-rss0) / float64(got), RSSHeld: rssHeld,
		ConnectSeconds: connSecs, GC: idleGC, TLSFailed: st1.tlsStats.Failed, TLSBusy: st1.tlsStats.Busy}
	if rssFree >= 0 {
		row.RSSFreedPerConnKiB = float64(rssFree-rss0) / float64(got)
	}
	if s.goSrv {
		row.HeapPerConnKiB = (st1.HeapAlloc - st0.HeapAlloc) / 1024 / float64(got)
	}
	if slab0 >= 0 && slab1 >= 0 {
		row.SlabPerConnKiB = float64(slab1-slab0) / 1024 / float64(got)
	}
	r.res.Idle = append(r.res.Idle, row)
	r.progress("RSS %.2f KiB/conn (%.2f before the GC, %.2f after FreeOSMemory), heap %.2f KiB/conn, %d goroutines, slab %.2f KiB/conn, tls loop/goroutine %d/%d\n",
		row.RSSPerConnKiB, row.RSSBeforeGCPerConnKiB, row.RSSFreedPerConnKiB, row.HeapPerConnKiB, row.Goroutines, row.SlabPerConnKiB, row.TLSLoop, row.TLSGoroutine)
	if n := len(rssHeld); n > 0 {
		r.progress("held idle %.0f s more: RSS %.2f KiB/conn\n", rssHeld[n-1].Seconds, rssHeld[n-1].PerConnKiB)
	}
	if g := row.GC; g != nil {
		r.progress("connect %.1f s (%.0f/s); GC goal max %.1f MB, heap objects max %.1f MB; at the end goal %.1f MB, live %.1f MB, %d cycles\n",
			row.ConnectSeconds, float64(got)/row.ConnectSeconds, g.MaxGoalMB, g.MaxObjectsMB, g.GoalMB, g.LiveMB, g.Cycles)
	}
}

func (r *runner) bcast(s server) {
	n, size := r.p.bcastConns, 128
	r.label = fmt.Sprintf("broadcast %s %d×%dB", s.name, n, size)
	sp, err := r.startServer(s, false, "")
	if err != nil {
		r.fail("%v", err)
		return
	}
	defer sp.stop()
	gs, got, err := r.startGens(s, sp.ws, n, 0, genOptions())
	if err != nil {
		r.fail("%v", err)
		return
	}
	defer gs.quit()
	time.Sleep(time.Second)
	row := BcastRow{Server: s.name, Conns: got, Size: size}
	for rep := range r.p.bcastReps {
		gs.send(loadgen.CmdBcast)
		if _, err := gs.collect(loadgen.EvArmed, 30*time.Second, nil); err != nil {
			r.fail("%v", err)
			return
		}
		t0 := time.Now().UnixNano()
		var resp map[string]any
		if err := sp.get(fmt.Sprintf("/broadcast?size=%d", size), &resp); err != nil {
			r.fail("trigger: %v", err)
			return
		}
		var have int64
		var last int64
		for end := time.Now().Add(20 * time.Second); time.Now().Before(end); {
			time.Sleep(100 * time.Millisecond)
			gs.send(loadgen.CmdReport)
			ms, err := gs.collect(loadgen.EvResult, 30*time.Second, nil)
			if err != nil {
				r.fail("%v", err)
				return
			}
			have, last = 0, 0
			for _, m := range ms {
				have += m.BcastGot
				last = max(last, m.BcastLast)
			}
			r.progress("rep %d: %d/%d delivered", rep+1, have, got)
			if have >= int64(got) {
				break
			}
		}
		row.Got = have
		if have < int64(got) {
			r.fail("only %d of %d got the broadcast", have, got)
			return
		}
		row.Reps = append(row.Reps, float64(last-t0)/1e6)
		time.Sleep(500 * time.Millisecond)
	}
	sorted := slices.Clone(row.Reps)
	slices.Sort(sorted)
	row.Millis = sorted[len(sorted)/2]
	r.res.Bcast = append(r.res.Bcast, row)
	r.progress("last delivery after %.1f ms (reps %v)\n", row.Millis, row.Reps)
}

func (r *runner) storm(s server) {
	r.label = "storm " + s.name
	sp, err := r.startServer(s, false, "")
	if err != nil {
		r.fail("%v", err)
		return
	}
	defer sp.stop()
	o := genOptions()
	o.Storm, o.StormFor, o.Concurrency = true, r.p.stormDur, r.p.stormConc
	gs, _, err := r.startGens(s, sp.ws, 0, 2, o)
	if err != nil {
		r.fail("%v", err)
		return
	}
	defer gs.quit()
	c0, t0 := sp.cpu(), time.Now()
	gs.send(loadgen.CmdGo)
	r.progress("dialling for %v", r.p.stormDur)
	ms, err := gs.collect(loadgen.EvResult, r.p.stormDur+time.Minute, nil)
	c1, t1 := sp.cpu(), time.Now()
	if err != nil {
		r.fail("%v", err)
		return
	}
	row := StormRow{Server: s.name, Seconds: t1.Sub(t0).Seconds()}
	for _, m := range ms {
		row.Handshakes += int64(m.Handshakes)
		row.Errors += int64(m.Errors)
	}
	row.PerSec = float64(row.Handshakes) / row.Seconds
	if row.Handshakes > 0 {
		row.CPUPerHSus = (c1 - c0) / float64(row.Handshakes) * 1e6
	}
	r.res.Storm = append(r.res.Storm, row)
	r.progress("%.0f handshakes/s, server CPU %.1f µs/handshake, %d errors\n", row.PerSec, row.CPUPerHSus, row.Errors)
}
