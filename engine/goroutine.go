package engine

import (
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/weir-ws/weir/internal/perconn"
	"github.com/weir-ws/weir/upgrade"
)

// Goroutine-per-connection mode (internal/perconn runs the goroutines, and says
// when it is used): the same Conn, state machine and callbacks over a net.Conn,
// the Conn being perconn's Reader and Writer; timers on a wheel of the engine's
// own, ticked by one goroutine.

// goroutineMode is what only a goroutine-mode connection needs: its socket
// with the channels that wake its reader and writer goroutines (set before
// they start), and the writer's write in flight (under write.mu).
type goroutineMode struct {
	*perconn.Socket
	nc       net.Conn // the Socket's
	inflight int      // bytes the writer is writing now (under write.mu)
}

func newGoroutineMode(nc net.Conn) *goroutineMode {
	return &goroutineMode{Socket: perconn.New(nc), nc: nc}
}

func addrPort(a net.Addr) netip.AddrPort { return perconn.AddrPort(a) }

// timerLoop returns the engine's timer-only loop for goroutine-mode connections,
// starting it on first use.
func (e *engine) timerLoop() *loop {
	e.gmu.Lock()
	defer e.gmu.Unlock()
	if e.gl == nil {
		l := &loop{eng: e, wheel: newWheel(e.cfg.TimerResolution), tick: make(chan struct{})}
		e.gl = l
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			perconn.Tick(e.cfg.TimerResolution, l.tick, func(now time.Time) {
				for _, c := range l.wheel.Advance(now) {
					c.post(evTimer)
				}
			})
		}()
	}
	return e.gl
}

// startNetConn starts the reader and writer goroutines of a goroutine-mode
// connection.
func (e *engine) startNetConn(c *Conn, head []byte) {
	c.loop = e.timerLoop()
	c.lastRead.Store(c.loop.wheel.Now())
	e.gmu.Lock()
	e.gconns[c] = struct{}{}
	e.gmu.Unlock()
	// Close and Shutdown set stopping before they scan gconns, so a connection
	// added after their scan sees stopping here and ends itself as they would
	// have ended it: a handshake in progress is dropped, an open connection is
	// told going-away (Close's rescans abort it; Shutdown lets the close run).
	stopping := e.stopping.Load()
	open := c.State() == StateOpen // read now: the reader may change it
	if stopping && !open {
		c.closeReq.Store(closeAbort)
		c.sched.Or(evClose) // the reader handles it first thing
	}
	if c.State() == StateConnecting && e.cfg.HandshakeTimeout > 0 {
		c.armDeadline(creator, e.cfg.HandshakeTimeout)
	}
	e.wg.Add(2)
	go c.readLoop(head)
	go func() {
		defer e.wg.Done()
		c.goroutine.WriteLoop((*netWriter)(c))
	}()
	if stopping && open {
		c.Close(goingAway(c))
	}
}

// flushNet writes what is queued on a goroutine-mode connection that never got a
// writer goroutine (one that arrived while the engine stops), bounded by
// CloseTimeout.
func (c *Conn) flushNet() {
	c.write.mu.Lock()
	buf := c.takeOut()
	c.write.mu.Unlock()
	if len(buf) > 0 {
		c.stats.bytesOut.Add(uint64(c.goroutine.WriteNow(buf, c.eng.cfg.CloseTimeout)))
	}
	c.writtenOut(buf)
}

// readLoop is the reader goroutine: the worker context of a goroutine-mode
// connection.
func (c *Conn) readLoop(head []byte) {
	defer c.eng.wg.Done()
	r := &netReader{c: c}
	if c.read.Get(&r.w).flags&rfHandshake != 0 {
		r.w.req = upgrade.NewRequest()
		r.w.req.SetTLS(tlsConnOf(c.goroutine.nc)) // hooks see Request.TLS (tls.go)
	} else {
		c.opened(&r.w) // an adopted or dialled connection: open from the start
	}
	if len(head) > 0 {
		c.consume(&r.w, head)
	}
	c.goroutine.ReadLoop(r)
}

// netReader is a goroutine-mode connection seen by its reader goroutine
// (perconn.Reader), with the worker its turns run on: the handshake's request
// view and answer (its read buffer is perconn's).
type netReader struct {
	c *Conn
	w worker
}

func (r *netReader) Done() bool { return r.c.read.Get(&r.w).flags&rfFinished != 0 }

