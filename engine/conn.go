package engine

import (
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/sock"
	"github.com/weir-ws/weir/internal/wheel"
	"github.com/weir-ws/weir/internal/wsread"
	"github.com/weir-ws/weir/upgrade"
)

// State is where a connection is in its life (ws readyState).
type State uint32

const (
	StateConnecting State = iota // the opening handshake is under way
	StateOpen                    // messages flow both ways
	StateClosing                 // a close frame was sent or received; waiting for the rest
	StateClosed                  // the TCP connection is gone
)

func (s State) String() string {
	switch s {
	case StateConnecting:
		return "connecting"
	case StateOpen:
		return "open"
	case StateClosing:
		return "closing"
	case StateClosed:
		return "closed"
	}
	return "unknown"
}

// Stats are a connection's traffic counters, each way. Bytes count what crossed
// the socket for this connection: frames, close frames included, and on the
// engine's own listener the handshake too; frames that arrived together with
// the handshake (the head given to Adopt, or read past a client's 101) count as
// input.
type Stats struct {
	BytesIn, BytesOut       uint64
	MessagesIn, MessagesOut uint64
	FramesIn, FramesOut     uint64
}

// Conn is one WebSocket connection, server or client side. Its methods are safe from
// any goroutine. An open, idle Conn on the event loops holds no goroutine and no
// buffer: it is this struct, found by fd in its loop's table.
type Conn struct {
	// sched serialises all work on the connection: the running bit plus pending events
	// (see sched.go). Everything marked "worker context" below is touched only while
	// the running bit is held.
	sched  atomic.Uint32
	state  atomic.Uint32
	paused atomic.Bool // PauseRead: input is not watched
	queued atomic.Bool // out or pong holds bytes: a writable event means work

	fd   sock.FD // raw socket on a loop (owns nothing in goroutine mode)
	loop *loop
	eng  *engine
	h    Handler       // this connection's callbacks (the engine's, or the Dial option's)
	g    *gstate       // goroutine mode only
	x    *connExtra    // rarely needed facts, allocated when first needed (worker context)
	fl   *deflate.Conn // permessage-deflate state when negotiated, else nil

	// Read side, worker context.
	rd       wsread.Reader // the frame parser: partial frames, limits, message state (read.go)
	in       []byte        // pooled: handshake bytes, or input kept unparsed (rfStash, rfVerifyWait)
	msg      []byte        // pooled: the fragmented message being assembled
	rflags   uint16        // rf* bits
	pingDue  int64         // wheel tick at which an unanswered keepalive ping was sent, 0 when none
	deadline int64         // wheel tick: handshake or close deadline

	// Write side, under mu.
	mu         sync.Mutex
	closeReq   atomic.Uint32 // closeGraceful, closeNow or closeAbort, from any goroutine
	wflags     uint16        // wf* bits
	closeCd    frame.StatusCode
	out        []byte     // pooled: out[outHead:] is what the socket has not taken yet
	outHead    int        // bytes of out already written (outq.go compacts rarely)
	outCharged int64      // capacity of out and hq counted in the engine's total (settle)
	pong       *pongBuf   // pooled: pongs owed, encoded, waiting for the end of the turn or behind out
	dq         *doneQueue // WriteMessageFunc callbacks waiting for their bytes to go out
	hq         *heldQueue // whole messages waiting for a fragmented WriteFrame message to end
	outOff     int64      // bytes ever queued into out, for write completions
	closeRsn   string

	tnode    wheel.Node[Conn] // the loop's wheel entry, under the wheel's lock (timer.go)
	lastRead atomic.Int64     // wheel tick of the last input

	// Facts.
	client  bool
	version uint8
	folded  bool // counted into the engine's totals (under eng.statsMu)
	remote  netip.AddrPort
	sub     string
	user    atomic.Pointer[any]
	kept    atomic.Pointer[Kept] // set once, before OnOpen; read from any goroutine
	stats   connStats
	aux     atomic.Pointer[connAux] // made on first need, from any goroutine
	// AfterClose funcs (closehook.go).
	hooks atomic.Pointer[closeHooks]
}

// connExtra holds what few connections need: a pending
// asynchronous handshake, the reason a connection failed, a test masking hook.
type connExtra struct {
	req     any        // *upgrade.Handle while a deferred verify decision is pending
	failErr error      // why the connection was failed, reported to OnClose
	ip      netip.Addr // with ipSet: the client IP it counts under (limits.go)
	ipSet   bool
	maskFn  func() [4]byte
}

// connAux holds what few connections need and any goroutine may set up first
// (connExtra is worker context only): the ReadMessage queue of a server made
// without a Handler, and the PingRTT calls waiting for their pongs.
type connAux struct {
	q    atomic.Pointer[queue]
	rtt  atomic.Pointer[rttSet]
	done chan struct{} // closed by finish, once the connection is closed
}

// auxState returns c's connAux, making it on first use (any goroutine).
func (c *Conn) auxState() *connAux {
	if a := c.aux.Load(); a != nil {
		return a
	}
	c.aux.CompareAndSwap(nil, &connAux{done: make(chan struct{})})
	return c.aux.Load()
}

// ext returns c's extra facts, allocating them (worker context, or before start).
func (c *Conn) ext() *connExtra {
	if c.x == nil {
		c.x = &connExtra{}
	}
	return c.x
}

func (c *Conn) failErr() error {
	if c.x == nil {
		return nil
	}
	return c.x.failErr
}

