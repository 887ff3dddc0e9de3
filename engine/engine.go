package engine

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
type engine struct {
	cfg    Config
	h      Handler
	r      *reactor.Reactor[Conn, *worker] // the loops and the pool (nil in goroutine mode)
	loops  []*loop                         // r's loops, with their wheels
	pooled bool                            // DispatchPool: turns run on r's pool
	gl     *loop                           // timers of goroutine-mode connections
	// unplaced is the loop of a connection not yet placed on one: only its
	// eng is set (identity.placed).
	unplaced loop
	upg      *upgrade.Upgrader // a Server's; nil on a client's
	gate     *admit.Gate       // the Server's caps (limits.go); nil on a client's: counts nothing

	// goroutines of goroutine mode, accept loops and TLS handshakes; stop
	// closes it, after which it starts none (internal/spawn)
	goroutines spawn.Group
	stopBegun  atomic.Bool   // stop's first call is under way
	stopped    chan struct{} // closed when it has returned (later calls wait for it)
	stopping   atomic.Bool   // no new connections
	next       atomic.Uint32
	aborting   atomic.Bool   // Close (or Shutdown past its deadline): connections end without a word
	abortFor   time.Duration // how long abortAll waits for the aborted (5 s; tests shorten it)
	buffered   atomic.Int64  // pooled memory of all connections' queued output (backpressure.go)
	inbound    wsread.Total  // inbound bytes held between reads (backpressure.go)
	m          counters      // event counters (metrics.go)
	census     census.Census // connections now, ever, ended, their totals (stats.go)

	gmu    sync.Mutex
	gconns map[*Conn]struct{} // goroutine-mode connections
}

// creator is the key (conn.go) of a goroutine that makes a connection: until
// the connection is published (its fd watched, its goroutines started) nobody
// else can reach it, so its maker owns the read side, and ends it with finish
// when it cannot start. A worker with no buffers: nothing is read before
// publication.
var creator = new(worker)

// newConn makes a connection, counted in the census from now on, owning fd
// when it is one (-1: a handed-off socket, placed by its caller).
func (e *engine) newConn(fd int32, client bool) *Conn {
	c := &Conn{identity: identity{loop: &e.unplaced, version: 13}}
	if client {
		c.kind |= idClient
	}
	if fd >= 0 {
		c.fd.Own(int(fd))
	}
	e.census.Join()
	return c
}

// goroutine runs f on a goroutine that stop waits for, unless stop has begun:
// then it reports false, and the caller ends what f would have served.
func (e *engine) goroutine(f func()) bool { return e.goroutines.Go(f) }

// pickLoop spreads connections over the loops round-robin.
func (e *engine) pickLoop() *loop {
	return e.loops[int(e.next.Add(1))%len(e.loops)]
}

// connClosed is called once per connection by finish.
func (e *engine) connClosed(w *worker, c *Conn) {
	e.releaseConn(w, c) // its place under MaxConnsPerIP (limits.go)
	if c.goMode() {
		e.gmu.Lock()
		delete(e.gconns, c)
		e.gmu.Unlock()
	}
	e.census.Leave(&e.stopping) // read after the count goes down (census.Leave)
}

// opened moves a connection to the open state and tells the handler (worker context).
func (c *Conn) opened(w *worker) {
	// Open unless a Close from another goroutine already moved it on.
	c.state.CompareAndSwap(uint32(StateConnecting), uint32(StateOpen))
	c.read.Get(w).flags |= rfOpened
	if c.placed() {
		c.loop.wheel.Cancel(c)
	}
	c.armKeepalive(w)
	c.callOnOpen(w)
}

// PauseRead stops reading from the connection (ws pause): the socket is no longer
// watched for input, so TCP flow control pushes back on the peer. Bytes already read
// are kept, unparsed, for ResumeRead. Under GoroutinePerConn a read already
// blocked when PauseRead is called may still return what arrives before its
// goroutine runs (one read buffer at most, kept the same way). Writes go on.
// PauseRead and ResumeRead may be called from any goroutine, also at once: the
// last call wins.
func (c *Conn) PauseRead() {
	if c.paused.Swap(true) {
		return
	}
	// The parser stops at once (it checks paused); the poller is told by whoever
	// owns the connection (evPause), never here: by now the connection may have
	// closed and its fd number may belong to another one. Goroutine mode has no
	// poller: the event wakes its reader, which then waits while paused.
	if c.State() != StateClosed {
		c.post(evPause)
	}
}

