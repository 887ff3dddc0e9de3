package engine

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/weir-ws/weir/internal/turns"
	"github.com/weir-ws/weir/internal/wheel"
	"github.com/weir-ws/weir/poller"
)

// loop is one event loop: a poller, the connections registered with it (by fd), its
// timing wheel and, when this loop accepts, listening sockets. A connection's
// registration carries its fd's generation as the poller token, and listeners
// register with token 0, so that an event taken from the kernel before an fd
// was closed is not delivered to whoever owns the number next.
type loop struct {
	eng    *engine
	p      *poller.Poller
	wheel  *wheel.Wheel[Conn]
	w      *worker // DispatchInline: the loop is the worker
	inline bool    // DispatchInline
	events []poller.Event

	// DispatchPool: small batches run on the loop goroutine (loop_turns.go).
	turns turns.Turns
	// cork is the current runner's corker (DispatchPool): a takeover sends
	// the batch the blocked runner corked (writeside.go).
	cork atomic.Pointer[corker]

	mu        sync.Mutex
	conns     []*Conn // indexed by fd
	inbox     []*Conn // DispatchInline: connections posted from other goroutines
	listeners map[int32]*listener
	batch     []*Conn
	tick      chan struct{} // timer-only loop of goroutine-mode connections: closed to stop

	// retry: listeners whose accept ran out of fds, tried again on the next
	// tick (loop goroutine only); retryB is the spare slice for the swap.
	retry, retryB []*listener
}

func newLoop(e *engine) (*loop, error) {
	p, err := poller.New()
	if err != nil {
		return nil, err
	}
	l := &loop{
		eng:       e,
		p:         p,
		wheel:     newWheel(e.cfg.TimerResolution),
		events:    make([]poller.Event, 256),
		batch:     make([]*Conn, 256),
		listeners: map[int32]*listener{},
	}
	l.w = newWorker(e.cfg.ReadBufferSize)
	if e.cfg.Dispatch == DispatchInline {
		// The loop does all the work itself: it keeps its thread and blocks in
		// epoll_wait.
		l.inline = true
		l.w.cork = e.newCorker() // its batches' sends go out together (writeside.go)
	} else {
		// The loop only hands work to the pool: with nothing to do it parks in
		// Go's netpoller, so waking it costs no thread switch and the workers
		// get its CPU (half the context switches of blocking in epoll_wait,
		// docs/architecture.md).
		p.ParkInRuntime()
		l.initTurns()
	}
	return l, nil
}

// add registers c (fd already non-blocking) and starts watching it.
func (l *loop) add(c *Conn) error {
	c.loop = l
	c.lastRead.Store(l.wheel.Tick(time.Now()))
	l.mu.Lock()
	fd := c.fd.Num()
	if fd >= len(l.conns) {
		n := max(2*len(l.conns), fd+1, 64)
		conns := make([]*Conn, n)
		copy(conns, l.conns)
		l.conns = conns
	}
	l.conns[fd] = c
	l.mu.Unlock()
	// Input and output, edge-triggered, once: output interest costs nothing until a
	// write comes up short, and pausing is the only later change.
	if err := l.p.Add(c.fd.Int(), c.fd.Gen(), poller.Read|poller.Write); err != nil {
		l.remove(c)
		return err
	}
	return nil
}

// remove forgets c (worker context, before its fd is closed).
func (l *loop) remove(c *Conn) {
	l.mu.Lock()
	if fd := c.fd.Num(); fd >= 0 && fd < len(l.conns) && l.conns[fd] == c {
		l.conns[fd] = nil
	}
	l.mu.Unlock()
}

// setRead turns input interest on or off (applyPause, worker context: the fd
// is open and c's own).
func (l *loop) setRead(c *Conn, on bool) error {
	in := poller.Write
	if on {
		in |= poller.Read
	}
	return l.p.Modify(c.fd.Int(), c.fd.Gen(), in)
}

// enqueue hands c to this loop from another goroutine (DispatchInline).
func (l *loop) enqueue(c *Conn) {
	l.mu.Lock()
	l.inbox = append(l.inbox, c)
	l.mu.Unlock()
	l.p.Wake()
}

