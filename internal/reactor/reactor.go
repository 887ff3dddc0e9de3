package reactor

import (
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/weir-ws/weir/internal/sock"
	"github.com/weir-ws/weir/internal/wheel"
	"github.com/weir-ws/weir/internal/workq"
)

// Ops is what the reactor needs of the connections it runs (T) and of the
// contexts their turns run in (W, the read side's key): the engine implements
// it with a one-line method each. Methods taking a W run in the context that
// holds the connection's running bit.
type Ops[T, W any] interface {
	Sched(c *T) *Sched
	FD(c *T) *sock.FD
	// Loop is the loop c is registered with (set before Loop.Add).
	Loop(c *T) *Loop[T, W]
	// Handle does one batch of events ev in worker context and reports
	// whether input is left to read after c's turn.
	Handle(w W, c *T, ev uint32) (more bool)
	// Front reports whether c's turn goes to the pool's front lane (a
	// handshake a client waits on).
	Front(c *T) bool
	// Input stamps c with the tick now its input arrived in (the loop).
	Input(c *T, now int64)

	// Corking (cork.go). Corkable: c's writes may cork (plain server
	// sockets). CorkOn and CorkOff switch corking of c's writes; CorkOff
	// reports whether c has corked bytes to send. Corked takes c's write
	// lock and returns its corked bytes, or, with none, lets the lock go and
	// returns nil; CorkSent records what the socket took of them and lets
	// the lock go.
	Corkable(c *T) bool
	CorkOn(c *T)
	CorkOff(c *T) (list bool)
	Corked(c *T) []byte
	CorkSent(c *T, n int, err error)

	// NewWorker makes a worker context (its own read buffer).
	NewWorker() W
	// NewWheel makes a loop's timing wheel of connections.
	NewWheel() *wheel.Wheel[T]
	// TookOver counts and logs a loop takeover (takeover.go).
	TookOver()
}

// Config says how many loops and workers run and how. Zero values: see each
// field.
type Config struct {
	Loops   int  // event loops, at least 1
	Workers int  // pool workers (not Inline)
	Inline  bool // each loop runs its connections' turns itself, no pool
	// Cork: a worker's batches cork their writes and send them with one
	// io_uring_enter at the batch end (cork.go); false: writes go straight out.
	Cork bool
	// Queue is the capacity of the pool's channels. Zero: PoolQueue.
	Queue  int
	Logger *slog.Logger // not nil
}

// PoolQueue is the default capacity of the worker pool's channels.
const PoolQueue = 4096

// Reactor is a set of event loops and, unless Inline, the worker pool they
// hand turns to.
type Reactor[T, W any] struct {
	ops   Ops[T, W]
	cfg   Config
	loops []*Loop[T, W]
	pool  *workq.Queue[*T] // not Inline: the workers' hand-over queue (pool.go)

	wg      sync.WaitGroup
	stopMu  sync.Mutex  // orders Stop against a takeover's wg.Add (takeover.go)
	stopped atomic.Bool // loops and workers are to exit (set under stopMu)
}

// New makes the loops (and the pool's queue) without starting them: Start
// does. An error is the poller's (poller.ErrUnsupported where there is none).
func New[T, W any](cfg Config, ops Ops[T, W]) (*Reactor[T, W], error) {
	r := &Reactor[T, W]{ops: ops, cfg: cfg}
	for range max(cfg.Loops, 1) {
		l, err := newLoop(r)
		if err != nil {
			for _, l := range r.loops {
				l.close()
			}
			return nil, err
		}
		r.loops = append(r.loops, l)
	}
	if !cfg.Inline {
		r.pool = workq.New[*T](cmp(cfg.Queue, PoolQueue))
	}
	return r, nil
}

func cmp(n, def int) int {
	if n > 0 {
		return n
	}
	return def
}

// Start starts the pool's workers and the loops' goroutines.
func (r *Reactor[T, W]) Start() {
	if r.pool != nil {
		for range r.cfg.Workers {
			r.wg.Add(1)
			go r.poolWorker()
		}
	}
	for _, l := range r.loops {
		r.wg.Add(1)
		go l.run()
	}
}

// Loops are the reactor's loops.
func (r *Reactor[T, W]) Loops() []*Loop[T, W] { return r.loops }

// Pooled reports whether turns run on the worker pool (not Inline).
func (r *Reactor[T, W]) Pooled() bool { return r.pool != nil }

// Post adds ev to c's pending events and, if nobody is working on c, hands it
// to its runner (Dispatch). Any goroutine.
func (r *Reactor[T, W]) Post(c *T, ev uint32) {
	if owner, _ := r.ops.Sched(c).Post(ev); owner {
		r.Dispatch(c)
	}
}

// Dispatch hands c, whose running bit the caller set, to its runner. It is
// called from any goroutine (the loop has its own path, Loop.post), so when
// Inline it queues c on its loop's inbox. A full pool queue never blocks the
// poster: a worker posting to another connection must not wait for the
// workers. A heavy connection goes to the back lane even with fresh input: a
// flooder's every edge would otherwise queue it ahead of the work put back,
// and each of its turns ahead of a fresh connection's handshake (issue 12).
func (r *Reactor[T, W]) Dispatch(c *T) {
	switch {
	case r.pool == nil:
		r.ops.Loop(c).enqueue(c)
	case r.ops.Sched(c).Load()&Heavy != 0:
		r.pool.PutBack(c)
	case r.ops.Front(c):
		r.pool.PutFront(c)
	default:
		r.pool.Put(c)
	}
}

// requeue puts c, whose running bit its runner keeps and which has more input
// to read, behind the fresh work: the pool's back lane, or its loop's inbox.
func (r *Reactor[T, W]) requeue(c *T) {
	if r.pool == nil {
		r.ops.Loop(c).enqueue(c)
		return
	}
	r.pool.PutBack(c)
}

// Stop ends the loops and the workers and waits for them. Once is enough:
// later calls return at once. The pollers stay open until Close, so that a
// goroutine still finishing a connection's start (Loop.Add) gets an error,
// not an epoll_ctl on a number closed and perhaps reused.
func (r *Reactor[T, W]) Stop() {
	r.stopMu.Lock()
	already := r.stopped.Swap(true)
	r.stopMu.Unlock() // no takeover adds a runner after this: wg.Wait below sees every one
	if already {
		return
	}
	for _, l := range r.loops {
		l.p.Wake()
	}
	if r.pool != nil {
		r.pool.Stop()
	}
	r.wg.Wait()
}

// Close closes the loops' pollers, after Stop, once nothing can use them.
func (r *Reactor[T, W]) Close() {
	for _, l := range r.loops {
		l.close()
	}
}
