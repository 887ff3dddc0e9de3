package wsconn

import (
	"errors"
	"time"

	"github.com/weir-ws/weir/internal/assemble"
	"github.com/weir-ws/weir/internal/closing"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/reactor"
	"github.com/weir-ws/weir/poller"
)

// newEngine starts the loops (and the pool) of a server's engine (server) or
// a client's.
func NewEngine(h Handler, cfg *Config, server bool) (*Engine, error) {
	e := &Engine{Cfg: *cfg, h: h, gconns: map[*Conn]struct{}{}, stopped: make(chan struct{}), AbortFor: 5 * time.Second}
	e.unplaced.Eng = e
	e.Inbound.Max = e.Cfg.MaxTotalInbound
	e.Cfg.ReadLimits.Budget = &e.Inbound
	e.Cfg.WriteLimits.Total = &e.buffered
	if e.Cfg.GoroutinePerConn {
		return e, nil
	}
	r, err := reactor.New(reactor.Config{
		Loops: e.Cfg.Loops, Workers: e.Cfg.Workers, Inline: e.Cfg.Inline,
		Cork: server, Logger: e.Cfg.Logger,
	}, (*loopOps)(e))
	if errors.Is(err, poller.ErrUnsupported) {
		e.Cfg.GoroutinePerConn = true // no epoll or kqueue here
		return e, nil
	}
	if err != nil {
		return nil, err
	}
	e.Reactor, e.pooled = r, r.Pooled()
	for _, l := range r.Loops() {
		e.Loops = append(e.Loops, &Loop{Loop: l, Eng: e, wheel: l.Wheel()})
	}
	r.Start()
	return e, nil
}

// startServerConn puts an accepted socket on a loop in the handshake state.
// It reports false when the connection is over already (the engine stopping,
// or the poller refusing it): nothing may be posted to it then.
func (e *Engine) StartServerConn(c *Conn) bool {
	c.state.Store(uint32(StateConnecting))
	c.ReadSide.Get(Creator).flags |= rfHandshake
	if c.goMode() {
		return e.startNetConn(c, nil)
	}
	if e.Stopping.Load() {
		// Perhaps counted after Close or Shutdown found no connection left
		// (a TLS handshake that ended as they stopped), so the loops may be
		// stopped: dropped here, as startNetConn drops it.
		e.endStopped(c)
		return false
	}
	// Arm the deadline before the fd is watched: once it is, a worker may run the
	// whole handshake (and arm keepalive) before this goroutine goes on.
	c.Loop = e.pickLoop()
	if e.Cfg.HandshakeTimeout > 0 {
		c.armDeadline(Creator, e.Cfg.HandshakeTimeout)
	}
	if err := c.Loop.add(c); err != nil {
		e.Cfg.Logger.Warn("weir: poller add", "err", err)
		c.finish(Creator, 1006, "", err)
		return false
	}
	e.abortIfStopping(c)
	return true
}

// abortIfStopping ends a connection registered as Close or Shutdown began
// (it found the engine running, then they set stopping): they set stopping
// before scanning, so a connection is either seen by their scan or sees
// stopping here; they wait for it, counted, so the loops still run. Not with
// Abort: by now a worker may have run the whole handshake and OnOpen, and Shutdown's scan may have sent it 1001 already.
// rejectBusy answers a handshake still in flight with 503 and tells an open
// connection going-away (closing.Machine.OnRequest); after Close, which promises no word
// to anyone, it is aborted (a 503 raced Close's rescan and reached the peer).
func (e *Engine) abortIfStopping(c *Conn) {
	switch {
	case e.Aborting.Load():
		c.Abort()
	case e.Stopping.Load():
		c.RejectBusy()
	}
}

