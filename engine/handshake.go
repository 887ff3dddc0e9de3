package engine

import (
	"net/http"
	"time"

	"github.com/weir-ws/weir/bufpool"
	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/admit"
	"github.com/weir-ws/weir/upgrade"
)

// The server side of the opening handshake, on the loops (worker context). Request
// bytes are scanned where they were read (upgrade.Upgrader.Parse); only a request
// cut by the end of a read is copied into a pooled buffer, which later reads extend.
// A verify hook that defers its answer leaves the connection waiting: nothing is
// read from it until the answer comes (HandshakeDecided) or the handshake times out.

// errHookPanic answers a handshake whose user hook (Verify, CheckOrigin, ...)
// panicked under PanicClose.
var errHookPanic = &upgrade.CheckError{Status: http.StatusInternalServerError, Reason: "internal error"}

// errBusy answers handshakes that arrive or are pending while the server shuts down.
var errBusy = &upgrade.CheckError{Status: http.StatusServiceUnavailable, Reason: "server shutting down"}

// handshakeInput takes bytes of a connection in the handshake state.
func (c *Conn) handshakeInput(w *worker, data []byte) {
	r := c.read.Get(w)
	buf := data
	if r.unparsed != nil {
		r.unparsed = keep(r.unparsed, data, 0)
		buf = r.unparsed
	}
	u := c.eng.srv.upg
	if c.tls != nil {
		w.req.SetTLS(c.tls) // hooks see Request.TLS (tls.go)
	} else if c.goroutine == nil {
		w.req.SetTLS(nil) // the worker's request view served a wss connection before
	}
	n, err := u.Parse(buf, w.req)
	if err == upgrade.ErrNeedMore {
		if r.unparsed == nil {
			r.unparsed = keep(nil, data, 1024)
		}
		return
	}
	if err != nil {
		c.refuse(w, w.rsp[:0], err)
		return
	}
	if c.eng.aborting.Load() {
		c.Abort() // Close: no answer to anyone
		return
	}
	if c.eng.stopping.Load() {
		c.refuse(w, w.rsp[:0], errBusy)
		return
	}
	if !c.admitClientIP(w, w.req) {
		c.refuse(w, w.rsp[:0], admit.TooMany(admit.ReasonTooManyIP)) // 503 (internal/admit)
		return
	}
	var out []byte
	var res upgrade.Result
	if c.guardedHook(func() { out, res = u.Handshake(w.req, c.remote, w.rsp[:0], c) }) {
		c.refuse(w, w.rsp[:0], errHookPanic) // a user hook panicked (guard.go)
		return
	}
	w.rsp = out[:0]
	head := buf[n:]
	if res.Pending != nil {
		r.extra().pending = res.Pending
		r.flags |= rfVerifyWait
		// Keep only what followed the request (frames sent early) for later.
		c.keepHead(w, head)
		return
	}
	c.completeHandshake(w, out, &res, head)
}

// keepHead replaces r.unparsed with a pooled copy of head (which may alias r.unparsed).
func (c *Conn) keepHead(w *worker, head []byte) {
	r := c.read.Get(w)
	var kept []byte
	if len(head) > 0 {
		kept = keep(nil, head, 0)
	}
	if r.unparsed != nil {
		bufpool.Put(r.unparsed)
	}
	r.unparsed = kept
}

// HandshakeDecided implements upgrade.Notifier: a deferred verify decision arrived
// (on the goroutine that made it); the connection's worker finishes the handshake.
func (c *Conn) HandshakeDecided(*upgrade.Handle) { c.post(evDecided) }

// onDecided finishes a deferred handshake (worker context).
func (c *Conn) onDecided(w *worker) {
	r := c.read.Get(w)
	h, ok := r.pendingHandle()
	if !ok || r.flags&rfVerifyWait == 0 {
		return
	}
	r.extras.pending = nil
	r.flags &^= rfVerifyWait
	var out []byte
	var res upgrade.Result
	if c.guardedHook(func() { out, res = h.Finish(w.rsp[:0]) }) {
		c.refuse(w, w.rsp[:0], errHookPanic)
		return
	}
	w.rsp = out[:0]
	if c.eng.stopping.Load() && res.Accepted() {
		c.refuse(w, w.rsp[:0], errBusy)
		return
	}
	c.completeHandshake(w, out, &res, r.unparsed)
	if r.flags&rfFinished == 0 && c.goroutine == nil && c.readReady(w, false) {
		c.sched.Or(evRead) // input waited in the socket meanwhile
	}
}

