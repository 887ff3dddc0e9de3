package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// pubsub is "wsbench pubsub": issue 16's pub/sub benchmarks. Every server runs
// in its own process (servers/ps*, servers/nodews/pubsub.js); the subscribers
// and the publisher run in -gens psgen processes. Per round (servers in a
// rotated order) and message size, after 2 s at the first rate unmeasured, the
// publish rate is stepped up through -rates
// until the delivery p99 passes -p99 or, once a window holds 10 publishes or
// more, fewer than 80% of the expected deliveries arrive; each step is -warm then a -win window in which the
// deliveries, their latency and the server's CPU (utime+stime of its process)
// are counted.
//
// -shape fanout: -subs subscribers of one topic. chat: -subs subscribers over
// -topics topics, publishes going round the topics. nats: two weir nodes
// (-weir, default bin/psweir) over NATS, the NATS server in a process of its
// own (bin/natsd, as deployed; -nats-inproc runs it inside node A as runs
// before 2026-12-07 did), half the subscribers on each, publishes on A; the
// latency is reported per node, and node B's first delivery of each publish
// is paired with node A's (the hop alone). -trace DIR has both nodes record
// per-publish timestamps along the path (servers/psweir/trace.go; read them
// with "wsbench pstrace").

// psServer is a pub/sub server program.
var psServers = []server{
	{name: "weir", cmd: []string{"bin/psweir"}, goSrv: true},
	{name: "gws", cmd: []string{"bin/psgws"}, goSrv: true},
	{name: "centrifuge", cmd: []string{"bin/pscentrifuge"}, goSrv: true},
	{name: "nodews", cmd: []string{"node", "servers/nodews/pubsub.js"}},
}

// psOtherWeirs are other builds of psweir (bin/psweir@TAG, e.g. built from the
// base commit), named weir@TAG in -servers for paired before/after runs.
func psOtherWeirs() []server {
	var extra []server
	ps, _ := filepath.Glob("bin/psweir@*")
	for _, p := range ps {
		tag := strings.TrimPrefix(filepath.Base(p), "psweir")
		extra = append(extra, server{name: "weir" + tag, cmd: []string{p}, goSrv: true})
	}
	return extra
}

// psStep is one rate step of one server, round and size.
type psStep struct {
	Server    string  `json:"server"`
	Node      string  `json:"node,omitempty"` // nats shape: A or B
	Round     int     `json:"round"`
	Size      int     `json:"size"`
	Rate      float64 `json:"rate"` // publishes/s asked
	Sent      uint64  `json:"sent"`
	Delivered uint64  `json:"delivered"`
	Expected  float64 `json:"expected"`
	Seconds   float64 `json:"seconds"`
	CPUs      float64 `json:"cpu_s"` // server CPU seconds in the window (both nodes for nats)
	P50us     float64 `json:"p50_us"`
	P99us     float64 `json:"p99_us"`
	Load1     float64 `json:"load1"`
	// nats shape, node B's step: the hop alone. Per publish, node B's first
	// delivery latency minus node A's (paired by the publish's stamp), over
	// HopN publishes seen on both nodes in the window.
	HopN     int     `json:"hop_n,omitempty"`
	HopP50us float64 `json:"hop_p50_us,omitempty"`
	HopP90us float64 `json:"hop_p90_us,omitempty"`
}

type psOut struct {
	Command string   `json:"command"`
	Shape   string   `json:"shape"`
	Subs    int      `json:"subs"`
	Topics  int      `json:"topics"`
	P99ms   float64  `json:"p99_limit_ms"`
	Started string   `json:"started"`
	Commit  string   `json:"commit"`
	Steps   []psStep `json:"steps"`
	Fails   []string `json:"failures,omitempty"`
}

