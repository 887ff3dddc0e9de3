package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// The wss section (issue #17): rendered from the three files of one
// results/tls/run.sh run, echo.json (ratio -tls), idle.json (run -tls
// -scenarios idle) and storm.json (tlsstorm). `wsbench report` appends it to
// docs/benchmarks.md when results/tls holds them; `wsbench tlsreport` prints it.

// tlsRun is what results/tls holds.
type tlsRun struct {
	echo ratioOut
	idle Results
	// idleLoad: the idle runs beside bin/noise (idle-load*.json, optional).
	idleLoad []Results
	storm    struct {
		Command string      `json:"command"`
		Started string      `json:"started"`
		Cells   []stormCell `json:"cells"`
	}
	commit, load string
	dir          string // the folder, as named under bench/
}

func readTLSRun(dir string) (*tlsRun, error) {
	r := &tlsRun{}
	for name, v := range map[string]any{"echo.json": &r.echo, "idle.json": &r.idle, "storm.json": &r.storm} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil && name == "storm.json" && os.IsNotExist(err) {
			continue // a run without the storm (results/tls-idle)
		}
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, v); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	loaded, _ := filepath.Glob(filepath.Join(dir, "idle-load*.json"))
	slices.Sort(loaded)
	for _, name := range loaded {
		var res Results
		b, err := os.ReadFile(name)
		if err == nil {
			err = json.Unmarshal(b, &res)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Base(name), err)
		}
		r.idleLoad = append(r.idleLoad, res)
	}
	c, _ := os.ReadFile(filepath.Join(dir, "commit.txt"))
	l, _ := os.ReadFile(filepath.Join(dir, "load.txt"))
	r.commit, r.load = strings.TrimSpace(string(c)), strings.TrimSpace(string(l))
	r.dir = "results/" + filepath.Base(dir)
	return r, nil
}

func runTLSReport(args []string) {
	dir := "results/tls"
	if len(args) > 0 {
		dir = args[0]
	}
	r, err := readTLSRun(dir)
	if err != nil {
		fatal(err)
	}
	if filepath.Base(dir) == "tls-idle" {
		fmt.Print(tlsIdleSection(r))
		return
	}
	fmt.Print(tlsMarkdown(r, nil))
}

// tlsSection appends the wss section when dir holds a run.
func (p *reporter) tlsSection(dir string) {
	r, err := readTLSRun(dir)
	if err != nil {
		return
	}
	p.f("## wss: TLS 1.3 on the loops (issue #17)\n\n")
	p.w.WriteString(tlsMarkdown(r, p))
}

// tlsIdleSection renders a results/tls-idle run as a subsection.
func tlsIdleSection(r *tlsRun) string {
	md := tlsMarkdown(r, nil)
	md = strings.ReplaceAll(md, "\n#### ", "\n##### ")
	md = strings.ReplaceAll(md, "\n### ", "\n#### ")
	return "### After the idle AEAD drop (internal/tlsrec/idle.go)\n\n" +
		"`weir@before` is weir's server built from the base commit, without the drop, in the same run.\n\n" + md
}

