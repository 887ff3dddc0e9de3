package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
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
