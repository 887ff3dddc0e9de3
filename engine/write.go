package engine

import (
	"unsafe"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/closing"
	"github.com/weir-ws/weir/internal/outq"
	"github.com/weir-ws/weir/internal/wswrite"
)

// The write path. Writes are safe from any goroutine (write.mu). Every kind of
// write (messages, raw frames, prepared messages, control frames) is encoded,
// admitted and only then committed by the connection's wswrite.Writer, so a
// refused write leaves no trace; with nothing queued, a frame goes straight to
// the socket with no copy (one non-blocking writev of header and payload). What
// the socket does not take is queued and flushed when the poller reports the
// socket writable (the fd is watched edge-triggered for output from the start,
// so queuing costs no epoll_ctl). The caller's slice is never kept nor modified.

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
// or with ErrClosed if it never does: nil means the message went to the socket whole
// (ws's send callback). done may run before WriteMessageFunc returns (when the socket
// took everything at once) or later from a worker; under GoroutinePerConn, whose
// writer goes on writing what was queued after the connection ends, possibly after
// OnClose, from the writer's goroutine. It must not block. When WriteMessageFunc
// itself returns an error (the message was refused), done is not called.
func (c *Conn) WriteMessageFunc(op frame.Opcode, p []byte, done func(error)) error {
	return c.writeMessage(op, p, done)
}

// ErrFragmentOrder: WriteFrame with OpContinuation while no fragmented message is in
// progress, or with a new fragmented data frame while one is (RFC 6455 §5.4: the
// fragments of one message are never interleaved with another's).
var ErrFragmentOrder = wswrite.ErrFragmentOrder

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
// get ErrClosed and the peer's answer is awaited as after Close. Each frame meets
// MaxWriteBuffer on its own; under WriteBufferDrop a continuation frame that does
// not fit closes the connection (ErrSlowConsumer), since the peer would take the
// message without it for whole.
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
	err := c.write.w.Writable(op)
	var dones []outq.Done
	if err == nil {
		dones, err = c.write.w.Frame(c.sink(), fin, op, rsv, p)
	}
	c.write.mu.Unlock()
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
	err := c.write.w.Writable(op)
	if err == nil {
		err = c.write.w.Control(c.sink(), op, p)
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
	err := c.write.w.Writable(op)
	if err == nil {
		err = c.write.w.Message(c.sink(), op, p, true)
	}
	if err == nil && done != nil && !c.write.w.AddDone(c.sink(), done) {
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

// ErrBadOpcode: WriteMessage with an opcode that is not OpText or OpBinary, or
// WriteFrame with a reserved opcode or a fragmented control frame.
var ErrBadOpcode = &frame.ProtocolError{Code: frame.StatusProtocolError, Reason: "write: not a data opcode"}

// afterWrite turns policy results into their effect outside the lock.
func (c *Conn) afterWrite(err error) error {
	if err != nil {
		c.eng().m.WriteErr(err) // internal/opmetrics
	}
	if err == ErrSlowConsumer {
		closer.Request(c.closing(), closing.Slow) // 1008 (closing.Machine.Request)
	}
	return err
}
