package wsconn

import (
	"sync/atomic"

	"github.com/weir-ws/weir/bufpool"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/closing"
	"github.com/weir-ws/weir/internal/opening"
)

// The close machine is internal/closing's; closeSide (below) is the Conn it
// works on. Local close requests (closing.Abort, ...) are posted from any
// goroutine (closeReq).

// closing's phases are the States (closeSide.Phase is the state): this does
// not compile when they differ.
var _ = [1]struct{}{}[uint32(StateConnecting)^closing.Connecting|uint32(StateOpen)^closing.Open|
	uint32(StateClosing)^closing.Closing|uint32(StateClosed)^closing.Closed]

// ErrAborted is engine.ErrAborted (documented there).
var ErrAborted = closing.ErrAborted

var closer = closing.Machine[*closeSide, *worker]{
	Abnormal: ErrAbnormalClosure, CloseTimeout: ErrCloseTimeout, Slow: ErrSlowConsumer,
}

// Close is engine.Conn.Close (documented there).
func (c *Conn) Close(code frame.StatusCode, reason string) error {
	if err := closing.Check(code, reason); err != nil {
		return err
	}
	closer.Close(c.closing(), code, reason)
	return nil
}

// CloseNow is engine.Conn.CloseNow (documented there).
func (c *Conn) CloseNow(code frame.StatusCode, reason string) error {
	if err := closing.Check(code, reason); err != nil {
		return err
	}
	closer.CloseNow(c.closing(), code, reason)
	return nil
}

// Abort is engine.Conn.Abort (documented there).
func (c *Conn) Abort() {
	// The socket is closed in the connection's own context, which may be
	// busy (its handler runs): the write side stops now, so that nothing
	// written after Abort returns, a close frame included, reaches the peer.
	c.WriteSide.Mu.Lock()
	c.WriteSide.W.Stop(c.sink())
	c.WriteSide.Mu.Unlock()
	closer.Request(c.closing(), closing.Abort)
}

// sendClose writes our close frame once; it reports whether this call sent it.
func (c *Conn) sendClose(code frame.StatusCode, reason string) bool {
	var b [frame.MaxControlPayload]byte
	p := b[:0]
	if code != 0 {
		p, _ = frame.AppendClose(p, code, reason)
	}
	c.WriteSide.Mu.Lock()
	behind := c.goMode() && (c.outLen() > 0 || c.sink().Inflight() > 0)
	// Behind the pongs owed; messages held behind an unfinished fragmented
	// message can no longer go out (nothing follows a close, RFC 6455 §5.5.1).
	sent, dropped := c.WriteSide.W.Close(c.sink(), p)
	if sent && behind {
		c.WriteSide.flags |= wfCloseBehind // closesNetNow
	}
	if sent {
		// Under WriteSide.Mu: a writer refused because the close frame is queued
		// must find the connection closing, not open (RFC 6455 §7.1.3: the
		// closing handshake has started once a close frame is sent).
		c.state.CompareAndSwap(uint32(StateOpen), uint32(StateClosing))
	}
	c.WriteSide.Mu.Unlock()
	if !sent {
		return false
	}
	for _, d := range dropped {
		c.callDoneAny(d.Fn, ErrClosed)
	}
	return true
}

// fail fails the WebSocket connection (RFC 6455 §7.1.7, closing.Machine.Fail)
// for err. It returns false so that checks can end with `return c.fail(w, err)`.
func (c *Conn) fail(w *worker, err error) bool { return closer.Fail(c.closing(), w, err) }

// shutdownWrite half-closes the socket after a failing close frame, so the peer sees
// EOF after it. With output still queued (the close frame among it: always in
// goroutine mode, where the writer goroutine writes), flush does it once that is
// out.
func (c *Conn) shutdownWrite() {
	c.WriteSide.Mu.Lock()
	defer c.WriteSide.Mu.Unlock()
	if c.WriteSide.W.Closed() {
		return
	}
	if c.outLen() > 0 || c.sink().Inflight() > 0 {
		c.WriteSide.flags |= wfShutOwed
		return
	}
	c.shutLocked()
}

// finishClean ends a connection whose close handshake completed. On the loops,
// output still queued (the close echo behind a backlog, RFC 6455 §7.1.1: the
// server closes TCP after its close frame) is flushed first: flush calls
// finishClean again once the queue is empty, and the close deadline
// (CloseTimeout, armed once) bounds the wait. Goroutine mode's writer already
// sends the queue before it closes the socket (closeNet).
func (c *Conn) finishClean(w *worker) {
	c.WriteSide.Mu.Lock()
	code, reason := c.WriteSide.closeCode, c.closeReason()
	wait := !c.goMode() && c.outLen() > 0 && !c.WriteSide.W.WriteErr() && !c.WriteSide.W.Closed() &&
		c.State() == StateClosing
	arm := wait && c.WriteSide.flags&wfFinishOwed == 0
	if arm {
		c.WriteSide.flags |= wfFinishOwed
	}
	c.WriteSide.Mu.Unlock()
	if arm {
		c.armDeadline(w, c.Eng().Cfg.CloseTimeout)
	}
	if wait {
		return
	}
	c.finish(w, code, reason, c.ReadSide.Get(w).failErr())
}

func (c *Conn) setCloseStatus(code frame.StatusCode, reason string) {
	c.WriteSide.Mu.Lock()
	if c.WriteSide.closeCode == 0 {
		c.setStatus(code, reason)
	}
	c.WriteSide.Mu.Unlock()
}

// onEOF: the peer closed its side of the TCP connection.
func (c *Conn) onEOF(w *worker) { closer.OnEnd(c.closing(), w, nil) }

