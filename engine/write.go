package engine

import (
	"errors"
	"unsafe"

	"github.com/weir-ws/weir/bufpool"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/outq"
)

// The write path. Writes are safe from any goroutine (c.mu). Every kind of write
// (messages, raw frames, prepared messages, control frames) takes the same three
// steps under mu:
//
//   - encode: the frames' bytes are settled without changing any state (a
//     compressed message is deflated into scratch, its history left alone);
//   - admit: the outbound cap and the server-wide budget judge the encoded size
//     (control frames and the rest of a message already admitted skip it);
//   - commit: the frames go out and only now does state move: the deflate
//     history advances (RFC 7692 §7.2.1: it must hold exactly what the peer
//     inflated), counters count, a close marks the close as sent.
//
// A refused write therefore leaves no trace. With nothing queued, a frame goes
// straight to the socket: one non-blocking writev of the header (built on the
// stack) and the caller's payload, with no copy. What the socket does not take is
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

// ErrFragmentOrder: WriteFrame with OpContinuation while no fragmented message is in
// progress, or with a new fragmented data frame while one is (RFC 6455 §5.4: the
// fragments of one message are never interleaved with another's).
var ErrFragmentOrder = errors.New("weir: write: fragment out of order")

// WriteFrame sends one raw frame, for manual fragmentation and streaming
// (WebSocket-Node sendFrame, ws send with fin: false): a first frame with OpText or
// OpBinary and fin false, OpContinuation frames after it, the last with fin true.
// rsv sets RSV bits (frame.Rsv1...); the peer fails the connection unless an
// extension defines them.
//
// While such a fragmented message is in progress, whole messages written from
// any goroutine (WriteMessage, WritePrepared, Broadcast, WriteFrame with fin and
// a data opcode) are queued behind it, as ws queues them, and go out after its
// last frame; they count against the outbound cap. Control frames (pings, pongs,
// close) go out at once, between fragments, as RFC 6455 §5.4 allows. A close sent
// before the last frame drops the queued messages (their WriteMessageFunc
// callbacks get ErrClosed). WriteFrame(OpClose) counts as the close: later writes
// get ErrClosed and the peer's answer is awaited as after Close.
func (c *Conn) WriteFrame(fin bool, op frame.Opcode, rsv uint8, p []byte) error {
	if op.IsReserved() || (op.IsControl() && !fin) {
		return ErrBadOpcode // reserved opcodes and fragmented control frames (§5.5)
	}
	if op.IsControl() && len(p) > frame.MaxControlPayload {
		return ErrControlTooLong
	}
	if op == frame.OpClose {
		return c.writeCloseFrame(p)
	}
	c.write.mu.Lock()
	err := c.writable(op)
	var dones []outq.Done
	if err == nil {
		dones, err = c.writeFrameLocked(fin, op, rsv, p)
	}
	c.write.mu.Unlock()
	for _, d := range dones {
		c.callDoneAny(d.Fn, nil)
	}
	if err == nil && fin && op.IsData() {
		c.stats.msgsOut.Add(1)
	}
	return c.afterWrite(err)
}

// writeFrameLocked is WriteFrame's encode, admit and commit (under mu). It returns
// the completions of held messages that went straight out with the last fragment.
func (c *Conn) writeFrameLocked(fin bool, op frame.Opcode, rsv uint8, p []byte) ([]outq.Done, error) {
	open := c.write.flags&wfFragOpen != 0
	switch {
	case op.IsControl():
		return nil, c.emit(true, op, rsv, p, false)
	case op == frame.OpContinuation && !open, op != frame.OpContinuation && !fin && open:
		return nil, ErrFragmentOrder
	}
	hold := open && op != frame.OpContinuation // a whole message, behind the fragments
	if err := c.admit(c.headerSize(len(p)) + len(p)); err != nil {
		return nil, err
	}
	if err := c.emit(fin, op, rsv, p, hold); err != nil {
		return nil, err
	}
	switch {
	case hold:
	case !fin:
		c.write.flags |= wfFragOpen
	case open:
		c.write.flags &^= wfFragOpen
		return c.releaseHeld(), nil
	}
	return nil, nil
}

