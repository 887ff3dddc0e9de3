package wswrite

import (
	"errors"
	"sync/atomic"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/outq"
	"github.com/weir-ws/weir/internal/pagepool"
)

// Errors a write returns.
var (
	// ErrClosed: the connection is closing or closed; nothing more can be written.
	ErrClosed = errors.New("weir: connection closed")
	// ErrFull: the outbound cap or budget was reached (PolicyRefuse).
	ErrFull = errors.New("weir: write buffer full")
	// ErrDropped: the same, under PolicyDrop.
	ErrDropped = errors.New("weir: message dropped: write buffer full")
	// ErrSlowConsumer: the same, under PolicyClose: the caller closes with 1008.
	ErrSlowConsumer = errors.New("weir: slow consumer closed")
	// ErrBudgetCut: the socket took part of a frame and the budget
	// (Limits.MaxTotal) had no room left for the rest: the connection is cut
	// (a close frame cannot follow half a frame).
	ErrBudgetCut = errors.New("weir: connection cut: write budget exhausted mid-frame")
	// ErrFragmentOrder: a continuation frame with no fragmented message in
	// progress, or a new fragmented data frame while one is (RFC 6455 §5.4).
	ErrFragmentOrder = errors.New("weir: write: fragment out of order")
)

// Policy is what a write over the cap or budget gets.
type Policy uint8

const (
	PolicyRefuse Policy = iota // ErrFull, nothing sent
	PolicyDrop                 // ErrDropped, nothing sent (a continuation frame: as PolicyClose)
	PolicyClose                // ErrSlowConsumer: the caller closes the connection
)

// Limits is the write policy, shared by the Writers of an engine.
type Limits struct {
	MaxBuffer     int           // outbound bytes a connection may queue
	Total         *atomic.Int64 // memory all connections' queues hold (never nil)
	MaxTotal      int64         // bound of *Total; < 0: none
	Policy        Policy
	DrainLowWater int  // Flush reports Drained once pending falls to it after passing it
	HighWater     int  // HoldRead stops reading above it (< 0: never), resumes at half
	FragmentSize  int  // messages are cut into frames of at most this payload (0: one frame)
	Trace         bool // call Sink.FrameOut for every frame
	Compression   *deflate.Options
}

// Sink is the connection the Writer writes for. Its methods are called with
// the caller's lock held.
type Sink interface {
	// Write2 writes hdr[:hn] (a header, or a whole control frame) then p without blocking and returns how many
	// bytes the socket took (and counts them): (n, nil) when it took n and
	// would block; an error only when the socket failed. Goroutine mode returns
	// (0, nil): everything queues. It keeps no reference to p. The header comes
	// by value, so that a header built on the Writer's stack stays there.
	Write2(hdr [frameBuf]byte, hn int, p []byte) (int, error)
	// Failed records that a write failed (the connection is going away) and
	// returns the error the write reports.
	Failed(err error) error
	// Queued is called when bytes were queued (goroutine mode wakes its writer).
	Queued()
	// Retry asks the connection's owner for a flush turn.
	Retry()
	// Inflight is the bytes goroutine mode's writer is writing now (0 on loops).
	Inflight() int
	// FrameOut reports a frame going out (only with Limits.Trace).
	FrameOut(h frame.Header)
	// Committed reports whether bytes the last Write2 did not count as
	// taken are committed all the same (a TLS record layer sealed them and
	// will skip them when they are handed back): they must be queued, never
	// left out.
	Committed() bool
	// Env is what the Writer needs to know about the connection.
	Env() Env
}

// Env is what a Writer needs to know about its connection; it does not change
// once the connection is open.
type Env struct {
	Limits    *Limits
	Deflate   *deflate.Conn // nil: no compression negotiated
	Client    bool          // frames are masked
	Goroutine bool          // goroutine mode: a writer goroutine writes the queue
}