func (c *Conn) pendingHandle() (*upgrade.Handle, bool) {
	if c.x == nil {
		return nil, false
	}
	h, ok := c.x.req.(*upgrade.Handle)
	return h, ok
}

// pongBuf holds the pong frames owed for the pings of one read turn, in order,
// encoded (RFC 6455 §5.5.3 allows answering only the latest: past pongBatch
// bytes, or while the socket is full, only the latest is kept).
type pongBuf struct {
	n      int // bytes of b in use
	frames int // pong frames in b[:n]
	b      [pongBatch]byte
}

var pongPool = sync.Pool{New: func() any { return new(pongBuf) }}

type doneQueue struct{ list []pendingDone }

type connStats struct {
	bytesIn, bytesOut, msgsIn, msgsOut, framesIn, framesOut atomic.Uint64
}

// rflags (worker context).
const (
	rfOpened     uint16 = 1 << iota // OnOpen was called, so OnClose is owed
	rfRecvClose                     // the peer's close frame arrived
	rfDiscard                       // failed: input is ignored until the peer hangs up
	rfFinished                      // finish ran
	rfHandshake                     // handshake bytes accumulate in `in`
	rfVerifyWait                    // an asynchronous verify decision is pending
	rfStash                         // `in` holds unparsed bytes kept by PauseRead
	rfPeerFirst                     // the peer's close frame came before ours went out
)

// wflags (under mu).
const (
	wfSentClose  uint16 = 1 << iota // our close frame is written or queued
	wfClosed                        // the socket is closed: no more syscalls on fd
	wfDrainOwed                     // out went above DrainLowWater: OnDrain is owed
	wfWriteErr                      // a write failed: the connection is going away
	wfNoCompress                    // EnableWriteCompression(false)
	wfShutOwed                      // half-close once the queued output is out (shutdownWrite)
	wfFragOpen                      // a fragmented WriteFrame message is in progress
	wfReadHeld                      // reading stopped: output above WriteHighWater (backpressure.go)
	wfFinishOwed                    // the close handshake is done: finish once output is out
)

type pendingDone struct {
	end int64 // outOff value at which the write is complete
	fn  func(error)
}

// Kept holds what the verify hook chose to keep from the handshake request.
type Kept struct {
	Path   string
	Query  string
	Header map[string][]string
}

// State reports where the connection is in its life.
func (c *Conn) State() State { return State(c.state.Load()) }

// RemoteAddr is the TCP peer (never taken from X-Forwarded-For).
func (c *Conn) RemoteAddr() netip.AddrPort { return c.remote }

// LocalAddr is the local end of the TCP connection (asked of the socket, so the
// connection does not carry it).
func (c *Conn) LocalAddr() netip.AddrPort {
	if c.g != nil {
		return addrPort(c.g.nc.LocalAddr())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.wflags&wfClosed != 0 {
		return netip.AddrPort{}
	}
	return c.fd.LocalAddr()
}

// Subprotocol is the negotiated subprotocol, "" for none.
func (c *Conn) Subprotocol() string { return c.sub }

// Version is the WebSocket protocol version of the handshake: 13, or 8.
func (c *Conn) Version() int { return int(c.version) }

// IsClient reports whether this end dialled the connection.
func (c *Conn) IsClient() bool { return c.client }

// Request returns what the verify hook kept from the handshake request, or nil.
// The facts never change once set (before OnOpen), and the pointer is
// published atomically, so any goroutine may call it.
func (c *Conn) Request() *Kept { return c.kept.Load() }

// SetUserData attaches a value to the connection; UserData returns it.
func (c *Conn) SetUserData(v any) { c.user.Store(&v) }

// UserData returns the value set by SetUserData or by the verify hook, or nil.
func (c *Conn) UserData() any {
	if p := c.user.Load(); p != nil {
		return *p
	}
	return nil
}

// CloseStatus returns the close code and reason once the connection is closing or
// closed (0 and "" before), so they stay readable after OnClose.
func (c *Conn) CloseStatus() (frame.StatusCode, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeCd, c.closeRsn
}

// Stats returns the connection's traffic counters.
func (c *Conn) Stats() Stats {
	s := &c.stats
	return Stats{
		BytesIn: s.bytesIn.Load(), BytesOut: s.bytesOut.Load(),
		MessagesIn: s.msgsIn.Load(), MessagesOut: s.msgsOut.Load(),
		FramesIn: s.framesIn.Load(), FramesOut: s.framesOut.Load(),
	}
}

// BufferedAmount is the number of bytes written by the application but not yet
// taken by the socket (ws bufferedAmount).
func (c *Conn) BufferedAmount() int {
	c.mu.Lock()
	n := c.pending()
	if c.pong != nil {
		n += c.pong.n
	}
	c.mu.Unlock()
	return n
}

// Compression reports the negotiated permessage-deflate parameters, if any.
func (c *Conn) Compression() (deflate.Params, bool) {
	if c.fl == nil {
		return deflate.Params{}, false
	}
	return c.fl.Params(), true
}

// EnableWriteCompression turns compression of this connection's outgoing messages
// on or off (on by default once negotiated): the per-message switch, for payloads
// that are already compressed or that mix secrets with attacker-controlled data
// (CRIME/BREACH). Messages under the Options.Threshold are never compressed.
func (c *Conn) EnableWriteCompression(on bool) {
	c.mu.Lock()
	if on {
		c.wflags &^= wfNoCompress
	} else {
		c.wflags |= wfNoCompress
	}
	c.mu.Unlock()
}
