package reactor

import (
	"sync"
	"sync/atomic"

	"github.com/weir-ws/weir/internal/turns"
	"github.com/weir-ws/weir/internal/uring"
	"github.com/weir-ws/weir/internal/workq"
)

// corker is a worker's batch of corked connections (wswrite cork.go, issue
// 15): while the worker runs a batch of ready connections, their writes that
// would go straight to the socket are queued, and at the batch end (uncork)
// they go to the kernel with one io_uring_enter, as fan-out batches do
// (internal/fanout, internal/uring). A lone ready connection does not cork:
// its write is one system call either way.
//
// Only the worker that owns a corker runs its batch; mu guards the batch
// against rescue, which runs on a watchdog's goroutine when a turn blocks
// (elsewhere it is never contended).
type corker[T, W any] struct {
	ops   Ops[T, W]
	mu    sync.Mutex
	on    bool // this batch corks (the owner's only: rescue leaves it alone)
	next  *T   // a pool worker's next turn, taken ahead (pool.go)
	cur   *T   // the turn in progress (rescue corks it no more)
	turns turns.Turns
	conns []*T // listed: corked bytes to send (each once: wswrite fListed)
	res   []int32
	// A pool worker's look-ahead pays only if turns cork: listed counts the
	// current batch's corked turns, and a batch with none (writes too big to
	// cork, or none at all) has the next corkCold turns run without it.
	listed, cold int
}

// corkCold is how many turns a pool worker runs without looking ahead after
// a batch that corked nothing (16 KiB echoes: over corkMax).
const corkCold = 64

// corkBatchMax bounds a batch: its first connection's corked bytes wait for
// at most this many turns (a hundred microseconds or so) before they go out,
// however long the pool keeps finding work. It also bounds what a worker's
// thread holds back when the kernel preempts it mid-batch (for tens of ms on
// a loaded box): bytes that, uncorked, would already be in the socket. 16
// sends per io_uring_enter keep the CPU saving: under load, 0.88 of main's
// CPU per message at 1000 x 64 B against 0.86 with 64, p99 not told apart
// (bench/results/perf15-cork-2026-12-07.md). At most the ring's size (256).
const corkBatchMax = 16

// corkedTurns counts the turns whose writes corked, added at each batch end.
var corkedTurns atomic.Uint64

// CorkedTurns is how many turns' writes corked so far, process-wide (for
// tests that check that their batches did cork).
func CorkedTurns() uint64 { return corkedTurns.Load() }

// newCorker returns a corker, or nil where nothing would cork: without
// Config.Cork (a client's engine: a corker would only cost its look-ahead and
// watchdog on every turn), or where io_uring is not to be had (the writes
// then go straight to the socket, one writev each).
func (r *Reactor[T, W]) newCorker() *corker[T, W] {
	if !r.cfg.Cork {
		return nil
	}
	u := uring.Get()
	if u == nil {
		return nil
	}
	n := u.Cap()
	uring.Put(u)
	return &corker[T, W]{ops: r.ops, conns: make([]*T, 0, n), res: make([]int32, n)}
}

// begin marks c's turn as the one in progress and reports whether its
// writes cork.
func (k *corker[T, W]) begin(c *T, on bool) bool {
	k.mu.Lock()
	k.on, k.cur = on, nil
	if on {
		k.cur = c
	}
	k.mu.Unlock()
	return on
}

// rescue runs on a watchdog's goroutine when a turn blocks (a handler may
// block in the pool): the batch's corked writes go out now, and a pool
// worker's turn taken ahead goes back to the pool (p), so neither waits on
// the blocked handler. The blocked turn's connection corks no more from now
// on, and what it corked goes out too (its handler may wait for the peer's
// answer to it).
func (k *corker[T, W]) rescue(p *workq.Queue[*T]) {
	k.mu.Lock()
	if c := k.cur; c != nil {
		k.cur = nil
		if k.ops.CorkOff(c) {
			k.conns = append(k.conns, c)
		}
	}
	k.flush()
	if c := k.next; c != nil && p != nil {
		k.next = nil
		p.Put(c)
	}
	k.mu.Unlock()
}

// corkRun is Run with c's writes corked when the batch corks (Corkable), c
// listed for the batch end if it corked any.
func (x *worker[T, W]) corkRun(r *Reactor[T, W], c *T) bool {
	k := x.cork
	if k == nil || !k.on || !r.ops.Corkable(c) {
		return r.Run(x.w, c)
	}
	r.ops.CorkOn(c)
	requeued := r.Run(x.w, c)
	list := r.ops.CorkOff(c)
	k.mu.Lock()
	if list {
		k.listed++
		k.conns = append(k.conns, c)
		if len(k.conns) >= corkBatchMax {
			k.flush()
		}
	}
	k.cur = nil
	k.mu.Unlock()
	return requeued
}

// uncork ends the batch: its corked bytes go out (flush).
func (x *worker[T, W]) uncork() {
	if k := x.cork; k != nil {
		k.mu.Lock()
		k.on = false
		k.flush()
		k.mu.Unlock()
	}
}

// flush sends the listed connections' corked bytes, under mu: each one's
// write lock is held from taking its bytes to recording what the socket took
// (uring's contract), so no write overtakes them and its fd is not closed
// meanwhile (the socket closes under the lock, after the Writer is marked
// closed: Corked then returns nil and no fd is touched). With every ring in
// use, each connection gets its own writev, as without corking.
func (k *corker[T, W]) flush() {
	if len(k.conns) == 0 {
		return
	}
	corkedTurns.Add(uint64(len(k.conns))) // once per batch: a shared counter
	u := uring.Get()
	keep := k.conns[:0]
	for _, c := range k.conns {
		b := k.ops.Corked(c)
		if b == nil {
			continue
		}
		if u == nil {
			n, err := k.ops.FD(c).Write2(nil, b)
			k.ops.CorkSent(c, n, err)
			continue
		}
		u.Add(k.ops.FD(c).Int(), b)
		keep = append(keep, c)
	}
	if len(keep) > 0 {
		failed := u.Send(k.res) != nil
		for i, c := range keep {
			n, err := uring.Outcome(k.res[i])
			k.ops.CorkSent(c, n, err)
		}
		if failed {
			u = nil // retired (uring.Ring.Send): later batches write their own (uring.Get: nil)
		}
	}
	uring.Put(u)
	clear(k.conns)
	k.conns = k.conns[:0]
}
