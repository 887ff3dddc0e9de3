package wsconn

import (
	"iter"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weir-ws/weir/internal/admit"
	"github.com/weir-ws/weir/internal/census"
	"github.com/weir-ws/weir/upgrade"

	"github.com/weir-ws/weir/internal/reactor"
	"github.com/weir-ws/weir/internal/spawn"
	"github.com/weir-ws/weir/internal/wsread"
)

// engine is what a Server (and the client side) runs on: the loops, the worker pool,
// the configuration and the handler.
type Engine struct {
	Cfg     Config
	h       Handler
	Reactor *reactor.Reactor[Conn, *worker] // the loops and the pool (nil in goroutine mode)
	Loops   []*Loop                         // r's loops, with their wheels
	pooled  bool                            // DispatchPool: turns run on r's pool
	gl      *Loop                           // timers of goroutine-mode connections
	// unplaced is the loop of a connection not yet placed on one: only its
	// eng is set (identity.placed).
	unplaced Loop
	Upgrader *upgrade.Upgrader // a Server's; nil on a client's
	Gate     *admit.Gate       // the Server's caps (limits.go); nil on a client's: counts nothing

	// goroutines of goroutine mode, accept loops and TLS handshakes; stop
	// closes it, after which it starts none (internal/spawn)
	Goroutines spawn.Group
	stopBegun  atomic.Bool   // stop's first call is under way
	stopped    chan struct{} // closed when it has returned (later calls wait for it)
	Stopping   atomic.Bool   // no new connections
	next       atomic.Uint32
	Aborting   atomic.Bool   // Close (or Shutdown past its deadline): connections end without a word
	AbortFor   time.Duration // how long abortAll waits for the aborted (5 s; tests shorten it)
	buffered   atomic.Int64  // pooled memory of all connections' queued output (backpressure.go)
	Inbound    wsread.Total  // inbound bytes held between reads (backpressure.go)
	Counters   counters      // event counters (metrics.go)
	Census     census.Census // connections now, ever, ended, their totals (stats.go)

	gmu    sync.Mutex
	gconns map[*Conn]struct{} // goroutine-mode connections
}

// creator is the key (conn.go) of a goroutine that makes a connection: until
// the connection is published (its fd watched, its goroutines started) nobody
// else can reach it, so its maker owns the read side, and ends it with finish
// when it cannot start. A worker with no buffers: nothing is read before
// publication.
var Creator = new(worker)

// newConn makes a connection, counted in the census from now on, owning fd
// when it is one (-1: a handed-off socket, placed by its caller).
func (e *Engine) NewConn(fd int32, client bool) *Conn {
	c := &Conn{Identity: Identity{Loop: &e.unplaced, WSVersion: 13}}
	if client {
		c.kind |= idClient
	}
	if fd >= 0 {
		c.FD.Own(int(fd))
	}
	e.Census.Join()
	return c
}

// goroutine runs f on a goroutine that stop waits for, unless stop has begun:
// then it reports false, and the caller ends what f would have served.
func (e *Engine) Goroutine(f func()) bool { return e.Goroutines.Go(f) }

// pickLoop spreads connections over the loops round-robin.
func (e *Engine) pickLoop() *Loop {
	return e.Loops[int(e.next.Add(1))%len(e.Loops)]
}

// connClosed is called once per connection by finish.
func (e *Engine) connClosed(w *worker, c *Conn) {
	e.releaseConn(w, c) // its place under MaxConnsPerIP (limits.go)
	if c.goMode() {
		e.gmu.Lock()
		delete(e.gconns, c)
		e.gmu.Unlock()
	}
	e.Census.Leave(&e.Stopping) // read after the count goes down (census.Leave)
}

