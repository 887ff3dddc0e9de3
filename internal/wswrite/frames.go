package wswrite

import (
	"github.com/weir-ws/weir/bufpool"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/outq"
	"github.com/weir-ws/weir/internal/prepared"
)

// Frame is a raw frame write (manual fragmentation): encode, admit, commit. It
// returns the completions of held messages that went out with the last
// fragment. The caller checked the opcode and Writable.
func (w *Writer) Frame(s Sink, fin bool, op frame.Opcode, rsv uint8, p []byte) ([]outq.Done, error) {
	env := s.Env()
	open := w.flags&fFragOpen != 0
	switch {
	case op.IsControl():
		return nil, w.emitControl(s, &env, op, rsv, p)
	case op == frame.OpContinuation && !open, op != frame.OpContinuation && !fin && open:
		return nil, ErrFragmentOrder
	}
	hold := open && op != frame.OpContinuation // a whole message, behind the fragments
	if err := w.admit(s, &env, headerSize(&env, len(p))+len(p), hold); err != nil {
		if err == ErrDropped && op == frame.OpContinuation {
			// A frame of a message already begun cannot be dropped as a
			// message is: the peer would assemble the message without it
			// and deliver it as whole (RFC 6455 §5.4 gives it no way to
			// tell). The connection closes instead, as under PolicyClose,
			// which ends the message unfinished.
			err = ErrSlowConsumer
		}
		return nil, err
	}
	err := w.emit(s, &env, fin, op, rsv, p, hold)
	w.unreserve(env.Limits)
	if err != nil {
		return nil, err
	}
	switch {
	case hold:
	case !fin:
		w.flags |= fFragOpen
	case open:
		w.flags &^= fFragOpen
		return w.releaseHeld(s), nil
	}
	return nil, nil
}

// Control writes a control frame: nothing to admit (a close or pong must not
// be refused). The caller checked Writable.
func (w *Writer) Control(s Sink, op frame.Opcode, p []byte) error {
	env := s.Env()
	return w.emitControl(s, &env, op, 0, p)
}

// Message writes one data message, compressed when negotiated and allowed (a
// client's prepared message passes compress false). The caller checked
// Writable.
func (w *Writer) Message(s Sink, op frame.Opcode, p []byte, compress bool) error {
	env := s.Env()
	return w.message(s, &env, op, p, compress && w.ShouldCompress(&env, len(p)), env.Limits.FragmentSize)
}

// message encodes, admits and commits one data message. With compress, the
// payload is deflated after the current history into scratch; the history
// advances only once the message is admitted. Compression failing leaves the
// history as it was, so the message goes out uncompressed (RFC 7692 §6 lets
// every message choose).
func (w *Writer) message(s Sink, env *Env, op frame.Opcode, p []byte, compress bool, frag int) error {
	if compress {
		// A queue already at the cap refuses any message: say so before spending
		// the compression on it.
		if err := w.check(s, env.Limits, 1); err != nil {
			return err
		}
	}
	plain := p
	var z []byte
	var rsv uint8
	if compress {
		var err error
		z, err = env.Deflate.Deflate(bufpool.Get(len(p)/2 + 64)[:0], p)
		if err == nil {
			p, rsv = z, frame.Rsv1
		}
	}
	n := len(p) + headerSize(env, len(p))
	if frag > 0 && len(p) > frag {
		n = len(p) + (len(p)/frag+1)*headerSize(env, frag)
	} else {
		frag = 0
	}
	err := w.Admit(s, env, n)
	if err == nil {
		if rsv != 0 {
			env.Deflate.Advance(plain) // committed: the peer will inflate it
		}
		err = w.commitMessage(s, env, op, rsv, p, frag)
		w.unreserve(env.Limits)
	}
	if z != nil {
		bufpool.Put(z)
	}
	return err
}

// commitMessage writes an admitted message as one frame or as frames of at most
// frag payload bytes (0: one frame), behind a fragmented message when one is in
// progress.
func (w *Writer) commitMessage(s Sink, env *Env, op frame.Opcode, rsv uint8, p []byte, frag int) error {
	hold := w.flags&fFragOpen != 0
	if frag <= 0 {
		return w.emit(s, env, true, op, rsv, p, hold)
	}
	for first := true; ; first = false {
		n := min(frag, len(p))
		fop, frsv := frame.OpContinuation, uint8(0)
		if first {
			fop, frsv = op, rsv // RSV1 on the first frame only (RFC 7692 §6)
		}
		if err := w.emit(s, env, n == len(p), fop, frsv, p[:n], hold); err != nil {
			return err
		}
		p = p[n:]
		if len(p) == 0 {
			return nil
		}
	}
}

// Prepared writes a prepared message on a server connection: the frame is
// picked (compressed once per window size, with an empty history), admitted,
// and only then sent and, under context takeover, recorded in the history. The caller
// checked Writable.
func (w *Writer) Prepared(s Sink, pm *prepared.Message) error {
	env := s.Env()
	if env.Client {
		return w.message(s, &env, pm.Opcode(), pm.Payload(), false, 0)
	}
	f := pm.Frame()
	compressed := false
	if w.ShouldCompress(&env, len(pm.Payload())) {
		if err := w.check(s, env.Limits, 1); err != nil {
			return err // refused whatever its size: do not compress for it
		}
		if z, err := pm.Compressed(env.Deflate.WindowBits(), env.Limits.Compression); err == nil {
			f, compressed = z, true
		}
	}
	if err := w.Admit(s, &env, len(f)); err != nil {
		return err
	}
	w.frames.Add(1)
	if env.Limits.Trace {
		if h, _, herr := frame.ParseHeader(f); herr == nil {
			s.FrameOut(h)
		}
	}
	if compressed {
		env.Deflate.Advance(pm.Payload()) // keep the takeover history what the peer holds
	}
	var err error
	if w.flags&fFragOpen != 0 {
		w.hold(env.Limits, f, nil)
	} else {
		err = w.writeRaw(s, env.Limits, nil, 0, f)
	}
	w.unreserve(env.Limits)
	return err
}

