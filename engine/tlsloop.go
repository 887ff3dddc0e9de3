package engine

import (
	"github.com/weir-ws/weir/bufpool"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/tlsloop"
)

// wss on the loops (docs/tls-design.md): after crypto/tls's handshake
// (tlsaccept.go) the raw socket runs here with the TLS 1.3 record layer of
// internal/tlsloop. The read side opens records in place in the worker's read
// buffer before the WebSocket code sees a byte; the write side seals what the
// Writer hands its Sink. An idle connection holds the keys and no buffer.
// The record layer's parts have the owners of the Conn's: its read side is
// the running bit's holder's, its write side is under write.mu.

// readTLS reads once (read side): into the worker's buffer behind the kept
// partial record (a pooled buffer when the worker's is too small for a whole
// record and room to read), then opens what is whole there. It returns what
// the read returned and whether it filled the room (more may wait). The
// handshake's leftover is opened first, before the socket is read.
func (c *Conn) readTLS(w *worker) (n int, full bool, err error) {
	t := c.tls
	buf := w.buf
	if len(buf) < tlsloop.ReadRoom {
		buf = bufpool.Get(tlsloop.ReadRoom)
		defer bufpool.Put(buf)
	}
	if t.Fresh() {
		c.tlsInput(w, buf[:t.Kept(buf)])
		if c.read.Get(w).flags&(rfFinished|rfVerifyWait) != 0 || c.paused.Load() {
			return 1, false, nil // the caller's checks stop it
		}
	}
	k := t.Kept(buf)
	n, err = c.sysRead(buf[k:])
	if n > 0 {
		c.stats.bytesIn.Add(uint64(n))
		c.touch(w)
		c.tlsInput(w, buf[:k+n])
	}
	t.RelaxRead() // an idle read side keeps no AEAD (internal/tlsrec/idle.go)
	return n, k+n == len(buf), err
}

// tlsInput opens the records in data (the kept partial record followed by
// what was just read, in a buffer the read side may overwrite) and hands the
// plaintext to the protocol. A record error ends the connection: a local one
// with its alert (RFC 8446 §6.2), a close_notify as the peer's EOF.
func (c *Conn) tlsInput(w *worker, data []byte) {
	t := c.tls
	plain, update, err := t.Input(data)
	if update {
		c.write.mu.Lock()
		t.OweUpdate()
		c.write.mu.Unlock()
	}
	if len(plain) > 0 {
		c.consume(w, plain) // authenticated data before any error goes first
	}
	if err == nil || c.read.Get(w).flags&rfFinished != 0 {
		return
	}
	switch t.Fail(err) {
	case tlsloop.PeerClosed: // close_notify: the peer's end of the stream
		c.onEOF(w)
		return
	case tlsloop.PeerAlert: // §6: nothing goes back after a fatal alert
		c.onIOError(w, err)
		return
	}
	c.eng.m.tls.RecordErrors.Add(1) // metrics.go
	c.read.Get(w).extra().failErr = &TLSError{Err: err}
	c.finish(w, frame.StatusAbnormalClosure, "", c.read.Get(w).failErr())
}

// TLSError is a TLS record error that ended a connection on the loops (a
// record that failed authentication, plaintext after the handshake, a record
// over the size limit, ...): the connection sent the alert (RFC 8446 §6.2)
// and closed. Err tells which.
type TLSError struct{ Err error }

func (e *TLSError) Error() string { return "weir: tls: " + e.Err.Error() }
func (e *TLSError) Unwrap() error { return e.Err }

// tlsSocket is a Conn's socket as its record layer writes it
// (tlsloop.Socket), under write.mu.
type tlsSocket Conn

func (s *tlsSocket) Write2(a, b []byte) (int, error) {
	n, err := s.fd.Write2(a, b)
	s.stats.bytesOut.Add(uint64(n))
	return n, err
}

// Held counts the sealed bytes not yet written like the queue (MaxTotalBuffered).
func (s *tlsSocket) Held(delta int) { s.eng.buffered.Add(int64(delta)) }

// tlsWrite2 is sysWrite2 for a loop-mode TLS connection (under write.mu): it
// seals a then b and reports how much plaintext the socket took whole
// (tlsloop.Conn.Write2: the Writer's queue stays in plaintext).
func (c *Conn) tlsWrite2(a, b []byte) (int, error) { return c.tls.Write2((*tlsSocket)(c), a, b) }

// tlsDropBacklog gives the backlog back (under write.mu).
func (c *Conn) tlsDropBacklog() { c.tls.DropBacklog((*tlsSocket)(c)) }

// tlsSayBye seals what this side says last on the TLS stream (under
// write.mu, before the socket is half-closed or closed): close_notify, or
// the alert a record error calls for. Nothing after an abort or a write
// error.
func (c *Conn) tlsSayBye() {
	if c.write.w.WriteErr() || c.closeReq.Load() == closeAbort {
		return
	}
	c.tls.Bye((*tlsSocket)(c))
}

// tlsReleaseRead gives back the read side's partial record (releaseRead).
func (c *Conn) tlsReleaseRead() {
	if t := c.tls; t != nil {
		t.ReleaseRead()
	}
}
