package wsconn

import (
	"github.com/weir-ws/weir/internal/opmetrics"
	"github.com/weir-ws/weir/internal/turns"
	"github.com/weir-ws/weir/upgrade"
)

// Operator metrics (docs/metrics.md). The counters and their fixed label
// tables are in internal/opmetrics; they are touched only on events that are
// rare next to messages. Traffic (bytes, messages, frames each way) stays per
// connection (stats.go), so the message path gains nothing.

// RTTBuckets is engine.RTTBuckets (documented there).
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
	Takeovers turns.Takeovers       // loop.go (internal/reactor takeover.go)
	TLS       opmetrics.TLSCounters // tlsaccept.go, dialtls.go, tlsloop.go
}

// countRefused counts a refused handshake by the status err answers with.
func (e *Engine) CountRefused(err error) { e.Counters.Refuse(upgrade.StatusOf(err)) }

// Metrics is engine.Metrics (documented there).
type Metrics = opmetrics.Metrics
