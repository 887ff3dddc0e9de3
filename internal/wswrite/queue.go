package wswrite

import (
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/outq"
)

// writeRaw sends a frame header, or a whole control frame, (hb[:hn], hb nil
// for none) then payload p:
// straight to the socket when nothing is queued, the rest (or all, when
// something is queued) into the queue. The header goes to the Sink by value, so
// that the array it is built in stays on the stack.
func (w *Writer) writeRaw(s Sink, lim *Limits, hb *[frameBuf]byte, hn int, p []byte) error {
	if w.flags&(fClosed|fWriteErr) != 0 {
		// Every byte for the socket passes here: none after it closed or a
		// write failed (after a cut the peer is inside a frame's payload,
		// and any later frame would be read as part of it).
		return ErrClosed
	}
	if w.pongs != nil && w.out.Len() == int(w.corked) {
		// Owed pongs go first: behind corked bytes (written before them, as
		// good as sent), ahead of this write, as without corking.
		w.putPongs(s, lim)
	}
	var hdr []byte
	var h [frameBuf]byte
	if hb != nil {
		h = *hb
		hdr = hb[:hn]
	}
	if w.out.Len() == int(w.corked) && w.pongs == nil {
		if w.flags&(fCorkOK|fAdmitted) == fCorkOK|fAdmitted && w.cork(s, lim, hdr, p) {
			return nil
		}
		if w.out.Len() > 0 {
			// Behind corked bytes, where corking would have put it; its
			// growth was reserved by Admit (or, for a control frame, counts
			// as it grows, as behind any queued output).
			w.enqueue(s, lim, hdr)
			w.enqueue(s, lim, p)
			w.settle(lim)
			return nil
		}
		n, err := s.Write2(h, hn, p)
		return w.tried(s, lim, hdr, p, n, err)
	}
	w.enqueue(s, lim, hdr)
	w.enqueue(s, lim, p)
	w.settle(lim)
	return nil
}

// tried ends a write offered to the socket with nothing queued (writeRaw, or
// a batched send: PreparedSent): the socket took n bytes of hdr then p, or
// failed with err.
func (w *Writer) tried(s Sink, lim *Limits, hdr, p []byte, n int, err error) error {
	if err != nil {
		w.flags |= fWriteErr
		return s.Failed(err)
	}
	total := len(hdr) + len(p)
	if n == total {
		return nil
	}
	// What the socket left of an admitted write needs memory it has not
	// reserved (Admit reserves nothing for a write to an empty queue on
	// the loops; control frames and pongs are never admitted nor refused,
	// and count as they grow). Taken now, or the connection is cut: the write was admitted
	// (a compressed message's history has moved) and part of its frame
	// may be on the wire, so it can neither be refused nor followed by a
	// close frame. It takes a full budget and a full socket at once.
	if lim.MaxTotal >= 0 && w.flags&(fAdmitted|fControl) != 0 && !w.reserve(lim, pages(w.out.Growth(total-n))) {
		switch {
		case w.flags&fAdmitted != 0 || n > 0:
			w.unreserve(lim)
			w.flags |= fWriteErr | fCut
			return s.Failed(ErrBudgetCut)
		case !s.Committed():
			return nil // a control frame, none of it on the wire: left out (emitControl)
		}
		// A control frame sealed into a TLS record the socket did not
		// take: committed (the record layer skips its bytes when they are
		// handed back, so leaving it out would cost the next frame its
		// first bytes). It is queued, its growth counted as it happens
		// (one small buffer: behind it, control frames are left out
		// before they reach the socket).
	}
	if n < len(hdr) {
		w.enqueue(s, lim, hdr[n:])
		w.enqueue(s, lim, p)
	} else {
		w.enqueue(s, lim, p[n-len(hdr):])
	}
	w.settle(lim)
	// The socket was full a moment ago. Its writable edge may have come and
	// been skipped before queued was set; one more try after setting it
	// closes that window (a later edge then finds queued set).
	w.writeOut(s, lim)
	if w.out.Len() == 0 {
		s.Retry() // let the owner clear queued and owe no drain
	}
	return nil
}

// WriteRaw sends bytes already framed (a handshake response) as writeRaw does.
func (w *Writer) WriteRaw(s Sink, b []byte) error {
	env := s.Env()
	return w.writeRaw(s, env.Limits, nil, 0, b)
}

// enqueue appends b to the queue (the caller settles).
func (w *Writer) enqueue(s Sink, lim *Limits, b []byte) {
	if len(b) == 0 {
		return
	}
	w.out.Append(b)
	if x := w.extras; x != nil {
		x.appended += int64(len(b))
	}
	w.queued.Store(true)
	s.Queued()
	if w.out.Len() > lim.DrainLowWater {
		w.flags |= fDrainOwed
	}
}

