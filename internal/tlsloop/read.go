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
	// Hold charges (delta > 0) or refunds (delta < 0) the capacity of what
	// the read side keeps between reads: the pooled buffer of a partial
	// record (up to a record's 16 KiB in a 32 KiB buffer per connection) and
	// a post-handshake message cut across records (a client's
	// NewSessionTicket, up to about 80 KiB), inbound bytes a peer makes us
	// hold, bounded in total like a partial frame (Config.MaxTotalInbound).
	// false refuses a charge: nothing is charged, what was kept is let go,
	// and OverBudget ends the connection.
	Hold(delta int) bool
	OverBudget(w W)
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
		// The leftover's buffer was never charged: only what stays of it
		// after its records are opened is (a partial record), like a read's.
		input(t, r, w, buf[:t.Kept(buf)], 0)
		if r.Stopped(w) {
			return 1, false, nil
		}
	}
	k := t.Kept(buf)
	n, err = r.Read(w, buf[k:])
	// After a partial record was let go (OverBudget) nothing more can be
	// opened: what comes is read and dropped until the connection ends.
	if n > 0 && !t.lost {
		input(t, r, w, buf[:k+n], t.held())
	}
	t.RelaxRead() // an idle read side keeps no AEAD (internal/tlsrec/idle.go)
	return n, k+n == len(buf), err
}

// input opens the records in data and hands their plaintext to r; the
// authenticated data before an error goes first, then the error ends the
// connection as Fail says, unless handling the plaintext finished it. held
// is what the read side's keeping has charged (Reader.Hold, Conn.held); a
// growth the budget refuses ends the connection with OverBudget.
func input[R Reader[W], W any](t *Conn, r R, w W, data []byte, held int) {
	plain, update, err := t.Input(data)
	if update {
		r.UpdateOwed()
	}
	over := false
	if d := t.held() - held; d < 0 || d > 0 && !r.Hold(d) {
		if d < 0 {
			r.Hold(d)
		} else {
			// Refused: the partial record goes (its bytes are lost, the
			// connection ends), and what it held before with it.
			t.letGo()
			r.Hold(-held)
			t.lost, over = true, true
		}
	}
	if len(plain) > 0 {
		r.Plain(w, plain)
	}
	if r.Finished(w) {
		return
	}
	if over {
		r.OverBudget(w) // err is nil: a failing record keeps nothing
		return
	}
	if err == nil {
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
