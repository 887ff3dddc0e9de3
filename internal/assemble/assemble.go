package assemble

import (
	"github.com/weir-ws/weir/bufpool"
	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/wsread"
)

// smallest is the smallest pooled size taken to start a message.
const smallest = 64

// Append appends p to the message being assembled in *msg, growing it when
// it must and charging t for the growth. A message's last frame (last)
// grows it by exactly what is missing; the others by at least as much as it
// holds, so that a message of many frames is copied O(log n) times. On false
// the growth was refused: *msg was released and refunded, and is nil.
func Append(msg *[]byte, p []byte, last bool, t *wsread.Total) bool {
	more := len(p)
	if !last {
		more = max(len(p), len(*msg))
	}
	m, old := *msg, cap(*msg)
	switch {
	case m == nil:
		m = bufpool.Get(max(len(p), smallest))[:0]
	case old-len(m) < len(p):
		m = bufpool.Grow(m, more)
	}
	if cap(m) != old && !t.Charge(cap(m)-old) {
		bufpool.Put(m)
		t.Refund(old)
		*msg = nil
		return false
	}
	*msg = append(m, p...)
	return true
}

// Put returns a message buffer to the pool and its capacity to t.
func Put(t *wsread.Total, b []byte) {
	t.Refund(cap(b))
	bufpool.Put(b)
}

// Inflate inflates a compressed message's payload (its frames' payloads
// together) into a pooled buffer charged to t (nil: none) as it grows, which
// the caller gives back with Put: at most limit bytes (over it, deflate's
// 1009 error), and for text valid UTF-8 unless skipUTF8 (else
// wsread.ErrTextNotUTF8). A growth t refuses stops inflating with
// wsread.ErrBudget (1013). On error no buffer is left to give back and
// nothing charged.
//
// Charged while it grows, not once inflated: goroutine mode inflates on
// every connection's reader at once, and 300 peers each sending a 16 KiB
// bomb of 16 MiB held 1.3 GB together beside a 64 MiB budget before any
// charge could refuse them.
func Inflate(d *deflate.Conn, op frame.Opcode, payload []byte, limit int64, skipUTF8 bool, t *wsread.Total) ([]byte, error) {
	var b deflate.Budget
	if t != nil {
		b = t
	}
	// A first guess of four times the input, at most firstOut: past that
	// the output doubles as it comes (deflate.Conn.DecompressBudget), so
	// that what is charged is what the message needs.
	dst := bufpool.Get(int(min(max(int64(4*len(payload)), 4096), firstOut, limit+1)))[:0]
	if b != nil && !b.Charge(cap(dst)) {
		bufpool.Put(dst)
		return nil, wsread.ErrBudget
	}
	msg, err := d.DecompressBudget(dst, payload, limit, b) // t holds cap(msg) now
	if err == nil && op == frame.OpText && !skipUTF8 && !frame.ValidUTF8(msg) {
		err = wsread.ErrTextNotUTF8
	}
	if err != nil {
		if b != nil {
			b.Refund(cap(msg))
		}
		bufpool.Put(msg)
		if err == deflate.ErrBudget {
			err = wsread.ErrBudget
		}
		return nil, err
	}
	if cap(msg) > trimAbove && cap(msg) > 2*len(msg) {
		// The first guess at the output (four times the input) overshoots
		// what an incompressible message inflates to: 1 MiB held 8 MiB.
		// The caller holds and is charged the capacity, so move it into a
		// buffer of its size (at most twice it) and give the rest back
		// (charged first, both held for a moment; refused, it stays).
		nb := bufpool.Get(len(msg))
		if b == nil || b.Charge(cap(nb)) {
			copy(nb, msg)
			if b != nil {
				b.Refund(cap(msg))
			}
			bufpool.Put(msg)
			msg = nb
		} else {
			bufpool.Put(nb)
		}
	}
	return msg, nil
}

// firstOut caps the first guess at an inflated message's size.
const firstOut = 64 << 10

// trimAbove is the capacity below which an inflated message is never moved to
// a smaller buffer: small ones are not worth a copy.
const trimAbove = 64 << 10

// Compressed takes a frame of a compressed message (payload p, fin on its
// last): the frames before the last are collected in *msg as Append collects
// them (a refused growth: wsread.ErrBudget); at the last, the message (p
// alone when it is one frame) is inflated as Inflate does it, *msg is put
// back, and the inflated message is returned with ready, charged to t (the
// caller gives it back with Put). On error nothing is left held.
//
// The inflated copy is charged like an assembled message, as it grows and
// for as long as the caller holds it (its OnMessage): uncharged, a peer's
// 1 KiB bomb held MaxMessageSize while a slow handler ran, one per
// connection in goroutine mode, so the budget bounded nothing a compressing
// peer sent.
func Compressed(msg *[]byte, p []byte, fin bool, t *wsread.Total, d *deflate.Conn, op frame.Opcode, limit int64, skipUTF8 bool) (out []byte, ready bool, err error) {
	if !fin || *msg != nil {
		// The frames count against the budget like an assembled message;
		// the inflated copy lives only until the caller puts it back.
		if !Append(msg, p, false, t) {
			return nil, false, wsread.ErrBudget
		}
		if !fin {
			return nil, false, nil
		}
		p = *msg
	}
	out, err = Inflate(d, op, p, limit, skipUTF8, t)
	if *msg != nil {
		Put(t, *msg)
		*msg = nil
	}
	return out, err == nil, err
}
