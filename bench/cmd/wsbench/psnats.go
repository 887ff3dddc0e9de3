package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
)

// The cross-node pub/sub cell: two weir nodes over a NATS server the run starts.

// psNats runs the cross-node shape: the NATS server (bin/natsd, or inside
// node A with natsIn), node A and node B (bridges), half the subscribers on
// each, one generator per node, the publisher on A. The CPU figures count the
// NATS server's process too, so that both layouts count the same work.
func (r *runner) psNats(c psCell, round int) ([]psStep, error) {
	r.label = fmt.Sprintf("r%d weir-nats", round)
	natsAddr := freePort()
	url := "nats://" + natsAddr
	nodeCmd := func(node string) []string {
		cmd := []string{c.weirBin, "-nats-url", url}
		if c.parallel != 0 {
			cmd = append(cmd, "-parallel", strconv.Itoa(c.parallel))
		}
		if c.traceDir != "" {
			os.MkdirAll(c.traceDir, 0o755)
			cmd = append(cmd, "-trace", fmt.Sprintf("%s/r%d-%s.trace", c.traceDir, round, node))
		}
		return cmd
	}
	aCmd := nodeCmd("A")
	var sps []*srvProc
	if c.natsIn {
		aCmd = append(aCmd, "-nats-listen", natsAddr)
	} else {
		cmd := []string{"bin/natsd", "-listen", natsAddr}
		if c.traceDir != "" {
			cmd = append(cmd, "-trace", fmt.Sprintf("%s/r%d-N.trace", c.traceDir, round))
		}
		ns, err := r.startServer(server{name: "natsd", cmd: cmd}, false, "")
		if err != nil {
			return nil, err
		}
		defer ns.stop()
		sps = append(sps, ns)
	}
	a, err := r.startServer(server{name: "weir-A", cmd: aCmd}, false, "")
	if err != nil {
		return nil, err
	}
	defer a.stop()
	b, err := r.startServer(server{name: "weir-B", cmd: nodeCmd("B")}, false, "")
	if err != nil {
		return nil, err
	}
	defer b.stop()
	sps = append([]*srvProc{a, b}, sps...)
	half := c.subs / 2
	var gs []*psGenProc
	defer func() {
		for _, g := range gs {
			g.stop()
		}
	}()
	for i, sp := range []*srvProc{a, b} {
		args := []string{"-ws", sp.ws, "-subs", strconv.Itoa(half), "-topics", strconv.Itoa(c.topics),
			"-ptopics", strconv.Itoa(c.topics), "-firsts"}
		if i == 0 {
			args = append(args, "-pub", a.pub)
		}
		g, err := r.startPsGen(args)
		if err != nil {
			return nil, err
		}
		gs = append(gs, g)
	}
	if err := r.psReady(gs, []*srvProc{a, b}, 2*half); err != nil {
		return nil, err
	}
	var steps []psStep
	for _, size := range c.sizes {
		ss, err := r.psSteps("weir-nats", gs, sps, c, round, size, []string{"A", "B"})
		steps = append(steps, ss...)
		if err != nil {
			return steps, err
		}
	}
	return steps, nil
}

// psHop pairs node B's first delivery of each publish with node A's (by the
// publish's stamp) and returns how many publishes both saw and the p50 and
// p90 of B's minus A's, in µs.
func psHop(a, b []psReport) (int, float64, float64) {
	firsts := func(reps []psReport) map[uint64]int64 {
		m := map[uint64]int64{}
		for _, r := range reps {
			for i, st := range r.FirstStamps[:min(len(r.FirstStamps), len(r.FirstNs))] {
				if v, ok := m[st]; !ok || r.FirstNs[i] < v {
					m[st] = r.FirstNs[i]
				}
			}
		}
		return m
	}
	fa, fb := firsts(a), firsts(b)
	var d []float64
	for st, nb := range fb {
		if na, ok := fa[st]; ok {
			d = append(d, float64(nb-na)/1e3)
		}
	}
	if len(d) == 0 {
		return 0, 0, 0
	}
	slices.Sort(d)
	q := func(p float64) float64 { return d[min(len(d)-1, int(p*float64(len(d))))] }
	return len(d), q(.5), q(.9)
}