func runPubsub(args []string) {
	fs := flag.NewFlagSet("pubsub", flag.ExitOnError)
	shape := fs.String("shape", "fanout", "fanout, chat or nats")
	only := fs.String("servers", "weir,gws,centrifuge,nodews", "servers (fanout, chat)")
	subs := fs.Int("subs", 10000, "subscribers in all")
	topics := fs.Int("topics", 0, "topics (default: 1 for fanout, 1000 for chat, 1 for nats)")
	nGens := fs.Int("gens", 2, "load processes (the subscribers are split over them)")
	sizesF := fs.String("sizes", "128,4096", "message sizes")
	ratesF := fs.String("rates", "", "publish rates stepped through, publishes/s")
	rounds := fs.Int("rounds", 3, "rounds")
	warm := fs.Duration("warm", time.Second, "warm-up per step")
	win := fs.Duration("win", 2*time.Second, "measuring window per step")
	p99 := fs.Duration("p99", 100*time.Millisecond, "stop stepping past this delivery p99")
	out := fs.String("out", "", "write the steps as JSON here")
	profDir := fs.String("profile", "", "write each Go server's CPU profile into this folder")
	natsIn := fs.Bool("nats-inproc", false, "nats shape: run the NATS server inside node A (default: bin/natsd, a process of its own)")
	weirBin := fs.String("weir", "bin/psweir", "nats shape: the node binary (e.g. bin/psweir@main for a before run)")
	parallel := fs.Int("parallel", 0, "nats shape: the nodes' pubsub.Config.ParallelFanout (psweir -parallel; 0: its default, -1: never split)")
	traceDir := fs.String("trace", "", "nats shape: have both nodes write per-publish timestamps into this folder (psweir -trace)")
	fs.Parse(args)

	if *topics == 0 {
		*topics = 1
		if *shape == "chat" {
			*topics = 1000
		}
	}
	if *ratesF == "" {
		switch *shape {
		case "chat":
			*ratesF = "2000,5000,10000,20000,40000,80000"
		case "nats":
			*ratesF = "20,100"
		default:
			*ratesF = "5,10,20,40,80,160"
		}
	}
	sizes := atoiList(*sizesF)
	var rates []float64
	for _, s := range strings.Split(*ratesF, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			fatal(err)
		}
		rates = append(rates, v)
	}
	killChildrenOnSignal()
	self, _ := os.Executable()
	dir, _ := os.Getwd()
	r := &runner{dir: dir, self: self, res: &Results{}}
	res := psOut{Command: "wsbench pubsub " + strings.Join(args, " "), Shape: *shape, Subs: *subs,
		Topics: *topics, P99ms: float64(*p99) / 1e6, Started: time.Now().UTC().Format(time.RFC3339),
		Commit: binCommit(*weirBin, dir)}
	servers := pickServers(append(slices.Clone(psServers), psOtherWeirs()...), *only)
	if *shape == "nats" {
		servers = []server{{name: "weir-nats"}}
	}
	c := psCell{profDir: *profDir, subs: *subs, topics: *topics, gens: *nGens, sizes: sizes, rates: rates,
		warm: *warm, win: *win, p99: *p99, natsIn: *natsIn, parallel: *parallel, weirBin: *weirBin, traceDir: *traceDir}
	for round := range *rounds {
		for _, s := range rotated(servers, round) {
			var steps []psStep
			var err error
			if *shape == "nats" {
				steps, err = r.psNats(c, round)
			} else {
				steps, err = r.psRun(s, c, round)
			}
			if err != nil {
				r.fail("%v", err)
				res.Fails = append(res.Fails, r.label+": "+err.Error())
			}
			res.Steps = append(res.Steps, steps...)
		}
	}
	fmt.Fprintln(os.Stderr)
	if *out != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(*out, b, 0o644); err != nil {
			fatal(err)
		}
	}
	fmt.Print(psMarkdown([]psOut{res}, nil))
}

func atoiList(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			fatal(err)
		}
		out = append(out, n)
	}
	return out
}

// psCell is a run's settings.
type psCell struct {
	profDir            string
	subs, topics, gens int
	sizes              []int
	rates              []float64
	warm, win, p99     time.Duration
	natsIn             bool   // nats shape: NATS server inside node A
	weirBin            string // nats shape: node binary
	traceDir           string // nats shape: psweir -trace files go here
	parallel           int    // nats shape: psweir -parallel (0: its default)
}

// psRun measures one server in one round: connect, then every size's steps.
func (r *runner) psRun(s server, c psCell, round int) ([]psStep, error) {
	r.label = fmt.Sprintf("r%d %s", round, s.name)
	prof := ""
	if c.profDir != "" && s.goSrv {
		os.MkdirAll(c.profDir, 0o755)
		prof = fmt.Sprintf("%s/ps-%s-r%d.pprof", c.profDir, s.name, round)
	}
	sp, err := r.startServer(s, false, prof)
	if err != nil {
		return nil, err
	}
	defer sp.stop()
	proto := "ws"
	if s.name == "centrifuge" {
		proto = "centrifuge"
	}
	var gs []*psGenProc
	defer func() {
		for _, g := range gs {
			g.stop()
		}
	}()
	per := (c.subs + c.gens - 1) / c.gens
	for i := range c.gens {
		n := min(per, c.subs-i*per)
		args := []string{"-ws", sp.ws, "-subs", strconv.Itoa(n), "-first", strconv.Itoa(i * per),
			"-topics", strconv.Itoa(c.topics), "-ptopics", strconv.Itoa(c.topics), "-proto", proto}
		if i == 0 {
			args = append(args, "-pub", sp.pub)
		}
		g, err := r.startPsGen(args)
		if err != nil {
			return nil, err
		}
		gs = append(gs, g)
	}
	if err := r.psReady(gs, []*srvProc{sp}, c.subs); err != nil {
		return nil, err
	}
	var steps []psStep
	for _, size := range c.sizes {
		ss, err := r.psSteps(s.name, gs, []*srvProc{sp}, c, round, size, nil)
		steps = append(steps, ss...)
		if err != nil {
			return steps, err
		}
	}
	return steps, nil
}

