package engine

import (
	"unsafe"

	"github.com/weir-ws/weir/bufpool"
	"github.com/weir-ws/weir/frame"
)

// The write path. Writes are safe from any goroutine (c.mu). With nothing queued, a
// frame goes straight to the socket: one non-blocking writev of the header (built on
// the stack) and the caller's payload, with no copy. What the socket does not take is
// copied into a pooled outbound buffer, flushed when the poller reports the socket
// writable (the fd is watched edge-triggered for output from the start, so queuing
// costs no epoll_ctl). The caller's slice is never kept nor modified.

// WriteMessage sends one message: OpText (the caller vouches for UTF-8) or OpBinary.
func (c *Conn) WriteMessage(op frame.Opcode, p []byte) error {
	return c.writeMessage(op, p, nil)
}

// WriteText sends s as a text message without copying it to a []byte.
func (c *Conn) WriteText(s string) error {
	return c.writeMessage(frame.OpText, unsafe.Slice(unsafe.StringData(s), len(s)), nil)
}

// WriteBinary sends p as a binary message.
func (c *Conn) WriteBinary(p []byte) error { return c.writeMessage(frame.OpBinary, p, nil) }

// WriteMessageFunc sends a message and calls done once the socket has taken all of it,
// or with ErrClosed if the connection ends first (ws's send callback). done may run
// before WriteMessageFunc returns (when the socket took everything at once) or later
// from a worker; it must not block. When WriteMessageFunc itself returns an error
// (the message was refused), done is not called.
func (c *Conn) WriteMessageFunc(op frame.Opcode, p []byte, done func(error)) error {
	return c.writeMessage(op, p, done)
}

// WriteFrame sends one raw frame, for manual fragmentation and streaming
// (WebSocket-Node sendFrame, ws send with fin: false): a first frame with OpText or
// OpBinary and fin false, OpContinuation frames after it, the last with fin true.
// rsv sets RSV bits (frame.Rsv1...); the peer fails the connection unless an
// extension defines them.
func (c *Conn) WriteFrame(fin bool, op frame.Opcode, rsv uint8, p []byte) error {
	if op.IsReserved() || (op.IsControl() && !fin) {
		return ErrBadOpcode // reserved opcodes and fragmented control frames (§5.5)
	}
	if op.IsControl() && len(p) > frame.MaxControlPayload {
		return ErrControlTooLong
	}
	c.mu.Lock()
	err := c.writeLocked(fin, op, rsv, p, false)
	c.mu.Unlock()
	if err == nil && fin && op.IsData() {
		c.stats.msgsOut.Add(1)
	}
	return c.afterWrite(err)
}

// Ping sends a ping with at most 125 bytes of payload.
func (c *Conn) Ping(p []byte) error { return c.writeControl(frame.OpPing, p) }

// Pong sends an unsolicited pong with at most 125 bytes of payload.
func (c *Conn) Pong(p []byte) error { return c.writeControl(frame.OpPong, p) }

func (c *Conn) writeControl(op frame.Opcode, p []byte) error {
	if len(p) > frame.MaxControlPayload {
		return ErrControlTooLong
	}
	c.mu.Lock()
	err := c.writeLocked(true, op, 0, p, true)
	c.mu.Unlock()
	return c.afterWrite(err)
}

func (c *Conn) writeMessage(op frame.Opcode, p []byte, done func(error)) error {
	if !op.IsData() || op == frame.OpContinuation {
		return ErrBadOpcode
	}
	if State(c.state.Load()) == StateConnecting {
		return ErrNotOpen
	}
	frag := c.eng.cfg.WriteFragmentSize
	c.mu.Lock()
	var (
		err error
		rsv uint8
		buf []byte
	)
	if c.fl != nil && c.wflags&wfNoCompress == 0 && c.fl.ShouldCompress(len(p)) && c.wflags&(wfClosed|wfSentClose) == 0 {
		// RFC 7692: compress the whole message, RSV1 on its first frame. Under mu,
		// so that with context takeover messages are compressed in sending order.
		buf, err = c.fl.Compress(bufpool.Get(len(p)/2 + 64)[:0], p)
		if err != nil {
			c.mu.Unlock()
			bufpool.Put(buf)
			c.CloseNow(frame.StatusInternalError, "compression failed")
			return err
		}
		p, rsv = buf, frame.Rsv1
	}
	if frag <= 0 || len(p) <= frag {
		err = c.writeLocked(true, op, rsv, p, false)
	} else {
		err = c.writeFragmented(op, rsv, p, frag)
	}
	if buf != nil {
		bufpool.Put(buf)
	}
	if err == nil && done != nil {
		if len(c.out)+c.inflight() == 0 {
			c.mu.Unlock()
			done(nil)
			c.stats.msgsOut.Add(1)
			return nil
		}
		if c.dq == nil {
			c.dq = &doneQueue{}
		}
		c.dq.list = append(c.dq.list, pendingDone{end: c.outOff, fn: done})
	}
	c.mu.Unlock()
	if err == nil {
		c.stats.msgsOut.Add(1)
	}
	return c.afterWrite(err)
}

