package reactor

import "github.com/weir-ws/weir/internal/turns"

// When not Inline, the loop runs the connections of a small batch itself
// instead of handing them to the pool: for a lone ready connection the
// hand-off costs a channel send, a worker's wake-up (a futex call and a
// thread switch) and the worker's sleep after it, several times the cost of
// the read (issue 15). Big batches still go to the pool, where they run in
// parallel, and so does every turn while the loop is in its slow phase. The
// contract stays that of the pool: a turn that blocks ties up its own
// goroutine, not the other connections of its loop, because a turn that lasts
// turns.StuckAfter is left behind: another goroutine takes the loop over (the
// watchdog) and the blocked one, when its turn returns, gives its remaining
// turns to the pool and ends. internal/turns keeps the times and the
// watchdog; here are the runners.

// runner is what one goroutine running a loop owns: the worker its turns run
// on (its read buffer may be in use by a blocked turn, so a goroutine that
// takes the loop over brings its own) and the connections kept for its turns.
type runner[T, W any] struct {
	w     *worker[T, W]
	gen   uint32 // the loop's generation this runner was started for
	take  bool   // this batch's connections run on the loop
	taken []*T   // their running bits are this runner's
}

// newRunner is the state of a goroutine starting to run l.
func (l *Loop[T, W]) newRunner() *runner[T, W] {
	r := &runner[T, W]{w: l.w, gen: l.turns.Gen(), taken: make([]*T, 0, turns.Batch)}
	if r.gen != 0 {
		r.w = &worker[T, W]{w: l.r.ops.NewWorker()} // l.w may be the blocked runner's
	}
	if !l.inline {
		if r.w.cork == nil {
			r.w.cork = l.r.newCorker() // the batch's sends go out together (cork.go)
		}
		l.cork.Store(r.w.cork)
	}
	return r
}

// runTaken runs the connections kept from this batch, and reports whether r
// still runs the loop: false if it was left behind while a turn blocked (the
// watchdog claimed the turn: turns.End).
func (l *Loop[T, W]) runTaken(r *runner[T, W]) bool {
	t := &l.turns
	left := false
	k := r.w.cork
	on := len(r.taken) > 1 // a lone connection's write goes straight out
	for i, c := range r.taken {
		r.taken[i] = nil
		if left || t.Gen() != r.gen {
			left = true
			l.r.pool.Put(c) // left behind: no more turns here
			continue
		}
		if k != nil {
			k.begin(c, on)
		}
		s := t.Begin()
		r.w.corkRun(l.r, c)
		left = t.End(s)
	}
	r.w.uncork() // the batch's corked writes, one system call (cork.go)
	r.taken = r.taken[:0]
	return !left && t.Gen() == r.gen
}

// takeOver starts a new runner for a loop whose turn is stuck (the watchdog's
// goroutine), or reports false once the reactor stopped.
func (l *Loop[T, W]) takeOver() bool {
	// Under stopMu: a Stop that began after the watchdog's check would
	// otherwise have its wg.Wait race this Add (and return before the new
	// runner ends, which then polls a closed poller); once stopped, no runner
	// is added.
	l.r.stopMu.Lock()
	if l.r.stopped.Load() {
		l.r.stopMu.Unlock()
		return false
	}
	if k := l.cork.Load(); k != nil {
		k.rescue(nil) // what the blocked runner's batch corked goes out now
	}
	l.turns.LeaveBehind()
	l.r.wg.Add(1)
	l.r.stopMu.Unlock()
	go l.run()
	l.r.ops.TookOver()
	return true
}