const (
	fSentClose  uint16 = 1 << iota // our close frame is written or queued
	fClosed                        // the socket is closed: no more syscalls
	fDrainOwed                     // pending went above DrainLowWater: Drained is owed
	fWriteErr                      // a write failed
	fNoCompress                    // SetCompression(false)
	fFragOpen                      // a fragmented message is in progress
	fReadHeld                      // reading stopped: pending above HighWater
	fReserving                     // a write holds a reservation in charged (unreserve ends it)
	fAdmitted                      // an admitted write is in progress (Admit to unreserve)
	fControl                       // a control frame is being written (emitControl)
	fCorkOK                        // writes may cork: the engine runs a batch (cork.go)
	fCorked                        // the queue's first bytes are corked, for the batch end
	fListed                        // the batch end will send them (CorkOff said so once)
	fCut                           // a write was cut mid-frame (ErrBudgetCut): the socket is healthy
)

// frameBuf is the size of the array a header or a whole control frame is
// built in (and handed to Sink.Write2 by value).
const frameBuf = frame.MaxHeaderSize + frame.MaxControlPayload

// FrameBuf is frameBuf, for Sink implementations.
type FrameBuf = [frameBuf]byte

// Writer is one connection's write side.
type Writer struct {
	frames atomic.Uint64 // frames written, for the connection's counters
	out    outq.Queue
	// charged is what Limits.Total counts for this Writer: the capacity of
	// out and held (settle), plus, while a write is in progress (fReserving),
	// the growth Admit reserved for it and it has not used yet.
	charged int64
	pongs   *outq.Pongs // pooled: pongs owed, for the end of the read turn or behind out
	extras  *extras     // what few connections need, made on first need
	flags   uint16
	corked  uint16      // the queue's first bytes that are corked, at most corkMax (cork.go)
	queued  atomic.Bool // the queue or pongs hold bytes: a writable event means work
}

type extras struct {
	// appended counts the bytes queued since the extras were made: the
	// offsets of dones are on this count. Its origin does not matter, as
	// each is compared with appended less what is still pending (TakeDones).
	appended int64
	dones    outq.Dones     // completions waiting for their bytes
	held     outq.Held      // whole messages behind a fragmented message
	maskKey  func() [4]byte // SetMaskKey
}

func (w *Writer) extra() *extras {
	if w.extras == nil {
		w.extras = &extras{}
	}
	return w.extras
}

// SetMaskKey makes fn the source of masking keys instead of MaskKey (a test
// hook; set before the connection starts).
func (w *Writer) SetMaskKey(fn func() [4]byte) {
	if fn != nil {
		w.extra().maskKey = fn
	}
}

// mask returns a fresh masking key.
func (w *Writer) mask() [4]byte {
	if x := w.extras; x != nil && x.maskKey != nil {
		return x.maskKey()
	}
	return MaskKey()
}

// Queued reports whether output or pongs are queued (any goroutine, no lock).
func (w *Writer) Queued() bool { return w.queued.Load() }

// FramesOut is the number of frames written (any goroutine, no lock).
func (w *Writer) FramesOut() uint64 { return w.frames.Load() }

// SentClose reports whether our close frame is written or queued.
func (w *Writer) SentClose() bool { return w.flags&fSentClose != 0 }

// Closed reports whether MarkClosed was called.
func (w *Writer) Closed() bool { return w.flags&fClosed != 0 }

// MarkClosed records that the socket is closed: nothing is written any more.
func (w *Writer) MarkClosed() { w.flags |= fClosed }

// WriteErr reports whether a write failed.
func (w *Writer) WriteErr() bool { return w.flags&fWriteErr != 0 }

// MarkWriteErr records a failed write (goroutine mode's writer).
func (w *Writer) MarkWriteErr() { w.flags |= fWriteErr }

// Stop ends the write side at once, as a failed write does (an abort: the
// socket closes without a close frame): nothing more reaches the socket, and
// writes get ErrClosed. Corked bytes, as good as sent, go first (Uncork).
func (w *Writer) Stop(s Sink) {
	w.Uncork(s)
	w.flags |= fWriteErr
}