// writeFragmented sends p as frames of at most frag payload bytes (Config.WriteFragmentSize).
// The cap policy is judged once, for the whole message.
func (c *Conn) writeFragmented(op frame.Opcode, rsv uint8, p []byte, frag int) error {
	if err := c.admit(len(p) + (len(p)/frag+1)*frame.MaxHeaderSize); err != nil {
		return err
	}
	for first := true; ; first = false {
		n := min(frag, len(p))
		fop, frsv := frame.OpContinuation, uint8(0)
		if first {
			fop, frsv = op, rsv // RSV1 on the first frame only (RFC 7692 §6)
		}
		if err := c.writeLocked(n == len(p), fop, frsv, p[:n], true); err != nil {
			return err
		}
		p = p[n:]
		if len(p) == 0 {
			return nil
		}
	}
}

// ErrBadOpcode: WriteMessage with an opcode that is not OpText or OpBinary, or
// WriteFrame with a reserved opcode or a fragmented control frame.
var ErrBadOpcode = &frame.ProtocolError{Code: frame.StatusProtocolError, Reason: "write: not a data opcode"}

// afterWrite turns policy results into their effect outside the lock.
func (c *Conn) afterWrite(err error) error {
	if err == ErrSlowConsumer {
		c.sendClose(frame.StatusPolicyViolation, "slow consumer")
		c.setCloseStatus(frame.StatusPolicyViolation, "slow consumer")
		c.closeReq.Store(closeSlow)
		c.post(evClose)
	}
	return err
}

// admit applies the outbound cap (Config.MaxWriteBuffer) to n more bytes, under mu.
// A write that finds nothing queued always goes ahead: it is tried on the socket
// first, and a single message larger than the cap is still sent whole.
func (c *Conn) admit(n int) error {
	if len(c.out)+c.inflight() == 0 || len(c.out)+c.inflight()+n <= c.eng.cfg.MaxWriteBuffer {
		return nil
	}
	switch c.eng.cfg.WriteBufferPolicy {
	case WriteBufferDrop:
		return ErrMessageDropped
	case WriteBufferClose:
		return ErrSlowConsumer
	}
	return ErrWriteBufferFull
}

// writeLocked writes one frame under mu. control frames (and fragments of a message
// already admitted) skip the cap policy: a close or pong must not be dropped.
func (c *Conn) writeLocked(fin bool, op frame.Opcode, rsv uint8, p []byte, skipPolicy bool) error {
	if c.wflags&wfClosed != 0 || (c.wflags&wfSentClose != 0 && op != frame.OpClose) {
		return ErrClosed
	}
	h := frame.Header{Fin: fin, Rsv: rsv, Opcode: op, Length: int64(len(p))}
	if c.client {
		h.Masked = true
		h.Mask = c.nextMask()
	}
	var hb [frame.MaxHeaderSize]byte
	hn := frame.PutHeader(hb[:], h)
	if !skipPolicy {
		if err := c.admit(hn + len(p)); err != nil {
			return err
		}
	}
	c.stats.framesOut.Add(1)
	if t := c.eng.cfg.Trace; t != nil && t.FrameOut != nil {
		t.FrameOut(c, h)
	}
	if c.client {
		return c.writeMasked(hb[:hn], h.Mask, p)
	}
	return c.writeRaw(hb[:hn], p)
}

// writeRaw sends header then payload: straight to the socket when nothing is queued,
// the rest (or all, when something is queued) into the outbound buffer.
func (c *Conn) writeRaw(hdr, p []byte) error {
	total := len(hdr) + len(p)
	w := 0
	if len(c.out) == 0 && c.pong == nil {
		var err error
		w, err = c.sysWrite2(hdr, p)
		if err != nil {
			return c.writeFailed(err)
		}
		c.stats.bytesOut.Add(uint64(w))
		if w == total {
			return nil
		}
	}
	tried := len(c.out) == 0 && c.pong == nil
	if w < len(hdr) {
		c.enqueue(hdr[w:])
		c.enqueue(p)
	} else {
		c.enqueue(p[w-len(hdr):])
	}
	if tried {
		// The socket was full a moment ago. Its writable edge may have come and been
		// skipped before `queued` was set; one more try after setting it closes that
		// window (a later edge then finds queued set).
		c.writeOut()
		if len(c.out) == 0 {
			c.post(evWrite) // let the worker clear `queued` and owe no OnDrain
		}
	}
	return nil
}

