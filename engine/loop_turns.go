package engine

import (
	"time"

	"github.com/weir-ws/weir/internal/turns"
)

// Under DispatchPool the loop runs the connections of a small batch itself
// instead of handing them to the pool: for a lone ready connection the hand-off
// costs a channel send, a worker's wake-up (a futex call and a thread switch)
// and the worker's sleep after it, several times the cost of the read (issue
// 15). Big batches still go to the pool, where they run in parallel, and so
// does every turn while the loop is in its slow phase. The contract stays that
// of the pool: a handler that blocks ties up its own goroutine, not the other
// connections of its loop, because a turn that lasts turns.StuckAfter is left
// behind: another goroutine takes the loop over (the watchdog) and the blocked
// one, when its handler returns, gives its remaining turns to the pool and
// ends. internal/turns keeps the times and the watchdog; here are the runners.

// runner is what one goroutine running a loop owns: the worker its turns run
// on (its read buffer may be in use by a blocked handler, so a goroutine that
// takes the loop over brings its own) and the connections kept for its turns.
type runner struct {
	w     *worker
	gen   uint32  // the loop's generation this runner was started for
	take  bool    // this batch's connections run on the loop
	taken []*Conn // their running bits are this runner's
}

// initTurns sets up the watchdog (DispatchPool).
func (l *loop) initTurns() { l.turns.Start(l.eng.stopped.Load, l.takeOver) }

// newRunner is the state of a goroutine starting to run l.
func (l *loop) newRunner() *runner {
	r := &runner{w: l.w, gen: l.turns.Gen(), taken: make([]*Conn, 0, turns.Batch)}
	if r.gen != 0 {
		r.w = newWorker(l.eng.cfg.ReadBufferSize) // l.w may be the blocked runner's
	}
	if !l.inline {
		if r.w.cork == nil {
			r.w.cork = l.eng.newCorker() // the batch's sends go out together (writeside.go)
		}
		l.cork.Store(r.w.cork)
	}
	return r
}

// runTaken runs the connections kept from this batch, and reports whether r
// still runs the loop: false if it was left behind while a turn blocked (the
// watchdog claimed the turn: turns.End).
func (l *loop) runTaken(r *runner) bool {
	t := &l.turns
	left := false
	k := r.w.cork
	on := len(r.taken) > 1 // a lone connection's write goes straight out
	for i, c := range r.taken {
		r.taken[i] = nil
		if left || t.Gen() != r.gen {
			left = true
			l.eng.pool.Put(c) // left behind: no more turns here
			continue
		}
		if k != nil {
			k.begin(c, on)
		}
		s := t.Begin()
		r.w.corkRun(c)
		left = t.End(s)
	}
	r.w.uncork() // the batch's corked writes, one system call (writeside.go)
	r.taken = r.taken[:0]
	return !left && t.Gen() == r.gen
}

// takeOver starts a new runner for a loop whose turn is stuck (the watchdog's
// goroutine), or reports false once the engine stopped.
func (l *loop) takeOver() bool {
	// Under stopMu: a stop that began after the watchdog's check would
	// otherwise have its wg.Wait race this Add (and return before the new
	// runner ends, which then polls a closed poller); once stopped, no runner
	// is added.
	l.eng.stopMu.Lock()
	if l.eng.stopped.Load() {
		l.eng.stopMu.Unlock()
		return false
	}
	if k := l.cork.Load(); k != nil {
		k.rescue(nil) // what the blocked runner's batch corked goes out now
	}
	l.turns.LeaveBehind()
	l.eng.wg.Add(1)
	l.eng.stopMu.Unlock()
	go l.run()
	l.eng.tookOver()
	return true
}

// tookOver counts a loop takeover and logs it, at most once per
// turns.LogEvery with the count so far.
func (e *engine) tookOver() {
	if n, log := e.m.takeovers.Count(time.Now()); log {
		e.cfg.Logger.Warn("weir: a handler blocked its event loop for 20 ms; another goroutine runs the loop",
			"takeovers", n)
	}
}
