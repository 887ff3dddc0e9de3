package engine

import (
	"log/slog"
	"net"
	"runtime"
	"time"

	"github.com/weir-ws/weir/internal/defaults"
	"github.com/weir-ws/weir/internal/guard"
	"github.com/weir-ws/weir/internal/keepalive"
	"github.com/weir-ws/weir/internal/sock"
	"github.com/weir-ws/weir/internal/wsconn"
	"github.com/weir-ws/weir/internal/wsread"
	"github.com/weir-ws/weir/internal/wswrite"

	"github.com/weir-ws/weir/deflate"
)

// Dispatch says where callbacks run.
type Dispatch uint8

const (
	// DispatchPool runs reads, frame parsing and callbacks on a bounded pool of worker
	// goroutines (Config.Workers), and small batches on the loop (engine doc). A slow
	// callback ties up one goroutine, not a loop.
	DispatchPool Dispatch = iota
	// DispatchInline runs them on the event loop itself: the fewest context switches,
	// but a callback that blocks stalls every connection on that loop.
	DispatchInline
)

// WriteBufferPolicy says what a write does when the connection's outbound buffer
// would grow past Config.MaxWriteBuffer (a slow consumer).
type WriteBufferPolicy uint8

const (
	// WriteBufferError returns ErrWriteBufferFull and sends nothing.
	WriteBufferError WriteBufferPolicy = iota
	// WriteBufferDrop drops the message silently (the write returns ErrMessageDropped,
	// which a fan-out loop may ignore). A continuation frame of a message begun with
	// WriteFrame cannot be dropped without corrupting the message at the peer: it
	// closes the connection as WriteBufferClose does.
	WriteBufferDrop
	// WriteBufferClose closes the connection with 1008 (policy violation) and returns
	// ErrSlowConsumer.
	WriteBufferClose
)

