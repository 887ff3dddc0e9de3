package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// psreport is "wsbench psreport": the Markdown tables (and, with -charts, PNG
// charts through report.go's chart) of one or more "wsbench pubsub -out" files.

func runPsReport(args []string) {
	fs := flag.NewFlagSet("psreport", flag.ExitOnError)
	in := fs.String("in", "", "comma-separated JSON files from wsbench pubsub -out")
	md := fs.String("md", "", "write the Markdown here (default: stdout)")
	charts := fs.String("charts", "", "folder for PNG charts (none when empty)")
	traces := fs.String("traces", "", "print the path traces of a nats run's -trace folder instead (pubsub_trace.go)")
	fs.Parse(args)
	if *traces != "" {
		s, err := psTraces(*traces)
		if err != nil {
			fatal(err)
		}
		fmt.Print(s)
		return
	}
	var outs []psOut
	for _, f := range strings.Split(*in, ",") {
		b, err := os.ReadFile(f)
		if err != nil {
			fatal(err)
		}
		var o psOut
		if err := json.Unmarshal(b, &o); err != nil {
			fatal(fmt.Errorf("%s: %w", f, err))
		}
		outs = append(outs, o)
	}
	var rep *reporter
	if *charts != "" {
		os.MkdirAll(*charts, 0o755)
		mdDir := "."
		if *md != "" {
			mdDir = filepath.Dir(*md)
		}
		mdDir, _ = filepath.Abs(mdDir)
		rep = &reporter{w: &strings.Builder{}, charts: *charts, mdDir: mdDir}
	}
	s := "## Pub/sub\n\n" + psMethodology + psMarkdown(outs, rep)
	if *md == "" {
		fmt.Print(s)
		return
	}
	if err := os.WriteFile(*md, []byte(s), 0o644); err != nil {
		fatal(err)
	}
}

// psSection is the "Pub/sub" section of docs/benchmarks.md: the runs in
// folder (results/pubsub/*.json, fanout before chat before nats), or nothing
// when there are none.
func (p *reporter) psSection(folder string) {
	files, _ := filepath.Glob(filepath.Join(folder, "*.json"))
	var outs []psOut
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var o psOut
		if json.Unmarshal(b, &o) == nil && len(o.Steps) > 0 {
			outs = append(outs, o)
		}
	}
	if len(outs) == 0 {
		return
	}
	rank := map[string]int{"fanout": 0, "chat": 1, "nats": 2}
	slices.SortStableFunc(outs, func(a, b psOut) int { return rank[a.Shape] - rank[b.Shape] })
	p.f("## Pub/sub\n\n")
	p.w.WriteString(psMethodology)
	p.w.WriteString(psMarkdown(outs, p))
}

// psMethodology says how the pub/sub figures are made.
const psMethodology = `Generated from bench/results/pubsub/*.json (` + "`wsbench pubsub`" + `, one file per
shape and size; the commands are under each table). Every server is its own process
(bench/servers/psweir: weir's pubsub.Hub; psgws: a topic map and gws.Broadcaster's
loop; pscentrifuge: centrifuge's Node with its WebSocket handler and in-memory
broker, JSON protocol; servers/nodews/pubsub.js: a Map of Sets and ws.send).
Publishes reach every server the same way, on a plain TCP ingress
(bench/internal/srvkit/pubsub.go), so the figures compare the fan-out. The
subscribers (one goroutine each, a minimal client that reads frames) and the
publisher run in two more processes (` + "`wsbench psgen`" + `); every payload
carries the publisher's wall clock and each subscriber records the delivery
latency. Per round (servers in a rotated order), after 2 s unmeasured at the
first rate, the publish rate is stepped up until the delivery p99 passes the
limit or (windows of 10 publishes or more) fewer than 80 % of the expected
deliveries arrive. *max deliveries/s* is the best step within the limit; the
efficiency figures (deliveries per server CPU-second: utime+stime of the
server's process over the window) are compared at the *common rate*, the
highest step every server of the round passed (or, if none did, was measured
at), and paired per round (weir ÷ server in the same round). Medians over
rounds, [min-max] in brackets.

The machine has 2 cores shared with other work (its load1 during each cell is in
the tables), the generator competes with the server for them, and the kernel's
loopback delivery is charged to the writing process, so the absolute figures are
low and noisy; the paired ratios are the figures to read.

`

