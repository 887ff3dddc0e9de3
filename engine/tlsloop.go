package engine

import (
	"crypto/tls"
	"errors"
	"io"

	"github.com/weir-ws/weir/bufpool"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/tlsrec"
)

// wss on the loops (docs/tls-design.md): after crypto/tls's handshake
// (tlsaccept.go) the raw socket runs here with the TLS 1.3 record layer of
// internal/tlsrec. The read side opens records in place in the worker's read
// buffer before the WebSocket code sees a byte; the write side seals what the
// Writer hands its Sink. An idle connection holds the keys and no buffer.

// tlsState is a loop-mode TLS connection's record layer, in the same parts as
// the Conn: state is identity (set before the connection is published); r,
// partial, fresh and alert belong to the read side (the owner of the running
// bit); w, backlog, covers and updateOwed to the write side (under write.mu).
type tlsState struct {
	state tls.ConnectionState

	r       *tlsrec.Reader
	partial []byte // pooled: bytes of a record not yet whole (the handshake's leftover at first)
	fresh   bool   // partial holds the leftover, not yet opened
	alert   int16  // the alert to send before closing: -1 none (a remote alert), 0 close_notify, >0 its code

	w          *tlsrec.Writer
	backlog    []byte // pooled: sealed bytes the socket has not taken, from boff
	boff       int
	covers     int  // the plaintext bytes at the front of the Writer's output that backlog carries
	updateOwed bool // the peer asked for a KeyUpdate (RFC 8446 §4.6.3): ours goes before our next record
}

// ConnectionState makes tlsState an upgrade.TLSConn (Request.TLS in the hooks).
func (t *tlsState) ConnectionState() tls.ConnectionState { return t.state }

// tlsBatch is the plaintext sealed per socket write: four full records.
const tlsBatch = 4 * tlsrec.MaxPlaintext

// tlsRecMax is the longest record on the wire.
const tlsRecMax = tlsrec.HeaderLen + tlsrec.MaxCiphertext

// readTLS reads once (read side): into the worker's buffer behind the kept
// partial record (a pooled buffer when the worker's is too small for a whole
// record and room to read), then opens what is whole there. It returns what
// the read returned and whether it filled the room (more may wait). The
// handshake's leftover is opened first, before the socket is read.
func (c *Conn) readTLS(w *worker) (n int, full bool, err error) {
	t := c.tls
	buf := w.buf
	if len(buf) < 2*tlsRecMax {
		buf = bufpool.Get(2 * tlsRecMax)
		defer bufpool.Put(buf)
	}
	if t.fresh {
		t.fresh = false
		c.tlsInput(w, buf[:copy(buf, t.partial)])
		if c.read.Get(w).flags&(rfFinished|rfVerifyWait) != 0 || c.paused.Load() {
			return 1, false, nil // the caller's checks stop it
		}
	}
	k := copy(buf, t.partial)
	n, err = c.sysRead(buf[k:])
	if n > 0 {
		c.stats.bytesIn.Add(uint64(n))
		c.touch(w)
		c.tlsInput(w, buf[:k+n])
	}
	t.r.Relax() // an idle read side keeps no AEAD (internal/tlsrec/idle.go)
	return n, k+n == len(buf), err
}

