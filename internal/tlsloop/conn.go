package tlsloop

import (
	"crypto/tls"
	"errors"
	"io"

	"github.com/weir-ws/weir/bufpool"
	"github.com/weir-ws/weir/internal/tlsrec"
)

// Conn is a loop-mode TLS connection's record layer, in the same parts as
// the engine's Conn: id is identity (set before the connection is
// published, then only read); r, partial, fresh and alert belong to the read side (the owner
// of the running bit); w, bl and updateOwed to the write side
// (under the write lock). The Reader and Writer are inline: an idle
// connection's record layer is this one allocation of 192 bytes
// (TestConnSize; docs/tls-design.md, "Memory"). What only a busy direction
// needs is behind a pointer made on need and let go when the direction goes
// idle, with its AEAD: the partial record's buffer (partial) and the
// backlog (bl).
type Conn struct {
	id ident // the handshake's tls.ConnectionState, compacted (state.go)

	r       tlsrec.Reader
	partial *[]byte // read side: its pooled buffer holds bytes of a record not yet whole (the handshake's leftover at first); nil when idle

	w  tlsrec.Writer
	bl *backlog // write side: nil until the first write the socket took only part of, then kept while the direction is busy

	alert      int16 // read side: the alert to send before closing: -1 none (a remote alert), 0 close_notify, >0 its code
	fresh      bool  // read side: partial holds the leftover, not yet opened
	lost       bool  // read side: a partial record was let go (over the budget): what follows is read and dropped
	updateOwed bool  // write side: the peer asked for a KeyUpdate (RFC 8446 §4.6.3): ours goes before our next record
}

// backlog is the write side's sealed bytes the socket has not taken. It is
// behind a pointer because most connections never have one (the socket took
// every write whole), and an idle connection should not carry its 32 bytes.
type backlog struct {
	buf    []byte // pooled: sealed bytes the socket has not taken, from off; nil when none
	off    int
	covers int // the plaintext bytes at the front of the Writer's output that buf carries
}

// kept is the partial record's bytes (read side), nil when none.
func (t *Conn) kept() []byte {
	if t.partial == nil {
		return nil
	}
	return *t.partial
}

// keep puts b, a pooled buffer or nil, as the partial record's (read side).
// The box is made on first need and kept until RelaxRead finds the read
// side idle.
func (t *Conn) keep(b []byte) {
	if t.partial == nil {
		if b == nil {
			return
		}
		t.partial = new([]byte)
	}
	*t.partial = b
}

// backlogged reports whether sealed bytes wait for the socket (write side).
func (t *Conn) backlogged() bool { return t.bl != nil && t.bl.buf != nil }

// Covering reports whether plaintext that Write2 did not count as taken is
// sealed already (write side): it is committed, and the caller must queue it
// and hand it back (to be skipped, never sealed twice), not leave it out.
func (t *Conn) Covering() bool { return t.bl != nil && t.bl.covers > 0 }

// smallKeep is the smallest pooled size taken to keep bytes.
const smallKeep = 64

// ReadRoom is the smallest buffer a read should use: room for the kept
// partial record and a whole record more. A smaller worker buffer is
// replaced by a pooled one of this size for the read.
const ReadRoom = 2 * (tlsrec.HeaderLen + tlsrec.MaxCiphertext)

// New returns the record layer of a connection whose handshake handed off
// with state, r and w. leftover (the bytes read past the handshake) is
// copied; when there is any, Fresh reports true once, and the first read
// turn opens it before reading the socket. It must fit in ReadRoom (it does:
// tlshand reads ahead at most 4 KiB). r and w move into the Conn: they are
// copied and cleared (their secrets with them) and must not be used again.
func New(state tls.ConnectionState, r *tlsrec.Reader, w *tlsrec.Writer, leftover []byte) *Conn {
	t := &Conn{id: compact(&state), r: *r, w: *w}
	*r, *w = tlsrec.Reader{}, tlsrec.Writer{}
	if len(leftover) > 0 {
		t.keep(append(bufpool.Get(max(len(leftover), smallKeep))[:0], leftover...))
		t.fresh = true
	}
	return t
}

