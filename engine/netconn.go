package engine

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/weir-ws/weir/bufpool"
	"github.com/weir-ws/weir/upgrade"
)

// Goroutine-per-connection mode: the same Conn, state machine and callbacks over a
// net.Conn, with one reader goroutine per connection and blocking writes. It serves
// connections whose fd cannot be taken (a *tls.Conn), platforms without a poller,
// and Config.GoroutinePerConn. Timers use a wheel of their own (one goroutine for
// the engine), and events posted from other goroutines wake the reader out of its
// read with a past read deadline.

// goroutineMode is what only a goroutine-mode connection needs: its net.Conn
// and the channels that wake its reader and writer goroutines (set before they
// start), and the writer's write in flight (under write.mu).
type goroutineMode struct {
	nc       net.Conn
	wake     chan struct{} // a token when events are posted (for a paused reader)
	wch      chan struct{} // a token when output is queued (for the writer)
	inflight int           // bytes the writer is writing now (under write.mu)
}

func newGoroutineMode(nc net.Conn) *goroutineMode {
	return &goroutineMode{nc: nc, wake: make(chan struct{}, 1), wch: make(chan struct{}, 1)}
}

// A goroutine-mode reader reads into netBufSmall bytes while reads are small, so
// that an idle connection, blocked in Read, holds 1 KiB rather than 16: it moves
// to netBufSize when a read fills the small buffer (more is waiting), and back
// after netShrinkAfter reads in a row that would have fit the small one (not at
// the first: a message just over 1 KiB would then cost two reads every time).
// Buffers come from bufpool: a move allocates nothing.
const (
	netBufSmall    = 1 << 10
	netBufSize     = 16 << 10
	netShrinkAfter = 8
)

func addrPort(a net.Addr) netip.AddrPort {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.AddrPort()
	case interface{ AddrPort() netip.AddrPort }:
		return a.AddrPort()
	}
	return netip.AddrPort{}
}

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
			t := time.NewTicker(e.cfg.TimerResolution)
			defer t.Stop()
			for {
				select {
				case now := <-t.C:
					for _, c := range l.wheel.Advance(now) {
						c.post(evTimer)
					}
				case <-l.tick:
					return
				}
			}
		}()
	}
	return e.gl
}

// startNetConn starts the reader goroutine of a goroutine-mode connection.
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
		c.armDeadline(e.cfg.HandshakeTimeout)
	}
	e.wg.Add(2)
	go c.readLoop(head)
	go c.writeLoop()
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
		c.goroutine.nc.SetWriteDeadline(time.Now().Add(c.eng.cfg.CloseTimeout))
		n, _ := c.goroutine.nc.Write(buf)
		c.stats.bytesOut.Add(uint64(n))
	}
	c.writtenOut(buf)
}

// wakeReader makes the reader goroutine look at its pending events.
func (c *Conn) wakeReader() {
	select {
	case c.goroutine.wake <- struct{}{}:
	default:
	}
	c.goroutine.nc.SetReadDeadline(time.Unix(1, 0))
}

// readLoop is the reader goroutine: the worker context of a goroutine-mode connection.
func (c *Conn) readLoop(head []byte) {
	defer c.eng.wg.Done()
	w := &worker{buf: bufpool.Get(netBufSmall)}
	small := 0 // reads in a row that fit netBufSmall, while w.buf is big
	if c.read.flags&rfHandshake != 0 {
		w.req = upgrade.NewRequest()
		w.req.SetTLS(tlsConnOf(c.goroutine.nc)) // hooks see Request.TLS (tls.go)
	}
	defer func() { bufpool.Put(w.buf) }() // w.buf changes size on the way
	if c.read.flags&rfHandshake == 0 {
		c.opened() // an adopted or dialled connection: open from the start
	}
	if len(head) > 0 {
		c.consume(w, head)
	}
	for c.read.flags&rfFinished == 0 {
		if ev := c.sched.Swap(0); ev != 0 {
			if ev&evHangUp != 0 {
				c.onIOError(io.ErrClosedPipe)
				continue
			}
			c.handle(w, ev&^evRead)
			continue
		}
		if c.paused.Load() || c.readHeld() {
			<-c.goroutine.wake // backpressure: the writer posts evWrite after each write
			continue
		}
		c.goroutine.nc.SetReadDeadline(time.Time{})
		if c.sched.Load() != 0 {
			continue
		}
		n, err := c.goroutine.nc.Read(w.buf)
		if n > 0 {
			c.stats.bytesIn.Add(uint64(n))
			c.touch()
			c.consume(w, w.buf[:n]) // keeps no reference into w.buf
			switch {
			case n == len(w.buf) && n < netBufSize:
				bufpool.Put(w.buf)
				w.buf = bufpool.Get(netBufSize)
				small = 0
			case len(w.buf) == netBufSmall:
			case n > netBufSmall:
				small = 0
			default:
				if small++; small >= netShrinkAfter {
					bufpool.Put(w.buf)
					w.buf = bufpool.Get(netBufSmall)
				}
			}
		}
		if err != nil && c.read.flags&rfFinished == 0 {
			switch {
			case errors.Is(err, os.ErrDeadlineExceeded):
				// Woken by post: the events are handled at the top.
			case errors.Is(err, io.EOF):
				c.onEOF()
			default:
				c.onIOError(err)
			}
		}
	}
}

// netWrite2 is sysWrite2 in goroutine mode: the socket never takes bytes directly.
// Everything is queued (under the MaxWriteBuffer policy, as on the loops) and the
// connection's writer goroutine does the blocking writes outside the lock, so a peer
// that stops reading blocks no caller, no callback and no keepalive.
func (c *Conn) netWrite2(a, b []byte) (int, error) { return 0, nil }

// kickWriter wakes the writer goroutine (under write.mu).
func (c *Conn) kickWriter() {
	select {
	case c.goroutine.wch <- struct{}{}:
	default:
	}
}

// writeLoop is a goroutine-mode connection's writer: it takes the outbound buffer
// whole and writes it with the lock released.
func (c *Conn) writeLoop() {
	defer c.eng.wg.Done()
	g := c.goroutine
	for range g.wch {
		for {
			c.write.mu.Lock()
			c.write.w.QueuePongs(c.sink())
			if c.outLen() == 0 || c.write.w.WriteErr() {
				closed := c.write.w.Closed()
				if closed {
					c.releaseWrite()
					g.nc.Close() // finish left the close to us, after the last bytes
				}
				c.write.mu.Unlock()
				if closed {
					return
				}
				break
			}
			buf := c.takeOut()
			g.inflight = len(buf)
			c.write.mu.Unlock()
			n, err := g.nc.Write(buf)
			c.stats.bytesOut.Add(uint64(n))
			c.write.mu.Lock()
			c.writtenOut(buf)
			g.inflight = 0
			if err != nil {
				c.write.w.MarkWriteErr()
			}
			c.write.mu.Unlock()
			if err != nil {
				c.post(evHangUp)
				continue // closes once finish marks the connection closed
			}
			c.post(evWrite) // write completions, OnDrain, the queued flag: in the reader
		}
	}
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
	c.kickWriter() // the writer sees the Writer closed and ends
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
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			return nil, netip.AddrPort{}, false
		}
		remote := addrPort(nc.RemoteAddr())
		if e.admitAccepted(remote.Addr()) { // stopping, or at a cap (limits.go)
			return nc, remote, true
		}
		nc.Close()
	}
}
