package wsconn

import (
	"log/slog"
	"net/netip"
	"time"

	"github.com/weir-ws/weir/bufpool"
	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/closing"
	"github.com/weir-ws/weir/internal/guard"
	"github.com/weir-ws/weir/internal/opening"
	"github.com/weir-ws/weir/upgrade"
)

// The server side of the opening handshake, on the loops (worker context) and
// in goroutine mode's reader: internal/opening runs it over the Conn seen as
// its opening.Conn (openSide, below). Request bytes are scanned where they
// were read; only a request cut by the end of a read is kept, in the read
// side's unparsed buffer (kept, below). A verify hook that defers its answer leaves the
// connection waiting: nothing is parsed until the answer comes
// (HandshakeDecided) or the handshake times out.

// handshakeInput takes bytes of a connection in the handshake state.
func (c *Conn) handshakeInput(w *worker, data []byte) {
	if c.TLS != nil {
		w.req.SetTLS(c.TLS) // hooks see Request.TLS (tls.go)
	} else if c.Goroutine() == nil {
		w.req.SetTLS(nil) // the worker's request view served a wss connection before
	}
	c.refundKept(w) // Input may parse frames: the kept bytes' charge must not crowd them out
	opening.Input(c.opening(), w, data)
	c.adoptKept(w)
	c.settleKept(w)
}

// kept is where internal/opening keeps a request cut by a read (openSide.Kept):
// the read side's unparsed buffer once its extras are made, else the worker's
// slot, nil on entry, so that the common handshake, whole in one read, does
// not make the extras. adoptKept, after each call into opening, moves what it
// left in the slot to the read side.
func (c *Conn) kept(w *worker) *[]byte {
	if r := c.ReadSide.Get(w); r.Extras != nil {
		return &r.Extras.Unparsed
	}
	return &w.kept
}

// adoptKept moves the bytes opening left in the worker's slot (kept) to the
// read side, making its extras, or to the pool if the connection finished.
func (c *Conn) adoptKept(w *worker) {
	if w.kept == nil {
		return
	}
	b := w.kept
	w.kept = nil
	if r := c.ReadSide.Get(w); !r.close.Finished() {
		r.extra().Unparsed = b
		return
	}
	bufpool.Put(b)
}

// settleKept charges the inbound budget (Config.MaxTotalInbound) for the bytes
// the opening handshake keeps between reads, after each call into opening: a
// request cut by a read, and what a client sent behind a request whose
// decision is deferred (up to opening.MaxEarly each, for as long as the
// decision takes). They are inbound bytes held between reads like a partial
// frame; uncounted, 300 clients behind deferred decisions held 10 to 24 MiB
// beside a 1 MiB budget. The charge follows the buffer's capacity; once
// the handshake is over nothing stays charged (input kept by PauseRead is
// bounded by one read, as it was). Refused, the connection ends as a TLS
// record refused before the 101 does (tlsReader.OverBudget): no WebSocket to
// send 1013 on yet, so without an answer, ErrInboundBudget.
func (c *Conn) settleKept(w *worker) {
	r := c.ReadSide.Get(w)
	x := r.Extras
	if x == nil {
		return
	}
	n := 0
	if r.flags&(rfHandshake|rfVerifyWait) != 0 && !r.close.Finished() {
		n = cap(x.Unparsed)
	}
	switch d := n - x.charged; {
	case d < 0:
		c.Eng().Inbound.Refund(-d)
	case d > 0 && !c.Eng().Inbound.Charge(d):
		c.finish(w, frame.StatusTryAgainLater, "", ErrInboundBudget) // releaseRead refunds x.charged
		return
	}
	x.charged = n
}

// refundKept gives back settleKept's charge before a call into opening that
// may complete the handshake and parse the kept bytes as frames: a frame cut
// at their end is charged as the reader keeps it, and the kept bytes, about
// to go back to the pool, must not count against it meanwhile. settleKept
// after the call charges again what is still kept.
func (c *Conn) refundKept(w *worker) {
	if x := c.ReadSide.Get(w).Extras; x != nil && x.charged != 0 {
		c.Eng().Inbound.Refund(x.charged)
		x.charged = 0
	}
}

// HandshakeDecided is engine.Conn.HandshakeDecided (documented there).
func (c *Conn) HandshakeDecided(*upgrade.Handle) { c.Post(evDecided) }

// onDecided finishes a deferred handshake (worker context).
func (c *Conn) onDecided(w *worker) {
	c.refundKept(w) // as in handshakeInput
	ok := opening.Decided(c.opening(), w)
	c.adoptKept(w)
	c.settleKept(w)
	if ok && !c.ReadSide.Get(w).close.Finished() &&
		c.Goroutine() == nil && c.readReady(w, false) {
		c.Sched.Or(EvRead) // input waited in the socket meanwhile
	}
}

// rejectBusy answers a handshake in flight with 503 (Shutdown).
func (c *Conn) RejectBusy() {
	c.closeReq.CompareAndSwap(0, closing.Busy)
	c.Post(evClose)
}

