package engine

import (
	"errors"
	"unicode/utf8"

	"github.com/weir-ws/weir/bufpool"
	"github.com/weir-ws/weir/frame"
)

// Local close requests, posted from any goroutine (closeReq).
const (
	closeGraceful uint32 = iota + 1 // close frame sent; wait for the peer's
	closeNow                        // close frame sent; close TCP at once (WebSocket-Node drop)
	closeAbort                      // no frame; close TCP at once (ws terminate)
	closeBusy                       // a handshake in flight: answer 503 (Shutdown)
	closeSlow                       // WriteBufferClose: 1008 sent, close TCP at once
)

// ErrAborted is reported to OnClose after Abort.
var ErrAborted = errors.New("weir: connection aborted locally")

// Close starts the closing handshake (RFC 6455 §7.1.2): it sends a close frame with
// code and reason (at most 123 bytes), then waits up to Config.CloseTimeout for the
// peer's close frame before closing the TCP connection. Code 0 sends a close frame
// with no status. Calling it again, or while closing, does nothing.
func (c *Conn) Close(code frame.StatusCode, reason string) error {
	if err := checkClose(code, reason); err != nil {
		return err
	}
	if !c.sendClose(code, reason) {
		return nil
	}
	c.closeReq.CompareAndSwap(0, closeGraceful)
	c.state.CompareAndSwap(uint32(StateOpen), uint32(StateClosing))
	c.post(evClose)
	return nil
}

// CloseNow sends a close frame with code and reason, as far as the socket takes it
// without blocking, and closes the TCP connection at once (WebSocket-Node drop; use
// frame.StatusProtocolError for its default).
func (c *Conn) CloseNow(code frame.StatusCode, reason string) error {
	if err := checkClose(code, reason); err != nil {
		return err
	}
	c.sendClose(code, reason)
	if code == 0 {
		code = frame.StatusNoStatusRcvd
	}
	c.setCloseStatus(code, reason)
	c.closeReq.Store(closeNow)
	c.post(evClose)
	return nil
}

// Abort closes the TCP connection at once without a close frame (ws terminate,
// watershed destroy). OnClose reports 1006 and ErrAborted.
func (c *Conn) Abort() {
	c.closeReq.Store(closeAbort)
	c.post(evClose)
}

func checkClose(code frame.StatusCode, reason string) error {
	if code != 0 && !code.IsValidOnWire() {
		return ErrInvalidCloseCode
	}
	if len(reason) > frame.MaxControlPayload-2 || (code == 0 && reason != "") {
		return frame.ErrCloseReasonTooLong
	}
	if !utf8.ValidString(reason) {
		return frame.ErrInvalidUTF8 // the peer would fail the connection with 1007
	}
	return nil
}

// sendClose writes our close frame once; it reports whether this call sent it.
func (c *Conn) sendClose(code frame.StatusCode, reason string) bool {
	var b [frame.MaxControlPayload]byte
	p := b[:0]
	if code != 0 {
		p, _ = frame.AppendClose(p, code, reason)
	}
	c.write.mu.Lock()
	// Behind the pongs owed; messages held behind an unfinished fragmented
	// message can no longer go out (nothing follows a close, RFC 6455 §5.5.1).
	sent, dropped := c.write.w.Close(c.sink(), p)
	if sent {
		// Under write.mu: a writer refused because the close frame is queued
		// must find the connection closing, not open (RFC 6455 §7.1.3: the
		// closing handshake has started once a close frame is sent).
		c.state.CompareAndSwap(uint32(StateOpen), uint32(StateClosing))
	}
	c.write.mu.Unlock()
	if !sent {
		return false
	}
	for _, d := range dropped {
		c.callDoneAny(d.Fn, ErrClosed)
	}
	return true
}

