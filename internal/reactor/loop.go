package reactor

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/weir-ws/weir/internal/turns"
	"github.com/weir-ws/weir/internal/wheel"
	"github.com/weir-ws/weir/poller"
)

// Loop is one event loop: a poller, the connections registered with it (by
// fd), its timing wheel and, when it accepts, listening sockets. A
// connection's registration carries its fd's generation as the poller token,
// and listeners register with token 0, so that an event taken from the kernel
// before an fd was closed is not delivered to whoever owns the number next.
type Loop[T, W any] struct {
	r      *Reactor[T, W]
	p      *poller.Poller
	wheel  *wheel.Wheel[T]
	w      *worker[T, W] // Inline: the loop is the worker
	inline bool
	events []poller.Event

	// Not Inline: small batches run on the loop goroutine (takeover.go).
	turns turns.Turns
	// cork is the current runner's corker (not Inline): a takeover sends
	// the batch the blocked runner corked (cork.go).
	cork atomic.Pointer[corker[T, W]]

	mu        sync.Mutex
	conns     []*T // indexed by fd
	inbox     []*T // Inline: connections posted from other goroutines
	listeners map[int32]func()
	batch     []*T

	// retry: listeners whose accept ran out of fds, tried again on the next
	// tick (loop goroutine only); retryB is the spare slice for the swap.
	retry, retryB []int32
}

func newLoop[T, W any](r *Reactor[T, W]) (*Loop[T, W], error) {
	p, err := poller.New()
	if err != nil {
		return nil, err
	}
	l := &Loop[T, W]{
		r:         r,
		p:         p,
		wheel:     r.ops.NewWheel(),
		events:    make([]poller.Event, 256),
		batch:     make([]*T, 256),
		listeners: map[int32]func(){},
	}
	l.w = &worker[T, W]{w: r.ops.NewWorker()}
	if r.cfg.Inline {
		// The loop does all the work itself: it keeps its thread and blocks in
		// epoll_wait.
		l.inline = true
		l.w.cork = r.newCorker() // its batches' sends go out together (cork.go)
	} else {
		// The loop only hands work to the pool: with nothing to do it parks in
		// Go's netpoller, so waking it costs no thread switch and the workers
		// get its CPU (half the context switches of blocking in epoll_wait,
		// docs/architecture.md).
		p.ParkInRuntime()
		l.turns.Start(r.stopped.Load, l.takeOver)
	}
	return l, nil
}

// Wheel is the loop's timing wheel.
func (l *Loop[T, W]) Wheel() *wheel.Wheel[T] { return l.wheel }

// Add registers c (fd already non-blocking, Ops.Loop(c) already l) and starts
// watching it.
func (l *Loop[T, W]) Add(c *T) error {
	f := l.r.ops.FD(c)
	l.mu.Lock()
	fd := f.Num()
	if fd >= len(l.conns) {
		n := max(2*len(l.conns), fd+1, 64)
		conns := make([]*T, n)
		copy(conns, l.conns)
		l.conns = conns
	}
	l.conns[fd] = c
	l.mu.Unlock()
	// Input and output, edge-triggered, once: output interest costs nothing until a
	// write comes up short, and pausing is the only later change.
	if err := l.p.Add(f.Int(), f.Gen(), poller.Read|poller.Write); err != nil {
		l.Remove(c)
		return err
	}
	return nil
}

// Remove forgets c (worker context, before its fd is closed).
func (l *Loop[T, W]) Remove(c *T) {
	l.mu.Lock()
	if fd := l.r.ops.FD(c).Num(); fd >= 0 && fd < len(l.conns) && l.conns[fd] == c {
		l.conns[fd] = nil
	}
	l.mu.Unlock()
}

// SetRead turns input interest on or off (worker context: the fd is open and
// c's own, so no other goroutine ever issues epoll_ctl on it).
func (l *Loop[T, W]) SetRead(c *T, on bool) error {
	in := poller.Write
	if on {
		in |= poller.Read
	}
	f := l.r.ops.FD(c)
	return l.p.Modify(f.Int(), f.Gen(), in)
}

// Each calls f for each registered connection under the table's lock: f must
// not block or take a lock that is held while the table's is wanted.
func (l *Loop[T, W]) Each(f func(*T)) {
	l.mu.Lock()
	for _, c := range l.conns {
		if c != nil {
			f(c)
		}
	}
	l.mu.Unlock()
}

// Listen watches a listening socket: accept runs on the loop goroutine each
// time it is readable (edge-triggered). Connections queued before the fd
// joined the poller still produce an event: epoll_ctl and kevent report
// readiness that already exists.
func (l *Loop[T, W]) Listen(fd int, accept func()) error {
	l.mu.Lock()
	l.listeners[int32(fd)] = accept
	l.mu.Unlock()
	return l.p.Add(fd, 0, poller.Read)
}

// Unlisten stops watching a listening socket (before it is closed).
func (l *Loop[T, W]) Unlisten(fd int) { l.p.Remove(fd) }

// Retry runs the accept of listener fd again on the next tick (loop
// goroutine: its accept ran out of fds, and the listener is edge-triggered,
// so nothing reports the backlog again until another connection arrives).
func (l *Loop[T, W]) Retry(fd int) { l.retry = append(l.retry, int32(fd)) }

