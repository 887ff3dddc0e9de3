package wsread

import (
	"encoding/binary"

	"github.com/weir-ws/weir/bufpool"
	"github.com/weir-ws/weir/frame"
)

// Limits are what a Reader enforces. One value is shared by every Reader of an
// engine; it must not change while they use it. A Reader does not keep it (a
// word less in every connection): Start, Next, ReadSpace and Release take it,
// and every call on a Reader must pass the Limits its Start was given.
type Limits struct {
	// MaxFrameSize caps the payload of one data frame, judged from its header.
	// It must be positive.
	MaxFrameSize int64
	// MaxMessageSize caps the sum of the payloads of a message's frames, as
	// their headers declare, judged at each header. It must be positive.
	MaxMessageSize int64
	// MaxFragments caps the data frames of one message, empty ones counted;
	// 0 or less: no cap.
	MaxFragments int64
	// SkipUTF8 trusts text to be UTF-8.
	SkipUTF8 bool
	// Headers makes Next report every header as soon as it is parsed, before
	// it is checked (EvHeader), for tracing.
	Headers bool
	// Budget, when set, is charged for the capacity of every Reader's buffer:
	// as it is taken or grown, refunded as it goes back to the pool. nil: no
	// accounting.
	Budget Budget
}

// Kind is what a call to Next found.
type Kind uint8

const (
	// EvNone: the chunk is used up (all of it consumed); feed more.
	EvNone Kind = iota
	// EvHeader: a header was parsed and not yet checked (only with
	// Limits.Headers). Event.Header is set.
	EvHeader
	// EvFrame: a whole, checked, unmasked frame.
	EvFrame
)

// Event is one result of Next.
type Event struct {
	Kind   Kind
	Header frame.Header // as on the wire (Masked and Mask too); the payload is unmasked already
	// Payload aliases the chunk given to Next or the Reader's buffer: valid
	// until the next call on the Reader.
	Payload []byte
	// Op is the opcode of the data message the frame belongs to (OpText or
	// OpBinary, also for its continuation frames); 0 for a control frame.
	Op frame.Opcode
	// Compressed: the message's first frame had RSV1 (RFC 7692 §6).
	Compressed bool
}

// Reader states.
const (
	stHeader  uint8 = iota // expecting a header; hdr holds hn bytes of it (keepCut)
	stCheck                // header parsed and reported (EvHeader), not checked yet
	stPayload              // header checked; buf holds the payload that has arrived
	stClosed               // a close frame was delivered: the rest is dropped
	stFailed               // a violation was reported: the rest is dropped
)

// Reader flags.
const (
	fClient     uint8 = 1 << iota // the reading end is a client: frames come unmasked
	fRSV1                         // an extension defines RSV1 (permessage-deflate)
	fCompressed                   // the message in progress is compressed
	fStarted
	fHeaders  // Limits.Headers, copied by Start
	fSkipUTF8 // Limits.SkipUTF8, copied by Start
)

// minBuf is the smallest buffer taken for a partial payload.
const minBuf = 64

// Reader is the state of one connection's read side. Its zero value is
// inert; Start it before the first Next. See the package documentation.
type Reader struct {
	buf []byte // pooled: the payload of the frame in flight, as much as has arrived
	// hdr is the frame in flight, once its header is parsed; while a header
	// is cut across chunks (hn > 0) it holds the hn bytes that came instead
	// (keepCut), so an idle Reader does not carry a header's worth of bytes
	// for that.
	hdr    frame.Header
	msgLen int64 // payload bytes of the message in progress, as headers declare
	nfrag  int64 // data frames in the message in progress
	hn     uint8 // bytes of a cut header kept in hdr
	state  uint8
	flags  uint8
	msgOp  frame.Opcode // opcode of the message in progress, 0 when none
	utf8   frame.UTF8Validator
}

