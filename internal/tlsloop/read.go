package tlsloop

import "github.com/weir-ws/weir/bufpool"

// Reader is a connection's read side as Read drives it, in the context that
// holds the connection's running bit (keyed by W).
type Reader[W any] interface {
	// Read reads the raw socket once into b without blocking, and counts
	// (and stamps, for keepalive) what it read.
	Read(w W, b []byte) (int, error)
	// Plain hands plaintext to the protocol, which keeps no reference into it.
	Plain(w W, p []byte)
	// Stopped reports whether the protocol takes no more input this turn
	// (finished, waiting for a decision, paused); Finished, whether the
	// connection finished.
	Stopped(w W) bool
	Finished(w W) bool
	// UpdateOwed passes on the peer's KeyUpdate request: OweUpdate, under
	// the write lock.
	UpdateOwed()
	// EOF: the peer's close_notify, its end of the stream. Alert: the peer's
	// fatal alert, after which nothing goes back (RFC 8446 §6). BadRecord: a
	// record failed here; its alert is owed (Bye, §6.2) and the connection
	// ends.
	EOF(w W)
	Alert(w W, err error)
	BadRecord(w W, err error)
}

// Read reads once (read side): into buf behind the kept partial record (into
// a pooled buffer when buf is smaller than ReadRoom), then opens what is
// whole there and hands its plaintext to r. It returns what the read
// returned and whether it filled the room (more may wait). The handshake's
// leftover is opened first, before the socket is read; if that stops the
// protocol, nothing is read and n is 1 (the caller's checks stop it).
// After the read an idle read side drops its AEAD (RelaxRead).
func Read[R Reader[W], W any](t *Conn, r R, w W, buf []byte) (n int, full bool, err error) {
	if len(buf) < ReadRoom {
		buf = bufpool.Get(ReadRoom)
		defer bufpool.Put(buf)
	}
	if t.Fresh() {
		input(t, r, w, buf[:t.Kept(buf)])
		if r.Stopped(w) {
			return 1, false, nil
		}
	}
	k := t.Kept(buf)
	n, err = r.Read(w, buf[k:])
	if n > 0 {
		input(t, r, w, buf[:k+n])
	}
	t.RelaxRead() // an idle read side keeps no AEAD (internal/tlsrec/idle.go)
	return n, k+n == len(buf), err
}

// input opens the records in data and hands their plaintext to r; the
// authenticated data before an error goes first, then the error ends the
// connection as Fail says, unless handling the plaintext finished it.
func input[R Reader[W], W any](t *Conn, r R, w W, data []byte) {
	plain, update, err := t.Input(data)
	if update {
		r.UpdateOwed()
	}
	if len(plain) > 0 {
		r.Plain(w, plain)
	}
	if err == nil || r.Finished(w) {
		return
	}
	switch t.Fail(err) {
	case PeerClosed:
		r.EOF(w)
	case PeerAlert:
		r.Alert(w, err)
	default:
		r.BadRecord(w, err)
	}
}