// mrf is "median [min-max]" of v with format f.
func mrf(v []float64, f string) string {
	if len(v) == 0 {
		return "-"
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return fmt.Sprintf(f+" ["+f+"-"+f+"]", median(slices.Clone(s)), s[0], s[len(s)-1])
}

// tlsMarkdown renders a run; p (nil: none) draws the charts.
func tlsMarkdown(r *tlsRun, p *reporter) string {
	var b strings.Builder
	f := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	f("Generated from bench/%s/*.json (`%s/run.sh`, commit %.12s; the notes on the run,\n", r.dir, r.dir, r.commit)
	f("an earlier run and the profiles are in bench/results/tls-*.md). Every server serves wss with\n")
	f("one self-signed ECDSA P-256 certificate and crypto/tls defaults (nbio: its fork of crypto/tls in\n")
	f("llib); the clients (weir's client in `wsbench gen` processes, and for the storm a crypto/tls client\n")
	f("in wsbench) negotiate TLS 1.3 with TLS_AES_128_GCM_SHA256. weir serves through `Server.ListenTLS`:\n")
	f("the handshake on a short-lived goroutine, then the record layer (internal/tlsrec) on the loops;\n")
	f("`weir-goroutine` is `Config.GoroutinePerConn` (tls.NewListener, a goroutine per connection).\n")
	f("The `tls loop` column is weir's own count (`Server.TLSMetrics().Loop`) of connections that ran on the\n")
	f("loops. Load average during the run (2 cores, shared with other work):\n\n```\n%s\n```\n\n", r.load)

	b.WriteString(tlsGoals(r))
	f("### Idle wss connections\n\n`%s`\n\n", r.idle.Command)
	f("*RSS* is the server's VmRSS growth per connection 3.5 s after the last connected (as in *Idle cost*):\n")
	f("on a TLS server it still holds the collector's headroom from the storm of handshakes that connected them.\n")
	f("*RSS held* is the same connections idle for longer (`-idle-hold`, a reading every 10 s): the last reading\n")
	f("and, in brackets, the highest. *RSS, freed* is after the server ran debug.FreeOSMemory (what the runtime\n")
	f("still held from the connect phase's garbage handed back); *heap* is HeapAlloc growth after a GC.\n\n")
	labels, rss := tlsIdleTable(&b, r.idle.Idle)
	if p != nil {
		p.w.WriteString(b.String())
		b.Reset()
		p.chart("wss-idle-rss", "idle wss: RSS per connection", "KiB", labels, rss)
	}
	for _, res := range r.idleLoad {
		f("#### The same beside `bin/noise -sleepers 64`\n\n`%s`\n\n", res.Command)
		tlsIdleTable(&b, res.Idle)
	}

	sizes := []int{}
	var servers []string
	for _, c := range r.echo.Cells {
		if !slices.Contains(sizes, c.Size) {
			sizes = append(sizes, c.Size)
		}
		if !slices.Contains(servers, c.Server) {
			servers = append(servers, c.Server)
		}
	}
	rounds := 0
	for _, c := range r.echo.Cells {
		rounds = max(rounds, c.Round+1)
	}
	get := func(srv string, size, round int) *ratioCell {
		for i := range r.echo.Cells {
			if c := &r.echo.Cells[i]; c.Server == srv && c.Size == size && c.Round == round && c.Msgs > 0 {
				return c
			}
		}
		return nil
	}
	f("### wss echo: server CPU per message\n\n`%s`, %d rounds, the servers in a rotated order each round;\n", r.echo.Command, rounds)
	f("\"weir ÷ server\" is the per-round ratio of server CPU per message (below 1: weir spends less), median [min-max].\n\n")
	for _, size := range sizes {
		n := 0
		if c := get(servers[0], size, 0); c != nil {
			n = c.Conns
		}
		f("#### %d connections × %s\n\n| server | CPU µs/msg | msg/s | p99 µs | weir ÷ server (paired) | load1 | tls loop (weir) |\n|---|---|---|---|---|---|---|\n", n, size2(size))
		var cl []string
		var cv []float64
		for _, s := range servers {
			var cpu, rate, p99, ratio, ld []float64
			var loop uint64
			for round := range rounds {
				c := get(s, size, round)
				if c == nil {
					continue
				}
				cpu, rate, p99, ld = append(cpu, c.CPUus), append(rate, float64(c.Msgs)/c.Seconds), append(p99, c.P99us), append(ld, c.Load1)
				loop = max(loop, c.TLSLoop)
				if w := get("weir", size, round); w != nil && s != "weir" {
					ratio = append(ratio, w.CPUus/c.CPUus)
				}
			}
			tl := "-"
			if s == "weir" {
				tl = fmt.Sprint(loop)
			}
			f("| %s | %s | %s | %s | %s | %s | %s |\n", s, mrf(cpu, "%.1f"), mrf(rate, "%.0f"), mrf(p99, "%.0f"), mrf(ratio, "%.2f"), mrf(ld, "%.1f"), tl)
			if len(cpu) > 0 {
				cl, cv = append(cl, s), append(cv, median(slices.Clone(cpu)))
			}
		}
		f("\n")
		if p != nil {
			p.w.WriteString(b.String())
			b.Reset()
			p.chart(fmt.Sprintf("wss-echo-%d-cpu", size), fmt.Sprintf("wss echo %s: server CPU per message (median)", size2(size)), "µs", cl, cv)
		}
	}

	var st []server
	seen := map[string]bool{}
	for _, c := range r.storm.Cells {
		if !seen[c.Server] {
			seen[c.Server] = true
			st = append(st, server{name: c.Server})
		}
	}
	stRounds := 0
	for _, c := range r.storm.Cells {
		stRounds = max(stRounds, c.Round+1)
	}
	if len(r.storm.Cells) == 0 {
		return b.String()
	}
	f("### Handshake storm over TLS\n\n`%s`, %d rounds. One handshake is TCP + TLS 1.3 + the WebSocket upgrade; the\n", r.storm.Command, stRounds)
	f("connection is then dropped. \"full\": no session cache (ECDHE and a certificate signature each time);\n")
	f("\"resumed\": one tls.ClientSessionCache, PSK resumption with ECDHE after the first handshakes. The\n")
	f("client runs in the wsbench process, on the same 2 cores: handshakes/s is bounded by it too.\n")
	b.WriteString(tlsStormReport(r.storm.Cells, st))
	f("\n")
	return b.String()
}

// tlsIdleTable writes the idle table of rows and returns the servers and their
// RSS 3.5 s after the storm, for the chart.
func tlsIdleTable(b *strings.Builder, rows []IdleRow) (labels []string, rss []float64) {
	f := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	f("| server | connections | RSS KiB/conn | RSS held KiB/conn | RSS, freed, KiB/conn | Go heap KiB/conn | goroutines (whole process) | goroutines/conn | tls loop / goroutine mode |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, row := range rows {
		tl := "-"
		if row.Server == "weir" || row.Server == "weir-inline" || strings.HasPrefix(row.Server, "weir@") { // goroutine mode: tls.NewListener, no counters
			tl = fmt.Sprintf("%d / %d", row.TLSLoop, row.TLSGoroutine)
		}
		freed := "-"
		if row.RSSFreedPerConnKiB != 0 {
			freed = kib(row.RSSFreedPerConnKiB)
		}
		held := "-"
		if last, most, ok := heldRSS(row); ok {
			held = fmt.Sprintf("%.2f [%.2f]", last, most)
		}
		f("| %s | %d | %.2f | %s | %s | %s | %d | %.3f | %s |\n", row.Server, row.Conns, row.RSSPerConnKiB, held, freed, kib(row.HeapPerConnKiB),
			row.Goroutines, float64(row.Goroutines)/float64(max(row.Conns, 1)), tl)
		labels, rss = append(labels, row.Server), append(rss, row.RSSPerConnKiB)
	}
	f("\n")
	return labels, rss
}

// heldRSS is an idle row's last held reading and its highest (ok: it was held).
func heldRSS(row IdleRow) (last, most float64, ok bool) {
	if len(row.RSSHeld) == 0 {
		return 0, 0, false
	}
	for _, h := range row.RSSHeld {
		most = max(most, h.PerConnKiB)
	}
	return row.RSSHeld[len(row.RSSHeld)-1].PerConnKiB, most, true
}

func size2(n int) string {
	if n >= 1024 && n%1024 == 0 {
		return fmt.Sprintf("%d KiB", n/1024)
	}
	return fmt.Sprintf("%d B", n)
}

// Issue #17's goals for wss on the loops.
const (
	goalIdleRSSKiB = 2.0 // user-space RSS per idle wss connection
	// fixedGoroutines bounds the goroutines a server on the loops has whatever
	// its connections (loops, workers, listeners, the stats server).
	fixedGoroutines = 64
)

// tlsGoals checks the run against issue #17's goals, each line met or not
// with its figure.
func tlsGoals(r *tlsRun) string {
	var b strings.Builder
	f := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	mark := func(ok bool) string {
		if ok {
			return "met"
		}
		return "**not met**"
	}
	f("Issue #17's goals, checked against this run:\n\n")
	runs := append([]Results{r.idle}, r.idleLoad...)
	for i, res := range runs {
		for _, row := range res.Idle {
			if row.Server != "weir" {
				continue
			}
			where := "quiet run"
			if i > 0 {
				where = "beside the sleepers"
				if len(r.idleLoad) > 1 {
					where = fmt.Sprintf("beside the sleepers, run %d", i)
				}
			}
			// Idle means the steady state: the last held reading, once the
			// runtime has given back the storm's headroom; a run without a
			// hold has only the snapshot 3.5 s after the storm.
			idle, what := row.RSSPerConnKiB, "3.5 s after the storm"
			if last, _, ok := heldRSS(row); ok {
				idle, what = last, fmt.Sprintf("held idle %.0f s", row.RSSHeld[len(row.RSSHeld)-1].Seconds)
			}
			f("- Idle wss RSS at most %.0f KiB per connection (%s): %s, %.2f KiB %s (%.2f KiB 3.5 s after the storm, %.2f after debug.FreeOSMemory; Go heap %.2f KiB).\n",
				goalIdleRSSKiB, where, mark(idle <= goalIdleRSSKiB), idle, what, row.RSSPerConnKiB, row.RSSFreedPerConnKiB, row.HeapPerConnKiB)
			f("- No goroutine per idle wss connection (%s): %s, %d goroutines in the process for %d connections (%d on the loops).\n",
				where, mark(row.Goroutines <= fixedGoroutines && int(row.TLSLoop) >= row.Conns), row.Goroutines, row.Conns, row.TLSLoop)
		}
	}
	sizes := map[int]bool{}
	peersOf := map[string]bool{}
	for _, c := range r.echo.Cells {
		sizes[c.Size] = true
		if c.Server != "weir" {
			peersOf[c.Server] = true
		}
	}
	for _, size := range slices.Sorted(maps.Keys(sizes)) {
		worst, worstPeer, all := 0.0, "", true
		for _, peer := range slices.Sorted(maps.Keys(peersOf)) {
			var ratios []float64
			for _, w := range r.echo.Cells {
				if w.Server != "weir" || w.Size != size || w.Msgs == 0 {
					continue
				}
				for _, c := range r.echo.Cells {
					if c.Server == peer && c.Size == size && c.Round == w.Round && c.Msgs > 0 {
						ratios = append(ratios, w.CPUus/c.CPUus)
					}
				}
			}
			if len(ratios) == 0 {
				continue
			}
			m := median(slices.Clone(ratios))
			if m >= 1 {
				all = false
			}
			if m > worst {
				worst, worstPeer = m, peer
			}
		}
		f("- wss echo %s, server CPU per message below every peer's: %s (closest: weir ÷ %s = %.2f, median of paired rounds).\n",
			size2(size), mark(all), worstPeer, worst)
	}
	f("\n")
	return b.String()
}