// completeHandshake writes the answer; on acceptance the connection opens and head
// (bytes that followed the request, aliasing r.unparsed or the read buffer) is parsed as
// frames.
func (c *Conn) completeHandshake(w *worker, out []byte, res *upgrade.Result, head []byte) {
	r := c.read.Get(w)
	if !res.Accepted() {
		c.reject(w, out, res.Err)
		return
	}
	c.takeResult(res)
	// Open before the 101 leaves: a client that saw it finds the connection in
	// Conns and NumConns. OnOpen still comes after the 101 (opened, below).
	c.state.Store(uint32(StateOpen))
	c.write.mu.Lock()
	err := c.writeRaw(out)
	c.write.mu.Unlock()
	if err != nil {
		c.finish(w, frame.StatusAbnormalClosure, "", err)
		return
	}
	r.flags &^= rfHandshake
	c.eng.m.Accept()
	in := r.unparsed
	r.unparsed = nil
	c.opened(w)
	if len(head) > 0 && r.flags&rfFinished == 0 {
		c.parse(w, head)
	}
	if in != nil {
		bufpool.Put(in)
	}
}

// rejectLinger bounds how long a rejected connection drains its input after the
// answer (net/http waits 500 ms the same way, rstAvoidanceDelay).
const rejectLinger = time.Second

// reject writes a handshake rejection and ends the connection. OnOpen was never
// called, so OnClose is not either. Closing a socket with unread input makes
// the kernel send an RST, which can reach the client before it has read the
// answer and make it lose it (a client still sending a body, or pipelined
// bytes). So the answer is followed by a half-close (FIN once it is out), and
// input is read and dropped until the peer hangs up or rejectLinger passes;
// only then is the socket closed.
func (c *Conn) reject(w *worker, out []byte, err error) {
	r := c.read.Get(w)
	c.eng.countRefused(err) // by its status (metrics.go)
	c.write.mu.Lock()
	werr := c.writeRaw(out)
	c.write.mu.Unlock()
	if werr != nil || c.loop == nil {
		c.finish(w, frame.StatusAbnormalClosure, "", err)
		return
	}
	r.flags |= rfDiscard // consume drops input from now on
	r.flags &^= rfVerifyWait
	r.extra().failErr = err // onEOF ends it at once (finishClean)
	c.releaseRead(w)
	c.setCloseStatus(frame.StatusAbnormalClosure, "")
	c.shutdownWrite()
	c.armDeadline(w, min(rejectLinger, c.eng.cfg.CloseTimeout)) // onTimer: still connecting
}

// refuse answers err (Upgrader.Refuse, which tells OnHandshakeError) and closes
// the connection as reject does. A panicking OnHandshakeError still gets the
// answer written.
func (c *Conn) refuse(w *worker, dst []byte, err error) {
	var out []byte
	if c.guardedHook(func() { out = c.eng.srv.upg.Refuse(dst, c.remote, err) }) {
		out = upgrade.AppendError(dst, err)
	}
	c.reject(w, out, err)
}

// rejectBusy answers a handshake in flight with 503 (Shutdown).
func (c *Conn) rejectBusy() {
	c.closeReq.CompareAndSwap(0, closeBusy)
	c.post(evClose)
}

// takeResult sets what an accepted handshake negotiated and what its hooks
// kept, before the connection's state becomes open (which publishes them):
// subprotocol, version, permessage-deflate, user data, the kept request.
func (c *Conn) takeResult(res *upgrade.Result) {
	if res.Subprotocol != "" {
		c.rareSet().subprotocol = res.Subprotocol
	}
	if res.Version != 0 {
		c.version = uint8(res.Version)
	}
	if a, ok := res.Extensions.(deflate.Agreement); ok {
		c.rareSet().compression = deflate.NewConn(a.Params(), true, c.eng.cfg.Compression)
	}
	if res.UserValue != nil {
		c.SetUserData(res.UserValue)
	}
	if res.Path != "" || res.RawQuery != "" || res.Header != nil {
		c.rareSet().kept = &Kept{Path: res.Path, Query: res.RawQuery, Header: res.Header}
	}
}