// ConnectionState makes a Conn an upgrade.TLSConn (Request.TLS in the hooks):
// the state New was given, rebuilt from its compact form (state.go).
func (t *Conn) ConnectionState() tls.ConnectionState { return t.id.state() }

// Fresh reports, once, whether the handshake's leftover waits to be opened
// (read side): the caller then opens Kept's bytes with Input before reading
// the socket.
func (t *Conn) Fresh() bool {
	f := t.fresh
	t.fresh = false
	return f
}

// RelaxRead lets an idle read side drop its AEAD (tlsrec.Reader.Relax),
// after each read (read side), and with it the partial record's box when it
// is empty.
func (t *Conn) RelaxRead() {
	t.r.Relax()
	if t.partial != nil && *t.partial == nil && !t.r.Holding() {
		t.partial = nil
	}
}

// Kept copies the bytes of the partial record kept since the last Input to
// the front of buf and returns how many (read side). buf must have ReadRoom.
func (t *Conn) Kept(buf []byte) int { return copy(buf, t.kept()) }

// Input opens the records in data (the kept partial record followed by what
// was just read, in a buffer the read side may overwrite), keeps a trailing
// partial record, and returns the plaintext now at data's front (read side).
// update reports that the peer asked for a KeyUpdate (pass it on with
// OweUpdate, under the write lock). On an error the plaintext returned is the
// authenticated data before it, to be delivered before the error is handled
// (Fail).
func (t *Conn) Input(data []byte) (plain []byte, update bool, err error) {
	res, err := t.r.Decrypt(data)
	rest := data[res.Plain : res.Plain+res.Rest]
	switch p := t.kept(); {
	case len(rest) == 0 && p != nil:
		bufpool.Put(p)
		t.keep(nil)
	case len(rest) > 0 && cap(p) >= len(rest):
		t.keep(append(p[:0], rest...))
	case len(rest) > 0:
		if p != nil {
			bufpool.Put(p)
		}
		t.keep(append(bufpool.Get(max(len(rest), smallKeep))[:0], rest...))
	}
	return data[:res.Plain], res.UpdateRequested, err
}

// Fault is what an error from Input means for the connection.
type Fault uint8

const (
	// PeerClosed: a close_notify, the peer's end of the stream (its EOF).
	PeerClosed Fault = iota + 1
	// PeerAlert: the peer sent a fatal alert; nothing goes back (RFC 8446 §6).
	PeerAlert
	// BadRecord: a record failed here (authentication, plaintext after the
	// handshake, over the size limit, ...); Bye sends its alert (§6.2).
	BadRecord
)

// Fail says what err, returned by Input, means, and sets what Bye sends
// (read side). Call it only when the connection is still running: one that
// finished while handling the plaintext before err has said its goodbye.
func (t *Conn) Fail(err error) Fault {
	if err == io.EOF {
		return PeerClosed
	}
	var ae *tlsrec.AlertError
	if errors.As(err, &ae) && ae.Remote {
		t.alert = -1
		return PeerAlert
	}
	if code, ok := tlsrec.AlertToSend(err); ok {
		t.alert = int16(code)
	}
	return BadRecord
}

// ReleaseRead gives back the read side's partial record and returns the
// capacity to refund (Reader.Hold): none for a leftover never opened, which
// was not charged.
func (t *Conn) ReleaseRead() int {
	n := t.held()
	if t.fresh {
		n = 0
	}
	t.letGo()
	t.partial = nil
	return n
}

// letGo gives back the partial record's buffer, not its box, and lets go of
// a post-handshake message cut across records (read side).
func (t *Conn) letGo() {
	if p := t.kept(); p != nil {
		bufpool.Put(p)
		t.keep(nil)
	}
	t.r.DropPending()
}

// held is the capacity of what the read side keeps between reads for the
// peer: the partial record's buffer and a post-handshake message cut across
// records (a client's NewSessionTicket of up to 64 KiB), both charged to
// the inbound budget (Reader.Hold).
func (t *Conn) held() int { return cap(t.kept()) + t.r.PendingSize() }
