package wsconn

import (
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/admit"
	"github.com/weir-ws/weir/internal/closing"
	"github.com/weir-ws/weir/internal/hooks"
	"github.com/weir-ws/weir/internal/opmetrics"
	"github.com/weir-ws/weir/internal/owned"
	"github.com/weir-ws/weir/internal/reactor"
	"github.com/weir-ws/weir/internal/rtt"
	"github.com/weir-ws/weir/internal/wheel"
	"github.com/weir-ws/weir/internal/wsread"
	"github.com/weir-ws/weir/internal/wswrite"
	"github.com/weir-ws/weir/upgrade"
)

// State is engine.State (documented there).
type State uint32

const (
	StateConnecting State = iota
	StateOpen
	StateClosing
	StateClosed
)

func (s State) String() string {
	if s > StateClosed {
		return "unknown"
	}
	return [...]string{"connecting", "open", "closing", "closed"}[s]
}

// Stats is engine.Stats (documented there).
type Stats = opmetrics.Stats

// Conn is one WebSocket connection, server or client side. Its methods are safe from
// any goroutine. An open, idle Conn on the event loops holds no goroutine and no
// buffer: it is this struct, found by fd in its loop's table.
//
// Its state is in parts, each with one owner (docs/architecture.md):
//
//   - identity: what the connection is, set before it is published (before its fd
//     is watched or its goroutines start; the negotiated facts before its state
//     becomes open) and only read afterwards;
//   - read: the read side, reached only with a *worker in hand (internal/owned):
//     the key of the context that holds the running bit (sched.go), which is a
//     worker, an inline loop, or goroutine mode's reader goroutine;
//   - write: the write side and the close status, under WriteSide.Mu (the close
//     reason, made only for a non-empty one, in the sharedExtras);
//   - timers: the timing wheel's links (under the wheel's lock) and the deadlines
//     the owner of the running bit arms (keyed by *worker like the read side);
//   - the atomics below, for what goroutines tell each other.
//
// It is 352 bytes, a size class (TestConnSize): every idle connection is one.
type Conn struct {
	Identity
	ReadSide  owned.By[readSide, *worker] // ReadSide.Get(w): only the running bit's holder has a w
	WriteSide writeSide
	timers

	// sched serialises all work on the connection: the running bit plus pending
	// events (internal/reactor, sched.go).
	Sched    reactor.Sched
	state    atomic.Uint32
	closeReq atomic.Uint32 // a closing request (closing.Graceful, ...), from any goroutine
	paused   atomic.Bool   // PauseRead: input is not watched
	user     atomic.Pointer[any]
	Extras   atomic.Pointer[sharedExtras] // made on first need, by any goroutine
	stats    connStats
	// AfterClose funcs (closehook.go).
	hooks hooks.Slot[*Conn]
}

// readSide is the read path's state. Only the context that holds the running
// bit (a worker, an inline loop, or goroutine mode's reader) touches it: Conn
// keeps it in an owned.By keyed by *worker, so code with no worker in hand
// (a Conn method called from any goroutine) cannot name it.
type readSide struct {
	parser wsread.Reader // partial frames, message state (read.go); every call passes &Eng().Cfg.ReadLimits
	flags  uint16        // rf* bits
	close  closing.Read  // the close machine's: the peer's close frame, input dropped, finished
	Extras *readExtras   // what few connections need, made on first need and kept
}

// readExtras are what few connections' read sides need: the pooled buffers
// that outlive a read (a handshake cut by a read, a stash, a fragmented
// message), a pending asynchronous handshake, the reason a connection failed,
// the client IP it is counted under. Nil until a connection first needs one
// of them, then kept for the connection's life, so that it is made once,
// never per message, and an idle connection that never needed it does not
// carry it (TestConnSize). The buffers go back to the pool as they are used
// up (and at releaseRead); the struct holding their headers stays.
type readExtras struct {
	Unparsed []byte          // pooled: handshake bytes, or input kept unparsed (rfStash, rfVerifyWait)
	charged  int             // of unparsed's capacity, what the inbound budget holds (settleKept)
	Message  []byte          // pooled: the fragmented message being assembled
	pending  *upgrade.Handle // while a deferred verify decision is pending
	failErr  error           // why the connection was failed, reported to OnClose
	seat     admit.Seat      // the client IP it counts under, behind a trusted proxy (limits.go)
}

