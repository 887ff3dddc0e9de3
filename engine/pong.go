package engine

import (
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/outq"
)

// autoPong answers a ping (worker context). The pong is encoded into the
// connection's pong batch (outq.Pongs) and goes out at the end of the read turn
// (the connection posts itself a write event) or just before the next frame
// written, whichever comes first: a ping flood costs one write per turn, not one
// writev per ping, and pongs keep their order with the data. While the socket is
// full, or past outq.Batch bytes, only the latest ping is answered (RFC 6455
// §5.5.3), so a peer that floods pings and never reads cannot grow our memory.
func (c *Conn) autoPong(payload []byte) {
	c.write.mu.Lock()
	defer c.write.mu.Unlock()
	if c.write.flags&(wfClosed|wfSentClose) != 0 {
		return
	}
	var key [4]byte
	if c.client {
		key = c.nextMask()
	}
	if c.write.pongs == nil {
		c.write.pongs = outq.GetPongs()
	}
	// Full socket: on the loops queued output means the socket is full; in
	// goroutine mode output is always queued for the writer, so only a backlog
	// counts.
	full := c.outLen() > 0 && (c.goroutine == nil || c.pending() >= pongBacklog)
	c.write.pongs.Add(payload, c.client, key, full)
	c.queued.Store(true)
	if c.goroutine != nil {
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
	q := c.write.pongs
	c.write.pongs = nil
	if c.writable(frame.OpPong) == nil {
		c.stats.framesOut.Add(uint64(q.Frames()))
		if t := c.eng.cfg.Trace; t != nil && t.FrameOut != nil {
			for b := q.Bytes(); len(b) > 0; {
				h, hn, err := frame.ParseHeader(b)
				if err != nil {
					break
				}
				t.FrameOut(c, h)
				b = b[hn+int(h.Length):]
			}
		}
		c.writeRaw(q.Bytes(), nil)
	}
	outq.PutPongs(q)
}
