package wsconn

import (
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/weir-ws/weir/internal/closing"
	"github.com/weir-ws/weir/internal/outq"
	"github.com/weir-ws/weir/internal/perconn"
	"github.com/weir-ws/weir/internal/wswrite"
	"github.com/weir-ws/weir/upgrade"
)

// Goroutine-per-connection mode (internal/perconn runs the goroutines, and says
// when it is used): the same Conn, state machine and callbacks over a net.Conn,
// the Conn being perconn's Reader and Output; timers on a wheel of the engine's
// own, ticked by one goroutine.

// goroutineMode is a goroutine-mode connection's socket with the channels
// that wake its reader and writer goroutines (set before they start), and the
// writer's write in flight.
type goroutineMode = perconn.Socket

func AddrPort(a net.Addr) netip.AddrPort { return perconn.AddrPort(a) }

// timerLoop returns the engine's timer-only loop for goroutine-mode connections,
// starting it on first use. Once stop has begun it starts none: it returns a
// loop whose wheel never turns, for a connection that startNetConn ends at once.
func (e *Engine) timerLoop() *Loop {
	e.gmu.Lock()
	defer e.gmu.Unlock()
	if e.gl != nil {
		return e.gl
	}
	l := &Loop{Eng: e, wheel: newWheel(e.Cfg.TimerResolution), tick: make(chan struct{})}
	if e.Goroutines.Go(func() {
		perconn.Tick(e.Cfg.TimerResolution, l.tick, func(now time.Time) {
			for _, c := range l.wheel.Advance(now) {
				c.Post(evTimer)
			}
		})
	}) {
		e.gl = l // stop ends it
	}
	return l
}

// startNetConn starts the reader and writer goroutines of a goroutine-mode
// connection. It reports false when it ended the connection instead (the
// engine stopped).
func (e *Engine) startNetConn(c *Conn, head []byte) bool {
	c.Loop = e.timerLoop()
	c.lastRead.Store(c.Loop.wheel.Now())
	e.gmu.Lock()
	e.gconns[c] = struct{}{}
	e.gmu.Unlock()
	// Close and Shutdown set stopping before they scan gconns, so a connection
	// added after their scan sees stopping here and ends itself as they would
	// have ended it: a handshake in progress is dropped, an open connection is
	// told going-away (Close's rescans abort it; Shutdown lets the close run).
	stopping := e.Stopping.Load()
	open := c.State() == StateOpen // read now: the reader may change it
	if stopping && !open {
		c.closeReq.Store(closing.Abort)
		c.Sched.Or(evClose) // the reader handles it first thing
	}
	if c.State() == StateConnecting && e.Cfg.HandshakeTimeout > 0 {
		c.armDeadline(Creator, e.Cfg.HandshakeTimeout)
	}
	// Both or neither: stop waits for what the group started before it
	// closed, and a connection it refuses is ours to end.
	c.Goroutine().WillWrite(true) // before the reader, which may finish it, starts
	if !e.Goroutines.Go(func() { c.readLoop(head) }, func() { c.Goroutine().WriteLoop((*netWriter)(c)) }) {
		c.Goroutine().WillWrite(false)
		e.endStopped(c)
		return false
	}
	if stopping && open {
		c.Close(goingAway(c))
	}
	return true
}

// flushNet writes what is queued on a goroutine-mode connection that never got a
// writer goroutine (one that arrived while the engine stops), bounded by
// CloseTimeout.
func (c *Conn) flushNet() { c.Goroutine().Flush((*netWriter)(c), c.Eng().Cfg.CloseTimeout) }

// readLoop is the reader goroutine: the worker context of a goroutine-mode
// connection.
func (c *Conn) readLoop(head []byte) {
	r := &netReader{c: c}
	if c.ReadSide.Get(&r.w).flags&rfHandshake != 0 {
		r.w.req = upgrade.NewRequest()
		r.w.req.SetTLS(TLSConnOf(c.Goroutine().NetConn())) // hooks see Request.TLS (tls.go)
	} else {
		c.opened(&r.w) // an adopted or dialled connection: open from the start
	}
	if len(head) > 0 {
		c.consume(&r.w, head)
	}
	c.Goroutine().ReadLoop(r)
}

// netReader is a goroutine-mode connection seen by its reader goroutine
// (perconn.Reader), with the worker its turns run on: the handshake's request
// view and answer (its read buffer is perconn's).
type netReader struct {
	c *Conn
	w worker
}

func (r *netReader) Done() bool { return r.c.ReadSide.Get(&r.w).close.Finished() }