// writeCloseFrame is WriteFrame(OpClose): it is Close with the payload's code and
// reason (an invalid payload is refused, as the peer would fail on it, RFC 6455
// §5.5.1), so the close counts as sent and the peer's answer is awaited.
func (c *Conn) writeCloseFrame(p []byte) error {
	code, reason, err := frame.ParseClose(p)
	if err != nil {
		return err
	}
	if code == frame.StatusNoStatusRcvd {
		code = 0 // an empty payload
	}
	if err := checkClose(code, string(reason)); err != nil {
		return err
	}
	if !c.sendClose(code, string(reason)) {
		return ErrClosed
	}
	c.closeReq.CompareAndSwap(0, closeGraceful)
	c.state.CompareAndSwap(uint32(StateOpen), uint32(StateClosing))
	c.post(evClose)
	return nil
}

// Ping sends a ping with at most 125 bytes of payload.
func (c *Conn) Ping(p []byte) error { return c.writeControl(frame.OpPing, p) }

// Pong sends an unsolicited pong with at most 125 bytes of payload.
func (c *Conn) Pong(p []byte) error { return c.writeControl(frame.OpPong, p) }

// writeControl sends a control frame: nothing to encode, no cap (a close or pong
// must not be refused), committed at once.
func (c *Conn) writeControl(op frame.Opcode, p []byte) error {
	if len(p) > frame.MaxControlPayload {
		return ErrControlTooLong
	}
	c.write.mu.Lock()
	err := c.writable(op)
	if err == nil {
		err = c.emit(true, op, 0, p, false)
	}
	c.write.mu.Unlock()
	return c.afterWrite(err)
}

func (c *Conn) writeMessage(op frame.Opcode, p []byte, done func(error)) error {
	if !op.IsData() || op == frame.OpContinuation {
		return ErrBadOpcode
	}
	if State(c.state.Load()) == StateConnecting {
		return ErrNotOpen
	}
	c.write.mu.Lock()
	err := c.writable(op)
	if err == nil {
		compress := c.compression != nil && c.write.flags&wfNoCompress == 0 && c.compression.ShouldCompress(len(p))
		err = c.sendMessage(op, p, compress, c.eng.cfg.WriteFragmentSize)
	}
	if err == nil && done != nil && !c.queueDone(done) {
		c.write.mu.Unlock()
		done(nil) // the socket took it all at once
		c.stats.msgsOut.Add(1)
		return nil
	}
	c.write.mu.Unlock()
	if err == nil {
		c.stats.msgsOut.Add(1)
	}
	return c.afterWrite(err)
}

// writable reports whether a frame with opcode op may still be written (under mu):
// nothing after the socket closed, and nothing but the close after our close.
func (c *Conn) writable(op frame.Opcode) error {
	if c.write.flags&wfClosed != 0 || (c.write.flags&wfSentClose != 0 && op != frame.OpClose) {
		return ErrClosed
	}
	return nil
}

// sendMessage encodes, admits and commits one data message (under mu). With
// compress, the payload is deflated after the current history into scratch; the
// history advances only once the message is admitted (deflate.Conn.Deflate and
// Advance). Compression failing leaves the history as it was, so the message
// goes out uncompressed (RFC 7692 §6 lets every message choose).
func (c *Conn) sendMessage(op frame.Opcode, p []byte, compress bool, frag int) error {
	if compress {
		// A queue already at the cap refuses any message: say so before spending
		// the compression on it.
		if err := c.admit(1); err != nil {
			return err
		}
	}
	plain := p
	var z []byte
	var rsv uint8
	if compress {
		var err error
		z, err = c.compression.Deflate(bufpool.Get(len(p)/2 + 64)[:0], p)
		if err == nil {
			p, rsv = z, frame.Rsv1
		}
	}
	n := len(p) + c.headerSize(len(p))
	if frag > 0 && len(p) > frag {
		n = len(p) + (len(p)/frag+1)*c.headerSize(frag)
	} else {
		frag = 0
	}
	err := c.admit(n)
	if err == nil {
		if rsv != 0 {
			c.compression.Advance(plain) // committed: the peer will inflate it
		}
		err = c.commitMessage(op, rsv, p, frag)
	}
	if z != nil {
		bufpool.Put(z)
	}
	return err
}

