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
	takeovers turns.Takeovers       // loop.go (internal/reactor takeover.go)
	tls       opmetrics.TLSCounters // tlsaccept.go, dialtls.go, tlsloop.go
}

// countRefused counts a refused handshake by the status err answers with.
func (e *engine) countRefused(err error) { e.m.Refuse(upgrade.StatusOf(err)) }

// Metrics is a snapshot of what a gateway operator watches: the traffic
// totals of EngineStats plus the event counters (each field documented in
// internal/opmetrics; docs/metrics.md lists each with its Prometheus name).
type Metrics = opmetrics.Metrics

// metrics makes the snapshot. Its cost is that of stats (a walk over the
// connections) plus a few dozen atomic loads: call it per scrape.
func (e *engine) metrics() Metrics {
	return e.m.Snapshot(e.stats(), e.buffered.Load(), e.inbound.Load(), e.m.takeovers.Load(), e.m.tls.Snapshot())
}

// handshakeRefusal reports whether err from upgrade.Upgrader.Upgrade is a
// refusal that was answered (a *HandshakeError), not a connection lost.
func handshakeRefusal(err error) bool {
	var he *upgrade.HandshakeError
	return errors.As(err, &he)
}
