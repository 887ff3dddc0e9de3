package engine

import (
	"sync"
	"sync/atomic"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/outq"
	"github.com/weir-ws/weir/internal/turns"
	"github.com/weir-ws/weir/internal/uring"
	"github.com/weir-ws/weir/internal/workq"
	"github.com/weir-ws/weir/internal/wswrite"
)

// The write side's state is a wswrite.Writer under write.mu: its fields are the
// package's, reached only through its methods, each called with the lock held.
// connSink is what the Writer writes through: the connection's socket, its
// counters and its events.

// connSink is a Conn seen by its Writer (wswrite.Sink), under write.mu.
type connSink Conn

// sink returns c as its Writer's Sink (no allocation: a pointer in an interface).
func (c *Conn) sink() wswrite.Sink { return (*connSink)(c) }

func (s *connSink) Write2(hdr wswrite.FrameBuf, hn int, p []byte) (int, error) {
	c := (*Conn)(s)
	if c.tls != nil {
		return c.tlsWrite2(hdr[:hn], p) // sealed: counts its own bytes (tlsloop.go)
	}
	n, err := c.sysWrite2(hdr[:hn], p)
	if n > 0 {
		c.stats.bytesOut.Add(uint64(n))
	}
	return n, err
}

// Failed: the read side finds the connection dead and finishes it.
func (s *connSink) Failed(err error) error {
	(*Conn)(s).post(evHangUp)
	return &IOError{Err: err}
}

func (s *connSink) Queued() {
	if s.goroutine != nil {
		s.goroutine.Kick() // the writer goroutine writes it
	}
}

func (s *connSink) Retry()                  { (*Conn)(s).post(evWrite) }
func (s *connSink) Inflight() int           { return (*Conn)(s).inflight() }
func (s *connSink) FrameOut(h frame.Header) { s.eng.cfg.Trace.FrameOut((*Conn)(s), h) }

func (s *connSink) Env() wswrite.Env {
	return wswrite.Env{Limits: &s.eng.cfg.writeLimits, Deflate: s.compression(), Client: s.client, Goroutine: s.goroutine != nil}
}

// outLen is the queued bytes the socket has not taken (under write.mu).
func (c *Conn) outLen() int { return c.write.w.Len() }

// pending is every outbound byte written and not yet taken by the socket (under
// write.mu).
func (c *Conn) pending() int { return c.write.w.Pending(c.sink()) }

// writeRaw sends bytes already framed (a handshake answer) under write.mu.
func (c *Conn) writeRaw(b []byte) error { return c.write.w.WriteRaw(c.sink(), b) }

// flush writes queued output when the socket is writable again (worker context).
func (c *Conn) flush(w *worker) {
	c.write.mu.Lock()
	f := c.write.w.Flush(c.sink())
	if f.Empty && c.write.flags&wfShutOwed != 0 && !c.write.w.Closed() {
		c.write.flags &^= wfShutOwed
		c.shutLocked() // the failing close frame is out (shutdownWrite)
	}
	finish := f.Empty && c.write.flags&wfFinishOwed != 0
	c.write.mu.Unlock()
	for _, d := range f.Dones {
		c.callDone(w, d.Fn, nil)
	}
	if f.Drained && c.read.Get(w).flags&rfOpened != 0 {
		c.callOnDrain(w)
	}
	if f.Resume {
		c.post(evRead) // read what waited in the kernel (edge-triggered: no new edge)
	}
	if finish {
		c.finishClean(w) // the close echo and everything before it are out
	}
}

// takeOut hands the whole queue to goroutine mode's writer (under write.mu); it
// stays counted in the engine's total until writtenOut.
func (c *Conn) takeOut() []byte { return c.write.w.Take(&c.eng.cfg.writeLimits) }

// writtenOut returns a buffer taken by takeOut once written (or failed).
func (c *Conn) writtenOut(buf []byte) { wswrite.Written(&c.eng.cfg.writeLimits, buf) }

// releaseWrite returns the write side's pooled buffers (under write.mu).
func (c *Conn) releaseWrite() { c.write.w.Release(&c.eng.cfg.writeLimits) }

// autoPong answers a ping (worker context), batched for the end of the read
// turn (wswrite.Writer.AutoPong).
func (c *Conn) autoPong(payload []byte) {
	c.write.mu.Lock()
	c.write.w.AutoPong(c.sink(), payload)
	c.write.mu.Unlock()
}