// tlsInput opens the records in data (the kept partial record followed by
// what was just read, in a buffer the read side may overwrite), keeps a
// trailing partial record, and hands the plaintext to the protocol. A record
// error ends the connection: a local one with its alert (RFC 8446 §6.2), a
// close_notify as the peer's EOF.
func (c *Conn) tlsInput(w *worker, data []byte) {
	t := c.tls
	res, err := t.r.Decrypt(data)
	if res.UpdateRequested {
		c.write.mu.Lock()
		t.updateOwed = true
		c.write.mu.Unlock()
	}
	rest := data[res.Plain : res.Plain+res.Rest]
	switch {
	case len(rest) == 0 && t.partial != nil:
		bufpool.Put(t.partial)
		t.partial = nil
	case len(rest) > 0 && cap(t.partial) >= len(rest):
		t.partial = append(t.partial[:0], rest...)
	case len(rest) > 0:
		if t.partial != nil {
			bufpool.Put(t.partial)
		}
		t.partial = append(bufpool.Get(max(len(rest), smallIn))[:0], rest...)
	}
	if res.Plain > 0 {
		c.consume(w, data[:res.Plain]) // authenticated data before any error goes first
	}
	if err == nil || c.read.Get(w).flags&rfFinished != 0 {
		return
	}
	if err == io.EOF { // close_notify: the peer's end of the stream
		c.onEOF(w)
		return
	}
	var ae *tlsrec.AlertError
	if errors.As(err, &ae) && ae.Remote {
		t.alert = -1 // §6: nothing goes back after a fatal alert
		c.onIOError(w, err)
		return
	}
	if code, ok := tlsrec.AlertToSend(err); ok {
		t.alert = int16(code)
	}
	c.eng.m.tlsRecordErrors.Add(1) // metrics.go
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

// tlsWrite2 is sysWrite2 for a loop-mode TLS connection (under write.mu): it
// seals a then b and writes the records, in batches of tlsBatch plaintext
// bytes. It reports plaintext: n is how many bytes of a and b the socket
// took whole. The sealed bytes of a batch the socket took only part of stay
// in backlog, carrying the next `covers` plaintext bytes, which the Writer
// queues like any bytes not taken and hands back first in its next write:
// those are then skipped, not sealed again, once backlog is out. So the
// Writer's queue, its counts and its backpressure stay in plaintext, and a
// sequence number is never spent twice.
func (c *Conn) tlsWrite2(a, b []byte) (int, error) {
	t := c.tls
	defer t.w.Relax() // an idle write side keeps no AEAD (internal/tlsrec/idle.go)
	done := 0
	if t.backlog != nil {
		n, err := c.fd.Write2(t.backlog[t.boff:], nil)
		c.stats.bytesOut.Add(uint64(n))
		t.boff += n
		if err != nil {
			return 0, err
		}
		if t.boff < len(t.backlog) {
			return 0, nil
		}
		c.tlsDropBacklog()
		// The bytes the backlog carried are out: skip them.
		skip := min(t.covers, len(a)+len(b))
		t.covers -= skip
		done = skip
		if t.covers > 0 {
			return done, nil
		}
		sa := min(skip, len(a))
		a, b = a[sa:], b[skip-sa:]
	}
	for len(a)+len(b) > 0 {
		na := min(len(a), tlsBatch)
		nb := min(len(b), tlsBatch-na)
		buf := bufpool.Get(tlsrec.SealedLen(na+nb) + 2*(tlsrec.HeaderLen+tlsrec.Overhead+8))[:0]
		var err error
		if t.updateOwed {
			t.updateOwed = false
			buf, err = t.w.AppendKeyUpdate(buf, false)
		}
		if err == nil {
			buf, err = t.w.AppendSeal2(buf, a[:na], b[:nb])
		}
		if err != nil {
			bufpool.Put(buf)
			return done, err
		}
		n, err := c.fd.Write2(buf, nil)
		c.stats.bytesOut.Add(uint64(n))
		if err != nil {
			bufpool.Put(buf)
			return done, err
		}
		if n < len(buf) {
			t.backlog, t.boff, t.covers = buf, n, na+nb
			c.eng.buffered.Add(int64(cap(buf))) // counted like the queue (MaxTotalBuffered)
			return done, nil
		}
		bufpool.Put(buf)
		done += na + nb
		a, b = a[na:], b[nb:]
	}
	return done, nil
}

// tlsDropBacklog gives the backlog back (under write.mu).
func (c *Conn) tlsDropBacklog() {
	t := c.tls
	if t.backlog == nil {
		return
	}
	c.eng.buffered.Add(-int64(cap(t.backlog)))
	bufpool.Put(t.backlog)
	t.backlog, t.boff = nil, 0
}

// tlsSayBye seals what this side says last on the TLS stream (under
// write.mu, before the socket is half-closed or closed): close_notify
// (RFC 8446 §6.1), or the alert a record error calls for (§6.2), behind what
// is left of a partly written record, as far as the socket takes it without
// blocking. Nothing after an abort, a write error or a remote fatal alert.
func (c *Conn) tlsSayBye() {
	t := c.tls
	if c.write.w.WriteErr() || c.closeReq.Load() == closeAbort || t.alert < 0 {
		return
	}
	var out [64]byte
	var rec []byte
	var err error
	if t.alert > 0 {
		rec, err = t.w.AppendAlert(out[:0], uint8(t.alert))
	} else {
		rec, err = t.w.AppendCloseNotify(out[:0])
	}
	if err != nil {
		return // sealed already (a half-close came first)
	}
	var head []byte
	if t.backlog != nil {
		head = t.backlog[t.boff:]
	}
	n, _ := c.fd.Write2(head, rec)
	c.stats.bytesOut.Add(uint64(n))
}

// tlsReleaseRead gives back the read side's partial record (releaseRead).
func (c *Conn) tlsReleaseRead() {
	if t := c.tls; t != nil && t.partial != nil {
		bufpool.Put(t.partial)
		t.partial = nil
	}
}
