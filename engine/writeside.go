package engine

import (
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/outq"
	"github.com/weir-ws/weir/internal/wswrite"
)

// The write side's state is a wswrite.Writer under write.mu: its fields are the
// package's, reached only through its methods, each called with the lock held.
// connSink is what the Writer writes through: the connection's socket, its
// counters and its events.

// connSink is a Conn on the loops seen by its Writer (wswrite.Sink), under
// write.mu; goroutine mode's Writer sees a netSink (goroutine.go).
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
	if c.tls != nil {
		return c.tlsWrite2(hdr[:hn], p) // sealed: counts its own bytes (tlsloop.go)
	}
	n, err := c.fd.Write2(hdr[:hn], p)
	if n > 0 {
		c.stats.bytesOut.Add(uint64(n))
	}
	return n, err
}

// Failed: the read side finds the connection dead and finishes it.
func (s *connSink) Failed(err error) error {
	(*Conn)(s).post(evHangUp)
	return &IOError{Err: err}
}

// writeCut reports whether a write was cut mid-frame (wswrite.Writer.Cut):
// its evHangUp ends the connection (sched.go).
func (c *Conn) writeCut() bool {
	c.write.mu.Lock()
	defer c.write.mu.Unlock()
	return c.write.w.Cut()
}

func (s *connSink) Queued()                 {} // flushed on the writable edge
func (s *connSink) Inflight() int           { return 0 }
func (s *connSink) Retry()                  { (*Conn)(s).post(evWrite) }
func (s *connSink) FrameOut(h frame.Header) { s.eng().cfg.Trace.FrameOut((*Conn)(s), h) }

// Committed: a TLS connection's record layer sealed what the socket did not
// take (tlsloop.Conn.Covering).
func (s *connSink) Committed() bool { return s.tls != nil && s.tls.Covering() }

func (s *connSink) Env() wswrite.Env {
	return wswrite.Env{Limits: &s.eng().cfg.writeLimits, Deflate: s.compression(), Client: s.client()}
}

// outLen is the queued bytes the socket has not taken (under write.mu).
func (c *Conn) outLen() int { return c.write.w.Len() }

// pending is every outbound byte written and not yet taken by the socket (under
// write.mu).
func (c *Conn) pending() int { return c.write.w.Pending(c.sink()) }

// writeRaw sends bytes already framed (a handshake answer) under write.mu.
func (c *Conn) writeRaw(b []byte) error { return c.write.w.WriteRaw(c.sink(), b) }

// flush writes queued output when the socket is writable again (worker context).
func (c *Conn) flush(w *worker) {
	c.write.mu.Lock()
	f := c.write.w.Flush(c.sink())
	if f.Empty && c.write.flags&wfShutOwed != 0 && !c.write.w.Closed() {
		c.write.flags &^= wfShutOwed
		c.shutLocked() // the failing close frame is out (shutdownWrite)
	}
	finish := f.Empty && c.write.flags&wfFinishOwed != 0
	c.write.mu.Unlock()
	for _, d := range f.Dones {
		c.callDone(w, d.Fn, nil)
	}
	if f.Drained && c.read.Get(w).flags&rfOpened != 0 {
		c.callOnDrain(w)
	}
	if f.Resume {
		c.post(evRead) // read what waited in the kernel (edge-triggered: no new edge)
	}
	if finish {
		c.finishClean(w) // the close echo and everything before it are out
	}
}

// releaseWrite returns the write side's pooled buffers (under write.mu).
func (c *Conn) releaseWrite() { c.write.w.Release(&c.eng().cfg.writeLimits) }

// autoPong answers a ping (worker context), batched for the end of the read
// turn (wswrite.Writer.AutoPong).
func (c *Conn) autoPong(payload []byte) {
	c.write.mu.Lock()
	c.write.w.AutoPong(c.sink(), payload)
	c.write.mu.Unlock()
}

// callDones calls done callbacks from any goroutine (callDoneAny).
func (c *Conn) callDones(dones []outq.Done, err error) {
	for _, d := range dones {
		c.callDoneAny(d.Fn, err)
	}
}