// onIOError: a read or write failed; the connection is gone.
func (c *Conn) onIOError(w *worker, err error) { closer.OnEnd(c.closing(), w, &IOError{Err: err}) }

// IOError is engine.IOError (documented there).
type IOError struct{ Err error }

func (e *IOError) Error() string { return "weir: i/o: " + e.Err.Error() }
func (e *IOError) Unwrap() error { return e.Err }

// releaseRead returns the read side's pooled buffers.
func (c *Conn) releaseRead(w *worker) {
	r := c.ReadSide.Get(w)
	b := r.Extras
	if b != nil && b.Unparsed != nil {
		bufpool.Put(b.Unparsed)
		b.Unparsed = nil
	}
	if b != nil && b.charged != 0 {
		c.Eng().Inbound.Refund(b.charged) // settleKept's
		b.charged = 0
	}
	r.parser.Release(&c.Eng().Cfg.ReadLimits) // refunds its buffer to the inbound budget
	c.tlsReleaseRead()
	if b != nil && b.Message != nil {
		c.putMsg(b.Message)
		b.Message = nil
	}
}

// finish closes the connection for good (worker context): the socket is closed,
// buffers go back to their pools, the connection leaves its loop and its timer, and
// OnClose runs if OnOpen did.
func (c *Conn) finish(w *worker, code frame.StatusCode, reason string, err error) {
	r := c.ReadSide.Get(w)
	if !r.close.Finish() {
		return
	}
	c.Eng().foldStats(c) // before it leaves its loop's table (stats.go)
	if h, ok := r.pendingHandle(); ok {
		h.Cancel(err)
		r.Extras.pending = nil
	}
	c.releaseRead(w)
	if c.placed() {
		c.Loop.remove(c)
		c.Loop.wheel.Cancel(c)
	}
	c.WriteSide.Mu.Lock()
	c.WriteSide.W.Uncork(c.sink()) // corked bytes were written before the end: out first (writeside.go)
	c.WriteSide.W.MarkClosed()
	if c.WriteSide.closeCode == 0 || c.closeReq.Load() == closing.Abort {
		c.setStatus(code, reason)
	}
	code, reason = c.WriteSide.closeCode, c.closeReason()
	// Before the socket closes: what is out gets nil (corked bytes just
	// uncorked, output the writer wrote), the rest ErrClosed, held messages'
	// too, but for what goroutine mode's writer may still write (endDones).
	outs, dones := c.endDones()
	if r.flags&rfOpened != 0 {
		c.Eng().Counters.Close(code, r.close.PeerFirst()) // internal/opmetrics
	}
	c.closeSocket()
	if c.compression() != nil {
		c.compression().Release() // no writer can be compressing: we hold mu
	}
	c.WriteSide.Mu.Unlock()
	c.state.Store(uint32(StateClosed))
	// After the state: sharedExtras made from now on sees StateClosed instead.
	if a := c.Extras.Load(); a != nil {
		close(a.done)
	}
	c.runCloseHooks(w)
	for _, d := range outs {
		c.callDone(w, d.Fn, nil)
	}
	for _, d := range dones {
		c.callDone(w, d.Fn, ErrClosed)
	}
	c.Eng().connClosed(w, c)
	if r.flags&rfOpened != 0 {
		c.callOnClose(w, code, reason, err)
	}
}

// closeSide is a Conn as its close machine reaches it (closing.Conn).
type closeSide Conn

func (c *Conn) closing() *closeSide { return (*closeSide)(c) }

func (s *closeSide) Client() bool                          { return s.client() }
func (s *closeSide) Request() *atomic.Uint32               { return &s.closeReq }
func (s *closeSide) Phase() *atomic.Uint32                 { return &s.state }
func (s *closeSide) Post()                                 { (*Conn)(s).Post(evClose) }
func (s *closeSide) Status() (frame.StatusCode, string)    { return (*Conn)(s).CloseStatus() }
func (s *closeSide) ShutdownWrite()                        { (*Conn)(s).shutdownWrite() }
func (s *closeSide) Arm(w *worker)                         { (*Conn)(s).armDeadline(w, s.Eng().Cfg.CloseTimeout) }
func (s *closeSide) FinishClean(w *worker)                 { (*Conn)(s).finishClean(w) }
func (s *closeSide) GoingAway() (frame.StatusCode, string) { return goingAway((*Conn)(s)) }
func (s *closeSide) Read(w *worker) *closing.Read          { return &s.ReadSide.Get(w).close }
func (s *closeSide) Failure(w *worker) error               { return s.ReadSide.Get(w).failErr() }

func (s *closeSide) SendClose(code frame.StatusCode, reason string) bool {
	return (*Conn)(s).sendClose(code, reason)
}

func (s *closeSide) SetStatus(code frame.StatusCode, reason string) {
	(*Conn)(s).setCloseStatus(code, reason)
}

func (s *closeSide) Finish(w *worker, code frame.StatusCode, reason string, err error) {
	(*Conn)(s).finish(w, code, reason, err)
}

func (s *closeSide) Failed(w *worker, err error) {
	s.ReadSide.Get(w).extra().failErr = err
	(*Conn)(s).releaseRead(w)
}

func (s *closeSide) Handshaking(w *worker, busy bool) {
	c := (*Conn)(s)
	if h, ok := c.ReadSide.Get(w).pendingHandle(); ok {
		h.Cancel(ErrServerClosed)
	}
	if busy {
		opening.Refuse(c.opening(), w, nil, opening.ErrBusy)
	} else {
		c.finish(w, frame.StatusAbnormalClosure, "", ErrAborted)
	}
}