// Cut reports whether a write was cut mid-frame (ErrBudgetCut). Unlike a
// socket error, nothing on the socket ends the connection then (it reads and
// writes on): the owner must end it itself.
func (w *Writer) Cut() bool { return w.flags&fCut != 0 }

// SetCompression turns compression of outgoing messages on or off.
func (w *Writer) SetCompression(on bool) {
	if on {
		w.flags &^= fNoCompress
	} else {
		w.flags |= fNoCompress
	}
}

// Len is the queued bytes the socket has not taken.
func (w *Writer) Len() int { return w.out.Len() }

// PongLen is the bytes of pongs owed.
func (w *Writer) PongLen() int {
	if w.pongs == nil {
		return 0
	}
	return w.pongs.Len()
}

// Pending is every outbound byte written and not yet taken by the socket: the
// queue, goroutine mode's write in flight and the held messages.
func (w *Writer) Pending(s Sink) int {
	n := w.out.Len() + s.Inflight()
	if x := w.extras; x != nil {
		n += x.held.Len()
	}
	return n
}

// Writable reports whether a frame with opcode op may still be written: nothing
// after the socket closed or a write failed (the connection is going away; after
// a cut, half a frame is on the wire and nothing may follow it), and nothing but
// the close after our close.
func (w *Writer) Writable(op frame.Opcode) error {
	if w.flags&(fClosed|fWriteErr) != 0 || (w.flags&fSentClose != 0 && op != frame.OpClose) {
		return ErrClosed
	}
	return nil
}

// ShouldCompress reports whether a message of n bytes is compressed.
func (w *Writer) ShouldCompress(env *Env, n int) bool {
	return env.Deflate != nil && w.flags&fNoCompress == 0 && env.Deflate.ShouldCompress(n)
}

// Admit applies the outbound cap and the budget to n more bytes and, when it
// lets them through, reserves in Limits.Total the memory queuing them would add
// (outq.Queue.Growth: nothing when the queue's buffer has room), so that
// writers on other connections judged at the same moment see it and the total
// never passes MaxTotal. The reservation is spent as the queue grows (settle)
// and what is left is given back when the write ends (unreserve).
//
// A write that finds nothing queued is not held to the cap (every connection
// can make progress) and, on the loops, is tried on the socket first, which
// usually takes it all and then costs the budget nothing, however full it is:
// a healthy connection is served while slow ones hold the budget. writeRaw
// reserves what the socket left; if the budget has no room for it the
// connection is cut (ErrBudgetCut), since the write can no longer be refused.
// Goroutine mode queues everything, so it reserves first and may be refused;
// so does a write while a fragmented message is in progress (a whole message
// is held behind it, out of the socket's reach).
func (w *Writer) Admit(s Sink, env *Env, n int) error {
	return w.admit(s, env, n, w.flags&fFragOpen != 0)
}

// admit is Admit for a write that goes to the held messages (hold) or to the
// queue.
func (w *Writer) admit(s Sink, env *Env, n int, hold bool) error {
	lim := env.Limits
	q := w.Pending(s) - int(w.corked) // corked bytes are as good as sent (cork.go)
	ahead := q
	if x := w.extras; x != nil && !hold {
		// The held messages wait behind this write (a frame of the
		// fragmented message they wait for): they cannot leave before it,
		// so it is not held to the cap for them, or it would be refused for
		// good and they would never leave either.
		ahead -= x.held.Len()
	}
	if ahead > 0 && q+n > lim.MaxBuffer {
		return refusal(lim)
	}
	g := int64(0)
	if lim.MaxTotal >= 0 && (q > 0 || env.Goroutine || hold || w.corked > 0) {
		// (Nothing queued on the loops: tried on the socket first, and writeRaw
		// reserves what it leaves. Behind corked bytes the write goes to the
		// queue, so its growth is reserved as for any queued write.)
		g = w.growth(n, hold)
	}
	if g > 0 && !w.reserve(lim, g) {
		return refusal(lim)
	}
	w.flags |= fAdmitted
	return nil
}

