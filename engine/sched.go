package engine

import "github.com/weir-ws/weir/frame"

// Every piece of work on a connection (input, writability, a timer, a close request
// from another goroutine, a handshake decision) is an event bit posted to its sched
// word. The poster that sets the running bit owns the connection until it hands it
// back, so callbacks for one connection never overlap and keep their order, without
// a lock on the read path and without EPOLLONESHOT re-arming syscalls.
const (
	evRead    uint32 = 1 << iota // input or hang-up is waiting
	evHangUp                     // the poller saw HUP/RDHUP/ERR: read to EOF
	evWrite                      // the socket is writable again: flush
	evTimer                      // a wheel deadline passed
	evClose                      // Close/CloseNow/Abort from another goroutine
	evDecided                    // an asynchronous verify decision arrived
	evResume                     // ResumeRead
	evPause                      // PauseRead: switch input interest off
	evOpen                       // an adopted, already upgraded connection starts
	evReset                      // the poller saw ERR: the transport may be lost (handle)
	evRunning uint32 = 1 << 31

	// stHeavy is not an event but a state kept in the sched word, so that a
	// poster on any goroutine can read it where it hands the connection over:
	// the connection's last read turn ended on its budget (read.go), so its
	// next turn, whatever wakes it, waits in the pool's back lane behind fresh
	// work, until a turn reads the socket dry with little read (Conn.drained).
	// Set and cleared only by the owner (the holder of the running bit);
	// posters only read it.
	stHeavy uint32 = 1 << 30
	// evMask: the event bits of a sched word.
	evMask = ^(evRunning | stHeavy)
)

// rflags bits owned by the scheduling code, numbered from the top so that they
// stay clear of the read path's bits (conn.go).
const (
	// rfHangUp: the poller reported a hang-up. It is reported once (edge-
	// triggered), so it sticks: every later read turn reads to EOF instead of
	// stopping at a short read, or a connection requeued after its turn would
	// never read the EOF behind the last short read.
	rfHangUp uint16 = 1 << 15
	// rfReadOff: input interest is switched off in the poller (the state the
	// owner last applied; paused is the state asked for).
	rfReadOff uint16 = 1 << 14
)

// post adds ev to c's pending events and, if nobody is working on c, hands it to the
// dispatcher (a worker, or the loop under DispatchInline).
// In goroutine mode the reader goroutine is the only runner: the event waits in sched
// and the reader is woken out of its blocking read.
func (c *Conn) post(ev uint32) {
	if c.goroutine != nil {
		c.sched.Or(ev)
		c.wakeReader()
		return
	}
	old := c.sched.Or(ev | evRunning)
	if old&evRunning == 0 {
		c.eng.dispatch(c)
	}
}

// run drains c's events until none is left, then releases the running bit. It must
// be called only by the goroutine that set the bit (through post). It reports
// whether the turn ended on its read budget, with c queued behind others.
func (c *Conn) run(w *worker) (requeued bool) {
	for {
		ev := c.sched.Load()
		if !c.sched.CompareAndSwap(ev, evRunning|ev&stHeavy) {
			continue
		}
		if ev&evMask != 0 && c.handle(w, ev&evMask) {
			// More input is waiting but others get a turn first: keep the running
			// bit (nobody else may take c) and queue c behind them. A hang-up seen
			// in this turn is kept in rflags (rfHangUp).
			c.sched.Or(evRead)
			c.eng.requeue(c)
			return true
		}
		// Release, keeping stHeavy for the next post: only if no event came
		// meanwhile.
		if ev = c.sched.Load(); ev&evMask == 0 && c.sched.CompareAndSwap(ev, ev&stHeavy) {
			return false
		}
	}
}

// handle does one batch of events in worker context. It reports whether input is
// left to read after the connection's turn.
func (c *Conn) handle(w *worker, ev uint32) (more bool) {
	if c.read.Get(w).flags&rfFinished != 0 {
		return false
	}
	if ev&evOpen != 0 {
		c.opened(w)
		c.resumeNow(w) // frames that arrived with the handshake, then the socket
	}
	if ev&evReset != 0 {
		// The socket has an error: a reset, or a timeout (TCP_USER_TIMEOUT,
		// retransmissions given up). The peer is gone, so finish now rather
		// than read what it left queued first (Linux hands that out before
		// the error): RFC 793 §3.4, a reset flushes the queues; and megabytes
		// left by a peer that sent and never read would hold the connection
		// for seconds, or for good while its reading is paused. With no
		// pending error (taken by a write that failed first), the hang-up
		// below reads to EOF as before. Before anything that writes (the
		// close request, the flush), which would take the error.
		if err := c.fd.Err(); err != nil {
			c.onIOError(w, err)
			return false
		}
	}
	if ev&evClose != 0 {
		c.onCloseRequest(w)
	}
	if ev&evDecided != 0 {
		c.onDecided(w)
	}
	if ev&evWrite != 0 && c.write.w.Queued() {
		c.flush(w)
	}
	if ev&(evPause|evResume) != 0 {
		c.applyPause(w, ev&evResume != 0)
	}
	if ev&evHangUp != 0 && c.read.Get(w).flags&rfVerifyWait != 0 {
		// The peer left while a deferred verify decision was pending: cancel it.
		c.finish(w, frame.StatusAbnormalClosure, "", ErrAbnormalClosure)
		return false
	}
	if ev&evHangUp != 0 {
		c.read.Get(w).flags |= rfHangUp
	}
	if ev&(evRead|evHangUp) != 0 {
		more = c.readReady(w, c.read.Get(w).flags&rfHangUp != 0)
	}
	if ev&evTimer != 0 {
		c.onTimer(w)
	}
	return more && c.read.Get(w).flags&rfFinished == 0
}
