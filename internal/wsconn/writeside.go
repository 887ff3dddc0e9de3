package wsconn

import (
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/outq"
	"github.com/weir-ws/weir/internal/wswrite"
)

// The write side's state is a wswrite.Writer under WriteSide.Mu: its fields are the
// package's, reached only through its methods, each called with the lock held.
// connSink is what the Writer writes through: the connection's socket, its
// counters and its events.

// connSink is a Conn on the loops seen by its Writer (wswrite.Sink), under
// WriteSide.Mu; goroutine mode's Writer sees a netSink (goroutine.go).
type connSink Conn

// sink returns c as its Writer's Sink (no allocation: a pointer-shaped value
// in an interface).
func (c *Conn) sink() wswrite.Sink {
	if c.goMode() {
		return netSink{(*connSink)(c)}
	}
	return (*connSink)(c)
}

func (s *connSink) Write2(hdr wswrite.FrameBuf, hn int, p []byte) (int, error) {
	c := (*Conn)(s)
	if c.TLS != nil {
		return c.tlsWrite2(hdr[:hn], p) // sealed: counts its own bytes (tlsloop.go)
	}
	n, err := c.FD.Write2(hdr[:hn], p)
	if n > 0 {
		c.stats.bytesOut.Add(uint64(n))
	}
	return n, err
}

// Failed: the read side finds the connection dead and finishes it.
func (s *connSink) Failed(err error) error {
	(*Conn)(s).Post(evHangUp)
	return &IOError{Err: err}
}

// writeCut reports whether a write was cut mid-frame (wswrite.Writer.Cut):
// its evHangUp ends the connection (sched.go).
func (c *Conn) writeCut() bool {
	c.WriteSide.Mu.Lock()
	defer c.WriteSide.Mu.Unlock()
	return c.WriteSide.W.Cut()
}

func (s *connSink) Queued()                 {} // flushed on the writable edge
func (s *connSink) Inflight() int           { return 0 }
func (s *connSink) Retry()                  { (*Conn)(s).Post(evWrite) }
func (s *connSink) FrameOut(h frame.Header) { s.Eng().Cfg.Trace.FrameOut((*Conn)(s), h) }

// Committed: a TLS connection's record layer sealed what the socket did not
// take (tlsloop.Conn.Covering).
func (s *connSink) Committed() bool { return s.TLS != nil && s.TLS.Covering() }

func (s *connSink) Env() wswrite.Env {
	return wswrite.Env{Limits: &s.Eng().Cfg.WriteLimits, Deflate: s.compression(), Client: s.client()}
}

// outLen is the queued bytes the socket has not taken (under WriteSide.Mu).
func (c *Conn) outLen() int { return c.WriteSide.W.Len() }

// pending is every outbound byte written and not yet taken by the socket (under
// WriteSide.Mu).
func (c *Conn) pending() int { return c.WriteSide.W.Pending(c.sink()) }

// writeRaw sends bytes already framed (a handshake answer) under WriteSide.Mu.
func (c *Conn) writeRaw(b []byte) error { return c.WriteSide.W.WriteRaw(c.sink(), b) }

// flush writes queued output when the socket is writable again (worker context).
func (c *Conn) flush(w *worker) {
	c.WriteSide.Mu.Lock()
	f := c.WriteSide.W.Flush(c.sink())
	if f.Empty && c.WriteSide.flags&wfShutOwed != 0 && !c.WriteSide.W.Closed() {
		c.WriteSide.flags &^= wfShutOwed
		c.shutLocked() // the failing close frame is out (shutdownWrite)
	}
	finish := f.Empty && c.WriteSide.flags&wfFinishOwed != 0
	c.WriteSide.Mu.Unlock()
	for _, d := range f.Dones {
		c.callDone(w, d.Fn, nil)
	}
	if f.Drained && c.ReadSide.Get(w).flags&rfOpened != 0 {
		c.callOnDrain(w)
	}
	if f.Resume {
		c.Post(EvRead) // read what waited in the kernel (edge-triggered: no new edge)
	}
	if finish {
		c.finishClean(w) // the close echo and everything before it are out
	}
}

// releaseWrite returns the write side's pooled buffers (under WriteSide.Mu).
func (c *Conn) releaseWrite() { c.WriteSide.W.Release(&c.Eng().Cfg.WriteLimits) }

// autoPong answers a ping (worker context), batched for the end of the read
// turn (wswrite.Writer.AutoPong).
func (c *Conn) autoPong(payload []byte) {
	c.WriteSide.Mu.Lock()
	c.WriteSide.W.AutoPong(c.sink(), payload)
	c.WriteSide.Mu.Unlock()
}

// callDones calls done callbacks from any goroutine (callDoneAny).
func (c *Conn) callDones(dones []outq.Done, err error) {
	for _, d := range dones {
		c.callDoneAny(d.Fn, err)
	}
}