// extra returns r's extras, making them on first need.
func (r *readSide) extra() *readExtras {
	if r.Extras == nil {
		r.Extras = &readExtras{}
	}
	return r.Extras
}

// assembling reports whether a fragmented message is being assembled.
func (r *readSide) assembling() bool { return r.Extras != nil && r.Extras.Message != nil }

// failErr is why the connection was failed, or nil.
func (r *readSide) failErr() error {
	if r.Extras == nil {
		return nil
	}
	return r.Extras.failErr
}

// pendingHandle is the deferred verify decision the handshake waits for.
func (r *readSide) pendingHandle() (*upgrade.Handle, bool) {
	if r.Extras == nil || r.Extras.pending == nil {
		return nil, false
	}
	return r.Extras.pending, true
}

// writeSide is the write path's state (a wswrite.Writer: its fields are that
// package's, reached only through its methods) and the close status, all under
// mu.
type writeSide struct {
	Mu        sync.Mutex
	W         wswrite.Writer   // queue, pongs, held messages, completions (writeside.go)
	flags     uint16           // wf* bits: what the close path still owes
	closeCode frame.StatusCode // the close status, once closing (CloseStatus)
	// folded: counted into the engine's totals. Under the census's lock, not mu:
	// it sits here only because the padding after closeCode is free.
	Folded bool
	// The close status's reason is in the sharedExtras (closeReason), made
	// only for a non-empty one: most connections close without a reason, and
	// the Conn stays in its size class (TestConnSize).
}

// closeReason is the close status's reason (under WriteSide.Mu).
func (c *Conn) closeReason() string {
	if a := c.Extras.Load(); a != nil {
		return a.closeReason
	}
	return ""
}

// setStatus sets the close status (under WriteSide.Mu). A reason makes the
// sharedExtras if need be, once per connection, as it closes.
func (c *Conn) setStatus(code frame.StatusCode, reason string) {
	c.WriteSide.closeCode = code
	if reason != "" {
		c.SharedExtras().closeReason = reason
	} else if a := c.Extras.Load(); a != nil {
		a.closeReason = ""
	}
}

// timers is the connection's place in its loop's timing wheel and what it waits
// for there.
type timers struct {
	tnode    wheel.Node[Conn]             // the loop's wheel entry, under the wheel's lock (internal/wheel)
	due      owned.By[deadlines, *worker] // what the running bit's holder arms: due.Get(w)
	lastRead atomic.Int64                 // tick of the last input (the loop and the running bit's owner)
}

// deadlines are the ticks the context holding the running bit waits for
// (timer.go), kept like the read side: only a worker reaches them.
type deadlines struct {
	ping int64 // tick an unanswered keepalive ping was sent, 0 when none (internal/keepalive)
	// until is the tick of the handshake or close deadline while connecting
	// or closing. While open, which has neither, the same word is the
	// keepalive's output mark (outMark): a word less per connection, which
	// keeps the Conn in its size class (TestConnSize).
	until int64
}

// outMark is an open connection's keepalive output mark: outTaken when its
// unanswered ping went out (internal/keepalive), kept in the until word.
func (d *deadlines) outMark() *int64 { return &d.until }

// sharedExtras holds what few connections need and any goroutine may set up
// first: the ReadMessage queue of a connection made without a Handler, the
// PingRTT calls waiting for their pongs, and the close status's reason.
type sharedExtras struct {
	queue atomic.Pointer[queue]
	RTT   rtt.Set
	done  chan struct{} // closed by finish, once the connection is closed
	// closeReason is the close status's reason, "" for none: under WriteSide.Mu
	// like the code (setStatus; writeSide.closeCode).
	closeReason string
}

// sharedExtras returns c's sharedExtras, making them on first need (any goroutine).
func (c *Conn) SharedExtras() *sharedExtras {
	if a := c.Extras.Load(); a != nil {
		return a
	}
	c.Extras.CompareAndSwap(nil, &sharedExtras{done: make(chan struct{})})
	return c.Extras.Load()
}