// commitMessage writes an admitted message as one frame or as frames of at most
// frag payload bytes (Config.WriteFragmentSize; 0: one frame), behind a fragmented
// WriteFrame message when one is in progress.
func (c *Conn) commitMessage(op frame.Opcode, rsv uint8, p []byte, frag int) error {
	hold := c.write.flags&wfFragOpen != 0
	if frag <= 0 {
		return c.emit(true, op, rsv, p, hold)
	}
	for first := true; ; first = false {
		n := min(frag, len(p))
		fop, frsv := frame.OpContinuation, uint8(0)
		if first {
			fop, frsv = op, rsv // RSV1 on the first frame only (RFC 7692 §6)
		}
		if err := c.emit(n == len(p), fop, frsv, p[:n], hold); err != nil {
			return err
		}
		p = p[n:]
		if len(p) == 0 {
			return nil
		}
	}
}

// headerSize is the size of a frame header for n payload bytes on this side.
func (c *Conn) headerSize(n int) int {
	return frame.HeaderSize(frame.Header{Length: int64(n), Masked: c.client})
}

// ErrBadOpcode: WriteMessage with an opcode that is not OpText or OpBinary, or
// WriteFrame with a reserved opcode or a fragmented control frame.
var ErrBadOpcode = &frame.ProtocolError{Code: frame.StatusProtocolError, Reason: "write: not a data opcode"}

// afterWrite turns policy results into their effect outside the lock.
func (c *Conn) afterWrite(err error) error {
	if err != nil {
		c.eng.countWrite(err) // metrics.go
	}
	if err == ErrSlowConsumer {
		c.sendClose(frame.StatusPolicyViolation, "slow consumer")
		c.setCloseStatus(frame.StatusPolicyViolation, "slow consumer")
		c.closeReq.Store(closeSlow)
		c.post(evClose)
	}
	return err
}

// emit commits one frame (under mu): header, mask, counters, trace, then the
// socket or the queue, or the held queue behind a fragmented message (hold).
func (c *Conn) emit(fin bool, op frame.Opcode, rsv uint8, p []byte, hold bool) error {
	h := frame.Header{Fin: fin, Rsv: rsv, Opcode: op, Length: int64(len(p))}
	if c.client {
		h.Masked = true
		h.Mask = c.nextMask()
	}
	var hb [frame.MaxHeaderSize]byte
	hn := frame.PutHeader(hb[:], h)
	c.stats.framesOut.Add(1)
	if t := c.eng.cfg.Trace; t != nil && t.FrameOut != nil {
		t.FrameOut(c, h)
	}
	if c.client {
		return c.writeMasked(hb[:hn], h.Mask, p, hold)
	}
	if hold {
		c.hold(hb[:hn], p)
		return nil
	}
	return c.writeRaw(hb[:hn], p)
}

// writeRaw sends header then payload: straight to the socket when nothing is queued,
// the rest (or all, when something is queued) into the outbound buffer.
func (c *Conn) writeRaw(hdr, p []byte) error {
	if c.write.pongs != nil && c.outLen() == 0 {
		c.putPongs() // owed pongs go first
	}
	total := len(hdr) + len(p)
	w := 0
	tried := c.outLen() == 0 && c.write.pongs == nil
	if tried {
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
		if c.outLen() == 0 {
			c.post(evWrite) // let the worker clear `queued` and owe no OnDrain
		}
	}
	return nil
}

// writeMasked sends a client frame: the payload is masked into a pooled copy, never
// in the caller's slice (watershed masks the caller's buffer: weir must not).
func (c *Conn) writeMasked(hdr []byte, key [4]byte, p []byte, hold bool) error {
	buf := bufpool.Get(len(hdr) + len(p))
	copy(buf, hdr)
	copy(buf[len(hdr):], p)
	frame.Mask(key, 0, buf[len(hdr):])
	var err error
	if hold {
		c.hold(buf, nil)
	} else {
		err = c.writeRaw(buf, nil)
	}
	bufpool.Put(buf)
	return err
}

// writeFailed records a socket error; the read side finds the connection dead and
// finishes it.
func (c *Conn) writeFailed(err error) error {
	if isAgain(err) {
		return nil
	}
	c.write.flags |= wfWriteErr
	c.post(evHangUp)
	return &IOError{Err: err}
}