// rejectLinger bounds how long a rejected connection drains its input after the
// answer (net/http waits 500 ms the same way, rstAvoidanceDelay).
const rejectLinger = time.Second

// takeResult sets what an accepted handshake negotiated and what its hooks
// kept, before the connection's state becomes open (which publishes them):
// subprotocol, version, permessage-deflate, user data, the kept request.
func (c *Conn) TakeResult(res *upgrade.Result) {
	if res.Subprotocol != "" {
		c.RareSet().Subprotocol = res.Subprotocol
	}
	if res.Version != 0 {
		c.WSVersion = uint8(res.Version)
	}
	if a, ok := res.Extensions.(deflate.Agreement); ok {
		c.RareSet().Compression = deflate.NewConn(a.Params(), true, c.Eng().Cfg.Compression)
	}
	if res.UserValue != nil {
		c.SetUserData(res.UserValue)
	}
	if res.Path != "" || res.RawQuery != "" || res.Header != nil {
		c.RareSet().kept = &Kept{Path: res.Path, Query: res.RawQuery, Header: res.Header}
	}
}

// openSide is a Conn in its opening handshake as internal/opening reaches it
// (opening.Conn), keyed by the worker that holds its read side.
type openSide Conn

func (c *Conn) opening() *openSide { return (*openSide)(c) }

func (s *openSide) Kept(w *worker) *[]byte                        { return (*Conn)(s).kept(w) }
func (s *openSide) Scratch(w *worker) (*upgrade.Request, *[]byte) { return w.req, &w.rsp }
func (s *openSide) Upgrader() *upgrade.Upgrader                   { return s.Eng().Upgrader }
func (s *openSide) Remote() netip.AddrPort                        { return s.Identity.PeerAddr() }
func (s *openSide) Notifier() upgrade.Notifier                    { return (*Conn)(s) }
func (s *openSide) Aborting() bool                                { return s.Eng().Aborting.Load() }
func (s *openSide) Stopping() bool                                { return s.Eng().Stopping.Load() }
func (s *openSide) Abort()                                        { (*Conn)(s).Abort() }
func (s *openSide) Parse(w *worker, head []byte)                  { (*Conn)(s).parse(w, head) }
func (s *openSide) Finished(w *worker) bool                       { return s.ReadSide.Get(w).close.Finished() }
func (s *openSide) Refused(err error)                             { s.Eng().CountRefused(err) } // metrics.go

func (s *openSide) HookGuard() (guard.Policy, *slog.Logger) {
	return (*Conn)(s).policy(), s.Eng().Cfg.Logger
}

func (s *openSide) AdmitClientIP(w *worker, req *upgrade.Request) bool {
	return (*Conn)(s).admitClientIP(w, req) // limits.go
}

func (s *openSide) Wait(w *worker, h *upgrade.Handle) {
	r := s.ReadSide.Get(w)
	r.extra().pending = h
	r.flags |= rfVerifyWait
}

func (s *openSide) Waited(w *worker) (*upgrade.Handle, bool) {
	r := s.ReadSide.Get(w)
	h, ok := r.pendingHandle()
	if !ok || r.flags&rfVerifyWait == 0 {
		return nil, false
	}
	r.Extras.pending = nil
	r.flags &^= rfVerifyWait
	return h, true
}

// Open publishes what the handshake negotiated with the open state: from
// now on the connection is in Conns and NumConns.
func (s *openSide) Open(res upgrade.Result) {
	(*Conn)(s).TakeResult(&res)
	s.state.Store(uint32(StateOpen))
}

func (s *openSide) Answer(out []byte) error {
	c := (*Conn)(s)
	c.WriteSide.Mu.Lock()
	defer c.WriteSide.Mu.Unlock()
	return c.writeRaw(out)
}

func (s *openSide) Opened(w *worker) {
	s.ReadSide.Get(w).flags &^= rfHandshake
	s.Eng().Counters.Accept()
	(*Conn)(s).opened(w)
}

func (s *openSide) Finish(w *worker, err error) {
	(*Conn)(s).finish(w, frame.StatusAbnormalClosure, "", err)
}

// Linger: closing a socket with unread input makes the kernel send an RST,
// which can reach the client before it has read the answer and make it lose
// it (a client still sending a body, or pipelined bytes). So the answer is
// followed by a half-close (FIN once it is out), and input is read and
// dropped until the peer hangs up or rejectLinger passes; only then is the
// socket closed. Not in goroutine mode, whose writer closes after the answer.
func (s *openSide) Linger(w *worker, err error) bool {
	c := (*Conn)(s)
	if !c.placed() {
		return false
	}
	r := c.ReadSide.Get(w)
	r.close.Discard() // consume drops input from now on
	r.flags &^= rfVerifyWait
	r.extra().failErr = err // onEOF ends it at once (finishClean)
	c.releaseRead(w)
	c.setCloseStatus(frame.StatusAbnormalClosure, "")
	c.shutdownWrite()
	c.armDeadline(w, min(rejectLinger, c.Eng().Cfg.CloseTimeout)) // onTimer: still connecting
	return true
}