// medRange is "median [min-max]" of v with format f.
func medRange(f string, v []float64) string {
	if len(v) == 0 {
		return "-"
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return fmt.Sprintf(f+" ["+f+"-"+f+"]", median(slices.Clone(s)), s[0], s[len(s)-1])
}

// ok: the step kept its p99 within the limit and, when its window held 10
// publishes or more, delivered 80 % of what they should have. (Fewer
// publishes are too few to judge: a window's edge cuts one publish's
// deliveries in two.)
func (st psStep) ok(limitMs float64) bool {
	return st.P99us <= limitMs*1e3 && (st.Sent < 10 || float64(st.Delivered) >= 0.8*st.Expected)
}

func (st psStep) perCPUs() float64 {
	if st.CPUs <= 0 {
		return 0
	}
	return float64(st.Delivered) / st.CPUs
}

// psMarkdown renders the runs; rep, when not nil, also draws charts and puts
// their links in.
func psMarkdown(outs []psOut, rep *reporter) string {
	var b strings.Builder
	for _, o := range outs {
		if o.Shape == "nats" {
			psNatsMarkdown(&b, o)
			continue
		}
		var servers []string
		var sizes []int
		rounds := 0
		for _, st := range o.Steps {
			if !slices.Contains(servers, st.Server) {
				servers = append(servers, st.Server)
			}
			if !slices.Contains(sizes, st.Size) {
				sizes = append(sizes, st.Size)
			}
			rounds = max(rounds, st.Round+1)
		}
		what := fmt.Sprintf("%d subscribers of one topic", o.Subs)
		if o.Topics > 1 {
			what = fmt.Sprintf("%d topics × %d subscribers, publishes spread over the topics", o.Topics, o.Subs/o.Topics)
		}
		fmt.Fprintf(&b, "\n### %s: %s\n\n`%s` (commit %s, started %s, %d rounds)\n",
			o.Shape, what, o.Command, o.Commit, o.Started, rounds)
		for _, size := range sizes {
			steps := func(srv string, round int) []psStep {
				var out []psStep
				for _, st := range o.Steps {
					if st.Server == srv && st.Round == round && st.Size == size {
						out = append(out, st)
					}
				}
				return out
			}
			// best: the highest delivery rate of a step within the p99 limit.
			best := func(srv string, round int) (psStep, bool) {
				var bst psStep
				found := false
				for _, st := range steps(srv, round) {
					if st.ok(o.P99ms) && (!found || st.Delivered > bst.Delivered) {
						bst, found = st, true
					}
				}
				return bst, found
			}
			// common: per round, the highest rate every server passed, or if
			// there is none the highest rate every server was measured at.
			common := map[int]float64{}
			for round := range rounds {
				passed, measured := -1.0, -1.0
				for _, srv := range servers {
					p, m := 0.0, 0.0
					for _, st := range steps(srv, round) {
						m = max(m, st.Rate)
						if st.ok(o.P99ms) {
							p = max(p, st.Rate)
						}
					}
					if passed < 0 || p < passed {
						passed = p
					}
					if measured < 0 || m < measured {
						measured = m
					}
				}
				common[round] = passed
				if passed <= 0 {
					common[round] = measured
				}
			}
			at := func(srv string, round int, rate float64) (psStep, bool) {
				for _, st := range steps(srv, round) {
					if st.Rate == rate {
						return st, true
					}
				}
				return psStep{}, false
			}
			fmt.Fprintf(&b, "\n#### %s, %d B messages\n\n", o.Shape, size)
			b.WriteString("| server | max deliveries/s (p99 ≤ limit) | its p99 ms | deliveries per CPU-s there | at the common rate: deliveries per CPU-s | CPU µs/delivery | weir ÷ server (paired, common rate) | load1 |\n|---|---|---|---|---|---|---|---|\n")
			var chartLabels []string
			var chartVals []float64
			for _, srv := range servers {
				var rate, p99, eff, ceff, cus, ratio, ld []float64
				for round := range rounds {
					if bs, ok := best(srv, round); ok {
						rate = append(rate, float64(bs.Delivered)/bs.Seconds)
						p99 = append(p99, bs.P99us/1e3)
						eff = append(eff, bs.perCPUs())
					}
					if st, ok := at(srv, round, common[round]); ok && common[round] > 0 {
						ceff = append(ceff, st.perCPUs())
						cus = append(cus, st.CPUs/float64(max(1, st.Delivered))*1e6)
						ld = append(ld, st.Load1)
						if w, ok := at("weir", round, common[round]); ok && st.perCPUs() > 0 {
							ratio = append(ratio, w.perCPUs()/st.perCPUs())
						}
					}
				}
				fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", srv, medRange("%.0f", rate),
					medRange("%.1f", p99), medRange("%.0f", eff), medRange("%.0f", ceff), medRange("%.2f", cus),
					medRange("%.2f", ratio), medRange("%.0f", ld))
				if len(ceff) > 0 {
					chartLabels = append(chartLabels, srv)
					chartVals = append(chartVals, median(slices.Clone(ceff)))
				}
			}
			var cr []string
			for round := range rounds {
				cr = append(cr, fmt.Sprintf("%g", common[round]))
			}
			fmt.Fprintf(&b, "\nCommon rate per round (publishes/s): %s. Steps per server (round: rate→deliveries/s, p99 ms):\n\n", strings.Join(cr, ", "))
			for _, srv := range servers {
				fmt.Fprintf(&b, "- %s:", srv)
				for round := range rounds {
					fmt.Fprintf(&b, " r%d", round)
					for _, st := range steps(srv, round) {
						fmt.Fprintf(&b, " %g→%.0f/%.1f", st.Rate, float64(st.Delivered)/st.Seconds, st.P99us/1e3)
					}
					b.WriteString(";")
				}
				b.WriteString("\n")
			}
			b.WriteString("\n")
			if rep != nil {
				cr := *rep
				cr.w = &strings.Builder{}
				cr.chart(fmt.Sprintf("pubsub-%s-%d", o.Shape, size),
					fmt.Sprintf("%s %d B: deliveries/CPU-s (commit %s)", o.Shape, size, o.Commit),
					"deliveries / CPU-s (higher is better)", chartLabels, chartVals)
				b.WriteString(cr.w.String())
			}
		}
	}
	return b.String()
}

