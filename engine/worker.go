package engine

import (
	"runtime"

	"github.com/weir-ws/weir/internal/workq"
	"github.com/weir-ws/weir/upgrade"
)

// worker is the context connection work runs in: under DispatchPool one of
// Config.Workers goroutines, under DispatchInline the loop itself. It owns the read
// buffer every connection it serves reads into, so an idle connection owns none.
type worker struct {
	buf  []byte           // Config.ReadBufferSize
	req  *upgrade.Request // reusable handshake request view
	rsp  []byte           // scratch for handshake responses
	cork *corker          // nil: writes go straight to the socket (writeside.go)
}

func newWorker(size int) *worker {
	return &worker{buf: make([]byte, size), req: upgrade.NewRequest(), rsp: make([]byte, 0, 1024)}
}

// poolQueue is the capacity of the worker pool's channel.
const poolQueue = 4096

func newPool(e *engine, n, bufSize int) *workq.Queue[*Conn] {
	return startPool(e, n, bufSize, poolQueue)
}

// startPool starts n workers on a hand-over queue of qlen (internal/workq: a
// poster never blocks and never starts a goroutine). A connection is handed
// over only by whoever set its running bit, so it is in the queue at most once.
func startPool(e *engine, n, bufSize, qlen int) *workq.Queue[*Conn] {
	p := workq.New[*Conn](qlen)
	for range n {
		w := newWorker(bufSize)
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			w.cork = e.newCorker()
			if k := w.cork; k != nil {
				k.turns.Start(e.stopped.Load, func() bool { k.rescue(p); return true })
				defer k.turns.Stop()
			}
			for {
				c, ok := w.taken()
				if !ok {
					c, ok = p.Get()
				}
				if !ok {
					return
				}
				if w.runPooled(c, p) {
					// A turn cut by its budget: let the goroutines waiting
					// for a P run (the loops among them) before this worker
					// takes the next turn. Workers that always find work never
					// block, so otherwise only preemption, every 10 ms,
					// rotates them: with Workers above GOMAXPROCS, a flood
					// held a loop off its P for 30 to 300 ms (issue 12).
					runtime.Gosched()
				}
			}
		}()
	}
	return p
}

// runPooled runs c's turn on a pool worker. With a corker, c's writes cork
// when more work is ready (taken now, run next: the worker's batch lasts
// while the queue has work), and the batch's corked writes go out together
// once it has none (writeside.go). Only a corking turn is watched: one that
// blocks has the batch sent and the turn taken ahead put back by the
// watchdog (corker.rescue), so neither waits on its handler.
func (w *worker) runPooled(c *Conn, p *workq.Queue[*Conn]) bool {
	k := w.cork
	if k == nil {
		return c.run(w)
	}
	if k.cold > 0 { // recent batches corked nothing: no look-ahead for now
		k.cold--
		return c.run(w)
	}
	next, _ := p.TryGet()
	k.mu.Lock()
	k.next = next
	on := next != nil || len(k.conns) > 0
	k.mu.Unlock()
	if !k.begin(c, on) {
		return c.run(w) // nothing corked, nothing ahead: nothing to rescue
	}
	s := k.turns.Begin()
	requeued := w.corkRun(c)
	k.turns.End(s)
	k.mu.Lock()
	if k.next == nil { // the last of the batch, or rescued
		if k.listed == 0 && len(k.conns) == 0 {
			k.cold = corkCold // a batch that corked nothing
		}
		k.on, k.listed = false, 0
		k.flush()
	}
	k.mu.Unlock()
	return requeued
}

// taken is the turn a pool worker took ahead and still owns (not rescued).
func (w *worker) taken() (*Conn, bool) {
	k := w.cork
	if k == nil {
		return nil, false
	}
	k.mu.Lock()
	c := k.next
	k.next = nil
	k.mu.Unlock()
	return c, c != nil
}

// frontLane reports whether c's turn goes to the pool's front lane: a server
// connection still in its handshake. Its turn is one small request and its
// client waits on the answer before it sends anything more: behind the fresh
// turns of hundreds of flooders that just woke up, it waited 50-120 ms under
// load (issue 12). Its turns end with the 101 (or the refusal): the request
// is bounded by the header limit and the handshake timeout, so a peer cannot
// keep work in the front lane beyond its own handshake.
func (c *Conn) frontLane() bool {
	return !c.client && c.state.Load() == uint32(StateConnecting)
}

// requeue puts c, whose running bit its worker keeps and which has more input
// to read, behind the fresh work: the pool's back lane (internal/workq).
func (e *engine) requeue(c *Conn) {
	if e.pool == nil {
		c.loop.enqueue(c)
		return
	}
	e.pool.PutBack(c)
}

// dispatch hands c, whose running bit the caller set, to its runner.
// It is called from any goroutine (the loop has its own path, loop.post), so under
// DispatchInline it queues c on its loop's inbox. A full pool queue never blocks the
// poster: a worker posting to another connection must not wait for the workers.
// A heavy connection (stHeavy: its last read turn ended on its budget) goes to
// the back lane even with fresh input: a flooder's every edge would otherwise
// queue it ahead of the work put back, and each of its turns ahead of a fresh
// connection's handshake (issue 12).
func (e *engine) dispatch(c *Conn) {
	switch {
	case e.pool == nil:
		c.loop.enqueue(c)
	case c.sched.Load()&stHeavy != 0:
		e.pool.PutBack(c)
	case c.frontLane():
		e.pool.PutFront(c)
	default:
		e.pool.Put(c)
	}
}