// enqueue hands c to this loop from another goroutine (Inline).
func (l *Loop[T, W]) enqueue(c *T) {
	l.mu.Lock()
	l.inbox = append(l.inbox, c)
	l.mu.Unlock()
	l.p.Wake()
}

// run is the loop goroutine. When not Inline, a goroutine that took the loop
// over from one stuck in a turn (takeover.go) runs it too, with its own worker.
func (l *Loop[T, W]) run() {
	defer l.r.wg.Done()
	r := l.newRunner()
	var inbox []*T
	for {
		n, err := l.p.Wait(l.events, l.wheel.UntilNext(time.Now()))
		if l.r.stopped.Load() {
			return
		}
		if err != nil {
			l.r.cfg.Logger.Error("weir: poll wait", "err", err)
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
			l.w.corkRun(l.r, c)
			inbox[i] = nil
		}
		for _, c := range l.wheel.Advance(time.Now()) {
			l.post(r, c, EvTimer)
		}
		if l.inline {
			l.w.uncork() // the batch's corked writes, one system call (cork.go)
		}
		l.retryAccepts()
		// Last, when nothing of the loop's own state is left to touch: a turn
		// that blocks for good leaves the loop to another goroutine.
		if !l.runTaken(r) {
			return
		}
	}
}

// retryAccepts runs accept again on the listeners that ran out of fds. The
// wait never outlasts a tick (UntilNext), so they retry at least once per tick.
func (l *Loop[T, W]) retryAccepts() {
	if len(l.retry) == 0 {
		return
	}
	fds := l.retry
	l.retry = l.retryB[:0]
	for _, fd := range fds {
		if accept := l.listener(fd); accept != nil {
			accept() // may queue fd on l.retry again
		}
	}
	l.retryB = fds[:0]
}

// lookup finds the connection of each event (under mu, one lock for the batch)
// and puts it in batch. An event whose token is not the generation of the fd's
// current owner was taken from the kernel for an earlier owner of the number,
// closed since: it finds nothing.
func (l *Loop[T, W]) lookup(events []poller.Event) {
	for i := range events {
		var c *T
		if fd := int(events[i].Fd); fd < len(l.conns) {
			c = l.conns[fd]
		}
		if c != nil && l.r.ops.FD(c).Gen() != events[i].Token {
			c = nil
		}
		l.batch[i] = c
	}
}

// deliver posts each event of a looked-up batch to its connection, or accepts on
// its listener (token 0). Stale events are dropped. Input is stamped with now,
// the tick the loop woke in: the input arrived before it.
func (l *Loop[T, W]) deliver(r *runner[T, W], events []poller.Event, now int64) {
	for i, ev := range events {
		c := l.batch[i]
		l.batch[i] = nil
		if c == nil {
			if ev.Token != 0 {
				continue // an earlier owner's fd
			}
			if accept := l.listener(ev.Fd); accept != nil {
				accept()
			}
			continue
		}
		var bits uint32
		if ev.Flags&(poller.Readable) != 0 {
			bits |= EvRead
		}
		if ev.Flags&(poller.HangUp|poller.Error) != 0 {
			bits |= EvRead | EvHangUp
		}
		if ev.Flags&poller.Error != 0 {
			bits |= EvReset
		}
		if ev.Flags&poller.Writable != 0 {
			bits |= EvWrite
		}
		if bits&EvRead != 0 {
			l.r.ops.Input(c, now)
		}
		l.post(r, c, bits)
	}
}

// post is Reactor.Post from the loop goroutine: when Inline it runs the
// connection right here; else it keeps it for runTaken when this batch is
// small (takeover.go), or hands it to the pool. A heavy connection goes to the
// pool's back lane: its turn would hold up the loop's polls, and fresh work
// comes first; a handshake not run here goes to the front lane (Ops.Front).
func (l *Loop[T, W]) post(r *runner[T, W], c *T, ev uint32) {
	owner, heavy := l.r.ops.Sched(c).Post(ev)
	if !owner {
		return
	}
	switch {
	case l.inline:
		l.w.corkRun(l.r, c)
	case heavy:
		l.r.pool.PutBack(c)
	case r.take && len(r.taken) < cap(r.taken):
		r.taken = append(r.taken, c)
	case l.r.ops.Front(c):
		l.r.pool.PutFront(c)
	default:
		l.r.pool.Put(c)
	}
}

func (l *Loop[T, W]) listener(fd int32) func() {
	l.mu.Lock()
	accept := l.listeners[fd]
	l.mu.Unlock()
	return accept
}

func (l *Loop[T, W]) close() {
	l.turns.Stop()
	if l.p != nil {
		l.p.Close()
	}
}

// Turns is the loop's bookkeeping of the turns it runs itself (tests set its
// slow phase).
func (l *Loop[T, W]) Turns() *turns.Turns { return &l.turns }

// Corking reports whether the loop's current runner has a corker.
func (l *Loop[T, W]) Corking() bool {
	if l.inline {
		return l.w.cork != nil
	}
	return l.cork.Load() != nil
}