func (r *netReader) Events() bool {
	c := r.c
	if c.Sched.Load() == 0 {
		return false // the common case: a load, not a swap
	}
	switch ev := c.Sched.Swap(0); {
	case ev&evHangUp != 0: // the writer failed
		c.onIOError(&r.w, io.ErrClosedPipe)
	default:
		c.handle(&r.w, ev&^EvRead) // the reader reads by itself
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

// netWriter is a goroutine-mode connection's output as its writer goroutine
// takes it (perconn.Output), under WriteSide.Mu.
type netWriter Conn

func (nw *netWriter) Lock()        { nw.WriteSide.Mu.Lock() }
func (nw *netWriter) Unlock()      { nw.WriteSide.Mu.Unlock() }
func (nw *netWriter) Closed() bool { return nw.WriteSide.W.Closed() }
func (nw *netWriter) Release()     { (*Conn)(nw).releaseWrite() }
func (nw *netWriter) Wrote(n int)  { nw.stats.bytesOut.Add(uint64(n)) } // keepalive's outTaken watches it

// Take hands the whole queue to the writer; it stays counted in the engine's
// total until Written gives it back, written or failed.
func (nw *netWriter) Take() []byte {
	c := (*Conn)(nw)
	c.WriteSide.W.QueuePongs(c.sink())
	if c.outLen() == 0 || c.WriteSide.W.WriteErr() {
		return nil
	}
	return c.WriteSide.W.Take(&c.Eng().Cfg.WriteLimits)
}

func (nw *netWriter) Written(buf []byte, err error) {
	wswrite.Written(&nw.Eng().Cfg.WriteLimits, buf)
	if err != nil {
		nw.WriteSide.W.MarkWriteErr()
	}
}

// After: write completions, OnDrain, the queued flag run in the reader; a
// failed write closes once finish marks the connection closed. Once it has,
// the writer calls the completions of what it writes itself: finish left
// them to it (endDones), as the socket may yet take those bytes whole.
func (nw *netWriter) After(err error) {
	c := (*Conn)(nw)
	c.WriteSide.Mu.Lock()
	var dones []outq.Done
	if c.WriteSide.W.Closed() {
		dones = c.WriteSide.W.TakeDones(c.sink()) // a failed write's whole messages too
	}
	c.WriteSide.Mu.Unlock()
	c.callDones(dones, nil)
	if err != nil {
		c.Post(evHangUp)
		return
	}
	c.Post(evWrite)
}

// Ended: the writer stopped after the connection closed; what finish left
// to it and did not go out whole never will.
func (nw *netWriter) Ended() {
	c := (*Conn)(nw)
	c.WriteSide.Mu.Lock()
	dones := c.WriteSide.W.AllDones(&c.Eng().Cfg.WriteLimits)
	c.WriteSide.Mu.Unlock()
	c.callDones(dones, ErrClosed)
}

// netSink is a goroutine-mode connection seen by its Writer (wswrite.Sink,
// under WriteSide.Mu): nothing goes to the socket under the lock. Everything is
// queued (under the MaxWriteBuffer policy, as on the loops) and the writer
// goroutine writes outside the lock, so a peer that stops reading blocks no
// caller, no callback and no keepalive.
type netSink struct{ *connSink }

func (netSink) Write2(wswrite.FrameBuf, int, []byte) (int, error) { return 0, nil }
func (s netSink) Queued()                                         { s.Goroutine().Kick() }
func (s netSink) Inflight() int                                   { return s.Goroutine().Inflight() }

func (s netSink) Env() wswrite.Env {
	env := s.connSink.Env()
	env.Goroutine = true
	return env
}

// closeNet closes a goroutine-mode socket in finish (under WriteSide.Mu): at once for an
// abort or after a write error, otherwise once the writer has sent what is queued
// (a close frame, a rejection), within CloseTimeout.
func (c *Conn) closeNet() {
	idle := c.outLen() == 0 && c.WriteSide.W.PongLen() == 0
	c.Goroutine().Close((*netWriter)(c), idle, c.closesNetNow(), c.Eng().Cfg.CloseTimeout)
}

// closesNetNow: closeNet closes the socket at once, dropping what is queued
// (under WriteSide.Mu): for an abort, after a write error, and for CloseNow (and
// the slow consumer's close, which is CloseNow's) when the close frame went
// in behind other output. CloseNow promises the close frame only as far as
// the socket takes it without blocking, as on the loops, where what is
// queued is dropped when the socket closes; the writer would otherwise write
// the whole backlog to a peer that may not read, for up to CloseTimeout. A
// close frame queued alone is left to the writer, which has nothing ahead of
// it.
func (c *Conn) closesNetNow() bool {
	switch c.closeReq.Load() {
	case closing.Abort:
		return true
	case closing.Now, closing.Slow:
		if c.WriteSide.flags&wfCloseBehind != 0 {
			return true
		}
	}
	return c.WriteSide.W.WriteErr()
}

// endDones splits the completions owed as the connection ends (finish, under
// WriteSide.Mu): out, whose bytes the socket took, and never, whose bytes will
// not go out. Goroutine mode's writer may still write what it holds and,
// unless closeNet drops it, what is queued (the whole message or not): their
// completions stay for it to call (After, Ended).
func (c *Conn) endDones() (out, never []outq.Done) {
	left := 0
	if g := c.Goroutine(); g != nil && g.Writes() {
		left = g.Inflight()
		if !c.closesNetNow() {
			left += c.outLen()
		}
	}
	return c.WriteSide.W.EndDones(c.sink(), &c.Eng().Cfg.WriteLimits, left)
}
