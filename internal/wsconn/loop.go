package wsconn

import (
	"time"

	"github.com/weir-ws/weir/internal/reactor"
	"github.com/weir-ws/weir/internal/sock"
	"github.com/weir-ws/weir/internal/wheel"
)

// The loops, the worker pool, the scheduling word's turns and corked batches
// are internal/reactor's; the engine's connections and workers are its T and
// W, reached through loopOps.

// loop is a connection's loop: a reactor loop and its timing wheel, or, for
// goroutine-mode connections, the engine's timer-only loop (Loop nil, ticked
// by its own goroutine until tick is closed: goroutine.go).
type Loop struct {
	*reactor.Loop[Conn, *worker]
	Eng   *Engine
	wheel *wheel.Wheel[Conn]
	tick  chan struct{}
}

// add registers c (fd already non-blocking) and starts watching it.
func (l *Loop) add(c *Conn) error {
	c.Loop = l
	c.lastRead.Store(l.wheel.Tick(time.Now()))
	return l.Add(c)
}

// remove forgets c (worker context, before its fd is closed).
func (l *Loop) remove(c *Conn) {
	if l.Loop != nil { // not the timer-only loop
		l.Remove(c)
	}
}

// loopOps is the engine as the reactor's reactor.Ops: (*loopOps)(e).
type loopOps Engine

func (*loopOps) Sched(c *Conn) *reactor.Sched              { return &c.Sched }
func (*loopOps) FD(c *Conn) *sock.FD                       { return &c.FD }
func (*loopOps) Loop(c *Conn) *reactor.Loop[Conn, *worker] { return c.Loop.Loop }
func (*loopOps) Handle(w *worker, c *Conn, ev uint32) bool { return c.handle(w, ev) }
func (o *loopOps) NewWorker() *worker                      { return NewWorker(o.Cfg.ReadBufferSize) }
func (o *loopOps) NewWheel() *wheel.Wheel[Conn]            { return newWheel(o.Cfg.TimerResolution) }
func (o *loopOps) TookOver()                               { (*Engine)(o).TookOver() }

// Input stamps c's last input with the tick the loop woke in.
func (*loopOps) Input(c *Conn, now int64) {
	if c.lastRead.Load() < now {
		c.lastRead.Store(now)
	}
}

// tookOver counts a loop takeover and logs it, at most once per
// turns.LogEvery with the count so far.
func (e *Engine) TookOver() {
	if n, log := e.Counters.Takeovers.Count(time.Now()); log {
		e.Cfg.Logger.Warn("weir: a handler blocked its event loop for 20 ms; another goroutine runs the loop",
			"takeovers", n)
	}
}

// Front: a server connection still in its handshake goes to the pool's front
// lane. Its turn is one small request and its client waits on the answer
// before it sends anything more: behind the fresh turns of hundreds of
// flooders that just woke up, it waited 50-120 ms under load (issue 12). Its
// turns end with the 101 (or the refusal): the request is bounded by the
// header limit and the handshake timeout, so a peer cannot keep work in the
// front lane beyond its own handshake.
func (*loopOps) Front(c *Conn) bool { return !c.client() && c.state.Load() == uint32(StateConnecting) }

// Corked batches (internal/reactor's cork.go, issue 15): while a worker runs a
// batch of ready connections, the writes of the plain server ones that would
// go straight to the socket are queued (wswrite's cork.go) and go out
// together at the batch end.
func (*loopOps) Corkable(c *Conn) bool { return c.TLS == nil && !c.client() }

func (*loopOps) CorkOn(c *Conn) {
	c.WriteSide.Mu.Lock()
	c.WriteSide.W.CorkOn()
	c.WriteSide.Mu.Unlock()
}

// CorkOff stops corking c's writes and reports whether it has corked bytes
// to send.
func (*loopOps) CorkOff(c *Conn) bool {
	c.WriteSide.Mu.Lock()
	defer c.WriteSide.Mu.Unlock()
	return c.WriteSide.W.CorkOff()
}

// Corked takes WriteSide.Mu and returns c's corked bytes, or, with none (or the
// Writer closed: no fd is touched), lets the lock go and returns nil.
func (*loopOps) Corked(c *Conn) []byte {
	c.WriteSide.Mu.Lock()
	b := c.WriteSide.W.Corked()
	if b == nil {
		c.WriteSide.Mu.Unlock()
	}
	return b
}

// CorkSent records what the socket took of c's corked bytes (counted out, so
// keepalive's count of output taken stays what the kernel got) and lets c's
// lock go; a flush turn follows when the socket left bytes or something waits
// for them to be out (wswrite.Writer.CorkSent), or a half-close or the end of
// a closing handshake waits for the queue to empty (flush).
func (*loopOps) CorkSent(c *Conn, n int, err error) {
	if n > 0 {
		c.stats.bytesOut.Add(uint64(n))
	}
	turn := c.WriteSide.W.CorkSent(c.sink(), n, err)
	turn = turn || (err == nil && c.WriteSide.flags&(wfShutOwed|wfFinishOwed) != 0)
	c.WriteSide.Mu.Unlock()
	if turn {
		c.Post(evWrite)
	}
}