func psNatsMarkdown(b *strings.Builder, o psOut) {
	rounds := 0
	var sizes []int
	var rates []float64
	for _, st := range o.Steps {
		rounds = max(rounds, st.Round+1)
		if !slices.Contains(sizes, st.Size) {
			sizes = append(sizes, st.Size)
		}
		if !slices.Contains(rates, st.Rate) {
			rates = append(rates, st.Rate)
		}
	}
	fmt.Fprintf(b, "\n### Cross-node: 2 weir nodes over NATS, %d subscribers on each, publishes on node A\n\n`%s` (commit %s, started %s, %d rounds)\n\n",
		o.Subs/2, o.Command, o.Commit, o.Started, rounds)
	b.WriteString("| size | publishes/s | A p50 ms | B p50 ms | B − A p50 ms (paired) | hop p50 ms (per publish) | hop p90 ms | A p99 ms | B p99 ms | deliveries/s A+B | CPU µs/delivery (nodes + NATS) | load1 |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, size := range sizes {
		for _, rate := range rates {
			var a50, b50, d50, h50, h90, a99, b99, tput, cus, load []float64
			for round := range rounds {
				var sa, sb *psStep
				for i := range o.Steps {
					st := &o.Steps[i]
					if st.Round == round && st.Size == size && st.Rate == rate {
						if st.Node == "A" {
							sa = st
						} else {
							sb = st
						}
					}
				}
				if sa == nil || sb == nil {
					continue
				}
				a50 = append(a50, sa.P50us/1e3)
				b50 = append(b50, sb.P50us/1e3)
				d50 = append(d50, (sb.P50us-sa.P50us)/1e3)
				if sb.HopN > 0 {
					h50 = append(h50, sb.HopP50us/1e3)
					h90 = append(h90, sb.HopP90us/1e3)
				}
				a99 = append(a99, sa.P99us/1e3)
				b99 = append(b99, sb.P99us/1e3)
				n := float64(sa.Delivered + sb.Delivered)
				tput = append(tput, n/sa.Seconds)
				cus = append(cus, sa.CPUs/max(1, n)*1e6)
				load = append(load, sa.Load1)
			}
			if len(a50) == 0 {
				continue
			}
			fmt.Fprintf(b, "| %d B | %g | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", size, rate, medRange("%.2f", a50),
				medRange("%.2f", b50), medRange("%.2f", d50), medRange("%.3f", h50), medRange("%.3f", h90),
				medRange("%.2f", a99), medRange("%.2f", b99),
				medRange("%.0f", tput), medRange("%.2f", cus), medRange("%.0f", load))
		}
	}
	b.WriteString("\n*hop*: per publish, node B's first delivery minus node A's (paired by the publish's stamp), median and p90 over the window's publishes: the hop without the spread of either node's own fan-out (it still holds any wait for a CPU behind node A's fan-out; runs before the column existed show -).\n\n")
}
