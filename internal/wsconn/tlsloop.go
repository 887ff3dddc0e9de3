package wsconn

import (
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/closing"
	"github.com/weir-ws/weir/internal/tlsloop"
)

// wss on the loops (docs/tls-design.md): after crypto/tls's handshake
// (tlsaccept.go) the raw socket runs here with the TLS 1.3 record layer of
// internal/tlsloop. The read side opens records in place in the worker's read
// buffer before the WebSocket code sees a byte; the write side seals what the
// Writer hands its Sink. An idle connection holds the keys and no buffer.
// The record layer's parts have the owners of the Conn's: its read side is
// the running bit's holder's, its write side is under WriteSide.Mu.

// readTLS reads once (read side, tlsloop.Read): the handshake's leftover
// first, then the socket into the worker's buffer behind the kept partial
// record; the records whole there are opened in place and their plaintext
// consumed. It returns what the read returned and whether it filled the room.
func (c *Conn) readTLS(w *worker) (n int, full bool, err error) {
	return tlsloop.Read(c.TLS, (*tlsReader)(c), w, w.buf)
}

// tlsReader is a Conn's read side as its record layer reads it
// (tlsloop.Reader), keyed by the worker that holds the running bit.
type tlsReader Conn

func (r *tlsReader) Read(w *worker, b []byte) (int, error) {
	c := (*Conn)(r)
	n, err := c.sysRead(b)
	if n > 0 {
		c.stats.bytesIn.Add(uint64(n))
		c.touch(w)
	}
	return n, err
}

func (r *tlsReader) Plain(w *worker, p []byte)  { (*Conn)(r).consume(w, p) }
func (r *tlsReader) Finished(w *worker) bool    { return r.ReadSide.Get(w).close.Finished() }
func (r *tlsReader) EOF(w *worker)              { (*Conn)(r).onEOF(w) }
func (r *tlsReader) Alert(w *worker, err error) { (*Conn)(r).onIOError(w, err) }

func (r *tlsReader) Stopped(w *worker) bool {
	return r.ReadSide.Get(w).close.Finished() || r.ReadSide.Get(w).flags&rfVerifyWait != 0 || r.paused.Load()
}

func (r *tlsReader) UpdateOwed() {
	r.WriteSide.Mu.Lock()
	r.TLS.OweUpdate()
	r.WriteSide.Mu.Unlock()
}

// Hold charges the partial record's buffer to the inbound budget
// (Config.MaxTotalInbound), as a partial frame's is; OverBudget fails the
// connection with 1013 when it is refused, or, before the 101 (no WebSocket
// to send a close frame on yet), ends it as a failed opening handshake.
func (r *tlsReader) Hold(delta int) bool {
	if delta < 0 {
		r.Eng().Inbound.Refund(-delta)
		return true
	}
	return r.Eng().Inbound.Charge(delta)
}

func (r *tlsReader) OverBudget(w *worker) {
	c := (*Conn)(r)
	if c.ReadSide.Get(w).flags&(rfHandshake|rfVerifyWait) != 0 {
		c.finish(w, frame.StatusTryAgainLater, "", ErrInboundBudget)
		return
	}
	c.fail(w, ErrInboundBudget)
}

// BadRecord: the connection ends with the record's alert (tlsloop.Conn.Bye,
// from closeSocket) and a *TLSError for OnClose.
func (r *tlsReader) BadRecord(w *worker, err error) {
	c := (*Conn)(r)
	c.Eng().Counters.TLS.RecordErrors.Add(1) // metrics.go
	c.ReadSide.Get(w).extra().failErr = &TLSError{Err: err}
	c.finish(w, frame.StatusAbnormalClosure, "", c.ReadSide.Get(w).failErr())
}

// TLSError is engine.TLSError (documented there).
type TLSError struct{ Err error }

func (e *TLSError) Error() string { return "weir: tls: " + e.Err.Error() }
func (e *TLSError) Unwrap() error { return e.Err }

// tlsSocket is a Conn's socket as its record layer writes it
// (tlsloop.Socket), under WriteSide.Mu.
type tlsSocket Conn

func (s *tlsSocket) Write2(a, b []byte) (int, error) {
	n, err := s.FD.Write2(a, b)
	s.stats.bytesOut.Add(uint64(n))
	return n, err
}

// Held counts the sealed bytes not yet written like the queue (MaxTotalBuffered).
func (s *tlsSocket) Held(delta int) { s.Eng().buffered.Add(int64(delta)) }

// tlsWrite2 is connSink.Write2 for a loop-mode TLS connection (under WriteSide.Mu): it
// seals a then b and reports how much plaintext the socket took whole
// (tlsloop.Conn.Write2: the Writer's queue stays in plaintext).
func (c *Conn) tlsWrite2(a, b []byte) (int, error) { return c.TLS.Write2((*tlsSocket)(c), a, b) }

// tlsDropBacklog gives the backlog back (under WriteSide.Mu).
func (c *Conn) tlsDropBacklog() { c.TLS.DropBacklog((*tlsSocket)(c)) }

// tlsSayBye seals what this side says last on the TLS stream (under
// WriteSide.Mu, before the socket is half-closed or closed): close_notify, or
// the alert a record error calls for. Nothing after an abort or a write
// error.
func (c *Conn) tlsSayBye() {
	if c.WriteSide.W.WriteErr() || c.closeReq.Load() == closing.Abort {
		return
	}
	c.TLS.Bye((*tlsSocket)(c))
}

// tlsReleaseRead gives back the read side's partial record (releaseRead).
func (c *Conn) tlsReleaseRead() {
	if t := c.TLS; t != nil {
		c.Eng().Inbound.Refund(t.ReleaseRead()) // charged by tlsReader.Hold
	}
}
