package engine

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
type loop struct {
	*reactor.Loop[Conn, *worker]
	eng   *engine
	wheel *wheel.Wheel[Conn]
	tick  chan struct{}
}

// add registers c (fd already non-blocking) and starts watching it.
func (l *loop) add(c *Conn) error {
	c.loop = l
	c.lastRead.Store(l.wheel.Tick(time.Now()))
	return l.Add(c)
}

// remove forgets c (worker context, before its fd is closed).
func (l *loop) remove(c *Conn) {
	if l.Loop != nil { // not the timer-only loop
		l.Remove(c)
	}
}

// loopOps is the engine as the reactor's reactor.Ops: (*loopOps)(e).
type loopOps engine

func (*loopOps) Sched(c *Conn) *reactor.Sched              { return &c.sched }
func (*loopOps) FD(c *Conn) *sock.FD                       { return &c.fd }
func (*loopOps) Loop(c *Conn) *reactor.Loop[Conn, *worker] { return c.loop.Loop }
func (*loopOps) Handle(w *worker, c *Conn, ev uint32) bool { return c.handle(w, ev) }
func (*loopOps) Front(c *Conn) bool                        { return c.frontLane() }
func (*loopOps) Corkable(c *Conn) bool                     { return c.tls == nil && !c.client && c.goroutine() == nil }
func (*loopOps) CorkOn(c *Conn)                            { c.corkOn() }
func (*loopOps) CorkOff(c *Conn) bool                      { return c.corkOff() }
func (*loopOps) Corked(c *Conn) []byte                     { return c.corked() }
func (*loopOps) CorkSent(c *Conn, n int, err error)        { c.corkSent(n, err) }
func (o *loopOps) NewWorker() *worker                      { return newWorker(o.cfg.ReadBufferSize) }
func (o *loopOps) NewWheel() *wheel.Wheel[Conn]            { return newWheel(o.cfg.TimerResolution) }
func (o *loopOps) TookOver()                               { (*engine)(o).tookOver() }

// Input stamps c's last input with the tick the loop woke in.
func (*loopOps) Input(c *Conn, now int64) {
	if c.lastRead.Load() < now {
		c.lastRead.Store(now)
	}
}

// tookOver counts a loop takeover and logs it, at most once per
// turns.LogEvery with the count so far.
func (e *engine) tookOver() {
	if n, log := e.m.takeovers.Count(time.Now()); log {
		e.cfg.Logger.Warn("weir: a handler blocked its event loop for 20 ms; another goroutine runs the loop",
			"takeovers", n)
	}
}
