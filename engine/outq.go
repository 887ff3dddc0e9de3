package engine

import (
	"github.com/weir-ws/weir/bufpool"
)

// The outbound queue (under mu). out[outHead:] is what the socket has not taken:
// a partial write advances outHead instead of moving the rest to the front, and
// the buffer is compacted only when it needs room and its dead prefix is at least
// half of it, so a large queue drained in small writes costs linear, not
// quadratic, copying. The pooled memory behind the queues is counted in the
// engine's total (settle, backpressure.go).

// heldQueue holds whole messages written while a fragmented WriteFrame message
// is in progress (RFC 6455 §5.4: they may not go between its fragments), with the
// WriteMessageFunc callbacks of those among them, by end offset in buf.
type heldQueue struct {
	buf   []byte // pooled
	dones []heldDone
}

type heldDone struct {
	end int
	fn  func(error)
}

// outLen is the queued bytes the socket has not taken (under mu).
func (c *Conn) outLen() int { return len(c.out) - c.outHead }

// pending is every outbound byte written and not yet taken by the socket: the
// queue, goroutine mode's write in flight and the messages held behind a
// fragmented message (under mu).
func (c *Conn) pending() int {
	n := len(c.out) - c.outHead + c.inflight()
	if c.hq != nil {
		n += len(c.hq.buf)
	}
	return n
}

// enqueue appends b to the outbound buffer.
func (c *Conn) enqueue(b []byte) {
	if len(b) == 0 {
		return
	}
	switch live := c.outLen(); {
	case c.out == nil:
		c.out = bufpool.Get(max(len(b), 512))[:0]
	case cap(c.out)-len(c.out) >= len(b):
	case c.outHead >= len(c.out)/2 && cap(c.out)-live >= len(b):
		// Mostly written already: compact in place (copies at most what the
		// writes have consumed since the last compaction).
		c.out = c.out[:copy(c.out, c.out[c.outHead:])]
		c.outHead = 0
	default:
		nb := bufpool.Get(live + len(b))[:live]
		copy(nb, c.out[c.outHead:])
		bufpool.Put(c.out)
		c.out, c.outHead = nb, 0
	}
	c.out = append(c.out, b...)
	c.outOff += int64(len(b))
	c.settle()
	c.queued.Store(true)
	if c.g != nil {
		c.kickWriter()
	}
	if c.outLen() > c.eng.cfg.DrainLowWater {
		c.wflags |= wfDrainOwed
	}
}

// hold appends a whole encoded frame to the held queue.
func (c *Conn) hold(hdr, p []byte) {
	if c.hq == nil {
		c.hq = &heldQueue{}
	}
	q := c.hq
	n := len(hdr) + len(p)
	if q.buf == nil {
		q.buf = bufpool.Get(max(n, 512))[:0]
	} else {
		q.buf = bufpool.Grow(q.buf, n)
	}
	q.buf = append(append(q.buf, hdr...), p...)
	c.settle()
	if c.outLen() > c.eng.cfg.DrainLowWater {
		c.wflags |= wfDrainOwed
	}
}

// releaseHeld sends the held messages once the fragmented message has ended and
// returns the callbacks of those the socket took at once (under mu).
func (c *Conn) releaseHeld() []pendingDone {
	q := c.hq
	if q == nil || len(q.buf) == 0 {
		return nil
	}
	err := c.writeRaw(q.buf, nil)
	for _, d := range q.dones {
		end := c.outOff - int64(len(q.buf)-d.end)
		if err != nil {
			end = doneNever // the connection is going away: finish reports ErrClosed
		}
		c.addDone(end, d.fn)
	}
	bufpool.Put(q.buf)
	c.hq = nil
	c.settle()
	return c.takeDones()
}

// dropHeld discards the held messages (a close went out before the fragmented
// message ended) and returns their callbacks, owed ErrClosed (under mu).
func (c *Conn) dropHeld() []heldDone {
	q := c.hq
	if q == nil {
		return nil
	}
	bufpool.Put(q.buf)
	c.hq = nil
	c.settle()
	return q.dones
}

// queueDone records a WriteMessageFunc callback for the message just written,
// and reports false when the socket already took all of it (under mu).
func (c *Conn) queueDone(fn func(error)) bool {
	if c.wflags&wfFragOpen != 0 {
		c.hq.dones = append(c.hq.dones, heldDone{end: len(c.hq.buf), fn: fn})
		return true
	}
	if c.pending() == 0 {
		return false
	}
	c.addDone(c.outOff, fn)
	return true
}

func (c *Conn) addDone(end int64, fn func(error)) {
	if c.dq == nil {
		c.dq = &doneQueue{}
	}
	c.dq.list = append(c.dq.list, pendingDone{end: end, fn: fn})
}

