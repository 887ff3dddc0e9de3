package engine

import (
	"sync/atomic"
	"time"
)

// Under DispatchPool the loop runs the connections of a small batch itself
// instead of handing them to the pool: for a lone ready connection the hand-off
// costs a channel send, a worker's wake-up (a futex call and a thread switch)
// and the worker's sleep after it, several times the cost of the read (issue
// 15). Big batches still go to the pool, where they run in parallel, and so
// does every turn while the loop is in its slow phase (below). The contract
// stays that of the pool: a handler that blocks ties up its own goroutine, not
// the other connections of its loop, because a turn that lasts stuckAfter is
// left behind: another goroutine takes the loop over (watchdog) and the
// blocked one, when its handler returns, gives its remaining turns to the
// pool and ends.
const (
	// loopBatch: a Wait that returned at most this many events runs their
	// connections on the loop, after the loop's own work.
	loopBatch = 4
	// slowTurn: a turn on the loop that took this long sends the loop's turns
	// to the pool for slowFor, so slow handlers do not delay the loop's polls.
	slowTurn = 500 * time.Microsecond
	slowFor  = 100 * time.Millisecond
	// stuckAfter: a turn on the loop that has lasted this long is taken for
	// blocked, and another goroutine takes the loop over.
	stuckAfter = 20 * time.Millisecond
	// takeoverLogEvery: takeovers are counted (Metrics.LoopTakeovers) and
	// logged at most this often, so a starved machine does not flood the log.
	takeoverLogEvery = time.Minute
)

// runner is what one goroutine running a loop owns: the worker its turns run
// on (its read buffer may be in use by a blocked handler, so a goroutine that
// takes the loop over brings its own) and the connections kept for its turns.
type runner struct {
	w     *worker
	gen   uint32  // the loop's generation this runner was started for
	take  bool    // this batch's connections run on the loop
	taken []*Conn // their running bits are this runner's
}

// turns is a loop's bookkeeping of the turns it runs itself; every field may
// be read by the watchdog and by a runner that was left behind.
type turns struct {
	base      time.Time     // the zero of start and slowUntil (monotonic)
	gen       atomic.Uint32 // bumped when a blocked runner is left behind
	start     atomic.Int64  // when the turn in progress began (0: none)
	slowUntil atomic.Int64  // turns go to the pool until then
	busy      atomic.Bool   // a turn began since the watchdog last looked
	watching  atomic.Bool   // the watchdog's timer is armed
	watch     *time.Timer
}

// initTurns sets up the watchdog (DispatchPool).
func (l *loop) initTurns() {
	l.turns.base = time.Now()
	l.turns.watch = time.AfterFunc(time.Hour, l.watchdog)
	l.turns.watch.Stop()
}

func (t *turns) now() int64 { return int64(time.Since(t.base)) + 1 } // never 0

// newRunner is the state of a goroutine starting to run l.
func (l *loop) newRunner() *runner {
	r := &runner{w: l.w, gen: l.turns.gen.Load(), taken: make([]*Conn, 0, loopBatch)}
	if r.gen != 0 {
		r.w = newWorker(l.eng.cfg.ReadBufferSize) // l.w may be the blocked runner's
	}
	return r
}

// onLoop reports whether a batch of n events, taken at t, runs on the loop.
func (t *turns) onLoop(n int) bool {
	return n <= loopBatch && t.now() >= t.slowUntil.Load()
}

// runTaken runs the connections kept from this batch, and reports whether r
// still runs the loop: false if it was left behind while a turn blocked.
func (l *loop) runTaken(r *runner) bool {
	t := &l.turns
	for i, c := range r.taken {
		r.taken[i] = nil
		if t.gen.Load() != r.gen {
			l.eng.pool.Put(c) // left behind: no more turns here
			continue
		}
		s := t.now()
		t.start.Store(s)
		t.busy.Store(true)
		if !t.watching.Load() && t.watching.CompareAndSwap(false, true) {
			t.watch.Reset(stuckAfter)
		}
		c.run(r.w)
		e := t.now()
		t.start.CompareAndSwap(s, 0) // not if the watchdog took it (or a newer turn began)
		if time.Duration(e-s) >= slowTurn {
			t.slowUntil.Store(e + int64(slowFor))
		}
	}
	r.taken = r.taken[:0]
	return t.gen.Load() == r.gen
}

// watchdog runs on its timer while turns run on the loop: a turn that has
// lasted stuckAfter is left behind and a new goroutine runs the loop. It
// keeps its timer armed while turns come, and lets it lapse once they stop.
func (l *loop) watchdog() {
	t := &l.turns
	if l.eng.stopped.Load() {
		return // watching stays set: nothing arms the timer again
	}
	if s := t.start.Load(); s != 0 && time.Duration(t.now()-s) >= stuckAfter && t.start.CompareAndSwap(s, 0) {
		// Under stopMu: a stop that began after the check above would
		// otherwise have its wg.Wait race this Add (and return before the new
		// runner ends, which then polls a closed poller); once stopped, no
		// runner is added.
		l.eng.stopMu.Lock()
		if l.eng.stopped.Load() {
			l.eng.stopMu.Unlock()
			return
		}
		t.gen.Add(1)
		l.eng.wg.Add(1)
		l.eng.stopMu.Unlock()
		go l.run()
		l.eng.tookOver()
	}
	if t.busy.Swap(false) || t.start.Load() != 0 {
		t.watch.Reset(stuckAfter)
		return
	}
	t.watching.Store(false)
	// A turn that began after the Swap may have seen watching still set.
	if t.start.Load() != 0 && t.watching.CompareAndSwap(false, true) {
		t.watch.Reset(stuckAfter)
	}
}

// tookOver counts a loop takeover and logs it, at most once per
// takeoverLogEvery with the count so far.
func (e *engine) tookOver() {
	n := e.m.takeovers.Add(1)
	now := time.Now().UnixNano()
	last := e.m.takeoverLog.Load()
	if last != 0 && now-last < int64(takeoverLogEvery) || !e.m.takeoverLog.CompareAndSwap(last, now) {
		return
	}
	e.cfg.Logger.Warn("weir: a handler blocked its event loop for 20 ms; another goroutine runs the loop",
		"takeovers", n)
}