// hold appends a whole encoded frame to the held messages.
func (w *Writer) hold(lim *Limits, hdr, p []byte) {
	w.extra().held.Hold(hdr, p)
	w.settle(lim)
	if w.out.Len() > lim.DrainLowWater {
		w.flags |= fDrainOwed
	}
}

// releaseHeld sends the held messages once the fragmented message has ended
// and returns the completions of those the socket took at once.
func (w *Writer) releaseHeld(s Sink) []outq.Done {
	x := w.extras
	if x == nil || x.held.Len() == 0 {
		return nil
	}
	env := s.Env()
	buf := x.held.Bytes()
	err := w.writeRaw(s, env.Limits, nil, 0, buf)
	total := x.appended
	for _, d := range x.held.Release() {
		end := total - int64(len(buf)-d.End)
		if err != nil {
			end = outq.Never // the connection is going away: it reports ErrClosed
		}
		x.dones.Add(end, d.Fn)
	}
	w.settle(env.Limits)
	return w.TakeDones(s)
}

// dropHeld discards the held messages and returns their completions.
func (w *Writer) dropHeld(lim *Limits) []outq.HeldDone {
	x := w.extras
	if x == nil || x.held.Cap() == 0 {
		return nil
	}
	dones := x.held.Release()
	w.settle(lim)
	return dones
}

// AddDone records a completion for the message just written and reports false
// when the socket already took all of it (the caller calls it at once).
func (w *Writer) AddDone(s Sink, fn func(error)) bool {
	if w.flags&fFragOpen != 0 {
		w.extra().held.AddDone(fn)
		return true
	}
	if w.Pending(s) == 0 {
		return false
	}
	x := w.extra()
	x.dones.Add(x.appended, fn)
	return true
}

// TakeDones removes and returns the completions whose bytes the socket took.
func (w *Writer) TakeDones(s Sink) []outq.Done {
	x := w.extras
	if x == nil {
		return nil
	}
	return x.dones.Take(x.appended - int64(w.out.Len()+s.Inflight()))
}

// AllDones drops the held messages and returns every completion still owed
// (the connection is over: they get ErrClosed).
func (w *Writer) AllDones(lim *Limits) []outq.Done {
	x := w.extras
	if x == nil {
		return nil
	}
	for _, d := range w.dropHeld(lim) {
		x.dones.Add(outq.Never, d.Fn)
	}
	return x.dones.All()
}

// EndDones splits the completions still owed when the connection ends
// (finish): out, whose bytes the socket took (the caller calls them with
// nil), and never, whose bytes will not go out (ErrClosed): the held
// messages', and those past the first left bytes of what is pending. The
// completions of those left bytes stay for a writer that may still write
// them after the end (goroutine mode's: TakeDones as it writes, AllDones
// when it stops). With left 0 it is TakeDones, then AllDones.
func (w *Writer) EndDones(s Sink, lim *Limits, left int) (out, never []outq.Done) {
	x := w.extras
	if x == nil {
		return nil, nil
	}
	out = w.TakeDones(s)
	pending := int64(w.out.Len() + s.Inflight())
	never = x.dones.TakeAfter(x.appended - pending + int64(left))
	for _, d := range w.dropHeld(lim) {
		never = append(never, outq.Done{End: outq.Never, Fn: d.Fn})
	}
	return out, never
}

// writeOut writes as much of the queue as the socket takes.
func (w *Writer) writeOut(s Sink, lim *Limits) {
	q := &w.out
	for q.Len() > 0 && w.flags&(fClosed|fWriteErr) == 0 {
		n, err := s.Write2([frameBuf]byte{}, 0, q.Bytes())
		if n > 0 {
			q.Advance(n)                              // an emptied queue gives its buffer back
			w.corked -= uint16(min(n, int(w.corked))) // corked bytes are the queue's first
		}
		if err != nil {
			w.flags |= fWriteErr
			s.Failed(err)
			break
		}
		if n == 0 {
			break
		}
	}
	w.settle(lim)
}

// Flushed is what a flush turn found.
type Flushed struct {
	Dones   []outq.Done // completions now owed (nil error)
	Empty   bool        // nothing is queued any more
	Drained bool        // pending fell to DrainLowWater after passing it
	Resume  bool        // reading stopped by HoldRead may go on
}

// Flush writes the queue when the socket is writable again and, on the loops,
// the pongs owed at the end of a read turn.
func (w *Writer) Flush(s Sink) Flushed {
	env := s.Env()
	lim := env.Limits
	w.writeOut(s, lim)
	if w.out.Len() == 0 && w.pongs != nil && w.flags&fClosed == 0 && !env.Goroutine {
		w.putPongs(s, lim) // the end of the read turn that saw the pings
	}
	f := Flushed{Dones: w.TakeDones(s)}
	f.Empty = w.out.Len() == 0 && w.pongs == nil && s.Inflight() == 0
	if f.Empty {
		w.queued.Store(false)
	}
	f.Drained = w.flags&fDrainOwed != 0 && w.Pending(s) <= lim.DrainLowWater
	if f.Drained {
		w.flags &^= fDrainOwed
	}
	f.Resume = w.readResumable(s, lim)
	return f
}