// opened moves a connection to the open state and tells the handler (worker context).
func (c *Conn) opened(w *worker) {
	// Open unless a Close from another goroutine already moved it on.
	c.state.CompareAndSwap(uint32(StateConnecting), uint32(StateOpen))
	c.ReadSide.Get(w).flags |= rfOpened
	if c.placed() {
		c.Loop.wheel.Cancel(c)
	}
	c.armKeepalive(w)
	c.callOnOpen(w)
}

// PauseRead is engine.Conn.PauseRead (documented there).
func (c *Conn) PauseRead() {
	if c.paused.Swap(true) {
		return
	}
	// The parser stops at once (it checks paused); the poller is told by whoever
	// owns the connection (evPause), never here: by now the connection may have
	// closed and its fd number may belong to another one. Goroutine mode has no
	// poller: the event wakes its reader, which then waits while paused.
	if c.State() != StateClosed {
		c.Post(evPause)
	}
}

// ResumeRead is engine.Conn.ResumeRead (documented there).
func (c *Conn) ResumeRead() {
	if !c.paused.Swap(false) {
		return
	}
	if c.State() != StateClosed {
		c.Post(evResume)
	}
}

// IsPaused is engine.Conn.IsPaused (documented there).
func (c *Conn) IsPaused() bool { return c.paused.Load() }

// applyPause makes the poller's input interest match paused, after a PauseRead or
// ResumeRead (worker context, so that no other goroutine ever issues epoll_ctl on
// the fd, and none after finish). Every call that changes paused posts its event
// after the change, so the owner's last look sees the last call's state: any
// interleaving of PauseRead and ResumeRead ends as the last one asked.
func (c *Conn) applyPause(w *worker, resumed bool) {
	r := c.ReadSide.Get(w)
	if r.close.Finished() {
		return // finished earlier in this turn: its handle is closed
	}
	paused := c.paused.Load()
	if !c.goMode() && paused != (r.flags&rfReadOff != 0) {
		if err := c.Loop.SetRead(c, !paused); err == nil {
			r.flags ^= rfReadOff
		} else {
			c.Eng().Cfg.Logger.Warn("weir: poller modify", "err", err)
		}
	}
	if resumed && !paused {
		c.resumeNow(w)
	}
}

// resumeNow parses what was kept when reading was paused, then reads on: an
// edge-triggered poller does not report again what arrived while paused.
func (c *Conn) resumeNow(w *worker) {
	r := c.ReadSide.Get(w)
	if r.flags&rfStash != 0 {
		c.consume(w, nil)
	}
	if !c.goMode() && c.readReady(w, r.flags&rfHangUp != 0) {
		c.Sched.Or(EvRead) // the rest after this turn, in run's loop
	}
}

// conns iterates over the connections in state st (AnyState: all).
func (e *Engine) Conns(st State) iter.Seq[*Conn] {
	return func(yield func(*Conn) bool) {
		var list []*Conn
		for i := range len(e.Loops) + 1 {
			list = e.ConnsOf(i, st, list)
		}
		for _, c := range list {
			if !yield(c) {
				return
			}
		}
	}
}

// ConnsOf appends to dst the connections of loop i (i == len(e.loops): the
// goroutine-mode ones) in state st (AnyState: all), taken under that table's
// lock (conns, and Broadcast's snapshot of each loop).
func (e *Engine) ConnsOf(i int, st State, dst []*Conn) []*Conn {
	e.EachOf(i, func(c *Conn) {
		if st == AnyState || c.State() == st {
			dst = append(dst, c)
		}
	})
	return dst
}

// EachOf calls f for each connection of loop i (i == len(e.loops): the
// goroutine-mode ones) under that table's lock: f must not block or take a
// lock that is held while a table's is wanted (a write lock; the census's is fine).
func (e *Engine) EachOf(i int, f func(*Conn)) {
	if i == len(e.Loops) {
		e.gmu.Lock()
		for c := range e.gconns {
			f(c)
		}
		e.gmu.Unlock()
		return
	}
	e.Loops[i].Each(f)
}

// AnyState matches every state in Conns.
const AnyState = ^State(0)
