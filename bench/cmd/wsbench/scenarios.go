package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/weir-ws/weir/internal/loadgen"
)

// The scenarios of `wsbench run`: echo, broadcast and the connection storm.

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
