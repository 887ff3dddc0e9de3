package reactor

import "sync/atomic"

// A connection's scheduling word: every piece of work on it (input,
// writability, a timer, a request from another goroutine) is an event bit
// posted to the word. The poster that sets the running bit owns the
// connection until it hands it back, so turns of one connection never overlap
// and keep their order, without a lock on the read path and without
// EPOLLONESHOT re-arming syscalls.
const (
	EvRead   uint32 = 1 << iota // input or hang-up is waiting
	EvHangUp                    // the poller saw HUP/RDHUP/ERR: read to EOF
	EvWrite                     // the socket is writable again: flush
	EvTimer                     // a wheel deadline passed
	EvReset                     // the poller saw ERR: the transport may be lost
	// EvUser is the first bit left to the connection's own events (bits
	// EvUser up to Heavy, exclusive).
	EvUser

	// Running is held by whoever owns the connection now.
	Running uint32 = 1 << 31
	// Heavy is not an event but a state kept in the word, so that a poster on
	// any goroutine can read it where it hands the connection over: the
	// connection's last read turn ended on its budget, so its next turn,
	// whatever wakes it, waits in the pool's back lane behind fresh work. Set
	// and cleared only by the owner (the holder of Running); posters only
	// read it.
	Heavy uint32 = 1 << 30
	// EvMask: the event bits of a word.
	EvMask = ^(Running | Heavy)
)

// Sched is a connection's scheduling word: the running bit, Heavy and the
// pending events. Its zero value is idle with nothing pending.
type Sched struct{ atomic.Uint32 }

// Post adds ev to the pending events and reports whether the caller set the
// running bit: then it owns the connection and must hand it to its runner.
// heavy is the word's Heavy state as it was.
func (s *Sched) Post(ev uint32) (owner, heavy bool) {
	old := s.Or(ev | Running)
	return old&Running == 0, old&Heavy != 0
}

// Run drains c's events on w until none is left, then releases the running
// bit (keeping Heavy). It must be called only by the goroutine that holds the
// bit. A turn whose Handle reports more input keeps the bit and is queued
// behind the others (the pool's back lane, or its loop's inbox): Run then
// reports true.
func (r *Reactor[T, W]) Run(w W, c *T) (requeued bool) {
	s := r.ops.Sched(c)
	for {
		ev := s.Load()
		if !s.CompareAndSwap(ev, Running|ev&Heavy) {
			continue
		}
		if ev&EvMask != 0 && r.ops.Handle(w, c, ev&EvMask) {
			// More input is waiting but others get a turn first: keep the
			// running bit (nobody else may take c) and queue c behind them.
			s.Or(EvRead)
			r.requeue(c)
			return true
		}
		// Release, keeping Heavy for the next post: only if no event came
		// meanwhile.
		if ev = s.Load(); ev&EvMask == 0 && s.CompareAndSwap(ev, ev&Heavy) {
			return false
		}
	}
}
