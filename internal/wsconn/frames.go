package wsconn

import (
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/assemble"
	"github.com/weir-ws/weir/internal/wsread"
)

// frameEnd handles a complete, unmasked frame that the reader has checked (RFC 6455
// §5 rules, limits, UTF-8 of uncompressed text).
func (c *Conn) frameEnd(w *worker, ev *wsread.Event) {
	r := c.ReadSide.Get(w)
	h, payload := &ev.Header, ev.Payload
	c.stats.framesIn.Add(1)
	if h.Opcode.IsControl() {
		c.Control(w, h.Opcode, payload)
		return
	}
	if ev.Compressed {
		c.compressedEnd(w, ev.Op, h, payload)
		return
	}
	op := ev.Op
	if h.Fin {
		c.stats.msgsIn.Add(1)
	}
	if c.Eng().Cfg.DisableAssembly {
		c.callOnFrame(w, *h, payload)
		return
	}
	if h.Fin && !r.assembling() {
		c.callOnMessage(w, op, payload) // the zero-copy case: a slice of the read buffer
		return
	}
	if !c.collect(w, payload, h.Fin) || !h.Fin {
		return
	}
	msg := r.Extras.Message // collect made extras
	r.Extras.Message = nil
	c.callOnMessage(w, op, msg)
	c.putMsg(msg)
}

// collect appends a frame's payload to the message being assembled
// (internal/assemble), charging the engine's inbound budget for the growth
// (backpressure.go). Over the budget, the connection fails with 1013
// (ErrInboundBudget) and collect reports false.
func (c *Conn) collect(w *worker, payload []byte, last bool) bool {
	if !assemble.Append(&c.ReadSide.Get(w).extra().Message, payload, last, &c.Eng().Inbound) {
		return c.fail(w, ErrInboundBudget)
	}
	return true
}

// putMsg returns an assembly buffer to the pool and its capacity to the inbound
// budget.
func (c *Conn) putMsg(b []byte) { assemble.Put(&c.Eng().Inbound, b) }

// control handles ping, pong and close frames (RFC 6455 §5.5), which may arrive
// between the fragments of a message.
func (c *Conn) Control(w *worker, op frame.Opcode, payload []byte) {
	switch op {
	case frame.OpPing:
		pong := c.callOnPing(w, payload)
		if pong && !c.Eng().Cfg.DisableAutoPong && c.State() == StateOpen {
			c.autoPong(payload)
		}
	case frame.OpPong:
		if c.Extras.Load() != nil && c.rttPong(payload) {
			return // the answer to a PingRTT call (rtt.go)
		}
		c.callOnPong(w, payload)
	case frame.OpClose:
		closer.OnPeerClose(c.closing(), w, payload) // RFC 6455 §5.5.1, §7.1.5
	}
}

// compressedEnd collects the frames of a compressed message and, at the last one,
// inflates it (the limit applies to the inflated size: RFC 7692 §8 bombs end in
// 1009), checks text for UTF-8 and delivers it. With DisableAssembly the message
// is delivered as one OnFrame, since its frames cannot be inflated one by one.
func (c *Conn) compressedEnd(w *worker, op frame.Opcode, h *frame.Header, payload []byte) {
	cfg := &c.Eng().Cfg
	// A whole message in one frame, none being assembled, is inflated from
	// the payload: assemble.Compressed leaves a nil *msg nil when fin, so a
	// local will do and the read side's extras are not made for it.
	var none []byte
	msg := &none
	if r := c.ReadSide.Get(w); !h.Fin || r.Extras != nil {
		msg = &r.extra().Message
	}
	out, ready, err := assemble.Compressed(msg, payload, h.Fin, &c.Eng().Inbound,
		c.compression(), op, cfg.ReadLimits.MaxMessageSize, cfg.ReadLimits.SkipUTF8)
	if err != nil {
		c.fail(w, err)
	}
	if !ready {
		return
	}
	c.stats.msgsIn.Add(1)
	if c.Eng().Cfg.DisableAssembly {
		c.callOnFrame(w, frame.Header{Fin: true, Opcode: op, Length: int64(len(out))}, out)
	} else {
		c.callOnMessage(w, op, out)
	}
	c.putMsg(out) // charged by assemble.Compressed
}