// writeMasked sends a client frame: the payload is masked into a pooled copy, never
// in the caller's slice (watershed masks the caller's buffer: weir must not).
func (c *Conn) writeMasked(hdr []byte, key [4]byte, p []byte) error {
	buf := bufpool.Get(len(hdr) + len(p))
	copy(buf, hdr)
	copy(buf[len(hdr):], p)
	frame.Mask(key, 0, buf[len(hdr):])
	err := c.writeRaw(buf, nil)
	bufpool.Put(buf)
	return err
}

// enqueue appends b to the outbound buffer.
func (c *Conn) enqueue(b []byte) {
	if len(b) == 0 {
		return
	}
	if c.out == nil {
		c.out = bufpool.Get(max(len(b), 512))[:0]
	} else if cap(c.out)-len(c.out) < len(b) {
		c.out = bufpool.Grow(c.out, len(b))
	}
	c.out = append(c.out, b...)
	c.outOff += int64(len(b))
	c.queued.Store(true)
	if c.g != nil {
		c.kickWriter()
	}
	if len(c.out) > c.eng.cfg.DrainLowWater {
		c.wflags |= wfDrainOwed
	}
}

// writeFailed records a socket error; the read side finds the connection dead and
// finishes it.
func (c *Conn) writeFailed(err error) error {
	if isAgain(err) {
		return nil
	}
	c.wflags |= wfWriteErr
	c.post(evHangUp)
	return &IOError{Err: err}
}

// pongBacklog is the queued output past which goroutine mode keeps only the latest
// pong, as the loops do once the socket is full.
const pongBacklog = 64 << 10

// autoPong answers a ping (worker context). Only the latest unanswered ping is kept
// (RFC 6455 §5.5.3): when output is queued, its payload replaces any pong already
// waiting, so a peer that floods pings and never reads cannot grow our memory.
func (c *Conn) autoPong(payload []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.wflags&(wfClosed|wfSentClose) != 0 {
		return
	}
	// On the loops, queued output means the socket is full. In goroutine mode output
	// is always queued for the writer, so only a backlog counts as full.
	backlog := len(c.out) + c.inflight()
	if c.g != nil && backlog < pongBacklog {
		backlog = 0
	}
	if backlog == 0 && c.pong == nil {
		c.writeLocked(true, frame.OpPong, 0, payload, true)
		return
	}
	if c.pong == nil {
		c.pong = pongPool.Get().(*pongBuf)
	}
	c.pong.n = copy(c.pong.b[:], payload)
	c.queued.Store(true)
	if c.g != nil {
		c.kickWriter()
	}
}

// flush writes queued output when the socket is writable again (worker context).
func (c *Conn) flush() {
	c.mu.Lock()
	c.writeOut()
	if len(c.out) == 0 && c.pong != nil && c.wflags&wfClosed == 0 && c.g == nil {
		pong := c.pong
		c.pong = nil
		c.writeLocked(true, frame.OpPong, 0, pong.b[:pong.n], true)
		pongPool.Put(pong)
	}
	var dones []pendingDone
	if c.dq != nil && len(c.dq.list) > 0 {
		flushed := c.outOff - int64(len(c.out)+c.inflight())
		i := 0
		for i < len(c.dq.list) && c.dq.list[i].end <= flushed {
			i++
		}
		if i > 0 {
			dones = append(dones, c.dq.list[:i]...)
			c.dq.list = append(c.dq.list[:0], c.dq.list[i:]...)
		}
	}
	if len(c.out) == 0 && c.pong == nil && c.inflight() == 0 {
		c.queued.Store(false)
		if c.wflags&(wfShutOwed|wfClosed) == wfShutOwed {
			c.wflags &^= wfShutOwed
			c.shutLocked() // the failing close frame is out (shutdownWrite)
		}
	}
	drained := c.wflags&wfDrainOwed != 0 && len(c.out)+c.inflight() <= c.eng.cfg.DrainLowWater
	if drained {
		c.wflags &^= wfDrainOwed
	}
	c.mu.Unlock()
	for _, d := range dones {
		d.fn(nil)
	}
	if drained && c.rflags&rfOpened != 0 {
		c.h.OnDrain(c)
	}
}

// writeOut writes as much of the outbound buffer as the socket takes (under mu).
func (c *Conn) writeOut() {
	for len(c.out) > 0 && c.wflags&(wfClosed|wfWriteErr) == 0 {
		w, err := c.sysWrite2(c.out, nil)
		if w > 0 {
			c.stats.bytesOut.Add(uint64(w))
			n := copy(c.out, c.out[w:])
			c.out = c.out[:n]
		}
		if err != nil {
			c.writeFailed(err)
			break
		}
		if w == 0 {
			break
		}
	}
	if len(c.out) == 0 && c.out != nil {
		bufpool.Put(c.out)
		c.out = nil
	}
}

// releaseWrite returns the write side's pooled buffers (under mu).
func (c *Conn) releaseWrite() {
	if c.out != nil {
		bufpool.Put(c.out)
		c.out = nil
	}
	if c.pong != nil {
		pongPool.Put(c.pong)
		c.pong = nil
	}
}
