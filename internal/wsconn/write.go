package wsconn

import (
	"unsafe"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/closing"
	"github.com/weir-ws/weir/internal/outq"
	"github.com/weir-ws/weir/internal/wswrite"
)

// The write path. Writes are safe from any goroutine (WriteSide.Mu). Every kind of
// write (messages, raw frames, prepared messages, control frames) is encoded,
// admitted and only then committed by the connection's wswrite.Writer, so a
// refused write leaves no trace; with nothing queued, a frame goes straight to
// the socket with no copy (one non-blocking writev of header and payload). What
// the socket does not take is queued and flushed when the poller reports the
// socket writable (the fd is watched edge-triggered for output from the start,
// so queuing costs no epoll_ctl). The caller's slice is never kept nor modified.

// WriteMessage is engine.Conn.WriteMessage (documented there).
func (c *Conn) WriteMessage(op frame.Opcode, p []byte) error {
	return c.writeMessage(op, p, nil)
}

// WriteText is engine.Conn.WriteText (documented there).
func (c *Conn) WriteText(s string) error {
	return c.writeMessage(frame.OpText, unsafe.Slice(unsafe.StringData(s), len(s)), nil)
}

// WriteBinary is engine.Conn.WriteBinary (documented there).
func (c *Conn) WriteBinary(p []byte) error { return c.writeMessage(frame.OpBinary, p, nil) }

// WriteMessageFunc is engine.Conn.WriteMessageFunc (documented there).
func (c *Conn) WriteMessageFunc(op frame.Opcode, p []byte, done func(error)) error {
	return c.writeMessage(op, p, done)
}

// ErrFragmentOrder is engine.ErrFragmentOrder (documented there).
var ErrFragmentOrder = wswrite.ErrFragmentOrder

// WriteFrame is engine.Conn.WriteFrame (documented there).
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
	c.WriteSide.Mu.Lock()
	err := c.WriteSide.W.Writable(op)
	var dones []outq.Done
	if err == nil {
		dones, err = c.WriteSide.W.Frame(c.sink(), fin, op, rsv, p)
	}
	c.WriteSide.Mu.Unlock()
	c.callDones(dones, nil)
	if err == nil && fin && op.IsData() {
		c.stats.msgsOut.Add(1)
	}
	return c.afterWrite(err)
}

// writeCloseFrame is WriteFrame(OpClose): it is Close with the payload's code and
// reason (an invalid payload is refused, as the peer would fail on it, RFC 6455
// §5.5.1), so the close counts as sent and the peer's answer is awaited.
func (c *Conn) writeCloseFrame(p []byte) error {
	code, reason, err := closing.ParsePayload(p)
	if err != nil {
		return err
	}
	if !closer.Close(c.closing(), code, reason) {
		return ErrClosed
	}
	return nil
}

// Ping is engine.Conn.Ping (documented there).
func (c *Conn) Ping(p []byte) error { return c.writeControl(frame.OpPing, p) }

// Pong is engine.Conn.Pong (documented there).
func (c *Conn) Pong(p []byte) error { return c.writeControl(frame.OpPong, p) }

// writeControl sends a control frame: nothing to encode, no cap (a close or pong
// must not be refused), committed at once.
func (c *Conn) writeControl(op frame.Opcode, p []byte) error {
	if len(p) > frame.MaxControlPayload {
		return ErrControlTooLong
	}
	c.WriteSide.Mu.Lock()
	err := c.WriteSide.W.Writable(op)
	if err == nil {
		err = c.WriteSide.W.Control(c.sink(), op, p)
	}
	c.WriteSide.Mu.Unlock()
	return c.afterWrite(err)
}

func (c *Conn) writeMessage(op frame.Opcode, p []byte, done func(error)) error {
	if !op.IsData() || op == frame.OpContinuation {
		return ErrBadOpcode
	}
	if State(c.state.Load()) == StateConnecting {
		return ErrNotOpen
	}
	c.WriteSide.Mu.Lock()
	err := c.WriteSide.W.Writable(op)
	if err == nil {
		err = c.WriteSide.W.Message(c.sink(), op, p, true)
	}
	if err == nil && done != nil && !c.WriteSide.W.AddDone(c.sink(), done) {
		c.WriteSide.Mu.Unlock()
		done(nil) // the socket took it all at once
		c.stats.msgsOut.Add(1)
		return nil
	}
	c.WriteSide.Mu.Unlock()
	if err == nil {
		c.stats.msgsOut.Add(1)
	}
	return c.afterWrite(err)
}

// ErrBadOpcode is engine.ErrBadOpcode (documented there).
var ErrBadOpcode = &frame.ProtocolError{Code: frame.StatusProtocolError, Reason: "write: not a data opcode"}

// afterWrite turns policy results into their effect outside the lock.
func (c *Conn) afterWrite(err error) error {
	if err != nil {
		c.Eng().Counters.WriteErr(err) // internal/opmetrics
	}
	if err == ErrSlowConsumer {
		closer.Request(c.closing(), closing.Slow) // 1008 (closing.Machine.Request)
	}
	return err
}