// takeDones removes and returns the callbacks whose bytes the socket has taken.
func (c *Conn) takeDones() []pendingDone {
	if c.dq == nil || len(c.dq.list) == 0 {
		return nil
	}
	flushed := c.outOff - int64(c.outLen()+c.inflight())
	i := 0
	for i < len(c.dq.list) && c.dq.list[i].end <= flushed {
		i++
	}
	if i == 0 {
		return nil
	}
	dones := append([]pendingDone(nil), c.dq.list[:i]...)
	c.dq.list = append(c.dq.list[:0], c.dq.list[i:]...)
	return dones
}

// flush writes queued output when the socket is writable again (worker context).
func (c *Conn) flush() {
	c.mu.Lock()
	c.writeOut()
	if c.outLen() == 0 && c.pong != nil && c.wflags&wfClosed == 0 && c.g == nil {
		c.putPongs() // the end of the read turn that saw the pings
	}
	dones := c.takeDones()
	empty := c.outLen() == 0 && c.pong == nil && c.inflight() == 0
	if empty {
		c.queued.Store(false)
		if c.wflags&(wfShutOwed|wfClosed) == wfShutOwed {
			c.wflags &^= wfShutOwed
			c.shutLocked() // the failing close frame is out (shutdownWrite)
		}
	}
	finish := empty && c.wflags&wfFinishOwed != 0
	drained := c.wflags&wfDrainOwed != 0 && c.pending() <= c.eng.cfg.DrainLowWater
	if drained {
		c.wflags &^= wfDrainOwed
	}
	resume := c.readResumable()
	c.mu.Unlock()
	for _, d := range dones {
		c.callDone(d.fn, nil)
	}
	if drained && c.rflags&rfOpened != 0 {
		c.h.OnDrain(c)
	}
	if resume {
		c.post(evRead) // read what waited in the kernel (edge-triggered: no new edge)
	}
	if finish {
		c.finishClean() // the close echo and everything before it are out
	}
}

// writeOut writes as much of the outbound buffer as the socket takes (under mu).
func (c *Conn) writeOut() {
	for c.outLen() > 0 && c.wflags&(wfClosed|wfWriteErr) == 0 {
		w, err := c.sysWrite2(c.out[c.outHead:], nil)
		if w > 0 {
			c.stats.bytesOut.Add(uint64(w))
			c.outHead += w
		}
		if err != nil {
			c.writeFailed(err)
			break
		}
		if w == 0 {
			break
		}
	}
	if c.outLen() == 0 && c.out != nil {
		bufpool.Put(c.out)
		c.out, c.outHead = nil, 0
		c.settle()
	}
}

// takeOut hands the whole queue to goroutine mode's writer (under mu); it stays
// counted in the engine's total until writtenOut.
func (c *Conn) takeOut() []byte {
	buf := c.out[c.outHead:]
	if c.outHead > 0 {
		buf = append(bufpool.Get(len(buf))[:0], buf...)
		bufpool.Put(c.out)
	}
	c.out, c.outHead = nil, 0
	c.settle()
	c.eng.buffered.Add(int64(cap(buf))) // the writer's until writtenOut
	return buf
}

// writtenOut returns a buffer taken by takeOut once written (or failed).
func (c *Conn) writtenOut(buf []byte) {
	c.eng.buffered.Add(-int64(cap(buf)))
	bufpool.Put(buf)
}

// releaseWrite returns the write side's pooled buffers (under mu).
func (c *Conn) releaseWrite() {
	if c.out != nil {
		bufpool.Put(c.out)
		c.out, c.outHead = nil, 0
	}
	if c.pong != nil {
		pongPool.Put(c.pong)
		c.pong = nil
	}
	c.dropHeld() // finish took its callbacks first (dropHeldDones)
	c.settle()
}

// settle brings the engine's total (Config.MaxTotalBuffered) up to date with the
// memory this connection's queues hold: the capacity of their pooled buffers,
// not just the bytes in them, since a pooled buffer is up to twice what it holds
// and stays that size until it is returned (under mu). It runs when a buffer is
// taken, grown or returned, not per write that fits.
func (c *Conn) settle() {
	now := int64(cap(c.out))
	if c.hq != nil {
		now += int64(cap(c.hq.buf))
	}
	if d := now - c.outCharged; d != 0 {
		c.eng.buffered.Add(d)
		c.outCharged = now
	}
}

// doneNever is the end of a callback whose bytes will never go out.
const doneNever = 1 << 62

// dropHeldDones drops the held messages and moves their callbacks to the done
// queue, where finish reports ErrClosed to them (under mu).
func (c *Conn) dropHeldDones() {
	for _, d := range c.dropHeld() {
		c.addDone(doneNever, d.fn)
	}
}
