package wsconn

import (
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/reactor"
)

// Every piece of work on a connection is an event bit posted to its sched
// word (internal/reactor): the poller's (input, hang-up, reset, writability),
// a timer's, and these of the engine's own, posted from any goroutine. The
// poster that sets the running bit owns the connection until it hands it back.
const (
	EvRead    = reactor.EvRead
	evHangUp  = reactor.EvHangUp
	evWrite   = reactor.EvWrite
	evTimer   = reactor.EvTimer
	evReset   = reactor.EvReset
	EvRunning = reactor.Running
	StHeavy   = reactor.Heavy // the last read turn ended on its budget (read.go)
	evMask    = reactor.EvMask
)

const (
	evClose   uint32 = reactor.EvUser << iota // Close/CloseNow/Abort from another goroutine
	evDecided                                 // an asynchronous verify decision arrived
	evResume                                  // ResumeRead
	evPause                                   // PauseRead: switch input interest off
	evOpen                                    // an adopted, already upgraded connection starts
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

// post adds ev to c's pending events and, if nobody is working on c, hands it to its
// runner (internal/reactor: a worker, or the loop under DispatchInline).
// In goroutine mode the reader goroutine is the only runner: the event waits in sched
// and the reader is woken out of its blocking read.
func (c *Conn) Post(ev uint32) {
	if c.goMode() {
		c.Sched.Or(ev)
		c.Goroutine().Wake()
		return
	}
	c.Eng().Reactor.Post(c, ev)
}

// handle does one batch of events in worker context. It reports whether input is
// left to read after the connection's turn.
func (c *Conn) handle(w *worker, ev uint32) (more bool) {
	if c.ReadSide.Get(w).close.Finished() {
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
		if err := c.FD.Err(); err != nil {
			c.onIOError(w, err)
			return false
		}
	}
	if ev&evHangUp != 0 && c.writeCut() {
		// A write was cut mid-frame (ErrBudgetCut): the socket is healthy,
		// so reading to EOF would not end the connection, and the peer is
		// inside a frame that nothing may follow (no close frame either:
		// RFC 6455 §5.2). End it now, before the close request below.
		c.onIOError(w, ErrBudgetCut)
		return false
	}
	if ev&evClose != 0 {
		closer.OnRequest(c.closing(), w) // a local close request (close.go)
	}
	if ev&evDecided != 0 {
		c.onDecided(w)
	}
	if ev&evWrite != 0 && c.WriteSide.W.Queued() {
		c.flush(w)
	}
	if ev&(evPause|evResume) != 0 {
		c.applyPause(w, ev&evResume != 0)
	}
	if ev&evHangUp != 0 && c.ReadSide.Get(w).flags&rfVerifyWait != 0 {
		// The peer left while a deferred verify decision was pending: cancel it.
		c.finish(w, frame.StatusAbnormalClosure, "", ErrAbnormalClosure)
		return false
	}
	if ev&evHangUp != 0 {
		c.ReadSide.Get(w).flags |= rfHangUp
	}
	if ev&(EvRead|evHangUp) != 0 {
		more = c.readReady(w, c.ReadSide.Get(w).flags&rfHangUp != 0)
	}
	if ev&evTimer != 0 {
		c.onTimer(w)
	}
	return more && !c.ReadSide.Get(w).close.Finished()
}