// Config holds the options shared by a Server's connections (and by client
// connections dialled on an Engine). A nil *Config, and every zero field, means the
// documented default.
type Config struct {
	// Loops is the number of event loops (one epoll or kqueue instance and one
	// goroutine each). Default: GOMAXPROCS.
	Loops int
	// Workers is the size of the worker pool under DispatchPool. Default: 4×GOMAXPROCS,
	// at least 4.
	Workers int
	// Dispatch picks where callbacks run. Default: DispatchPool.
	Dispatch Dispatch
	// ReadBufferSize is the size of each worker's read buffer. Default: 64 KiB.
	ReadBufferSize int

	// MaxMessageSize caps an assembled message, judged from frame headers before the
	// payload is read; over it the connection is closed with 1009. Buffers grow as
	// bytes arrive, never to what a header declares, so the limit bounds what a
	// peer may send, not what it can make the engine reserve. Default: 16 MiB.
	MaxMessageSize int64
	// MaxFrameSize caps one frame the same way. Default: MaxMessageSize.
	MaxFrameSize int64
	// MaxFragments caps the frames in one message, empty ones included; over it 1008.
	// It stops a message of endless empty or tiny fragments, which the size limit
	// never would. Default (0): MaxMessageSize/128 frames, at least 16384 (ws's
	// figure): any message within MaxMessageSize whose fragments average 128 bytes
	// or more passes, and with the default 16 MiB that is 131072 frames, so a 4 MiB
	// message in 64-byte fragments (65536 frames, Autobahn 9.3.1 and 9.4.1) arrives
	// while a flood of empty fragments is failed after 131072 of them (786 KB of
	// input). Negative: no count cap (ws's maxFragments: 0).
	MaxFragments int
	// DisableAssembly turns message assembly off: every data frame goes to OnFrame and
	// OnMessage is not called (WebSocket-Node's assembleFragments: false).
	DisableAssembly bool
	// SkipUTF8Validation trusts the peer's text to be UTF-8. Only for trusted peers.
	SkipUTF8Validation bool

	// DisableAutoPong stops the engine answering pings; OnPing still sees them.
	DisableAutoPong bool

	// HandshakeTimeout bounds the opening handshake. Default 10 s; negative: none.
	HandshakeTimeout time.Duration
	// CloseTimeout bounds the wait for the peer's close frame (and, after a protocol
	// error, for the peer to hang up). Default 5 s.
	CloseTimeout time.Duration
	// PingInterval sends a ping after this long without input (keepalive,
	// WebSocket-Node style). Default 20 s; negative: no keepalive pings.
	PingInterval time.Duration
	// PongTimeout drops the connection (1006, ErrPeerTimeout) when nothing arrives this
	// long after a keepalive ping and the peer takes none of the output queued
	// for it meanwhile (a peer slowly reading a big message cannot answer a
	// ping queued behind it, but is alive). Default 10 s; negative: ping but
	// never drop.
	PongTimeout time.Duration
	// IdleTimeout closes the connection with 1001 after this long without input.
	// Default: none.
	IdleTimeout time.Duration
	// TimerResolution is the tick of each loop's timing wheel. Default 100 ms.
	TimerResolution time.Duration

	// MaxWriteBuffer caps the bytes queued for a connection whose socket is not
	// keeping up. Default 4 MiB.
	MaxWriteBuffer int
	// WriteBufferPolicy is what happens at the cap. Default WriteBufferError.
	WriteBufferPolicy WriteBufferPolicy
	// DrainLowWater: after the outbound buffer has held more than this, OnDrain is
	// called once it is back at or below it. Default 0 (fully flushed).
	DrainLowWater int
	// WriteHighWater: while a connection's outbound bytes are above it, the
	// engine stops reading from that connection, and resumes once they are back
	// to half of it (backpressure: a peer that does not read what it asked for
	// stops being read). Default min(64 KiB, MaxWriteBuffer), as uWebSockets'
	// maxBackpressure: N stalled peers then hold about N × 64 KiB, and a peer
	// that reads keeps its socket buffer's worth in flight anyway, so the mark
	// costs it nothing. Negative: never stop.
	WriteHighWater int
	// MaxTotalBuffered caps what the process grows by for outbound bytes queued
	// on all connections together. The queues' memory is counted as it is
	// resident: the buffers' whole pages (a buffer under a page keeps its page),
	// the old buffer too while a queue moves into a bigger one, and messages
	// held behind a fragmented message. They live outside the Go heap, so this
	// bounds resident memory. The queues may hold the budget less a headroom of
	// min(2 MiB, a quarter of it) (Server.BufferedAmount stops there): what a
	// server with its budget full needs around its queues (the pool's free
	// lists, code run for the first time, thread stacks, the collector's
	// metadata) comes out of the headroom, not on top of the budget. A write
	// that would pass the queues' share gets the WriteBufferPolicy, as at MaxWriteBuffer. A
	// write to a connection with nothing queued that the socket takes whole
	// costs nothing, however full the budget; one that leaves a remainder the
	// budget cannot hold cuts the connection (ErrBudgetCut). Default 512 MiB;
	// negative: no cap.
	MaxTotalBuffered int64
	// MaxTotalInbound caps the inbound bytes all connections together hold
	// between reads: partial frames, messages being assembled from fragments and
	// compressed frames being collected, TLS records not yet whole (wss on the
	// loops: up to 32 KiB each), a handshake request cut by a read and what a
	// client sent behind a request whose verify decision is deferred (up to 64
	// KiB each); and a compressed message's inflated copy while it is
	// delivered. They are counted by the capacity of their pooled buffers as
	// they are taken or grow. A connection whose buffer would take the total
	// past it is failed with 1013 Try Again Later (ErrInboundBudget; in its
	// handshake it ends without an answer); the others go on. Uncompressed
	// frames that arrive whole in one read cost nothing. An eighth of it (at
	// most 8 MiB) is kept for growths of 64 KiB or less, so that peers holding
	// large partial messages cannot make every frame cut by a read fail. Default
	// max(256 MiB, 4×MaxMessageSize + 8 MiB), so one message of the largest
	// size always fits; negative: no cap.
	MaxTotalInbound int64
	// WriteFragmentSize splits outgoing messages into frames of at most this many
	// payload bytes. Default 0: never (watershed-class peers cannot reassemble).
	// A PreparedMessage goes as the one frame it was prepared as, whatever
	// this says: its bytes are shared by every receiver.
	WriteFragmentSize int

	// MaxConns caps open connections (a new one over it is closed at once). Default:
	// no cap.
	MaxConns int
	// MaxConnsPerIP caps the connections from one remote IP address, handshakes in
	// progress included, TLS handshakes too (a new one over it is closed at once;
	// through ServeHTTP it gets 503). Behind the Upgrader's TrustedProxies it counts the client IP
	// the handshake resolves instead of the proxy (internal/admit). An IPv6
	// address counts under its prefix of IPv6PrefixLen bits; an IPv4-mapped
	// IPv6 address (::ffff:a.b.c.d) as the IPv4 address. Default: no cap.
	MaxConnsPerIP int
	// IPv6PrefixLen is the prefix by which MaxConnsPerIP counts IPv6 clients:
	// every address of one prefix of this many bits counts as one. A home line
	// or a host is given a /64 at least (RFC 6177 §3: a /56 to a /48 per
	// site), so counting whole addresses would let one holder open 2^64
	// "different" ones past the cap; 56 or 48 count a whole site as one.
	// Default 64 (zero, or any value outside 1-128); 128 counts every address
	// alone.
	IPv6PrefixLen int
	// TCPKeepAlive sets the kernel's TCP keepalive on accepted, adopted and
	// dialled TCP sockets (SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT;
	// zero or negative fields keep the socket's current value). Default: Enable
	// false, which leaves sockets as they come: off on the engine's own listeners
	// (the kernel's default), on at 15 s for conns Go's net package accepted or
	// dialled (net/http, the default dialer). WebSocket pings (PingInterval) find
	// dead peers anyway.
	TCPKeepAlive net.KeepAliveConfig
	// TCPUserTimeout (TCP_USER_TIMEOUT, Linux) ends a TCP connection whose sent
	// data stays unacknowledged this long, so a peer that vanished mid-write is
	// found even while the write queue is full. Default 0: the kernel's (many
	// minutes).
	TCPUserTimeout time.Duration
	// Backlog is the listen backlog. Default 1024 (the kernel caps it at somaxconn).
	Backlog int
	// ReusePort gives every loop its own SO_REUSEPORT listener (Linux), so accepts
	// spread across loops without a shared queue.
	ReusePort bool
	// MaxTLSHandshakes bounds the TLS handshakes of ListenTLS and TLSListener running at once,
	// each on a short-lived goroutine: a connection waits for a slot at most
	// HandshakeTimeout, then is closed unanswered (TLSMetrics.Busy), and the
	// ones behind it wait in the listen backlog. A handshake is mostly CPU (a
	// signature, a key exchange), so more slots than cores only help clients
	// on slow links. Default: max(64, 16×GOMAXPROCS).
	MaxTLSHandshakes int
	// TLSDropExporter makes wss connections that ListenTLS runs on the loops
	// let go of crypto/tls's keying material exporter at the hand-off:
	// ExportKeyingMaterial on their TLSConnectionState (and on
	// upgrade.Request.TLS in the hooks) then returns ErrNoTLSExporter. The
	// exporter (RFC 8446 §7.5; the tls-exporter channel binding of RFC 9266)
	// is otherwise kept as its 32- or 48-byte secret inside the record layer
	// (docs/tls-design.md), so dropping it saves no memory any more: it is for
	// a server that wants no exporter secret kept at all. Default false: kept.
	TLSDropExporter bool
	// GoroutinePerConn runs every connection in the goroutine-per-connection mode
	// (one reader goroutine each, blocking writes) even where a poller exists.
	GoroutinePerConn bool

	// Compression enables permessage-deflate (RFC 7692) on a Server: offers are
	// negotiated with these options (nil: off, the default, as in ws). For clients
	// see DialOptions.Compression.
	Compression *deflate.Options

	// ReadQueue caps the messages queued for Conn.ReadMessage on the connections
	// of a server made without a Handler before reading pauses (for clients see
	// DialOptions.ReadQueue). Default 64. Reading also pauses once the
	// queued messages hold 1 MiB, however few they are. Queued messages count
	// against MaxTotalInbound until ReadMessage takes them (or the
	// connection closes); one that does not fit closes the connection with
	// 1013.
	ReadQueue int

	// Trace, when set, sees every frame each way (see Trace). Default nil: no
	// tracing, at the cost of a nil check per frame.
	Trace *Trace

	// Logger receives errors the engine cannot return to anyone. Default: slog.Default().
	Logger *slog.Logger

	// PanicPolicy says what a panic in a Handler callback, a handshake hook or a
	// WriteMessageFunc done callback does (guard.go). Default PanicClose: logged
	// with its stack, that connection closed with 1011, the rest go on.
	PanicPolicy PanicPolicy
}

