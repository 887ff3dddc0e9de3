package main

import "time"

// IdleGC is what a Go server's collector did during an idle run's connect
// phase, from /memclasses (runtime/metrics, no GC) read every 250 ms while
// the generators connect, and once at the end: the largest GC goal and heap
// (objects, live or not yet swept) seen, and the goal, the live heap at the
// last mark and the cycles at the end. Right after a wss storm the RSS
// follows the largest goal, not the last (bench/results/storm-2026-12-07.md).
type IdleGC struct {
	MaxGoalMB    float64 `json:"max_goal_mb"`
	MaxObjectsMB float64 `json:"max_heap_objects_mb"`
	GoalMB       float64 `json:"goal_mb"`
	LiveMB       float64 `json:"live_mb"`
	Cycles       uint64  `json:"cycles"`
	Samples      int     `json:"samples"`
	// Base, Pre and AfterFree are /memclasses (bytes) before the
	// connections, beside the RSS read before /stats' GC, and after /free
	// (FreeOSMemory): where the RSS goes.
	Base      map[string]float64 `json:"base,omitempty"`
	Pre       map[string]float64 `json:"pre,omitempty"`
	AfterFree map[string]float64 `json:"after_free,omitempty"`
}

// readClasses reads sp's /memclasses, nil on error.
func readClasses(sp *srvProc) map[string]float64 {
	var m map[string]float64
	if sp.get("/memclasses", &m) != nil {
		return nil
	}
	return m
}

type gcWatch struct {
	sp   *srvProc
	done chan struct{}
	out  chan *IdleGC
}

// watchGC polls sp's /memclasses until stop.
func watchGC(sp *srvProc) *gcWatch {
	w := &gcWatch{sp: sp, done: make(chan struct{}), out: make(chan *IdleGC, 1)}
	go w.run()
	return w
}

func (w *gcWatch) run() {
	g := &IdleGC{}
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		var m map[string]float64
		if w.sp.get("/memclasses", &m) == nil {
			const mb = 1 << 20
			g.Samples++
			g.MaxGoalMB = max(g.MaxGoalMB, m["/gc/heap/goal:bytes"]/mb)
			g.MaxObjectsMB = max(g.MaxObjectsMB, m["/memory/classes/heap/objects:bytes"]/mb)
			g.GoalMB, g.LiveMB = m["/gc/heap/goal:bytes"]/mb, m["/gc/heap/live:bytes"]/mb
			g.Cycles = uint64(m["/gc/cycles/total:gc-cycles"])
		}
		select {
		case <-w.done:
			if g.Samples == 0 {
				g = nil
			}
			w.out <- g
			return
		case <-t.C:
		}
	}
}

// stop ends the polling (after one last reading) and returns what it saw,
// nil without a reading (or a nil w).
func (w *gcWatch) stop() *IdleGC {
	if w == nil {
		return nil
	}
	close(w.done)
	return <-w.out
}