// Start readies r to read a connection's frames under lim (which every later
// call on r passes too: see Limits). client says that
// the reading end is a client (RFC 6455 §5.1: it receives unmasked frames, a
// server masked ones); rsv1 that a negotiated extension (permessage-deflate,
// RFC 7692) defines RSV1 on the first frame of a data message.
func (r *Reader) Start(lim *Limits, client, rsv1 bool) {
	r.Release(lim)
	*r = Reader{flags: fStarted}
	if lim.Headers {
		r.flags |= fHeaders
	}
	if lim.SkipUTF8 {
		r.flags |= fSkipUTF8
	}
	if client {
		r.flags |= fClient
	}
	if rsv1 {
		r.flags |= fRSV1
	}
}

// Started reports whether Start was called.
func (r *Reader) Started() bool { return r.flags&fStarted != 0 }

// Closed reports whether a close frame was delivered.
func (r *Reader) Closed() bool { return r.state == stClosed }

// Release returns r's buffer to the pool and makes r drop all further input
// (the connection failed or ended). lim is the one given to Start.
func (r *Reader) Release(lim *Limits) {
	if r.buf != nil {
		r.put(lim)
	}
	r.hn = 0
	r.msgOp = 0
	if r.state != stClosed {
		r.state = stFailed
	}
}

// Next consumes data[:n] and reports what it found there: one frame or header
// (ev.Kind != EvNone), or EvNone once all of data is consumed (n == len(data))
// with nothing more to report. A caller feeds a chunk by calling Next with
// what is left of it until EvNone, and may stop in between (to pause); the
// rest of the chunk is then simply not consumed. An error is a violation,
// reported once; r then drops all input. A payload delivered from r's buffer
// is valid until the next call, which returns the buffer to the pool. lim is
// the one given to Start.
func (r *Reader) Next(lim *Limits, data []byte) (ev Event, n int, err error) {
	if r.buf != nil && r.state != stPayload {
		r.put(lim) // the previous frame's, delivered
	}
	switch r.state {
	case stHeader:
		var h frame.Header
		var ok bool
		h, n, ok, err = r.header(data)
		if !ok {
			return Event{}, n, err
		}
		r.hdr = h
		if r.flags&fHeaders != 0 {
			r.state = stCheck
			return Event{Kind: EvHeader, Header: h}, n, nil
		}
		if err := r.check(lim); err != nil {
			return Event{}, n, err
		}
		r.state = stPayload
	case stCheck:
		if err := r.check(lim); err != nil {
			return Event{}, 0, err
		}
		r.state = stPayload
	case stPayload:
	default: // closed or failed
		return Event{}, len(data), nil
	}
	data = data[n:]
	need := r.hdr.Length - int64(len(r.buf))
	if r.buf == nil && int64(len(data)) >= need {
		// The whole payload is in the chunk: the zero-copy path.
		p := data[:need]
		n += len(p)
		if err := r.arrived(p, 0); err != nil {
			return Event{}, n, err
		}
		ev, err = r.deliver(p)
		return ev, n, err
	}
	// The frame continues past the chunk: keep what came, growing the buffer
	// by what arrives, never by what the header declares.
	k := int(min(int64(len(data)), need))
	if k > 0 {
		if err := r.grow(lim, k); err != nil {
			return Event{}, n, err
		}
		off := len(r.buf)
		r.buf = append(r.buf, data[:k]...)
		n += k
		if err := r.arrived(r.buf[off:], off); err != nil {
			return Event{}, n, err
		}
	}
	if int64(len(r.buf)) < r.hdr.Length {
		return Event{}, n, nil
	}
	ev, err = r.deliver(r.buf)
	return ev, n, err
}

