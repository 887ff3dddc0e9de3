package engine

import (
	"context"
	"crypto/tls"
	"net/netip"
	"time"
	"unsafe"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/opmetrics"
	"github.com/weir-ws/weir/internal/wsconn"
	"github.com/weir-ws/weir/upgrade"
)

// Conn is one WebSocket connection, server or client side. Its methods are safe from
// any goroutine. An open, idle Conn on the event loops holds no goroutine and no
// buffer: it is this struct, found by fd in its loop's table.
//
// It is the connection machine's Conn (internal/wsconn, docs/architecture.md)
// under the public API: each method below is one call into it.
type Conn struct{ c wsconn.Conn }

// pub is the machine's c as the engine's Conn: the same memory (a Conn is
// exactly its one field), so a handler sees the pointer the application keeps.
func pub(c *wsconn.Conn) *Conn { return (*Conn)(unsafe.Pointer(c)) }

// A Conn is exactly as large as the machine's (pub relies on it): either
// array length below would be negative, a compile error, otherwise.
var (
	_ [unsafe.Sizeof(Conn{}) - unsafe.Sizeof(wsconn.Conn{})]struct{}
	_ [unsafe.Sizeof(wsconn.Conn{}) - unsafe.Sizeof(Conn{})]struct{}
)

// ReadMessage returns the next message of a connection dialled without a Handler
// or served by a server made without one, blocking until one arrives, the
// connection closes (a *CloseError, or the error that ended it) or ctx ends. The
// returned slice is the caller's. Taking messages resumes reading that a full
// queue (or PauseRead) stopped.
// When ctx ends first, no message is taken (package netconn relies on it).
func (c *Conn) ReadMessage(ctx context.Context) (frame.Opcode, []byte, error) {
	return c.c.ReadMessage(ctx)
}

// Close starts the closing handshake (RFC 6455 §7.1.2): it sends a close frame with
// code and reason (at most 123 bytes), then waits up to Config.CloseTimeout for the
// peer's close frame before closing the TCP connection. Code 0 sends a close frame
// with no status. Calling it again, or while closing, does nothing.
func (c *Conn) Close(code frame.StatusCode, reason string) error {
	return c.c.Close(code, reason)
}

// CloseNow sends a close frame with code and reason, as far as the socket takes it
// without blocking, and closes the TCP connection at once (WebSocket-Node drop; use
// frame.StatusProtocolError for its default). Output still queued for the peer is
// dropped, in every mode (its WriteMessageFunc completions get ErrClosed): a close
// frame behind it does not go out. In goroutine mode, where a writer goroutine does
// the writing, a close frame with nothing queued ahead of it is left to that writer
// (within CloseTimeout).
func (c *Conn) CloseNow(code frame.StatusCode, reason string) error {
	return c.c.CloseNow(code, reason)
}

// Abort closes the TCP connection at once without a close frame (ws terminate,
// watershed destroy). Writes after it get ErrClosed. OnClose reports 1006 and
// ErrAborted.
func (c *Conn) Abort() {
	c.c.Abort()
}

// AfterClose registers fn to be called once, after the connection is closed
// (its state is StateClosed, its socket released) and before Handler.OnClose,
// so an OnClose that publishes "left" no longer reaches it. It reports false,
// and never calls fn, when the connection has closed already. Safe from any
// goroutine; fn runs on the goroutine that closes the connection and must not
// block. A panic in fn is logged (Config.Logger) unless PanicPolicy is
// PanicPropagate, and the other hooks and OnClose still run. fn stays
// referenced until the connection closes.
func (c *Conn) AfterClose(fn func(*Conn)) bool {
	return c.c.AfterClose(func(k *wsconn.Conn) { fn(pub(k)) })
}

// AfterCloseFunc is AfterClose that can be taken back, like
// context.AfterFunc: ok is AfterClose's report (false: closed already, fn
// never called, stop does nothing); stop removes fn and reports whether it
// did, false once the connection has closed (fn ran or runs) or when stop
// ran before. For a layer that forgets a connection before it closes (a Hub
// closed while its connections stay open), so the hook and what it holds go.
func (c *Conn) AfterCloseFunc(fn func(*Conn)) (stop func() bool, ok bool) {
	return c.c.AfterCloseFunc(func(k *wsconn.Conn) { fn(pub(k)) })
}

// State reports where the connection is in its life.
func (c *Conn) State() State {
	return State(c.c.State())
}