// QueuePongs queues the pongs owed behind nothing (goroutine mode's writer,
// before it takes the queue).
func (w *Writer) QueuePongs(s Sink) {
	if w.pongs != nil && w.out.Len() == 0 && w.flags&fClosed == 0 {
		w.putPongs(s, s.Env().Limits)
	}
}

// Take hands the whole queue to goroutine mode's writer; the buffer stays
// counted in Limits.Total until Written.
func (w *Writer) Take(lim *Limits) []byte {
	buf := w.out.Take()
	w.settle(lim)
	lim.Total.Add(pages(int64(cap(buf)))) // the writer's until Written
	return buf
}

// Written gives back a buffer from Take once written (or failed).
func Written(lim *Limits, buf []byte) {
	lim.Total.Add(-pages(int64(cap(buf))))
	outq.Put(buf)
}

// Release returns the write side's pooled buffers (the connection is over).
func (w *Writer) Release(lim *Limits) {
	if x := w.extras; x != nil {
		// The queue's bytes never go out: off the count, so that a writer
		// still writing what it took (goroutine mode, after a close at
		// once) counts only its own bytes as out (TakeDones). Their dones
		// were taken before (EndDones).
		x.appended -= int64(w.out.Len())
	}
	w.out.Release()
	w.corked = 0
	if w.pongs != nil {
		outq.PutPongs(w.pongs)
		w.pongs = nil
	}
	w.dropHeld(lim)
	w.settle(lim)
}

// settle brings Limits.Total up to date with the memory the queue and the held
// messages hold: the capacity of their pooled buffers in whole pages (pages),
// not just the bytes in them, since a pooled buffer is up to twice what it
// holds and stays that size until it is returned. It runs when a buffer is
// taken, grown or returned.
func (w *Writer) settle(lim *Limits) {
	now := w.holds()
	d := now - w.charged
	if d == 0 || (d < 0 && w.flags&fReserving != 0) {
		return // a write in progress keeps its reservation until unreserve
	}
	lim.Total.Add(d)
	w.charged = now
}

// holds is the memory the queue and the held messages hold resident: their
// buffers' capacity in whole pages.
func (w *Writer) holds() int64 {
	n := pages(int64(w.out.Cap()))
	if x := w.extras; x != nil {
		n += pages(int64(x.held.Cap()))
	}
	return n
}

// pongBacklog is the queued output past which goroutine mode keeps only the
// latest pong, as the loops do once the socket is full.
const pongBacklog = 64 << 10

// AutoPong answers a ping. The pong is encoded into the pong batch and goes
// out at the end of the read turn (AutoPong asks for a turn: Sink.Retry, or
// Sink.Queued in goroutine mode) or just before the next frame written,
// whichever comes first: a ping flood costs one write per turn, not one writev
// per ping, and pongs keep their order with the data. While the socket is full,
// or past outq.Batch bytes, only the latest ping is answered (RFC 6455 §5.5.3),
// so a peer that floods pings and never reads cannot grow our memory.
func (w *Writer) AutoPong(s Sink, payload []byte) {
	if w.flags&(fClosed|fSentClose) != 0 {
		return
	}
	env := s.Env()
	var key [4]byte
	if env.Client {
		key = w.mask()
	}
	if w.pongs == nil {
		w.pongs = outq.GetPongs()
	}
	// Full socket: on the loops queued output means the socket is full; in
	// goroutine mode output is always queued for the writer, so only a backlog
	// counts.
	full := w.out.Len() > int(w.corked) && (!env.Goroutine || w.Pending(s) >= pongBacklog)
	w.pongs.Add(payload, env.Client, key, full)
	w.queued.Store(true)
	if env.Goroutine {
		s.Queued()
		return
	}
	s.Retry()
}

// putPongs writes the batched pongs, ahead of anything written after.
func (w *Writer) putPongs(s Sink, lim *Limits) {
	q := w.pongs
	w.pongs = nil
	if w.Writable(frame.OpPong) == nil {
		w.frames.Add(uint64(q.Frames()))
		if lim.Trace {
			for b := q.Bytes(); len(b) > 0; {
				h, hn, err := frame.ParseHeader(b)
				if err != nil {
					break
				}
				s.FrameOut(h)
				b = b[hn+int(h.Length):]
			}
		}
		w.writeRaw(s, lim, nil, 0, q.Bytes())
	}
	outq.PutPongs(q)
}
