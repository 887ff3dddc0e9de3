package engine

import "github.com/weir-ws/weir/frame"

// pongBatch bounds the pong frames batched for one read turn (a few dozen small
// pongs, at least 8 of the largest).
const pongBatch = 1 << 10

// autoPong answers a ping (worker context). The pong is encoded into the
// connection's pong batch and goes out at the end of the read turn (the
// connection posts itself a write event) or just before the next frame written,
// whichever comes first: a ping flood costs one write per turn, not one writev
// per ping, and pongs keep their order with the data. While the socket is full,
// or past pongBatch bytes, only the latest ping is answered (RFC 6455 §5.5.3), so
// a peer that floods pings and never reads cannot grow our memory.
func (c *Conn) autoPong(payload []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.wflags&(wfClosed|wfSentClose) != 0 {
		return
	}
	h := frame.Header{Fin: true, Opcode: frame.OpPong, Length: int64(len(payload))}
	if c.client {
		h.Masked = true
		h.Mask = c.nextMask()
	}
	if c.pong == nil {
		c.pong = pongPool.Get().(*pongBuf)
		c.pong.n, c.pong.frames = 0, 0
	}
	q := c.pong
	// Full socket: on the loops queued output means the socket is full; in
	// goroutine mode output is always queued for the writer, so only a backlog
	// counts.
	full := c.outLen() > 0 && (c.g == nil || c.pending() >= pongBacklog)
	if full || q.n+frame.HeaderSize(h)+len(payload) > len(q.b) {
		q.n, q.frames = 0, 0
	}
	hn := frame.PutHeader(q.b[q.n:], h)
	copy(q.b[q.n+hn:], payload)
	if c.client {
		frame.Mask(h.Mask, 0, q.b[q.n+hn:q.n+hn+len(payload)])
	}
	q.n += hn + len(payload)
	q.frames++
	c.queued.Store(true)
	if c.g != nil {
		c.kickWriter()
		return
	}
	c.post(evWrite) // we run c: the event is handled after this turn
}

// pongBacklog is the queued output past which goroutine mode keeps only the latest
// pong, as the loops do once the socket is full.
const pongBacklog = 64 << 10

// putPongs writes the batched pongs (under mu), ahead of anything written after.
func (c *Conn) putPongs() {
	q := c.pong
	c.pong = nil
	if c.writable(frame.OpPong) == nil {
		c.stats.framesOut.Add(uint64(q.frames))
		if t := c.eng.cfg.Trace; t != nil && t.FrameOut != nil {
			for b := q.b[:q.n]; len(b) > 0; {
				h, hn, err := frame.ParseHeader(b)
				if err != nil {
					break
				}
				t.FrameOut(c, h)
				b = b[hn+int(h.Length):]
			}
		}
		c.writeRaw(q.b[:q.n], nil)
	}
	pongPool.Put(q)
}