// run is the loop goroutine. Under DispatchPool a goroutine that took the loop
// over from one stuck in a handler (turns.go) runs it too, with its own worker.
func (l *loop) run() {
	defer l.eng.wg.Done()
	r := l.newRunner()
	var inbox []*Conn
	for {
		n, err := l.p.Wait(l.events, l.wheel.UntilNext(time.Now()))
		if l.eng.stopped.Load() {
			return
		}
		if err != nil {
			l.eng.cfg.Logger.Error("weir: poll wait", "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		now := l.wheel.Publish(time.Now())
		r.take = !l.inline && l.turns.OnLoop(n)
		l.mu.Lock()
		l.lookup(l.events[:n])
		inbox, l.inbox = l.inbox, inbox[:0]
		l.mu.Unlock()
		if k := l.w.cork; k != nil && l.inline {
			// A lone connection's write goes straight out: one system call either way.
			k.begin(nil, n+len(inbox) > 1)
		}
		l.deliver(r, l.events[:n], now)
		for i, c := range inbox {
			l.w.corkRun(c)
			inbox[i] = nil
		}
		for _, c := range l.wheel.Advance(time.Now()) {
			l.post(r, c, evTimer)
		}
		if l.inline {
			l.w.uncork() // the batch's corked writes, one system call (writeside.go)
		}
		l.retryAccepts()
		// Last, when nothing of the loop's own state is left to touch: a turn
		// that blocks for good leaves the loop to another goroutine.
		if !l.runTaken(r) {
			return
		}
	}
}

// retryAccepts runs accept again on the listeners that ran out of fds. The wait
// never outlasts a tick (untilNext), so they retry at least once per tick.
func (l *loop) retryAccepts() {
	if len(l.retry) == 0 {
		return
	}
	lns := l.retry
	l.retry = l.retryB[:0]
	for i, ln := range lns {
		ln.accept() // may queue ln on l.retry again
		lns[i] = nil
	}
	l.retryB = lns[:0]
}

// lookup finds the connection of each event (under mu, one lock for the batch)
// and puts it in batch. An event whose token is not the generation of the fd's
// current owner was taken from the kernel for an earlier owner of the number,
// closed since: it finds nothing.
func (l *loop) lookup(events []poller.Event) {
	for i := range events {
		var c *Conn
		if fd := int(events[i].Fd); fd < len(l.conns) {
			c = l.conns[fd]
		}
		if c != nil && c.fd.Gen() != events[i].Token {
			c = nil
		}
		l.batch[i] = c
	}
}

// deliver posts each event of a looked-up batch to its connection, or accepts on
// its listener (token 0). Stale events are dropped. Input is stamped with now,
// the tick the loop woke in: the input arrived before it (timer.go).
func (l *loop) deliver(r *runner, events []poller.Event, now int64) {
	for i, ev := range events {
		c := l.batch[i]
		l.batch[i] = nil
		if c == nil {
			if ev.Token != 0 {
				continue // an earlier owner's fd
			}
			if ln := l.listener(ev.Fd); ln != nil {
				ln.accept()
			}
			continue
		}
		var bits uint32
		if ev.Flags&(poller.Readable) != 0 {
			bits |= evRead
		}
		if ev.Flags&(poller.HangUp|poller.Error) != 0 {
			bits |= evRead | evHangUp
		}
		if ev.Flags&poller.Error != 0 {
			bits |= evReset
		}
		if ev.Flags&poller.Writable != 0 {
			bits |= evWrite
		}
		if bits&evRead != 0 && c.lastRead.Load() < now {
			c.lastRead.Store(now)
		}
		l.post(r, c, bits)
	}
}

// post is Conn.post from the loop goroutine: under DispatchInline it runs the
// connection right here; under DispatchPool it keeps it for runTaken when this
// batch is small (turns.go), else hands it to the pool. A heavy connection
// (stHeavy) goes to the pool's back lane: its turn would hold up the loop's
// polls, and fresh work comes first; a handshake not run here goes to the
// front lane (Conn.frontLane).
func (l *loop) post(r *runner, c *Conn, ev uint32) {
	old := c.sched.Or(ev | evRunning)
	if old&evRunning != 0 {
		return
	}
	switch {
	case l.inline:
		l.w.corkRun(c)
	case old&stHeavy != 0:
		l.eng.pool.PutBack(c)
	case r.take && len(r.taken) < cap(r.taken):
		r.taken = append(r.taken, c)
	case c.frontLane():
		l.eng.pool.PutFront(c)
	default:
		l.eng.pool.Put(c)
	}
}

func (l *loop) listener(fd int32) *listener {
	l.mu.Lock()
	ln := l.listeners[fd]
	l.mu.Unlock()
	return ln
}

func (l *loop) close() {
	l.turns.Stop()
	if l.p != nil {
		l.p.Close()
	}
}
