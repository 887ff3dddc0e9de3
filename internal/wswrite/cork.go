package wswrite

// Corking (issue 15): while the engine runs a batch of ready connections, a
// write that would go straight to the socket is queued instead (corked) and
// the batch's sends go to the kernel together at the batch end, one
// io_uring_enter for all of them (internal/reactor cork.go, internal/uring). The
// corked bytes are the queue's first bytes, so every later write, from any
// goroutine, goes behind them as behind any queued output: order holds
// without further care, and a flush turn that runs before the batch end
// simply sends them itself.
//
// Corked bytes are as good as sent for the writes behind them: MaxBuffer does
// not count them, owed pongs go behind them and ahead of the next write (as
// they would behind bytes already in the kernel), and no drain is owed for
// them unless the socket leaves them (CorkSent). Their memory is charged to
// Limits.Total like any queued byte: reserved before they are queued (cork,
// Admit), refunded when the queue empties.

// CorkOn lets the writes of the running turn cork (under the lock).
func (w *Writer) CorkOn() { w.flags |= fCorkOK }

// CorkOff ends the turn's corking and reports whether bytes were corked that
// no batch has listed yet: the caller lists the connection for its batch end.
func (w *Writer) CorkOff() (list bool) {
	w.flags &^= fCorkOK
	if w.flags&(fCorked|fListed) == fCorked {
		w.flags |= fListed
		return true
	}
	return false
}

// corkMax bounds a connection's corked bytes: the queue's buffer stays in
// pagepool's classes below a page, which are kept resident. From a page up a
// buffer is given back to the kernel when the queue empties (madvise) and
// faulted in again on the next use: corked 16 KiB echoes cost ten times the
// CPU of writing them (bench/results/perf15-uring-2026-12-06.md), so a bigger
// write goes straight to the socket (behind the corked bytes, if any, in the
// queue).
const corkMax = 2048

// cork queues an admitted write that would go straight to the socket (writeRaw
// with nothing queued but corked bytes), reserving its memory first; false: it
// is too big to cork or the budget has no room for it.
func (w *Writer) cork(s Sink, lim *Limits, hdr, p []byte) bool {
	n := len(hdr) + len(p)
	if w.out.Len()+n > corkMax {
		return false
	}
	if lim.MaxTotal >= 0 && !w.reserve(lim, pages(w.out.Growth(n))) {
		return false
	}
	drain := w.flags & fDrainOwed
	w.enqueue(s, lim, hdr)
	w.enqueue(s, lim, p)
	w.flags = w.flags&^fDrainOwed | drain // corked bytes owe no drain (CorkSent)
	w.settle(lim)
	w.corked += uint16(n) // n <= corkMax
	w.flags |= fCorked
	return true
}

// Corked starts the batch end's send: the queued bytes to offer the socket
// (the corked ones and what was queued behind them), nil when there is
// nothing to send (the connection closed or failed, or a flush turn sent the
// corked bytes already: what it left is for the writable edge, as any queued
// output). The caller holds the lock until CorkSent.
func (w *Writer) Corked() []byte {
	corked := w.corked
	w.flags &^= fCorked | fListed
	w.corked = 0
	if corked == 0 || w.flags&(fClosed|fWriteErr) != 0 || w.out.Len() == 0 {
		return nil
	}
	return w.out.Bytes()
}

// CorkSent ends the batch end's send: the socket took n bytes of those Corked
// returned, or failed with err. What it left stays queued. It reports whether
// the owner needs a flush turn: the socket left bytes (a full socket's
// writable edge would bring one too, but a send that never ran, say a ring
// that failed, leaves bytes with no edge to come), or it took all and
// something waits for that (pongs, completions, a drain, reading held).
func (w *Writer) CorkSent(s Sink, n int, err error) (turn bool) {
	lim := s.Env().Limits
	if n > 0 {
		w.out.Advance(n)
	}
	if err != nil {
		w.flags |= fWriteErr
		s.Failed(err)
		w.settle(lim)
		return false
	}
	w.settle(lim)
	if w.out.Len() > 0 {
		if w.out.Len() > lim.DrainLowWater {
			w.flags |= fDrainOwed
		}
		return true
	}
	if w.pongs != nil || w.extras != nil || w.flags&(fDrainOwed|fReadHeld) != 0 {
		return true
	}
	w.queued.Store(false)
	return false
}

// Uncork writes the corked bytes (and what is queued behind them) to the
// socket now, as a flush turn would: before a close frame, and before the
// socket closes, since bytes written before either must not be lost with it.
func (w *Writer) Uncork(s Sink) {
	if w.corked == 0 || w.flags&(fClosed|fWriteErr) != 0 {
		return
	}
	w.writeOut(s, s.Env().Limits)
}