// Close writes our close frame with payload p once, behind the pongs owed; it
// reports whether this call wrote it and returns the completions of the
// messages held behind an unfinished fragmented message, which can no longer
// go out (nothing follows a close, RFC 6455 §5.5.1): they are owed ErrClosed.
func (w *Writer) Close(s Sink, p []byte) (sent bool, dropped []outq.HeldDone) {
	// After a failed write no close frame can go out: the socket is gone, or
	// (ErrBudgetCut) it ends in the middle of a frame (RFC 6455 §5.2).
	if w.flags&(fSentClose|fClosed|fWriteErr) != 0 {
		return false, nil
	}
	env := s.Env()
	// Corked bytes were written before the close: they go to the socket
	// first, now, since the close may be followed at once by the socket's
	// (CloseNow, a failing close), which would drop what is still corked.
	w.Uncork(s)
	if w.pongs != nil {
		w.putPongs(s, env.Limits) // pongs owed for pings that came before go ahead of the close
	}
	w.flags |= fSentClose
	w.emitControl(s, &env, frame.OpClose, 0, p)
	return true, w.dropHeld(env.Limits)
}

// header makes the header of a frame of n payload bytes (masked with a fresh
// key on a client), counts the frame and traces it.
func (w *Writer) header(s Sink, env *Env, fin bool, op frame.Opcode, rsv uint8, n int) frame.Header {
	h := frame.Header{Fin: fin, Rsv: rsv, Opcode: op, Length: int64(n)}
	if env.Client {
		h.Masked = true
		h.Mask = w.mask()
	}
	w.frames.Add(1)
	if env.Limits.Trace {
		s.FrameOut(h)
	}
	return h
}

// emit commits one frame: header, mask, trace, then the socket or the queue,
// or the held messages behind a fragmented message (hold).
func (w *Writer) emit(s Sink, env *Env, fin bool, op frame.Opcode, rsv uint8, p []byte, hold bool) error {
	h := w.header(s, env, fin, op, rsv, len(p))
	var hb [frameBuf]byte
	hn := frame.PutHeader(hb[:], h)
	if env.Client {
		return w.writeMasked(s, env.Limits, hb[:hn], h.Mask, p, hold)
	}
	if hold {
		w.hold(env.Limits, hb[:hn], p)
		return nil
	}
	return w.writeRaw(s, env.Limits, &hb, hn, p)
}

// emitControl commits a control frame (at most frame.MaxControlPayload bytes
// of payload, checked by the caller): the whole frame is built in an array on
// the stack and handed to the socket by value, so that p never reaches the
// Sink and a caller's stack buffer (a close payload) stays on its stack.
func (w *Writer) emitControl(s Sink, env *Env, op frame.Opcode, rsv uint8, p []byte) error {
	// Never refused, but never past the budget either: behind a queue whose
	// growth the budget cannot hold (the peer is not reading what is queued),
	// the frame is left out. A ping or pong the peer would not read is no
	// loss (keepalive then drops it), and neither is the close frame of a
	// connection whose closing handshake cannot complete (CloseTimeout ends it).
	// On an empty queue it goes to the socket as always (a healthy peer's
	// keepalive does not depend on the budget), and writeRaw leaves it out if
	// the socket took none of it, the Sink did not commit it (a TLS record
	// sealed is committed: Sink.Committed) and the budget cannot hold it.
	lim := env.Limits
	if lim.MaxTotal < 0 || w.flags&fReserving != 0 {
		return w.controlFrame(s, env, op, rsv, p)
	}
	if w.out.Len() > int(w.corked) && !w.reserve(lim, pages(w.out.Growth(frame.MaxHeaderSize+len(p)))) {
		return nil
	}
	w.flags |= fControl
	err := w.controlFrame(s, env, op, rsv, p)
	w.flags &^= fControl
	if w.flags&fReserving != 0 {
		w.unreserve(lim)
	}
	return err
}

// controlFrame encodes and commits one control frame (emitControl).
func (w *Writer) controlFrame(s Sink, env *Env, op frame.Opcode, rsv uint8, p []byte) error {
	h := w.header(s, env, true, op, rsv, len(p))
	var fb [frameBuf]byte
	n := frame.PutHeader(fb[:], h)
	if env.Client {
		return w.writeMasked(s, env.Limits, fb[:n], h.Mask, p, false) // into a pooled copy
	}
	n += copy(fb[n:], p)
	return w.writeRaw(s, env.Limits, &fb, n, nil)
}

// writeMasked sends a client frame: the payload is masked into a pooled copy,
// never in the caller's slice.
func (w *Writer) writeMasked(s Sink, lim *Limits, hdr []byte, key [4]byte, p []byte, hold bool) error {
	buf := bufpool.Get(len(hdr) + len(p))
	copy(buf, hdr)
	copy(buf[len(hdr):], p)
	frame.Mask(key, 0, buf[len(hdr):])
	var err error
	if hold {
		w.hold(lim, buf, nil)
	} else {
		err = w.writeRaw(s, lim, nil, 0, buf)
	}
	bufpool.Put(buf)
	return err
}
