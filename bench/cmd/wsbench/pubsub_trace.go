package main

import (
	"bufio"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// The nats shape's path trace: "wsbench pubsub -shape nats -trace DIR" has
// both nodes write one line per event ("EVENT STAMP UNIX_NS", see
// servers/psweir/trace.go) into DIR/rN-A.trace and DIR/rN-B.trace;
// "wsbench psreport -traces DIR" pairs them by stamp and prints where a
// publish's time goes between the publisher's stamp and node B's fan-out.

// traceSegs are the segments reported, in path order: from event to event,
// each on its node (the stamp is the publisher's clock when it sent).
var traceSegs = []struct{ from, to, what string }{
	{"stamp", "A.in", "publisher → node A's ingress calls Hub.Publish"},
	{"A.in", "A.bp", "Hub.Publish → Bridge.Publish"},
	{"A.bp", "A.bq", "Bridge.Publish (queue)"},
	{"A.bq", "A.s", "queue → sender goroutine runs"},
	{"A.s", "A.p", "nats.go Publish (into its buffer)"},
	{"A.p", "A.w", "→ nats.go flusher's write starts"},
	{"A.bq", "A.w", "Bridge.Publish returned → write starts"},
	{"A.w", "A.wd", "write system call"},
	{"A.wd", "B.r", "NATS server → node B's read returns"},
	{"A.wd", "N.n", "NATS server routed it (natsd -trace's in-process observer)"},
	{"N.n", "B.r", "observer → node B's read returns"},
	{"B.r", "B.d", "node B: read → deliver (nats.go reader, bridge goroutine)"},
	{"B.d", "B.dd", "node B's fan-out (deliver)"},
	{"A.in", "A.out", "node A: Hub.Publish (bridge + local fan-out)"},
	{"A.in", "B.d", "hop: node A's Hub.Publish → node B's deliver"},
	{"stamp", "B.d", "publisher → node B's deliver"},
}

// readTrace returns, per stamp, the first time of each event in file.
func readTrace(file, node string, into map[uint64]map[string]int64) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 3 {
			continue
		}
		st, err1 := strconv.ParseUint(fs[1], 10, 64)
		t, err2 := strconv.ParseInt(fs[2], 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		m := into[st]
		if m == nil {
			m = map[string]int64{"stamp": int64(st)}
			into[st] = m
		}
		k := node + "." + fs[0]
		if v, ok := m[k]; !ok || t < v {
			m[k] = t
		}
	}
	return sc.Err()
}

// traceTable is the Markdown table of traceSegs over the publishes in ev:
// n, p10, p50 and p90 in ms per segment, over the publishes that have both
// of its events.
func traceTable(ev map[uint64]map[string]int64) string {
	var b strings.Builder
	b.WriteString("| segment | from → to | publishes | p10 ms | p50 ms | p90 ms |\n|---|---|---|---|---|---|\n")
	for _, sg := range traceSegs {
		var d []float64
		for _, m := range ev {
			f, ok1 := m[sg.from]
			t, ok2 := m[sg.to]
			if ok1 && ok2 {
				d = append(d, float64(t-f)/1e6)
			}
		}
		if len(d) == 0 {
			continue
		}
		slices.Sort(d)
		q := func(p float64) float64 { return d[min(len(d)-1, int(math.Floor(p*float64(len(d)))))] }
		fmt.Fprintf(&b, "| %s | %s → %s | %d | %.3f | %.3f | %.3f |\n", sg.what, sg.from, sg.to, len(d), q(.1), q(.5), q(.9))
	}
	return b.String()
}

// psTraces prints a table per round found in dir (rN-A.trace with rN-B.trace).
func psTraces(dir string) (string, error) {
	as, _ := filepath.Glob(filepath.Join(dir, "r*-A.trace"))
	if len(as) == 0 {
		return "", fmt.Errorf("no r*-A.trace in %s", dir)
	}
	var b strings.Builder
	all := map[uint64]map[string]int64{}
	for _, a := range as {
		ev := map[uint64]map[string]int64{}
		if err := readTrace(a, "A", ev); err != nil {
			return "", err
		}
		if err := readTrace(strings.TrimSuffix(a, "-A.trace")+"-B.trace", "B", ev); err != nil {
			return "", err
		}
		readTrace(strings.TrimSuffix(a, "-A.trace")+"-N.trace", "N", ev) // only with natsd
		fmt.Fprintf(&b, "\n%s:\n\n%s", strings.TrimSuffix(filepath.Base(a), "-A.trace"), traceTable(ev))
		maps.Copy(all, ev) // stamps are wall-clock times: distinct across rounds
	}
	if len(as) > 1 {
		fmt.Fprintf(&b, "\nall %d rounds:\n\n%s", len(as), traceTable(all))
	}
	return b.String(), nil
}