// onCloseRequest runs a local close request in worker context.
func (c *Conn) onCloseRequest(w *worker) {
	r := c.read.Get(w)
	if c.State() == StateConnecting {
		if h, ok := r.pendingHandle(); ok {
			h.Cancel(ErrServerClosed)
		}
		if c.closeReq.Load() == closeBusy {
			c.refuse(w, nil, errBusy)
		} else {
			c.finish(w, frame.StatusAbnormalClosure, "", ErrAborted)
		}
		return
	}
	switch c.closeReq.Load() {
	case closeGraceful:
		if r.flags&rfRecvClose != 0 && !c.client {
			c.finishClean(w)
			return
		}
		c.armDeadline(w, c.eng.cfg.CloseTimeout)
	case closeNow:
		c.write.mu.Lock()
		code, reason := c.write.closeCode, c.write.reason()
		c.write.mu.Unlock()
		c.finish(w, code, reason, nil)
	case closeAbort:
		c.finish(w, frame.StatusAbnormalClosure, "", ErrAborted)
	case closeSlow:
		c.finish(w, frame.StatusPolicyViolation, "slow consumer", ErrSlowConsumer)
	case closeBusy:
		// Shutdown (or a late accept) asked for a 503 while the handshake was in
		// flight, and the handshake completed first: the connection is open, so
		// it gets what Shutdown gives open connections, going-away.
		if !c.closeReq.CompareAndSwap(closeBusy, closeGraceful) {
			c.onCloseRequest(w) // an Abort came meanwhile
			return
		}
		if c.sendClose(goingAway(c)) {
			c.state.CompareAndSwap(uint32(StateOpen), uint32(StateClosing))
		}
		c.armDeadline(w, c.eng.cfg.CloseTimeout)
	}
}

// fail fails the WebSocket connection (RFC 6455 §7.1.7) for err, a
// *frame.ProtocolError: it sends a close frame with err's code, stops reading
// frames and waits for the peer to hang up (at most CloseTimeout). It returns false
// so that checks can end with `return c.fail(w, err)`.
func (c *Conn) fail(w *worker, err error) bool {
	r := c.read.Get(w)
	if r.flags&(rfDiscard|rfFinished) != 0 {
		return false
	}
	code := frame.StatusProtocolError
	var pe *frame.ProtocolError
	if errors.As(err, &pe) {
		code = pe.Code
	}
	r.flags |= rfDiscard
	r.extra().failErr = err
	c.releaseRead(w)
	c.setCloseStatus(code, "")
	c.sendClose(code, "")
	c.state.Store(uint32(StateClosing))
	c.shutdownWrite()
	c.armDeadline(w, c.eng.cfg.CloseTimeout)
	return false
}

// shutdownWrite half-closes the socket after a failing close frame, so the peer sees
// EOF after it. With output still queued (the close frame among it: always in
// goroutine mode, where the writer goroutine writes), flush does it once that is
// out.
func (c *Conn) shutdownWrite() {
	c.write.mu.Lock()
	defer c.write.mu.Unlock()
	if c.write.w.Closed() {
		return
	}
	if c.outLen() > 0 || c.inflight() > 0 {
		c.write.flags |= wfShutOwed
		return
	}
	c.shutLocked()
}

// onPeerClose handles the peer's close frame (RFC 6455 §5.5.1, §7.1.5).
func (c *Conn) onPeerClose(w *worker, payload []byte) {
	r := c.read.Get(w)
	code, reason, err := frame.ParseClose(payload)
	if err != nil {
		c.fail(w, err)
		return
	}
	r.flags |= rfRecvClose
	c.setCloseStatus(code, string(reason))
	// Echo the status code (none for 1005, which is never sent on the wire).
	if code == frame.StatusNoStatusRcvd {
		code = 0
	}
	if c.sendClose(code, "") {
		r.flags |= rfPeerFirst // the peer started the closing handshake (metrics.go)
	}
	c.state.Store(uint32(StateClosing))
	if c.client {
		// §7.1.1: the server closes TCP first; a client waits for it.
		c.armDeadline(w, c.eng.cfg.CloseTimeout)
		return
	}
	c.finishClean(w)
}