// ResumeRead undoes PauseRead.
func (c *Conn) ResumeRead() {
	if !c.paused.Swap(false) {
		return
	}
	if c.State() != StateClosed {
		c.post(evResume)
	}
}

// IsPaused reports whether reading is paused.
func (c *Conn) IsPaused() bool { return c.paused.Load() }

// applyPause makes the poller's input interest match paused, after a PauseRead or
// ResumeRead (worker context, so that no other goroutine ever issues epoll_ctl on
// the fd, and none after finish). Every call that changes paused posts its event
// after the change, so the owner's last look sees the last call's state: any
// interleaving of PauseRead and ResumeRead ends as the last one asked.
func (c *Conn) applyPause(w *worker, resumed bool) {
	r := c.read.Get(w)
	if r.close.Finished() {
		return // finished earlier in this turn: its handle is closed
	}
	paused := c.paused.Load()
	if !c.goMode() && paused != (r.flags&rfReadOff != 0) {
		if err := c.loop.SetRead(c, !paused); err == nil {
			r.flags ^= rfReadOff
		} else {
			c.eng().cfg.Logger.Warn("weir: poller modify", "err", err)
		}
	}
	if resumed && !paused {
		c.resumeNow(w)
	}
}

// resumeNow parses what was kept when reading was paused, then reads on: an
// edge-triggered poller does not report again what arrived while paused.
func (c *Conn) resumeNow(w *worker) {
	r := c.read.Get(w)
	if r.flags&rfStash != 0 {
		c.consume(w, nil)
	}
	if !c.goMode() && c.readReady(w, r.flags&rfHangUp != 0) {
		c.sched.Or(evRead) // the rest after this turn, in run's loop
	}
}

// conns iterates over the connections in state st (anyState: all).
func (e *engine) conns(st State) iter.Seq[*Conn] {
	return func(yield func(*Conn) bool) {
		var list []*Conn
		for i := range len(e.loops) + 1 {
			list = e.connsOf(i, st, list)
		}
		for _, c := range list {
			if !yield(c) {
				return
			}
		}
	}
}

// connsOf appends to dst the connections of loop i (i == len(e.loops): the
// goroutine-mode ones) in state st (anyState: all), taken under that table's
// lock (conns, and Broadcast's snapshot of each loop).
func (e *engine) connsOf(i int, st State, dst []*Conn) []*Conn {
	e.eachOf(i, func(c *Conn) {
		if st == anyState || c.State() == st {
			dst = append(dst, c)
		}
	})
	return dst
}

// eachOf calls f for each connection of loop i (i == len(e.loops): the
// goroutine-mode ones) under that table's lock: f must not block or take a
// lock that is held while a table's is wanted (a write lock; the census's is fine).
func (e *engine) eachOf(i int, f func(*Conn)) {
	if i == len(e.loops) {
		e.gmu.Lock()
		for c := range e.gconns {
			f(c)
		}
		e.gmu.Unlock()
		return
	}
	e.loops[i].Each(f)
}

// anyState matches every state in conns.
const anyState = ^State(0)

// abortAll closes every remaining connection without a close frame and waits (a
// bounded time) for the workers to finish them, so that stopping the loops leaves
// no connection open. stopping is set already, and done (census.Emptied) is
// closed by the last connection to go. A connection being registered during a
// scan shows up in a later one (or ends itself, seeing stopping).
func (e *engine) abortAll(done <-chan struct{}) {
	e.aborting.Store(true)
	abort := func() {
		for c := range e.conns(anyState) {
			c.Abort()
		}
	}
	if !e.census.Abort(done, abort, 20*time.Millisecond, e.abortFor) {
		e.cfg.Logger.Warn("weir: connections still open after abort", "n", e.census.Live.Load())
	}
}