func (r *netReader) Events() bool {
	c := r.c
	if c.sched.Load() == 0 {
		return false // the common case: a load, not a swap
	}
	switch ev := c.sched.Swap(0); {
	case ev&evHangUp != 0: // the writer failed
		c.onIOError(&r.w, io.ErrClosedPipe)
	default:
		c.handle(&r.w, ev&^evRead) // the reader reads by itself
	}
	return true
}

func (r *netReader) Held() bool { return r.c.paused.Load() || r.c.readHeld() }

func (r *netReader) Input(p []byte) {
	r.c.stats.bytesIn.Add(uint64(len(p)))
	r.c.touch(&r.w)
	r.c.consume(&r.w, p) // keeps no reference into p
}

func (r *netReader) EOF()             { r.c.onEOF(&r.w) }
func (r *netReader) Failed(err error) { r.c.onIOError(&r.w, err) }

// wakeReader makes the reader goroutine look at its pending events.
func (c *Conn) wakeReader() { c.goroutine.Wake() }

// netWriter is a goroutine-mode connection seen by its writer goroutine
// (perconn.Writer): it takes the outbound buffer whole, under write.mu, and
// perconn writes it with the lock released.
type netWriter Conn

func (nw *netWriter) Take() (buf []byte, closed bool) {
	c := (*Conn)(nw)
	c.write.mu.Lock()
	defer c.write.mu.Unlock()
	c.write.w.QueuePongs(c.sink())
	if c.outLen() == 0 || c.write.w.WriteErr() {
		closed = c.write.w.Closed()
		if closed {
			c.releaseWrite()
			c.goroutine.nc.Close() // finish left the close to us, after the last bytes
		}
		return nil, closed
	}
	buf = c.takeOut()
	c.goroutine.inflight = len(buf)
	return buf, false
}

// Wrote counts output as it goes (keepalive's outTaken watches it).
func (nw *netWriter) Wrote(n int) { (*Conn)(nw).stats.bytesOut.Add(uint64(n)) }

func (nw *netWriter) Written(buf []byte, n int, err error) {
	c := (*Conn)(nw)
	c.write.mu.Lock()
	c.writtenOut(buf)
	c.goroutine.inflight = 0
	if err != nil {
		c.write.w.MarkWriteErr()
	}
	c.write.mu.Unlock()
	if err != nil {
		c.post(evHangUp) // closes once finish marks the connection closed
		return
	}
	c.post(evWrite) // write completions, OnDrain, the queued flag: in the reader
}

// inflight is what goroutine mode's writer is writing right now (under write.mu).
func (c *Conn) inflight() int {
	if c.goroutine == nil {
		return 0
	}
	return c.goroutine.inflight
}

// closeNet closes a goroutine-mode socket in finish (under write.mu): at once for an
// abort or after a write error, otherwise once the writer has sent what is queued
// (a close frame, a rejection), within CloseTimeout.
func (c *Conn) closeNet() {
	g := c.goroutine
	if c.outLen() == 0 && g.inflight == 0 && c.write.w.PongLen() == 0 || c.closeReq.Load() == closeAbort || c.write.w.WriteErr() {
		c.releaseWrite()
		g.nc.Close()
	} else {
		g.nc.SetWriteDeadline(time.Now().Add(c.eng.cfg.CloseTimeout))
	}
	g.Kick() // the writer sees the Writer closed and ends
}

// acceptLoop accepts from a listener whose fd cannot be watched (goroutine mode).
func (e *engine) acceptLoop(ln net.Listener) {
	defer e.wg.Done()
	for {
		nc, remote, ok := e.acceptAdmitted(ln)
		if !ok {
			return
		}
		e.tuneNet(nc)
		c := e.newConn(-1, nil, false)
		c.goroutine = newGoroutineMode(nc)
		c.remote = remote
		e.startServerConn(c)
	}
}

// acceptAdmitted accepts from a listener the engine does not watch until a
// connection is admitted (admitAccepted: not stopping, under the caps; others
// are closed at once), or reports false once the listener is closed.
func (e *engine) acceptAdmitted(ln net.Listener) (net.Conn, netip.AddrPort, bool) {
	return perconn.Accept(ln, func(remote netip.AddrPort) bool {
		return e.admitAccepted(remote.Addr()) // stopping, or at a cap (limits.go)
	})
}