// finishClean ends a connection whose close handshake completed. On the loops,
// output still queued (the close echo behind a backlog, RFC 6455 §7.1.1: the
// server closes TCP after its close frame) is flushed first: flush calls
// finishClean again once the queue is empty, and the close deadline
// (CloseTimeout, armed once) bounds the wait. Goroutine mode's writer already
// sends the queue before it closes the socket (closeNet).
func (c *Conn) finishClean(w *worker) {
	c.write.mu.Lock()
	code, reason := c.write.closeCode, c.write.reason()
	wait := c.goroutine == nil && c.outLen() > 0 && !c.write.w.WriteErr() && !c.write.w.Closed() &&
		c.State() == StateClosing
	arm := wait && c.write.flags&wfFinishOwed == 0
	if arm {
		c.write.flags |= wfFinishOwed
	}
	c.write.mu.Unlock()
	if arm {
		c.armDeadline(w, c.eng.cfg.CloseTimeout)
	}
	if wait {
		return
	}
	c.finish(w, code, reason, c.read.Get(w).failErr())
}

func (c *Conn) setCloseStatus(code frame.StatusCode, reason string) {
	c.write.mu.Lock()
	if c.write.closeCode == 0 {
		c.write.setStatus(code, reason)
	}
	c.write.mu.Unlock()
}

// onEOF: the peer closed its side of the TCP connection.
func (c *Conn) onEOF(w *worker) {
	r := c.read.Get(w)
	switch {
	case r.failErr() != nil || r.flags&rfRecvClose != 0:
		c.finishClean(w)
	default:
		c.finish(w, frame.StatusAbnormalClosure, "", ErrAbnormalClosure)
	}
}

// onIOError: a read or write failed; the connection is gone.
func (c *Conn) onIOError(w *worker, err error) {
	r := c.read.Get(w)
	if r.failErr() != nil || r.flags&rfRecvClose != 0 {
		c.finishClean(w)
		return
	}
	c.finish(w, frame.StatusAbnormalClosure, "", &IOError{Err: err})
}

// IOError wraps a socket error that ended a connection.
type IOError struct{ Err error }

func (e *IOError) Error() string { return "weir: i/o: " + e.Err.Error() }
func (e *IOError) Unwrap() error { return e.Err }

// releaseRead returns the read side's pooled buffers.
func (c *Conn) releaseRead(w *worker) {
	r := c.read.Get(w)
	if r.unparsed != nil {
		bufpool.Put(r.unparsed)
		r.unparsed = nil
	}
	r.parser.Release() // refunds its buffer to the inbound budget
	c.tlsReleaseRead()
	if r.message != nil {
		c.putMsg(r.message)
		r.message = nil
	}
}

// finish closes the connection for good (worker context): the socket is closed,
// buffers go back to their pools, the connection leaves its loop and its timer, and
// OnClose runs if OnOpen did.
func (c *Conn) finish(w *worker, code frame.StatusCode, reason string, err error) {
	r := c.read.Get(w)
	if r.flags&rfFinished != 0 {
		return
	}
	r.flags |= rfFinished
	c.eng.foldStats(c) // before it leaves its loop's table (stats.go)
	if h, ok := r.pendingHandle(); ok {
		h.Cancel(err)
		r.extras.pending = nil
	}
	c.releaseRead(w)
	if c.loop != nil {
		c.loop.remove(c)
		c.loop.wheel.Cancel(c)
	}
	c.write.mu.Lock()
	c.write.w.MarkClosed()
	if c.write.closeCode == 0 || c.closeReq.Load() == closeAbort {
		c.write.setStatus(code, reason)
	}
	code, reason = c.write.closeCode, c.write.reason()
	dones := c.write.w.AllDones(&c.eng.cfg.writeLimits) // held messages' too: ErrClosed
	if r.flags&rfOpened != 0 {
		c.eng.m.Close(code, r.flags&rfPeerFirst != 0) // internal/opmetrics
	}
	if c.goroutine == nil {
		c.releaseWrite()
	} // goroutine mode: the writer sends what is queued, then releases and closes
	c.closeSocket()
	if c.compression() != nil {
		c.compression().Release() // no writer can be compressing: we hold mu
	}
	c.write.mu.Unlock()
	c.state.Store(uint32(StateClosed))
	// After the state: sharedExtras made from now on sees StateClosed instead.
	if a := c.extras.Load(); a != nil {
		close(a.done)
	}
	c.runCloseHooks(w)
	for _, d := range dones {
		c.callDone(w, d.Fn, ErrClosed)
	}
	c.eng.connClosed(w, c)
	if r.flags&rfOpened != 0 {
		c.callOnClose(w, code, reason, err)
	}
}
