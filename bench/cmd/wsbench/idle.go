package main

import (
	"fmt"
	"time"
)

// The idle scenario: connect many, read the server's memory, hold.

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