// header parses a header from the front of data, joining it to the part kept
// from earlier chunks, and returns the bytes of data it consumed. ok is false
// while the header is incomplete (then all of data was consumed and kept) and
// on a violation (err).
func (r *Reader) header(data []byte) (h frame.Header, n int, ok bool, err error) {
	var hb cutHeader
	if r.hn == 0 {
		h, n, err = frame.ParseHeader(data)
		if err == frame.ErrShortHeader {
			// len(data) < n <= MaxHeaderSize: keep it.
			r.hn = uint8(copy(hb[:], data))
			r.keepCut(&hb)
			return h, len(data), false, nil
		}
		if err != nil {
			return h, 0, false, r.fail(err)
		}
		return h, n, true, nil
	}
	had := int(r.hn)
	r.takeCut(&hb)
	k := copy(hb[had:], data)
	h, size, err := frame.ParseHeader(hb[:had+k])
	if err == frame.ErrShortHeader {
		r.hn += uint8(k)
		r.keepCut(&hb)
		return h, k, false, nil
	}
	r.hn = 0
	if err != nil {
		return h, 0, false, r.fail(err)
	}
	return h, size - had, true, nil
}

// cutHeader is the bytes of a header cut across chunks.
type cutHeader = [frame.MaxHeaderSize]byte

// keepCut keeps the bytes of a cut header in r.hdr, which has no parsed
// header to hold until they are whole: Rsv, Opcode, Mask and Length are
// exactly MaxHeaderSize (14) bytes (Fin and Masked, bools, take none).
func (r *Reader) keepCut(b *cutHeader) {
	r.hdr = frame.Header{Rsv: b[0], Opcode: frame.Opcode(b[1]),
		Mask: [4]byte(b[2:6]), Length: int64(binary.LittleEndian.Uint64(b[6:]))}
}

// takeCut returns the bytes keepCut kept.
func (r *Reader) takeCut(b *cutHeader) {
	h := &r.hdr
	b[0], b[1] = h.Rsv, byte(h.Opcode)
	copy(b[2:6], h.Mask[:])
	binary.LittleEndian.PutUint64(b[6:], uint64(h.Length))
}

// check judges a parsed header (r.hdr) before any of its payload is looked at,
// and opens or continues the message. Every comparison is made so that it
// cannot overflow, whatever the declared length.
func (r *Reader) check(lim *Limits) error {
	h := &r.hdr
	// RFC 6455 §5.1: a client masks every frame, a server none.
	if r.flags&fClient != 0 {
		if h.Masked {
			return r.fail(ErrMaskedFrame)
		}
	} else if !h.Masked {
		return r.fail(ErrUnmaskedFrame)
	}
	// §5.2: a nonzero RSV bit needs an extension that defines it; RFC 7692
	// §6: permessage-deflate's RSV1 only on the first frame of a data message
	// (a text or binary opcode inside a message fails below, §5.4).
	if h.Rsv != 0 && !(r.flags&fRSV1 != 0 && h.Rsv == frame.Rsv1 &&
		(h.Opcode == frame.OpText || h.Opcode == frame.OpBinary)) {
		return r.fail(ErrUnexpectedRSV)
	}
	if h.Opcode.IsControl() {
		return nil // ParseHeader enforced FIN and the 125-byte cap (§5.5)
	}
	if h.Length > lim.MaxFrameSize {
		return r.fail(ErrFrameTooBig)
	}
	// §5.4: fragments of one message are not interleaved with other messages.
	if h.Opcode == frame.OpContinuation {
		if r.msgOp == 0 {
			return r.fail(ErrUnexpectedContinuation)
		}
	} else {
		if r.msgOp != 0 {
			return r.fail(ErrExpectedContinuation)
		}
		r.msgOp = h.Opcode
		r.nfrag, r.msgLen = 0, 0
		r.utf8.Reset()
		r.flags &^= fCompressed
		if h.Rsv&frame.Rsv1 != 0 {
			r.flags |= fCompressed
		}
	}
	r.nfrag++
	if lim.MaxFragments > 0 && r.nfrag > lim.MaxFragments {
		return r.fail(ErrTooManyFragments)
	}
	// msgLen <= MaxMessageSize always holds here, so the subtraction cannot
	// overflow where msgLen+Length could.
	if h.Length > lim.MaxMessageSize-r.msgLen {
		return r.fail(ErrMessageTooBig)
	}
	r.msgLen += h.Length
	return nil
}