// RemoteAddr is the TCP peer (never taken from X-Forwarded-For).
func (c *Conn) RemoteAddr() netip.AddrPort {
	return c.c.RemoteAddr()
}

// LocalAddr is the local end of the TCP connection (asked of the socket, so the
// connection does not carry it).
func (c *Conn) LocalAddr() netip.AddrPort {
	return c.c.LocalAddr()
}

// Subprotocol is the negotiated subprotocol, "" for none.
func (c *Conn) Subprotocol() string {
	return c.c.Subprotocol()
}

// Version is the WebSocket protocol version of the handshake: 13, or 8.
func (c *Conn) Version() int {
	return c.c.Version()
}

// IsClient reports whether this end dialled the connection.
func (c *Conn) IsClient() bool {
	return c.c.IsClient()
}

// Request returns what the verify hook kept from the handshake request, or nil.
// The facts never change once set (before OnOpen, published by the state's
// store like the rest of the identity), so any goroutine may call it.
func (c *Conn) Request() *Kept {
	return (*Kept)(c.c.Request())
}

// SetUserData attaches a value to the connection; UserData returns it.
func (c *Conn) SetUserData(v any) {
	c.c.SetUserData(v)
}

// UserData returns the value set by SetUserData or by the verify hook, or nil.
func (c *Conn) UserData() any {
	return c.c.UserData()
}

// CloseStatus returns the close code and reason once the connection is closing or
// closed (0 and "" before), so they stay readable after OnClose.
func (c *Conn) CloseStatus() (frame.StatusCode, string) {
	return c.c.CloseStatus()
}

// Stats returns the connection's traffic counters.
func (c *Conn) Stats() Stats {
	return c.c.Stats()
}

// BufferedAmount is the number of bytes written by the application but not yet
// taken by the socket (ws bufferedAmount).
func (c *Conn) BufferedAmount() int {
	return c.c.BufferedAmount()
}

// Compression reports the negotiated permessage-deflate parameters, if any.
func (c *Conn) Compression() (deflate.Params, bool) {
	return c.c.Compression()
}

// EnableWriteCompression turns compression of this connection's outgoing messages
// on or off (on by default once negotiated): the per-message switch, for payloads
// that are already compressed or that mix secrets with attacker-controlled data
// (CRIME/BREACH). Messages under the Options.Threshold are never compressed.
func (c *Conn) EnableWriteCompression(on bool) {
	c.c.EnableWriteCompression(on)
}

// PauseRead stops reading from the connection (ws pause): the socket is no longer
// watched for input, so TCP flow control pushes back on the peer. Bytes already read
// are kept, unparsed, for ResumeRead. Under GoroutinePerConn a read already
// blocked when PauseRead is called may still return what arrives before its
// goroutine runs (one read buffer at most, kept the same way). Writes go on.
// PauseRead and ResumeRead may be called from any goroutine, also at once: the
// last call wins.
func (c *Conn) PauseRead() {
	c.c.PauseRead()
}

// ResumeRead undoes PauseRead.
func (c *Conn) ResumeRead() {
	c.c.ResumeRead()
}

// IsPaused reports whether reading is paused.
func (c *Conn) IsPaused() bool {
	return c.c.IsPaused()
}

// HandshakeDecided implements upgrade.Notifier: a deferred verify decision arrived
// (on the goroutine that made it); the connection's worker finishes the handshake.
func (c *Conn) HandshakeDecided(h *upgrade.Handle) {
	c.c.HandshakeDecided(h)
}

// WritePrepared sends a prepared message. On a client connection the frame is masked
// as usual, into a pooled buffer. It takes the write path's three steps (write.go):
// the frame is picked (compressed once per window size, with an empty history),
// admitted, and only then sent and, under context takeover, recorded in the
// connection's history. It is one frame whatever Config.WriteFragmentSize says.
func (c *Conn) WritePrepared(pm *PreparedMessage) error {
	return c.c.WritePrepared(pm.m)
}

// PingRTT sends a ping with a payload unique to this call and returns the time
// until the peer's pong carries it back: a round trip through the peer's network
// stack and WebSocket implementation (ws's RTT recipe, built in). Other pongs
// still go to Handler.OnPong; this one does not. It returns ctx's error when ctx
// ends first, ErrNotOpen before the handshake is done, ErrClosed when the
// connection is already closing, and a *CloseError with the close status when it
// closes while waiting. Safe from any goroutine; several calls may wait at once.
// The calls waiting on a connection are an rtt.Set in its sharedExtras: a
// connection that never used PingRTT pays one atomic load per pong.
func (c *Conn) PingRTT(ctx context.Context) (time.Duration, error) {
	return c.c.PingRTT(ctx)
}

