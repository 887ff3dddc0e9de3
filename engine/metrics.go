package engine

import (
	"errors"

	"github.com/weir-ws/weir/internal/opmetrics"
	"github.com/weir-ws/weir/internal/turns"
	"github.com/weir-ws/weir/upgrade"
)

// Operator metrics (docs/metrics.md). The counters and their fixed label
// tables are in internal/opmetrics; they are touched only on events that are
// rare next to messages. Traffic (bytes, messages, frames each way) stays per
// connection (stats.go), so the message path gains nothing.

// RTTBuckets are the upper bounds of the ping round-trip histogram
// (Metrics.PingRTT): 250 µs to 10 s.
var RTTBuckets = opmetrics.RTTBuckets

type (
	// StatusCount is the count of handshakes refused with one HTTP status.
	StatusCount = opmetrics.StatusCount
	// CloseCount is the count of connections that ended with one close status.
	CloseCount = opmetrics.CloseCount
	// Histogram is a cumulative histogram, as Prometheus has them.
	Histogram = opmetrics.Histogram
)

// counters are the engine's event counters (engine.m).
type counters struct {
	opmetrics.Counters
	takeovers   turns.Takeovers // loop_turns.go
	tlsCounters                 // tlsaccept.go
}

// countRefused counts a refused handshake by the status err answers with.
func (e *engine) countRefused(err error) { e.m.Refuse(upgrade.StatusOf(err)) }

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
	TLS TLSMetrics
}

// metrics makes the snapshot. Its cost is that of stats (a walk over the
// connections) plus a few dozen atomic loads: call it per scrape.
func (e *engine) metrics() Metrics {
	return Metrics{
		EngineStats:        e.stats(),
		Buffered:           e.buffered.Load(),
		BufferedInbound:    e.inbound.Load(),
		HandshakesAccepted: e.m.Accepted(),
		HandshakesTimedOut: e.m.TimedOut(),
		HandshakesRefused:  e.m.Refused(),
		Closes:             e.m.Closes(),
		WritesRefused:      e.m.Writes(opmetrics.WriteRefused),
		WritesDropped:      e.m.Writes(opmetrics.WriteDropped),
		WritesClosed:       e.m.Writes(opmetrics.WriteClosed),
		LoopTakeovers:      e.m.takeovers.Load(),
		PingRTT:            e.m.RTT(),
		TLS:                e.m.snapshot(),
	}
}

// Metrics returns the server's operator metrics (see Metrics and
// docs/metrics.md); package metrics publishes them with expvar or in the
// Prometheus text format.
func (s *Server) Metrics() Metrics { return s.e.metrics() }

// Metrics returns the client's operator metrics. The handshake counters are
// the server's and stay zero here (a failed dial returns its error).
func (cl *Client) Metrics() Metrics { return cl.e.metrics() }

// handshakeRefusal reports whether err from upgrade.Upgrader.Upgrade is a
// refusal that was answered (a *HandshakeError), not a connection lost.
func handshakeRefusal(err error) bool {
	var he *upgrade.HandshakeError
	return errors.As(err, &he)
}