// filled is a copy of c with every zero field filled in (the values:
// internal/defaults); nil is all defaults.
func (c *Config) filled() Config {
	var d Config
	if c != nil {
		d = *c
	}
	defaults.Fill(runtime.GOMAXPROCS(0), defaults.Fields{
		Loops: &d.Loops, Workers: &d.Workers, ReadBufferSize: &d.ReadBufferSize,
		MaxMessageSize: &d.MaxMessageSize, MaxFrameSize: &d.MaxFrameSize, MaxFragments: &d.MaxFragments,
		HandshakeTimeout: &d.HandshakeTimeout, CloseTimeout: &d.CloseTimeout,
		PingInterval: &d.PingInterval, PongTimeout: &d.PongTimeout, TimerResolution: &d.TimerResolution,
		MaxWriteBuffer: &d.MaxWriteBuffer, WriteHighWater: &d.WriteHighWater,
		MaxTotalBuffered: &d.MaxTotalBuffered, MaxTotalInbound: &d.MaxTotalInbound,
		MaxTLSHandshakes: &d.MaxTLSHandshakes, Backlog: &d.Backlog,
	})
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	return d
}

// machine is what the connection machine reads of d (filled): its settings,
// and the limits its read and write sides and its keepalive checks take.
func (d *Config) machine() *wsconn.Config {
	k := &wsconn.Config{
		Loops: d.Loops, Workers: d.Workers, Inline: d.Dispatch == DispatchInline,
		GoroutinePerConn: d.GoroutinePerConn,
		ReadBufferSize:   d.ReadBufferSize, ReadQueue: d.ReadQueue,
		DisableAssembly: d.DisableAssembly, DisableAutoPong: d.DisableAutoPong,
		WriteHighWater: d.WriteHighWater, MaxTotalInbound: d.MaxTotalInbound,
		HandshakeTimeout: d.HandshakeTimeout, CloseTimeout: d.CloseTimeout, TimerResolution: d.TimerResolution,
		TCP:         sock.TCPOptions{KeepAlive: d.TCPKeepAlive, UserTimeout: d.TCPUserTimeout},
		Compression: d.Compression, Trace: d.Trace.core(), Logger: d.Logger, PanicPolicy: d.PanicPolicy,
	}
	k.ReadLimits = wsread.Limits{
		MaxFrameSize:   d.MaxFrameSize,
		MaxMessageSize: d.MaxMessageSize,
		MaxFragments:   int64(max(d.MaxFragments, 0)), // 0: no cap
		SkipUTF8:       d.SkipUTF8Validation,
		Headers:        k.Trace != nil && k.Trace.FrameIn != nil,
	}
	k.Keepalive = keepalive.Policy{Ping: d.PingInterval, Pong: d.PongTimeout, Idle: d.IdleTimeout}
	k.WriteLimits = wswrite.Limits{
		MaxBuffer:     d.MaxWriteBuffer,
		MaxTotal:      defaults.QueueShare(d.MaxTotalBuffered),
		Policy:        [...]wswrite.Policy{WriteBufferError: wswrite.PolicyRefuse, WriteBufferDrop: wswrite.PolicyDrop, WriteBufferClose: wswrite.PolicyClose}[d.WriteBufferPolicy],
		DrainLowWater: d.DrainLowWater,
		HighWater:     d.WriteHighWater,
		FragmentSize:  d.WriteFragmentSize,
		Trace:         k.Trace != nil && k.Trace.FrameOut != nil,
		Compression:   d.Compression,
	}
	return k
}

// PanicPolicy says what a panic in a Handler callback, a handshake hook or a
// WriteMessageFunc done callback does.
type PanicPolicy = guard.Policy

const (
	// PanicClose recovers the panic, logs it with its stack (Config.Logger) and
	// closes that connection with 1011 (a handshake hook's panic: 500); other
	// connections and the process go on.
	PanicClose = guard.Close
	// PanicPropagate lets the panic go on unrecovered, ending the process
	// (for those who prefer a crash and a core to a wounded server).
	PanicPropagate = guard.Propagate
)

// PanicError is what OnClose receives after a callback of the connection
// panicked under PanicClose: Callback, Value and Stack; it unwraps to
// ErrHandlerPanic, so CloseStatus(err) is 1011.
type PanicError = guard.Error
