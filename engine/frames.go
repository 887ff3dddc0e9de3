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

// rsvAllowed reports whether a negotiated extension defines h's RSV bits. Until
// permessage-deflate is negotiated on a connection, none does.
func (c *Conn) rsvAllowed(*frame.Header) bool { return false }

// framePart unmasks payload[done:], the bytes that arrived since the last call, and
// checks text for UTF-8 as it goes. It fails the connection and returns false on
// invalid UTF-8.
func (c *Conn) framePart(h *frame.Header, payload []byte, done int) bool {
	fresh := payload[done:]
	if h.Masked {
		frame.Mask(h.Mask, done&3, fresh)
	}
	if c.msgOp == frame.OpText && !h.Opcode.IsControl() && !c.eng.cfg.SkipUTF8Validation {
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
		c.h.OnPong(c, payload)
	case frame.OpClose:
		c.onPeerClose(payload)
	}
}
