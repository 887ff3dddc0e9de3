package wsconn

import (
	"time"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/keepalive"
	"github.com/weir-ws/weir/internal/sock"
	"github.com/weir-ws/weir/internal/wheel"
)

// armDeadline sets the handshake or close deadline d from now and schedules it:
// the first tick that begins at or after now+d, from the clock (never early).
func (c *Conn) armDeadline(w *worker, d time.Duration) {
	due := c.due.Get(w)
	due.until = c.Loop.wheel.At(time.Now().Add(d))
	c.Loop.wheel.Schedule(c, due.until)
}

// newWheel is a loop's timing wheel of connections: each has one entry, at its
// earliest deadline; when it fires, onTimer works out what is due and re-arms.
// Input does not touch the wheel: it stores the current tick in lastRead, and
// keepalive checks are lazy.
func newWheel(res time.Duration) *wheel.Wheel[Conn] {
	return wheel.New(res, func(c *Conn) *wheel.Node[Conn] { return &c.tnode })
}

// armKeepalive schedules the next keepalive or idle check of an open
// connection (internal/keepalive says when).
func (c *Conn) armKeepalive(w *worker) {
	if !c.placed() {
		return
	}
	wh := c.Loop.wheel
	if next := c.Eng().Cfg.Keepalive.Next(wh, c.lastRead.Load(), c.due.Get(w).ping); next >= 0 {
		wh.Schedule(c, next)
	}
}

// onTimer runs when the connection's wheel entry fires (worker context).
func (c *Conn) onTimer(w *worker) {
	if !c.placed() {
		return
	}
	now := c.Loop.wheel.Now()
	switch c.State() {
	case StateConnecting:
		if now >= c.due.Get(w).until {
			c.Eng().Counters.TimeOut() // internal/opmetrics
			c.finish(w, frame.StatusAbnormalClosure, "", ErrHandshakeTimeout)
		}
	case StateClosing:
		if now >= c.due.Get(w).until {
			closer.OnDeadline(c.closing(), w)
		}
	case StateOpen:
		c.keepalive(w, now)
	}
}

// keepalive runs a keepalive check (internal/keepalive: WebSocket-Node's
// scheme on the wheel). After PingInterval without input a ping goes out; any
// input counts as the answer, and output the peer takes meanwhile puts the
// deadline off (its answer may wait behind that output); nothing within
// PongTimeout drops the connection (1006, no close frame). IdleTimeout closes
// with 1001.
func (c *Conn) keepalive(w *worker, now int64) {
	cfg := &c.Eng().Cfg
	d := c.due.Get(w)
	switch cfg.Keepalive.Check(c.Loop.wheel, now, c.lastRead.Load(), c.outTaken, &d.ping, d.outMark()) {
	case keepalive.Close:
		c.ReadSide.Get(w).extra().failErr = ErrIdleTimeout
		c.Close(frame.StatusGoingAway, "idle timeout")
		c.armDeadline(w, cfg.CloseTimeout)
		return
	case keepalive.Drop:
		c.finish(w, frame.StatusAbnormalClosure, "", ErrPeerTimeout)
		return
	case keepalive.Ping:
		c.Ping(nil)
	}
	c.armKeepalive(w)
}

// outTaken is a count that moves whenever the peer takes output: bytes written
// less those the kernel still holds, unsent or unacknowledged (keepalive); our
// own ping going into the kernel does not move it. Where the kernel does not
// say (FreeBSD, Windows) or the two counts are not in the same bytes (a
// tls.Conn in goroutine mode: plaintext written, ciphertext held) it is 0, and
// only input answers a ping. The running bit's owner (the fd's).
func (c *Conn) outTaken() int64 {
	var n int
	var ok bool
	if g := c.Goroutine(); g != nil {
		n, ok = sock.UnsentConn(g.NetConn()) // a tls.Conn is not a syscall.Conn
	} else {
		n, ok = c.FD.Unsent()
	}
	if !ok {
		return 0
	}
	return int64(c.stats.bytesOut.Load()) - int64(n)
}
