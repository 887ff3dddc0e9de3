package engine

import (
	"github.com/weir-ws/weir/internal/opmetrics"
	"github.com/weir-ws/weir/internal/wsconn"
)

// reports are the counters a Server and a Client share, over their engine.
type reports struct{ e *wsconn.Engine }

// NumConns is the number of connections (a server's handshakes in progress
// included).
func (r *reports) NumConns() int { return int(r.e.Census.Live.Load()) }

// Stats returns the totals: connections now, opened and closed, and the
// traffic of all of them. Publish it with expvar.Func or a Prometheus
// collector; see EngineStats for what it costs.
func (r *reports) Stats() EngineStats { return statsOf(r.e) }

// Metrics returns the operator metrics (see Metrics and docs/metrics.md);
// package metrics publishes them with expvar or in the Prometheus text
// format. A Client's handshake counters stay zero (a failed dial returns its
// error).
func (r *reports) Metrics() Metrics { return metricsOf(r.e) }

// BufferedAmount is the memory the connections hold for queued outbound
// bytes now, all together: the pooled buffers' size in whole pages (what
// they keep resident), which Config.MaxTotalBuffered bounds.
func (r *reports) BufferedAmount() int64 { return r.e.Buffered() }

// BufferedInbound is the number of inbound bytes the connections hold
// between reads now, all together (what Config.MaxTotalInbound bounds).
func (r *reports) BufferedInbound() int64 { return r.e.Inbound.Load() }

// RTTBuckets are the upper bounds of the ping round-trip histogram
// (Metrics.PingRTT): 250 µs to 10 s.
var RTTBuckets = opmetrics.RTTBuckets

// StatusCount is the count of handshakes refused with one HTTP status.
type StatusCount = opmetrics.StatusCount

// CloseCount is the count of connections that ended with one close status.
type CloseCount = opmetrics.CloseCount

// Histogram is a cumulative histogram, as Prometheus has them.
type Histogram = opmetrics.Histogram

// Metrics is a snapshot of what a gateway operator watches: the traffic
// totals of EngineStats plus the event counters (each field documented in
// internal/opmetrics; docs/metrics.md lists each with its Prometheus name).
type Metrics = opmetrics.Metrics

// EngineStats are a Server's or a Client's totals since it started: the
// traffic of every connection so far, open and ended, and the connections
// now, opened and closed (documented in internal/opmetrics).
type EngineStats = opmetrics.EngineStats

// statsOf adds the live connections' counters to the ended ones' (a walk over
// the tables, allocating nothing: call it for a metrics scrape, not per
// message). The totals never go down from one call to the next.
func statsOf(e *wsconn.Engine) EngineStats {
	return e.Census.Totals(func() (live Stats) {
		for i := range len(e.Loops) + 1 {
			e.EachOf(i, func(c *wsconn.Conn) {
				if !c.WriteSide.Folded {
					live.Add(c.Stats())
				}
			})
		}
		return live
	})
}

// metricsOf makes the snapshot. Its cost is that of stats (a walk over the
// connections) plus a few dozen atomic loads: call it per scrape.
func metricsOf(e *wsconn.Engine) Metrics {
	return e.Counters.Snapshot(statsOf(e), e.Buffered(), e.Inbound.Load(), e.Counters.Takeovers.Load(), e.Counters.TLS.Snapshot())
}
