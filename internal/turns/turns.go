package turns

import (
	"sync/atomic"
	"time"
)

const (
	// Batch: a poll that returned at most this many events runs their
	// connections on the loop, after the loop's own work.
	Batch = 4
	// SlowTurn: a turn on the loop that took this long sends the loop's turns
	// to the pool for SlowFor, so slow handlers do not delay the loop's polls.
	SlowTurn = 500 * time.Microsecond
	SlowFor  = 100 * time.Millisecond
	// StuckAfter: a turn on the loop that has lasted this long is taken for
	// blocked, and another goroutine takes the loop over.
	StuckAfter = 20 * time.Millisecond
	// LogEvery: takeovers are logged at most this often, so a starved machine
	// does not flood the log.
	LogEvery = time.Minute
)

// Turns is one loop's bookkeeping; every field may be read by the watchdog and
// by a runner that was left behind. Set it up with Start before the first turn.
type Turns struct {
	base      time.Time     // the zero of start and slowUntil (monotonic)
	gen       atomic.Uint32 // bumped when a blocked runner is left behind
	start     atomic.Int64  // when the turn in progress began (0: none)
	slowUntil atomic.Int64  // turns go to the pool until then
	busy      atomic.Bool   // a turn began since the watchdog last looked
	watching  atomic.Bool   // the watchdog's timer is armed
	watch     *time.Timer

	stopped  func() bool // the loop is stopping: watch no more
	takeOver func() bool // start another runner; false: stopped meanwhile
}

// Start sets up the watchdog: stopped tells it the loop is stopping, and
// takeOver (called on the watchdog's goroutine, a rare event) calls
// LeaveBehind and starts another runner, or reports false when the loop
// stopped meanwhile.
func (t *Turns) Start(stopped, takeOver func() bool) {
	t.base = time.Now()
	t.stopped, t.takeOver = stopped, takeOver
	t.watch = time.AfterFunc(time.Hour, t.watchdog)
	t.watch.Stop()
}

// Stop stops the watchdog's timer (a Turns never started: nothing).
func (t *Turns) Stop() {
	if t.watch != nil {
		t.watch.Stop()
	}
}

func (t *Turns) now() int64 { return int64(time.Since(t.base)) + 1 } // never 0

// Gen is the generation of the loop's current runner.
func (t *Turns) Gen() uint32 { return t.gen.Load() }

// LeaveBehind starts a new generation: the runner of the old one, blocked in a
// turn, runs no more turns once it returns (TakeOver calls it).
func (t *Turns) LeaveBehind() { t.gen.Add(1) }

// SetSlowUntil sets the end of the slow phase (tests: 0 for none, MaxInt64 for
// every turn in the pool).
func (t *Turns) SetSlowUntil(until int64) { t.slowUntil.Store(until) }

// OnLoop reports whether a batch of n events runs on the loop.
func (t *Turns) OnLoop(n int) bool {
	return n <= Batch && t.now() >= t.slowUntil.Load()
}

// Begin marks the start of a turn on the loop and arms the watchdog; End takes
// what it returns.
func (t *Turns) Begin() int64 {
	s := t.now()
	t.start.Store(s)
	t.busy.Store(true)
	if !t.watching.Load() && t.watching.CompareAndSwap(false, true) {
		t.watch.Reset(StuckAfter)
	}
	return s
}

// End marks the end of the turn Begin started at s; a turn of SlowTurn or more
// starts the slow phase. It reports whether the runner was left behind during
// the turn: the watchdog claimed the turn (or another runner's turn began,
// which only happens after a takeover). The runner must then run no more turns
// nor touch the loop, even if Gen has not moved yet: the watchdog bumps it
// only after its claim, in takeOver, and a runner that checked Gen in between
// went on polling beside the new one (two goroutines on one loop's poller and
// timing wheel, seen by -race under load).
func (t *Turns) End(s int64) (left bool) {
	e := t.now()
	left = !t.start.CompareAndSwap(s, 0)
	if time.Duration(e-s) >= SlowTurn {
		t.slowUntil.Store(e + int64(SlowFor))
	}
	return left
}

// watchdog runs on its timer while turns run on the loop: a turn that has
// lasted StuckAfter is left behind and takeOver runs. It keeps its timer armed
// while turns come, and lets it lapse once they stop.
func (t *Turns) watchdog() {
	if t.stopped() {
		return // watching stays set: nothing arms the timer again
	}
	if s := t.start.Load(); s != 0 && time.Duration(t.now()-s) >= StuckAfter && t.start.CompareAndSwap(s, 0) {
		if !t.takeOver() {
			return
		}
	}
	if t.busy.Swap(false) || t.start.Load() != 0 {
		t.watch.Reset(StuckAfter)
		return
	}
	t.watching.Store(false)
	// A turn that began after the Swap may have seen watching still set.
	if t.start.Load() != 0 && t.watching.CompareAndSwap(false, true) {
		t.watch.Reset(StuckAfter)
	}
}

// Takeovers counts a loop's (or an engine's) takeovers. A zero Takeovers is
// ready.
type Takeovers struct {
	n    atomic.Uint64
	last atomic.Int64 // when a takeover was last logged (Unix ns)
}

// Count counts one takeover at now and reports the count so far and whether
// to log it: the first time, then at most once per LogEvery.
func (k *Takeovers) Count(now time.Time) (n uint64, log bool) {
	n = k.n.Add(1)
	ns := now.UnixNano()
	last := k.last.Load()
	if last != 0 && ns-last < int64(LogEvery) || !k.last.CompareAndSwap(last, ns) {
		return n, false
	}
	return n, true
}

// Load is the count so far.
func (k *Takeovers) Load() uint64 { return k.n.Load() }