// psReady waits for the generators' ready lines and for the servers to count
// every subscription.
func (r *runner) psReady(gs []*psGenProc, sps []*srvProc, subs int) error {
	for _, g := range gs {
		l, err := g.next(3 * time.Minute)
		if err != nil {
			return err
		}
		if f := strings.Fields(l); len(f) != 3 || f[0] != "ready" || f[2] != "0" {
			return fmt.Errorf("psgen: %s", l)
		}
	}
	deadline := time.Now().Add(time.Minute)
	for {
		n := 0
		for _, sp := range sps {
			var st struct{ Conns int }
			if err := sp.get("/stats", &st); err != nil {
				return err
			}
			n += st.Conns
		}
		r.progress("subscribed %d/%d", n, subs)
		if n >= subs {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d subscribed", n, subs)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// psSteps steps the rate up for one size. nodeOf, when not nil, names the node
// of each generator (nats shape): its figures are then kept per node.
func (r *runner) psSteps(name string, gs []*psGenProc, sps []*srvProc, c psCell, round, size int, nodeOf []string) ([]psStep, error) {
	gs[0].send("size " + strconv.Itoa(size))
	// Warm up at the first rate, unmeasured: the first publishes to fresh
	// connections pay for their write buffers and the runtime's growth.
	gs[0].send(fmt.Sprintf("rate %g", c.rates[0]))
	time.Sleep(2 * time.Second)
	var steps []psStep
	per := float64(c.subs) / float64(c.topics) // deliveries per publish
	for _, rate := range c.rates {
		r.label = fmt.Sprintf("r%d %s %dB %.0f/s", round, name, size, rate)
		gs[0].send(fmt.Sprintf("rate %g", rate))
		time.Sleep(c.warm)
		reps, cpu, secs, err := psWindow(gs, sps, c.win)
		if err != nil {
			return steps, err
		}
		groups := map[string][]psReport{}
		var order []string
		for i, rep := range reps {
			k := ""
			if nodeOf != nil {
				k = nodeOf[i]
			}
			if _, ok := groups[k]; !ok {
				order = append(order, k)
			}
			groups[k] = append(groups[k], rep)
		}
		sent := reps[0].Sent
		stop := false
		for _, k := range order {
			st := psStep{Server: name, Node: k, Round: round, Size: size, Rate: rate, Sent: sent,
				Seconds: secs, CPUs: cpu, Load1: load1()}
			h := make([]uint64, histBuckets)
			for _, rep := range groups[k] {
				st.Delivered += rep.Delivered
				histAddSparse(h, rep.Hist)
			}
			st.Expected = float64(sent) * per
			if nodeOf != nil {
				st.Expected /= 2
			}
			st.P50us, st.P99us = histQuantile(h, .5), histQuantile(h, .99)
			r.progress("%.0f deliveries/s, p99 %.1f ms, CPU %.2f µs/delivery, load %.0f\n",
				float64(st.Delivered)/secs, st.P99us/1e3, cpu/float64(max(1, st.Delivered))*1e6, st.Load1)
			if !st.ok(float64(c.p99) / 1e6) {
				stop = true
			}
			if k == "B" {
				st.HopN, st.HopP50us, st.HopP90us = psHop(groups["A"], groups["B"])
			}
			steps = append(steps, st)
		}
		if stop {
			break
		}
	}
	gs[0].send("rate 0")
	// Let a backlog drain before the next size: until a window brings nothing.
	for range 40 {
		time.Sleep(250 * time.Millisecond)
		reps, _, _, err := psWindow(gs, sps, 250*time.Millisecond)
		if err != nil {
			return steps, err
		}
		var n uint64
		for _, rep := range reps {
			n += rep.Delivered
		}
		if n == 0 {
			break
		}
	}
	return steps, nil
}

// psWindow marks every generator, waits win and collects their reports with the
// servers' CPU seconds over the window.
func psWindow(gs []*psGenProc, sps []*srvProc, win time.Duration) ([]psReport, float64, float64, error) {
	for _, g := range gs {
		g.send("mark")
	}
	for _, g := range gs {
		if l, err := g.next(30 * time.Second); err != nil || l != "marked" {
			return nil, 0, 0, fmt.Errorf("mark: %q %v", l, err)
		}
	}
	cpu0, t0 := 0.0, time.Now()
	for _, sp := range sps {
		cpu0 += sp.cpu()
	}
	time.Sleep(win)
	for _, g := range gs {
		g.send("report")
	}
	cpu1, t1 := 0.0, time.Now()
	for _, sp := range sps {
		cpu1 += sp.cpu()
	}
	reps := make([]psReport, len(gs))
	for i, g := range gs {
		l, err := g.next(30 * time.Second)
		if err != nil {
			return nil, 0, 0, err
		}
		if err := json.Unmarshal([]byte(l), &reps[i]); err != nil {
			return nil, 0, 0, fmt.Errorf("report %q: %w", l, err)
		}
	}
	return reps, cpu1 - cpu0, t1.Sub(t0).Seconds(), nil
}
