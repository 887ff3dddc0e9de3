package engine

import (
	"github.com/weir-ws/weir/bufpool"
	"github.com/weir-ws/weir/frame"
)

// frameStart checks a frame's header as soon as it is parsed, before any payload is
// looked at, and opens or continues the message. It fails the connection and returns
// false on a violation.
func (c *Conn) frameStart(h *frame.Header) bool {
	c.stats.framesIn.Add(1)
	if t := c.eng.cfg.Trace; t != nil && t.FrameIn != nil {
		t.FrameIn(c, *h)
	}
	// RFC 6455 §5.1: a client masks every frame, a server none.
	if c.client {
		if h.Masked {
			return c.fail(ErrMaskedFrame)
		}
	} else if !h.Masked {
		return c.fail(ErrUnmaskedFrame)
	}
	// §5.2: a nonzero RSV bit needs an extension that defines it.
	if h.Rsv != 0 && !c.rsvAllowed(h) {
		return c.fail(ErrUnexpectedRSV)
	}
	if h.Opcode.IsControl() {
		return true // ParseHeader already enforced FIN and the 125-byte cap (§5.5)
	}
	cfg := &c.eng.cfg
	if h.Length > cfg.MaxFrameSize {
		return c.fail(ErrFrameTooBig)
	}
	// §5.4: fragments of one message are not interleaved with other messages.
	if h.Opcode == frame.OpContinuation {
		if c.msgOp == 0 {
			return c.fail(ErrUnexpectedContinuation)
		}
	} else {
		if c.msgOp != 0 {
			return c.fail(ErrExpectedContinuation)
		}
		c.msgOp = h.Opcode
		c.nfrag, c.msgLen = 0, 0
		c.utf8.Reset()
		if h.Rsv&frame.Rsv1 != 0 {
			c.rflags |= rfCompressed
		} else {
			c.rflags &^= rfCompressed
		}
	}
	c.nfrag++
	if int(c.nfrag) > cfg.MaxFragments {
		return c.fail(ErrTooManyFragments)
	}
	c.msgLen += h.Length
	if c.msgLen > cfg.MaxMessageSize {
		return c.fail(ErrMessageTooBig)
	}
	return true
}

// rsvAllowed reports whether a negotiated extension defines h's RSV bits: with
// permessage-deflate, RSV1 on the first frame of a data message (RFC 7692 §6: not
// on a continuation or control frame).
func (c *Conn) rsvAllowed(h *frame.Header) bool {
	return c.fl != nil && h.Rsv == frame.Rsv1 && (h.Opcode == frame.OpText || h.Opcode == frame.OpBinary)
}

// framePart unmasks payload[done:], the bytes that arrived since the last call, and
// checks text for UTF-8 as it goes. It fails the connection and returns false on
// invalid UTF-8.
func (c *Conn) framePart(h *frame.Header, payload []byte, done int) bool {
	fresh := payload[done:]
	if h.Masked {
		frame.Mask(h.Mask, done&3, fresh)
	}
	// Compressed text is checked once inflated (frameEnd).
	if c.msgOp == frame.OpText && !h.Opcode.IsControl() && c.rflags&rfCompressed == 0 && !c.eng.cfg.SkipUTF8Validation {
		if !c.utf8.Write(fresh) {
			return c.fail(ErrTextNotUTF8)
		}
	}
	return true
}

// frameEnd handles a complete, unmasked, checked frame.
func (c *Conn) frameEnd(h *frame.Header, payload []byte) {
	if h.Opcode.IsControl() {
		c.control(h.Opcode, payload)
		return
	}
	if c.rflags&rfCompressed != 0 {
		c.compressedEnd(h, payload)
		return
	}
	op := c.msgOp
	if h.Fin {
		if op == frame.OpText && !c.eng.cfg.SkipUTF8Validation && !c.utf8.Complete() {
			c.fail(ErrTextNotUTF8)
			return
		}
		c.msgOp = 0
		c.stats.msgsIn.Add(1)
	}
	if c.eng.cfg.DisableAssembly {
		c.h.OnFrame(c, *h, payload)
		return
	}
	if !h.Fin {
		if c.msg == nil {
			c.msg = bufpool.Get(max(len(payload), smallIn))[:0]
		}
		if cap(c.msg)-len(c.msg) < len(payload) {
			c.msg = bufpool.Grow(c.msg, len(payload))
		}
		c.msg = append(c.msg, payload...)
		return
	}
	if c.msg == nil {
		c.h.OnMessage(c, op, payload) // the zero-copy case: a slice of the read buffer
		return
	}
	if cap(c.msg)-len(c.msg) < len(payload) {
		c.msg = bufpool.Grow(c.msg, len(payload))
	}
	msg := append(c.msg, payload...)
	c.msg = nil
	c.h.OnMessage(c, op, msg)
	bufpool.Put(msg)
}

// control handles ping, pong and close frames (RFC 6455 §5.5), which may arrive
// between the fragments of a message.
func (c *Conn) control(op frame.Opcode, payload []byte) {
	switch op {
	case frame.OpPing:
		pong := c.h.OnPing(c, payload)
		if pong && !c.eng.cfg.DisableAutoPong && c.State() == StateOpen {
			c.autoPong(payload)
		}
	case frame.OpPong:
		if c.aux.Load() != nil && c.rttPong(payload) {
			return // the answer to a PingRTT call (rtt.go)
		}
		c.h.OnPong(c, payload)
	case frame.OpClose:
		c.onPeerClose(payload)
	}
}

// compressedEnd collects the frames of a compressed message and, at the last one,
// inflates it (the limit applies to the inflated size: RFC 7692 §8 bombs end in
// 1009), checks text for UTF-8 and delivers it. With DisableAssembly the message
// is delivered as one OnFrame, since its frames cannot be inflated one by one.
func (c *Conn) compressedEnd(h *frame.Header, payload []byte) {
	if !h.Fin || c.msg != nil {
		if c.msg == nil {
			c.msg = bufpool.Get(max(len(payload), smallIn))[:0]
		}
		if cap(c.msg)-len(c.msg) < len(payload) {
			c.msg = bufpool.Grow(c.msg, len(payload))
		}
		c.msg = append(c.msg, payload...)
		if !h.Fin {
			return
		}
		payload = c.msg
	}
	op := c.msgOp
	limit := c.eng.cfg.MaxMessageSize
	dst := bufpool.Get(int(min(max(int64(4*len(payload)), 4096), limit+1)))[:0]
	msg, err := c.fl.Decompress(dst, payload, limit)
	if c.msg != nil {
		bufpool.Put(c.msg)
		c.msg = nil
	}
	c.msgOp = 0
	c.rflags &^= rfCompressed
	if err != nil {
		bufpool.Put(msg)
		c.fail(err)
		return
	}
	if op == frame.OpText && !c.eng.cfg.SkipUTF8Validation && !frame.ValidUTF8(msg) {
		bufpool.Put(msg)
		c.fail(ErrTextNotUTF8)
		return
	}
	c.stats.msgsIn.Add(1)
	if c.eng.cfg.DisableAssembly {
		c.h.OnFrame(c, frame.Header{Fin: true, Opcode: op, Length: int64(len(msg))}, msg)
	} else {
		c.h.OnMessage(c, op, msg)
	}
	bufpool.Put(msg)
}
