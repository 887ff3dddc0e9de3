package reactor

import "runtime"

// worker is a context turns run in: a pool worker's goroutine, an inline
// loop, or a loop's runner. w is the engine's (its read buffer: an idle
// connection owns none); cork is nil where writes go straight to the socket.
type worker[T, W any] struct {
	w    W
	cork *corker[T, W]
}

// poolWorker is one of Config.Workers goroutines taking turns from the pool's
// hand-over queue (internal/workq: a poster never blocks and never starts a
// goroutine). A connection is handed over only by whoever set its running
// bit, so it is in the queue at most once.
func (r *Reactor[T, W]) poolWorker() {
	defer r.wg.Done()
	p := r.pool
	x := &worker[T, W]{w: r.ops.NewWorker(), cork: r.newCorker()}
	if k := x.cork; k != nil {
		k.turns.Start(r.stopped.Load, func() bool { k.rescue(p); return true })
		defer k.turns.Stop()
	}
	for {
		c, ok := x.taken()
		if !ok {
			c, ok = p.Get()
		}
		if !ok {
			return
		}
		if x.runPooled(r, c) {
			// A turn cut by its budget: let the goroutines waiting for a P
			// run (the loops among them) before this worker takes the next
			// turn. Workers that always find work never block, so otherwise
			// only preemption, every 10 ms, rotates them: with Workers above
			// GOMAXPROCS, a flood held a loop off its P for 30 to 300 ms
			// (issue 12).
			runtime.Gosched()
		}
	}
}

// runPooled runs c's turn on a pool worker. With a corker, c's writes cork
// when more work is ready (taken now, run next: the worker's batch lasts
// while the queue has work), and the batch's corked writes go out together
// once it has none (cork.go). Only a corking turn is watched: one that blocks
// has the batch sent and the turn taken ahead put back by the watchdog
// (corker.rescue), so neither waits on its handler.
func (x *worker[T, W]) runPooled(r *Reactor[T, W], c *T) bool {
	k := x.cork
	if k == nil {
		return r.Run(x.w, c)
	}
	if k.cold > 0 { // recent batches corked nothing: no look-ahead for now
		k.cold--
		return r.Run(x.w, c)
	}
	next, _ := r.pool.TryGet()
	k.mu.Lock()
	k.next = next
	on := next != nil || len(k.conns) > 0
	k.mu.Unlock()
	if !k.begin(c, on) {
		return r.Run(x.w, c) // nothing corked, nothing ahead: nothing to rescue
	}
	s := k.turns.Begin()
	requeued := x.corkRun(r, c)
	k.turns.End(s)
	k.mu.Lock()
	if k.next == nil { // the last of the batch, or rescued
		if k.listed == 0 && len(k.conns) == 0 {
			k.cold = corkCold // a batch that corked nothing
		}
		k.on, k.listed = false, 0
		k.flush()
	}
	k.mu.Unlock()
	return requeued
}

// taken is the turn a pool worker took ahead and still owns (not rescued).
func (x *worker[T, W]) taken() (*T, bool) {
	k := x.cork
	if k == nil {
		return nil, false
	}
	k.mu.Lock()
	c := k.next
	k.next = nil
	k.mu.Unlock()
	return c, c != nil
}