// TLSConnectionState returns the TLS state of a connection that runs over TLS (a
// server connection from a tls.Listener or from net/http over HTTPS, a client
// dialled with wss): version, cipher suite, ALPN, and the peer's certificates, such
// as a client certificate asked for with tls.Config.ClientAuth. ok is false for a
// plain connection. Hooks that run during the handshake see the same through
// upgrade.Request.TLS.
func (c *Conn) TLSConnectionState() (state tls.ConnectionState, ok bool) {
	if r := c.c.TLS; r != nil {
		return r.ConnectionState(), true // wss on the loops: the record layer's
	}
	if g := c.c.Goroutine(); g != nil { // goroutine mode: its net.Conn's, if TLS
		if t := wsconn.TLSConnOf(g.NetConn()); t != nil {
			return t.ConnectionState(), true
		}
	}
	return tls.ConnectionState{}, false
}

// WriteMessage sends one message: OpText (the caller vouches for UTF-8) or OpBinary.
func (c *Conn) WriteMessage(op frame.Opcode, p []byte) error {
	return c.c.WriteMessage(op, p)
}

// WriteText sends s as a text message without copying it to a []byte.
func (c *Conn) WriteText(s string) error {
	return c.c.WriteText(s)
}

// WriteBinary sends p as a binary message.
func (c *Conn) WriteBinary(p []byte) error {
	return c.c.WriteBinary(p)
}

// WriteMessageFunc sends a message and calls done once the socket has taken all of it,
// or with ErrClosed if it never does: nil means the message went to the socket whole
// (ws's send callback). done may run before WriteMessageFunc returns (when the socket
// took everything at once) or later from a worker; under GoroutinePerConn, whose
// writer goes on writing what was queued after the connection ends, possibly after
// OnClose, from the writer's goroutine. It must not block. When WriteMessageFunc
// itself returns an error (the message was refused), done is not called.
func (c *Conn) WriteMessageFunc(op frame.Opcode, p []byte, done func(error)) error {
	return c.c.WriteMessageFunc(op, p, done)
}

// WriteFrame sends one raw frame, for manual fragmentation and streaming
// (WebSocket-Node sendFrame, ws send with fin: false): a first frame with OpText or
// OpBinary and fin false, OpContinuation frames after it, the last with fin true.
// rsv sets RSV bits (frame.Rsv1...); the peer fails the connection unless an
// extension defines them.
//
// While such a fragmented message is in progress, whole messages written from
// any goroutine (WriteMessage, WritePrepared, Broadcast, WriteFrame with fin and
// a data opcode) are queued behind it, as ws queues them, and go out after its
// last frame; they count against the outbound cap. Control frames (pings, pongs,
// close) go out at once, between fragments, as RFC 6455 §5.4 allows. A close sent
// before the last frame drops the queued messages (their WriteMessageFunc
// callbacks get ErrClosed). WriteFrame(OpClose) counts as the close: later writes
// get ErrClosed and the peer's answer is awaited as after Close. Each frame meets
// MaxWriteBuffer on its own; under WriteBufferDrop a continuation frame that does
// not fit closes the connection (ErrSlowConsumer), since the peer would take the
// message without it for whole.
func (c *Conn) WriteFrame(fin bool, op frame.Opcode, rsv uint8, p []byte) error {
	return c.c.WriteFrame(fin, op, rsv, p)
}

// Ping sends a ping with at most 125 bytes of payload.
func (c *Conn) Ping(p []byte) error {
	return c.c.Ping(p)
}

// Pong sends an unsolicited pong with at most 125 bytes of payload.
func (c *Conn) Pong(p []byte) error {
	return c.c.Pong(p)
}

// State is where a connection is in its life (ws readyState).
type State uint32

// The states, in order: a connection goes through them once each.
const (
	StateConnecting State = iota // the opening handshake is under way
	StateOpen                    // messages flow both ways
	StateClosing                 // a close frame was sent or received; waiting for the rest
	StateClosed                  // the TCP connection is gone
)

func (s State) String() string { return wsconn.State(s).String() }

// Stats are a connection's traffic counters, each way (see
// opmetrics.Stats for what they count).
type Stats = opmetrics.Stats

// Kept holds what the verify hook chose to keep from the handshake request.
type Kept struct {
	Path   string
	Query  string
	Header map[string][]string
}
