package opmetrics

import "sync/atomic"

// The snapshot types engine exports under its own names (engine.Stats,
// EngineStats, Metrics, TLSMetrics): plain values, made by the engine per
// call from its connections' counters and the Counters here.

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

// Add adds o's counters to s's.
func (s *Stats) Add(o Stats) {
	s.BytesIn += o.BytesIn
	s.BytesOut += o.BytesOut
	s.MessagesIn += o.MessagesIn
	s.MessagesOut += o.MessagesOut
	s.FramesIn += o.FramesIn
	s.FramesOut += o.FramesOut
}

// EngineStats are a Server's or a Client's totals since it started.
type EngineStats struct {
	// Stats adds up the traffic of every connection so far, open and ended (a
	// goroutine-mode connection's close frame, written by its writer after the
	// connection ended, is not counted).
	Stats
	// Conns is the number of connections now, handshakes in progress included.
	Conns int64
	// Opened counts the connections the engine has taken on (accepted, adopted
	// or dialled), and Closed those that have ended.
	Opened, Closed uint64
}

// Metrics is a snapshot of what a gateway operator watches: the traffic
// totals of EngineStats plus the event counters. Every counter only grows;
// Conns and Buffered are gauges. docs/metrics.md lists each with its
// Prometheus name.
type Metrics struct {
	EngineStats
	// Buffered is the pooled memory holding outbound bytes queued now, all
	// connections together (BufferedAmount, bounded by MaxTotalBuffered).
	Buffered int64
	// BufferedInbound is the pooled memory holding partial frames and messages
	// being assembled now, all connections together (BufferedInbound, bounded
	// by MaxTotalInbound).
	BufferedInbound int64
	// HandshakesAccepted counts the handshakes answered 101 by the Server,
	// on its loops or through ServeHTTP (Adopt's are not counted: someone
	// else answered them).
	HandshakesAccepted uint64
	// HandshakesRefused counts the handshakes answered with an error status,
	// one entry per status in a fixed table (Status 0: any other status).
	HandshakesRefused []StatusCount
	// HandshakesTimedOut counts the handshakes on the loops that did not
	// finish within Config.HandshakeTimeout (ended with no answer).
	HandshakesTimedOut uint64
	// Closes counts the connections that opened and then ended, by close
	// status and by who started the closing handshake.
	Closes []CloseCount
	// WritesRefused, WritesDropped and WritesClosed count the writes that met
	// the outbound cap under WriteBufferError, WriteBufferDrop and
	// WriteBufferClose.
	WritesRefused, WritesDropped, WritesClosed uint64
	// LoopTakeovers counts the times a handler run on an event loop
	// (DispatchPool) held it for 20 ms and another goroutine took the loop
	// over. A steady rise means handlers block, or the machine is starved.
	LoopTakeovers uint64
	// PingRTT is the histogram of PingRTT round trips that got their pong.
	PingRTT Histogram
	// TLS counts what happened to the connections of ListenTLS.
	TLS TLS
}

// TLS counts what happened to the connections of ListenTLS (engine.TLSMetrics).
type TLS struct {
	// Loop counts handshakes whose connection moved onto the loops.
	Loop uint64
	// Goroutine counts handshakes whose connection stayed in goroutine mode
	// (TLS 1.2, ChaCha20-Poly1305, ...: docs/tls-design.md; every one under
	// Config.GoroutinePerConn).
	Goroutine uint64
	// Failed counts TLS handshakes that failed or timed out (HandshakeTimeout).
	Failed uint64
	// Busy counts connections closed unanswered because every handshake slot
	// (MaxTLSHandshakes) stayed taken for their HandshakeTimeout.
	Busy uint64
	// RecordErrors counts loop connections ended by a bad record (failed
	// authentication, plaintext, over the size limit, ...): alert sent, closed.
	RecordErrors uint64
}

// TLSCounters are one engine's TLS event counters, TLS's live form. A zero
// TLSCounters is ready.
type TLSCounters struct {
	Loop, Goroutine, Failed, Busy, RecordErrors atomic.Uint64
}

// Snapshot loads the counters.
func (m *TLSCounters) Snapshot() TLS {
	return TLS{Loop: m.Loop.Load(), Goroutine: m.Goroutine.Load(), Failed: m.Failed.Load(),
		Busy: m.Busy.Load(), RecordErrors: m.RecordErrors.Load()}
}