// startOpenConn puts an upgraded socket (fd set, or c.nc in goroutine mode) on the
// engine in the open state; head holds frame bytes already read past the handshake.
// It returns false when the engine was stopping and the connection is already over
// (told going-away and closed).
func (e *Engine) StartOpenConn(c *Conn, head []byte) bool {
	c.state.Store(uint32(StateOpen))
	c.stats.bytesIn.Add(uint64(len(head))) // read by whoever did the handshake, but ours
	if e.Stopping.Load() {
		// Close or Shutdown began before newConn counted this connection, so
		// they may not wait for it and the loops may be gone.
		e.endStopped(c)
		return false
	}
	if c.goMode() {
		return e.startNetConn(c, head)
	}
	if len(head) > 0 {
		c.ReadSide.Get(Creator).extra().Unparsed = assemble.Keep(nil, head, 0)
		c.ReadSide.Get(Creator).flags |= rfStash // parsed first, by resumeNow
	}
	// Own the connection before its fd is watched, so that input arriving at once
	// waits until OnOpen has run (evOpen is handled before evRead).
	c.Sched.Store(evOpen | EvRunning)
	if err := e.pickLoop().add(c); err != nil {
		e.Cfg.Logger.Warn("weir: poller add", "err", err)
		c.finish(Creator, 1006, "", err)
		return true // ended, but not for stopping: OnClose has the error
	}
	e.Reactor.Dispatch(c)
	if e.Stopping.Load() {
		// Counted before Close or Shutdown looked (so they wait for it) but
		// perhaps registered after their scan: close it as they would have.
		// Close's own rescans abort it; Shutdown lets the close handshake run.
		c.Close(goingAway(c))
	}
	return true
}

// finishLeft ends the connections still on the stopped loops: Close or
// Shutdown gave up waiting for their aborts (abortFor: a handler blocked past
// it held their loop under DispatchInline), and a stopped loop runs no turn
// queued for them, so their sockets would stay open and OnClose never come.
// No loop or worker runs any more: this goroutine owns them, and aborts each
// as its queued turn would have, OnClose included (on a goroutine of the
// engine's, so a Close called from it does not wait for itself).
func (e *Engine) finishLeft() {
	w := NewWorker(e.Cfg.ReadBufferSize)
	for i := range e.Loops {
		for _, c := range e.ConnsOf(i, AnyState, nil) {
			c.closeReq.Store(closing.Abort)
			c.handle(w, evClose)
		}
	}
}

// endStopped ends, on the goroutine that made it, a connection the stopping
// engine will not run: an open one is told going-away on its socket right
// here (a fresh socket takes a close frame at once), a handshake in progress
// is dropped.
func (e *Engine) endStopped(c *Conn) {
	code, reason := goingAway(c)
	if c.State() == StateOpen {
		c.sendClose(code, reason)
		if c.goMode() {
			c.flushNet() // no writer goroutine will run for it
		}
	}
	err := ErrServerClosed
	if c.client() {
		err = ErrClientClosed
	}
	c.finish(Creator, code, reason, err)
	// No turn will ever run it, and it is on no loop: it keeps the running
	// bit, so that a post from its user (Abort, CloseNow on the Conn Adopt
	// returned) only records the event instead of dispatching it.
	c.Sched.Or(EvRunning)
}

// goingAway is the close status for a connection the engine ends because it
// is stopping (1001, RFC 6455 §7.4.1).
func goingAway(c *Conn) (frame.StatusCode, string) {
	if c.client() {
		return frame.StatusGoingAway, "client closing"
	}
	return frame.StatusGoingAway, "server shutting down"
}

// stop stops the loops and waits for the engine's goroutines, then closes
// the pollers. A second call, also one made meanwhile, returns when the first
// has done so.
func (e *Engine) Stop() {
	if e.stopBegun.Swap(true) {
		<-e.stopped
		return
	}
	defer close(e.stopped)
	if e.Reactor != nil {
		e.Reactor.Stop() // the loops and the workers
		if e.Census.Live.Load() > 0 {
			e.Goroutines.Go(e.finishLeft) // before Close: a goroutine stop waits for
		}
	}
	e.Goroutines.Close() // from now on whoever would start a goroutine ends its connection itself
	e.gmu.Lock()
	if e.gl != nil { // timerLoop makes no other once the group is closed
		close(e.gl.tick)
	}
	e.gmu.Unlock()
	e.Goroutines.Wait()
	if e.Reactor != nil {
		e.Reactor.Close() // the pollers, once no goroutine of the engine can reach them
	}
}
