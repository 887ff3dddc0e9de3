package tlsloop

import (
	"github.com/weir-ws/weir/bufpool"
	"github.com/weir-ws/weir/internal/tlsrec"
)

// Batch is the plaintext sealed per socket write: four full records.
const Batch = 4 * tlsrec.MaxPlaintext

// Socket is the connection's raw socket as the write side sees it.
type Socket interface {
	// Write2 writes a then b without blocking, counts the bytes it wrote, and
	// returns how many the socket took.
	Write2(a, b []byte) (int, error)
	// Held reports that the memory holding sealed bytes not yet written
	// changed by delta bytes (the engine counts it like its write queue).
	Held(delta int)
}

// OweUpdate notes that the peer asked for a KeyUpdate (RFC 8446 §4.6.3):
// ours goes before our next record (under the write lock).
func (t *Conn) OweUpdate() { t.updateOwed = true }

// Write2 seals a then b and writes the records to s, in batches of Batch
// plaintext bytes (under the write lock). It reports plaintext: n is how
// many bytes of a and b the socket took whole. The sealed bytes of a batch
// the socket took only part of stay in the backlog, carrying the next
// `covers` plaintext bytes, which the caller queues like any bytes not
// taken and hands back first in its next write: those are then skipped,
// not sealed again, once the backlog is out.
func (t *Conn) Write2(s Socket, a, b []byte) (int, error) {
	defer t.relaxWrite()
	done := 0
	if t.backlogged() {
		bl := t.bl
		n, err := s.Write2(bl.buf[bl.off:], nil)
		bl.off += n
		if err != nil {
			return 0, err
		}
		if bl.off < len(bl.buf) {
			return 0, nil
		}
		t.DropBacklog(s)
	}
	if t.bl != nil && t.bl.covers > 0 {
		// The bytes the backlog carried are out: skip them, here or, if the
		// caller handed back fewer this time, in its next writes (never
		// sealed twice).
		skip := min(t.bl.covers, len(a)+len(b))
		t.bl.covers -= skip
		done = skip
		if t.bl.covers > 0 {
			return done, nil
		}
		sa := min(skip, len(a))
		a, b = a[sa:], b[skip-sa:]
	}
	for len(a)+len(b) > 0 {
		na := min(len(a), Batch)
		nb := min(len(b), Batch-na)
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
		n, err := s.Write2(buf, nil)
		if err != nil {
			bufpool.Put(buf)
			return done, err
		}
		if n < len(buf) {
			if t.bl == nil {
				t.bl = new(backlog) // kept while the write side is busy (relaxWrite)
			}
			t.bl.buf, t.bl.off, t.bl.covers = buf, n, na+nb
			s.Held(cap(buf))
			return done, nil
		}
		bufpool.Put(buf)
		done += na + nb
		a, b = a[na:], b[nb:]
	}
	return done, nil
}

// relaxWrite lets an idle write side drop its AEAD (internal/tlsrec/idle.go),
// after each write (under the write lock), and with it the backlog's box when
// it carries nothing (no sealed bytes, none to skip).
func (t *Conn) relaxWrite() {
	t.w.Relax()
	if t.bl != nil && t.bl.buf == nil && t.bl.covers == 0 && !t.w.Holding() {
		t.bl = nil
	}
}

// DropBacklog gives the backlog back (under the write lock).
func (t *Conn) DropBacklog(s Socket) {
	if !t.backlogged() {
		return
	}
	s.Held(-cap(t.bl.buf))
	bufpool.Put(t.bl.buf)
	t.bl.buf, t.bl.off = nil, 0
}

// Bye seals what this side says last on the TLS stream (under the write
// lock, before the socket is half-closed or closed): close_notify
// (RFC 8446 §6.1), or the alert a record error calls for (§6.2, Fail),
// behind what is left of a partly written record, as far as the socket takes
// it without blocking. Nothing after the peer's fatal alert; the caller says
// nothing either after an abort or a write error.
func (t *Conn) Bye(s Socket) {
	if t.alert < 0 {
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
	if t.backlogged() {
		head = t.bl.buf[t.bl.off:]
	}
	s.Write2(head, rec)
}