// callDones calls done callbacks from any goroutine (callDoneAny).
func (c *Conn) callDones(dones []outq.Done, err error) {
	for _, d := range dones {
		c.callDoneAny(d.Fn, err)
	}
}

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
type corker struct {
	mu    sync.Mutex
	on    bool  // this batch corks (the owner's only: rescue leaves it alone)
	next  *Conn // a pool worker's next turn, taken ahead (worker.go)
	cur   *Conn // the turn in progress (rescue corks it no more)
	turns turns.Turns
	conns []*Conn // listed: corked bytes to send (each once: wswrite fListed)
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

// corkedTurns counts the turns whose writes corked, added at each batch end
// (read by the tests, which check that their batches did cork).
var corkedTurns atomic.Uint64

// newCorker returns a corker, or nil where nothing would cork: on a client's
// engine (corkRun never corks a client connection, so a corker would only
// cost its look-ahead and watchdog on every turn), or where io_uring is not to
// be had (the writes then go straight to the socket, one writev each).
func (e *engine) newCorker() *corker {
	if !e.corks {
		return nil
	}
	r := uring.Get()
	if r == nil {
		return nil
	}
	n := r.Cap()
	uring.Put(r)
	return &corker{conns: make([]*Conn, 0, n), res: make([]int32, n)}
}

// begin marks c's turn as the one in progress and reports whether its
// writes cork.
func (k *corker) begin(c *Conn, on bool) bool {
	k.mu.Lock()
	k.on, k.cur = on, nil
	if on {
		k.cur = c
	}
	k.mu.Unlock()
	return on
}

// rescue runs on a watchdog's goroutine when a turn blocks (a handler may
// block under DispatchPool): the batch's corked writes go out now, and a pool
// worker's turn taken ahead goes back to the pool (p), so neither waits on
// the blocked handler. The blocked turn's connection corks no more from now
// on, and what it corked goes out too (its handler may wait for the peer's
// answer to it).
func (k *corker) rescue(p *workq.Queue[*Conn]) {
	k.mu.Lock()
	if c := k.cur; c != nil {
		k.cur = nil
		c.write.mu.Lock()
		list := c.write.w.CorkOff()
		c.write.mu.Unlock()
		if list {
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

// corkRun is c.run with c's writes corked when the batch corks (a server
// connection on a loop, without TLS), c listed for the batch end if it
// corked any.
func (w *worker) corkRun(c *Conn) bool {
	k := w.cork
	if k == nil || !k.on || c.tls != nil || c.client || c.goroutine != nil {
		return c.run(w)
	}
	c.write.mu.Lock()
	c.write.w.CorkOn()
	c.write.mu.Unlock()
	requeued := c.run(w)
	c.write.mu.Lock()
	list := c.write.w.CorkOff()
	c.write.mu.Unlock()
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
func (w *worker) uncork() {
	if k := w.cork; k != nil {
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
func (k *corker) flush() {
	if len(k.conns) == 0 {
		return
	}
	corkedTurns.Add(uint64(len(k.conns))) // once per batch: a shared counter
	r := uring.Get()
	keep := k.conns[:0]
	for _, c := range k.conns {
		c.write.mu.Lock()
		b := c.write.w.Corked()
		if b == nil {
			c.write.mu.Unlock()
			continue
		}
		if r == nil {
			n, err := c.fd.Write2(nil, b)
			c.corkSent(n, err)
			continue
		}
		r.Add(c.fd.Int(), b)
		keep = append(keep, c)
	}
	if len(keep) > 0 {
		failed := r.Send(k.res) != nil
		for i, c := range keep {
			n, err := uring.Outcome(k.res[i])
			c.corkSent(n, err)
		}
		if failed {
			r = nil // retired (uring.Ring.Send): later batches write their own (uring.Get: nil)
		}
	}
	uring.Put(r)
	clear(k.conns)
	k.conns = k.conns[:0]
}

// corkSent records what the socket took of c's corked bytes (counted out, so
// keepalive's count of output taken stays what the kernel got) and lets c's
// lock go; a flush turn follows when the socket left bytes or something waits
// for them to be out (wswrite.Writer.CorkSent), or a half-close or the end of
// a closing handshake waits for the queue to empty (flush).
func (c *Conn) corkSent(n int, err error) {
	if n > 0 {
		c.stats.bytesOut.Add(uint64(n))
	}
	turn := c.write.w.CorkSent(c.sink(), n, err)
	turn = turn || (err == nil && c.write.flags&(wfShutOwed|wfFinishOwed) != 0)
	c.write.mu.Unlock()
	if turn {
		c.post(evWrite)
	}
}
