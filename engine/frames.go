package engine

import (
	"github.com/weir-ws/weir/bufpool"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/wsread"
)

// frameEnd handles a complete, unmasked frame that the reader has checked (RFC 6455
// §5 rules, limits, UTF-8 of uncompressed text).
func (c *Conn) frameEnd(ev *wsread.Event) {
	h, payload := &ev.Header, ev.Payload
	c.stats.framesIn.Add(1)
	if h.Opcode.IsControl() {
		c.control(h.Opcode, payload)
		return
	}
	if ev.Compressed {
		c.compressedEnd(ev.Op, h, payload)
		return
	}
	op := ev.Op
	if h.Fin {
		c.stats.msgsIn.Add(1)
	}
	if c.eng.cfg.DisableAssembly {
		c.handler.OnFrame(c, *h, payload)
		return
	}
	if !h.Fin {
		if c.msgRoom(len(payload), max(len(payload), len(c.read.message))) {
			c.read.message = append(c.read.message, payload...)
		}
		return
	}
	if c.read.message == nil {
		c.handler.OnMessage(c, op, payload) // the zero-copy case: a slice of the read buffer
		return
	}
	if !c.msgRoom(len(payload), len(payload)) {
		return
	}
	msg := append(c.read.message, payload...)
	c.read.message = nil
	c.handler.OnMessage(c, op, msg)
	c.putMsg(msg)
}

// msgRoom makes room in c.read.message for n more bytes, growing it by more (at least n)
// when it must, and charges the engine's inbound budget for the growth
// (backpressure.go). Over the budget, the connection fails with 1013
// (ErrInboundBudget) and msgRoom reports false.
func (c *Conn) msgRoom(n, more int) bool {
	old := cap(c.read.message)
	switch {
	case c.read.message == nil:
		c.read.message = bufpool.Get(max(n, smallIn))[:0]
	case old-len(c.read.message) < n:
		c.read.message = bufpool.Grow(c.read.message, more)
	default:
		return true
	}
	in := &c.eng.inbound
	if in.Charge(cap(c.read.message) - old) {
		return true
	}
	bufpool.Put(c.read.message)
	c.read.message = nil
	in.Refund(old)
	c.fail(ErrInboundBudget)
	return false
}

// putMsg returns an assembly buffer to the pool and its capacity to the inbound
// budget.
func (c *Conn) putMsg(b []byte) {
	c.eng.inbound.Refund(cap(b))
	bufpool.Put(b)
}

// control handles ping, pong and close frames (RFC 6455 §5.5), which may arrive
// between the fragments of a message.
func (c *Conn) control(op frame.Opcode, payload []byte) {
	switch op {
	case frame.OpPing:
		pong := c.handler.OnPing(c, payload)
		if pong && !c.eng.cfg.DisableAutoPong && c.State() == StateOpen {
			c.autoPong(payload)
		}
	case frame.OpPong:
		if c.extras.Load() != nil && c.rttPong(payload) {
			return // the answer to a PingRTT call (rtt.go)
		}
		c.handler.OnPong(c, payload)
	case frame.OpClose:
		c.onPeerClose(payload)
	}
}

// compressedEnd collects the frames of a compressed message and, at the last one,
// inflates it (the limit applies to the inflated size: RFC 7692 §8 bombs end in
// 1009), checks text for UTF-8 and delivers it. With DisableAssembly the message
// is delivered as one OnFrame, since its frames cannot be inflated one by one.
func (c *Conn) compressedEnd(op frame.Opcode, h *frame.Header, payload []byte) {
	if !h.Fin || c.read.message != nil {
		// The collected frames count against the inbound budget like an
		// assembled message; the inflated copy lives only for this call.
		if !c.msgRoom(len(payload), max(len(payload), len(c.read.message))) {
			return
		}
		c.read.message = append(c.read.message, payload...)
		if !h.Fin {
			return
		}
		payload = c.read.message
	}
	limit := c.eng.cfg.MaxMessageSize
	dst := bufpool.Get(int(min(max(int64(4*len(payload)), 4096), limit+1)))[:0]
	msg, err := c.compression.Decompress(dst, payload, limit)
	if c.read.message != nil {
		c.putMsg(c.read.message)
		c.read.message = nil
	}
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
		c.handler.OnFrame(c, frame.Header{Fin: true, Opcode: op, Length: int64(len(msg))}, msg)
	} else {
		c.handler.OnMessage(c, op, msg)
	}
	bufpool.Put(msg)
}