// arrived unmasks p, payload bytes at offset off of the frame in flight that
// just arrived, and checks text for UTF-8 as it goes (§8.1: fail fast, even
// mid-frame).
func (r *Reader) arrived(p []byte, off int) error {
	h := &r.hdr
	if h.Masked {
		frame.Mask(h.Mask, off&3, p)
	}
	if r.msgOp == frame.OpText && !h.Opcode.IsControl() && r.flags&(fCompressed|fSkipUTF8) == 0 {
		if !r.utf8.Write(p) {
			return r.fail(ErrTextNotUTF8)
		}
	}
	return nil
}

// grow makes room in buf for k more bytes (k <= the payload still to come):
// at least k, at most doubling what is there, never past the frame's end.
func (r *Reader) grow(lim *Limits, k int) error {
	if cap(r.buf)-len(r.buf) >= k {
		return nil
	}
	old := cap(r.buf)
	if r.buf == nil {
		r.buf = bufpool.Get(max(k, minBuf))[:0]
	} else {
		more := max(k, len(r.buf))
		more = int(min(int64(more), r.hdr.Length-int64(len(r.buf))))
		r.buf = bufpool.Grow(r.buf, more)
	}
	return r.charge(lim, old)
}

// deliver reports the frame in flight, whole, with payload p, and moves on.
func (r *Reader) deliver(p []byte) (Event, error) {
	h := r.hdr
	r.state = stHeader
	ev := Event{Kind: EvFrame, Header: h, Payload: p}
	if h.Opcode.IsControl() {
		if h.Opcode == frame.OpClose {
			// §5.5.1: a close payload is empty or a valid code and a UTF-8
			// reason; after it, nothing more is delivered.
			if _, _, err := frame.ParseClose(p); err != nil {
				return Event{}, r.fail(err)
			}
			r.state = stClosed
			r.msgOp = 0
		}
		return ev, nil
	}
	ev.Op = r.msgOp
	ev.Compressed = r.flags&fCompressed != 0
	if h.Fin {
		if r.msgOp == frame.OpText && !ev.Compressed && r.flags&fSkipUTF8 == 0 && !r.utf8.Complete() {
			return Event{}, r.fail(ErrTextNotUTF8)
		}
		r.msgOp = 0
	}
	return ev, nil
}

// fail moves r to the failed state and returns err.
func (r *Reader) fail(err error) error {
	r.state = stFailed
	return err
}

// ReadSpace returns room at the end of the buffer of the frame in flight for
// a read of at least min bytes straight into it (no copy through the caller's
// read buffer), or nil. It offers room only to a frame that has at least want
// payload bytes still to come and has already shown want bytes, so the buffer
// at most doubles what has arrived. After reading k bytes into the room, call
// Commit(k), then Next(nil). An error (ErrBudget: the growth was refused) is a
// violation, as from Next. lim is the one given to Start.
func (r *Reader) ReadSpace(lim *Limits, want int) ([]byte, error) {
	if r.state != stPayload || len(r.buf) < want || want <= 0 {
		return nil, nil
	}
	rest := r.hdr.Length - int64(len(r.buf))
	if rest < int64(want) {
		return nil, nil
	}
	if cap(r.buf)-len(r.buf) < want {
		old := cap(r.buf)
		r.buf = bufpool.Grow(r.buf, int(min(int64(len(r.buf)), rest)))
		if err := r.charge(lim, old); err != nil {
			return nil, err
		}
	}
	end := int(min(int64(cap(r.buf)), int64(len(r.buf))+rest))
	return r.buf[len(r.buf):end], nil
}

// Held is the capacity of the buffer r holds now (what it has charged to
// Limits.Budget).
func (r *Reader) Held() int { return cap(r.buf) }

// Commit takes k bytes read into the room ReadSpace gave as payload that has
// arrived: they are unmasked and checked like bytes given to Next.
func (r *Reader) Commit(k int) error {
	off := len(r.buf)
	r.buf = r.buf[:off+k]
	return r.arrived(r.buf[off:], off)
}