type connStats struct {
	bytesIn, bytesOut, msgsIn, msgsOut, framesIn atomic.Uint64 // frames out: the Writer's
}

// read.flags (owner of the running bit).
const (
	rfOpened     uint16 = 1 << iota // OnOpen was called, so OnClose is owed
	rfHandshake                     // handshake bytes accumulate in read.extras.unparsed
	rfVerifyWait                    // an asynchronous verify decision is pending
	rfStash                         // read.extras.unparsed holds bytes kept by PauseRead
)

// write.flags (under WriteSide.Mu).
const (
	wfShutOwed    uint16 = 1 << iota // half-close once the queued output is out (shutdownWrite)
	wfFinishOwed                     // the close handshake is done: finish once output is out
	wfCloseBehind                    // goroutine mode: our close frame was queued behind other output
)

// Kept is engine.Kept (documented there).
type Kept struct {
	Path   string
	Query  string
	Header map[string][]string
}

// State is engine.Conn.State (documented there).
func (c *Conn) State() State { return State(c.state.Load()) }

// RemoteAddr is engine.Conn.RemoteAddr (documented there).
func (c *Conn) RemoteAddr() netip.AddrPort { return c.PeerAddr() }

// LocalAddr is engine.Conn.LocalAddr (documented there).
func (c *Conn) LocalAddr() netip.AddrPort {
	if c.goMode() {
		return AddrPort(c.Goroutine().NetConn().LocalAddr())
	}
	c.WriteSide.Mu.Lock()
	defer c.WriteSide.Mu.Unlock()
	if c.WriteSide.W.Closed() {
		return netip.AddrPort{}
	}
	return c.FD.LocalAddr()
}

// Subprotocol is engine.Conn.Subprotocol (documented there).
func (c *Conn) Subprotocol() string {
	if c.Rare == nil {
		return ""
	}
	return c.Rare.Subprotocol
}

// Version is engine.Conn.Version (documented there).
func (c *Conn) Version() int { return int(c.WSVersion) }

// IsClient is engine.Conn.IsClient (documented there).
func (c *Conn) IsClient() bool { return c.client() }

// Request is engine.Conn.Request (documented there).
func (c *Conn) Request() *Kept {
	if c.Rare == nil {
		return nil
	}
	return c.Rare.kept
}

// SetUserData is engine.Conn.SetUserData (documented there).
func (c *Conn) SetUserData(v any) { c.user.Store(&v) }

// UserData is engine.Conn.UserData (documented there).
func (c *Conn) UserData() any {
	if p := c.user.Load(); p != nil {
		return *p
	}
	return nil
}

// CloseStatus is engine.Conn.CloseStatus (documented there).
func (c *Conn) CloseStatus() (frame.StatusCode, string) {
	c.WriteSide.Mu.Lock()
	defer c.WriteSide.Mu.Unlock()
	return c.WriteSide.closeCode, c.closeReason()
}

// Stats is engine.Conn.Stats (documented there).
func (c *Conn) Stats() Stats {
	s := &c.stats
	return Stats{
		BytesIn: s.bytesIn.Load(), BytesOut: s.bytesOut.Load(),
		MessagesIn: s.msgsIn.Load(), MessagesOut: s.msgsOut.Load(),
		FramesIn: s.framesIn.Load(), FramesOut: c.WriteSide.W.FramesOut(),
	}
}

// BufferedAmount is engine.Conn.BufferedAmount (documented there).
func (c *Conn) BufferedAmount() int {
	c.WriteSide.Mu.Lock()
	n := c.pending() + c.WriteSide.W.PongLen()
	c.WriteSide.Mu.Unlock()
	return n
}

// Compression is engine.Conn.Compression (documented there).
func (c *Conn) Compression() (deflate.Params, bool) {
	if c.compression() == nil {
		return deflate.Params{}, false
	}
	return c.compression().Params(), true
}

// EnableWriteCompression is engine.Conn.EnableWriteCompression (documented there).
func (c *Conn) EnableWriteCompression(on bool) {
	c.WriteSide.Mu.Lock()
	c.WriteSide.W.SetCompression(on)
	c.WriteSide.Mu.Unlock()
}
