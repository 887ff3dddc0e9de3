package engine

import (
	"github.com/weir-ws/weir/bufpool"
	"github.com/weir-ws/weir/internal/outq"
)

// The write side's queues (under write.mu): out, the outbound byte queue, and,
// in writeExtras, the messages held behind a fragmented message and the
// WriteMessageFunc callbacks waiting for their bytes (internal/outq). The pooled
// memory behind out and held is counted in the engine's total (settle,
// backpressure.go).

// outLen is the queued bytes the socket has not taken (under mu).
func (c *Conn) outLen() int { return c.write.out.Len() }

// pending is every outbound byte written and not yet taken by the socket: the
// queue, goroutine mode's write in flight and the messages held behind a
// fragmented message (under mu).
func (c *Conn) pending() int {
	n := c.write.out.Len() + c.inflight()
	if x := c.write.extras; x != nil {
		n += x.held.Len()
	}
	return n
}

// enqueue appends b to the outbound queue.
func (c *Conn) enqueue(b []byte) {
	if len(b) == 0 {
		return
	}
	c.write.out.Append(b)
	c.settle()
	c.queued.Store(true)
	if c.goroutine != nil {
		c.kickWriter()
	}
	if c.outLen() > c.eng.cfg.DrainLowWater {
		c.write.flags |= wfDrainOwed
	}
}

// hold appends a whole encoded frame to the held messages.
func (c *Conn) hold(hdr, p []byte) {
	c.write.extra().held.Hold(hdr, p)
	c.settle()
	if c.outLen() > c.eng.cfg.DrainLowWater {
		c.write.flags |= wfDrainOwed
	}
}

// releaseHeld sends the held messages once the fragmented message has ended and
// returns the callbacks of those the socket took at once (under mu).
func (c *Conn) releaseHeld() []outq.Done {
	x := c.write.extras
	if x == nil || x.held.Len() == 0 {
		return nil
	}
	buf := x.held.Bytes()
	err := c.writeRaw(buf, nil)
	total := c.write.out.Total()
	for _, d := range x.held.Release() {
		end := total - int64(len(buf)-d.End)
		if err != nil {
			end = outq.Never // the connection is going away: finish reports ErrClosed
		}
		x.dones.Add(end, d.Fn)
	}
	c.settle()
	return c.takeDones()
}

// dropHeld discards the held messages (a close went out before the fragmented
// message ended) and returns their callbacks, owed ErrClosed (under mu).
func (c *Conn) dropHeld() []outq.HeldDone {
	x := c.write.extras
	if x == nil || x.held.Cap() == 0 {
		return nil
	}
	dones := x.held.Release()
	c.settle()
	return dones
}

// dropHeldDones drops the held messages and moves their callbacks to the done
// queue, where finish reports ErrClosed to them (under mu).
func (c *Conn) dropHeldDones() {
	for _, d := range c.dropHeld() {
		c.write.extras.dones.Add(outq.Never, d.Fn)
	}
}

// queueDone records a WriteMessageFunc callback for the message just written,
// and reports false when the socket already took all of it (under mu).
func (c *Conn) queueDone(fn func(error)) bool {
	if c.write.flags&wfFragOpen != 0 {
		c.write.extra().held.AddDone(fn)
		return true
	}
	if c.pending() == 0 {
		return false
	}
	c.write.extra().dones.Add(c.write.out.Total(), fn)
	return true
}

// takeDones removes and returns the callbacks whose bytes the socket has taken
// (under mu).
func (c *Conn) takeDones() []outq.Done {
	x := c.write.extras
	if x == nil {
		return nil
	}
	return x.dones.Take(c.write.out.Total() - int64(c.outLen()+c.inflight()))
}

// flush writes queued output when the socket is writable again (worker context).
func (c *Conn) flush() {
	c.write.mu.Lock()
	c.writeOut()
	if c.outLen() == 0 && c.write.pongs != nil && c.write.flags&wfClosed == 0 && c.goroutine == nil {
		c.putPongs() // the end of the read turn that saw the pings
	}
	dones := c.takeDones()
	empty := c.outLen() == 0 && c.write.pongs == nil && c.inflight() == 0
	if empty {
		c.queued.Store(false)
		if c.write.flags&(wfShutOwed|wfClosed) == wfShutOwed {
			c.write.flags &^= wfShutOwed
			c.shutLocked() // the failing close frame is out (shutdownWrite)
		}
	}
	finish := empty && c.write.flags&wfFinishOwed != 0
	drained := c.write.flags&wfDrainOwed != 0 && c.pending() <= c.eng.cfg.DrainLowWater
	if drained {
		c.write.flags &^= wfDrainOwed
	}
	resume := c.readResumable()
	c.write.mu.Unlock()
	for _, d := range dones {
		c.callDone(d.Fn, nil)
	}
	if drained && c.read.flags&rfOpened != 0 {
		c.handler.OnDrain(c)
	}
	if resume {
		c.post(evRead) // read what waited in the kernel (edge-triggered: no new edge)
	}
	if finish {
		c.finishClean() // the close echo and everything before it are out
	}
}

// writeOut writes as much of the outbound queue as the socket takes (under mu).
func (c *Conn) writeOut() {
	q := &c.write.out
	for q.Len() > 0 && c.write.flags&(wfClosed|wfWriteErr) == 0 {
		w, err := c.sysWrite2(q.Bytes(), nil)
		if w > 0 {
			c.stats.bytesOut.Add(uint64(w))
			q.Advance(w) // an emptied queue gives its buffer back
		}
		if err != nil {
			c.writeFailed(err)
			break
		}
		if w == 0 {
			break
		}
	}
	c.settle()
}

// takeOut hands the whole queue to goroutine mode's writer (under mu); it stays
// counted in the engine's total until writtenOut.
func (c *Conn) takeOut() []byte {
	buf := c.write.out.Take()
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
	c.write.out.Release()
	if c.write.pongs != nil {
		outq.PutPongs(c.write.pongs)
		c.write.pongs = nil
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
	now := int64(c.write.out.Cap())
	if x := c.write.extras; x != nil {
		now += int64(x.held.Cap())
	}
	if d := now - c.write.charged; d != 0 {
		c.eng.buffered.Add(d)
		c.write.charged = now
	}
}