// check is Admit without a reservation: whether a write of n bytes could be
// admitted now (asked before spending compression on a message).
func (w *Writer) check(s Sink, lim *Limits, n int) error {
	q := w.Pending(s) - int(w.corked) // as in admit
	if q == 0 && w.corked == 0 {
		return nil
	}
	if q+n <= lim.MaxBuffer && (lim.MaxTotal < 0 || lim.Total.Load()+w.growth(n, w.flags&fFragOpen != 0) <= lim.MaxTotal) {
		return nil
	}
	return refusal(lim)
}

// growth is the most memory a write of n bytes can add at any moment, in
// whole pages: the growth of the queue, or of the held messages for a whole
// message written while a fragmented one is in progress (hold), which the
// socket cannot take.
func (w *Writer) growth(n int, hold bool) int64 {
	if !hold {
		return pages(w.out.Growth(n))
	}
	if x := w.extras; x != nil {
		return pages(x.held.Growth(n))
	}
	return pages((&outq.Held{}).Growth(n))
}

// pages is the memory a pooled buffer of size c holds resident: c rounded up
// to whole pages, since a buffer below a page shares its page with others and
// the page stays resident while any of them is in use (internal/pagepool).
// Counting it a page bounds resident memory whatever the sharing.
func pages(c int64) int64 {
	return (c + pagepool.PageSize - 1) &^ (pagepool.PageSize - 1)
}

// refusal is the error the policy gives a write it does not admit.
func refusal(lim *Limits) error {
	switch lim.Policy {
	case PolicyDrop:
		return ErrDropped
	case PolicyClose:
		return ErrSlowConsumer
	}
	return ErrFull
}

// reserve makes sure charged covers the memory the Writer would hold after
// growing by g, adding what is missing to the total unless that would pass
// MaxTotal: a compare-and-swap loop, so that the total never passes it even
// for a moment. The reservation lasts until unreserve.
func (w *Writer) reserve(lim *Limits, g int64) bool {
	need := w.holds() + g - w.charged
	if need <= 0 {
		return true
	}
	for {
		cur := lim.Total.Load()
		if cur+need > lim.MaxTotal {
			return false
		}
		if lim.Total.CompareAndSwap(cur, cur+need) {
			break
		}
	}
	w.charged += need
	w.flags |= fReserving
	return true
}

// unreserve ends the write in progress: charged (and the total) come back to
// what the Writer holds, giving back what the reservation did not use.
func (w *Writer) unreserve(lim *Limits) {
	reserving := w.flags&fReserving != 0
	w.flags &^= fReserving | fAdmitted
	if reserving {
		w.settle(lim)
	}
}

// HoldRead reports whether reading must stop for now because pending output is
// above Limits.HighWater; once stopped, until it is down to half the mark.
func (w *Writer) HoldRead(s Sink, lim *Limits) bool {
	mark := lim.HighWater
	if w.flags&fReadHeld != 0 {
		mark /= 2
	}
	held := w.Pending(s) > mark && w.flags&(fClosed|fWriteErr) == 0
	if held {
		w.flags |= fReadHeld
	} else {
		w.flags &^= fReadHeld
	}
	return held
}

// readResumable reports, once, that reading stopped by HoldRead may go on.
func (w *Writer) readResumable(s Sink, lim *Limits) bool {
	if w.flags&fReadHeld == 0 || w.Pending(s) > lim.HighWater/2 {
		return false
	}
	w.flags &^= fReadHeld
	return true
}

// headerSize is the size of a frame header for n payload bytes.
func headerSize(env *Env, n int) int {
	return frame.HeaderSize(frame.Header{Length: int64(n), Masked: env.Client})
}
