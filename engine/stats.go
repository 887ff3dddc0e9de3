package engine

import "github.com/weir-ws/weir/internal/opmetrics"

// Engine-wide counters (capability A12). The hot path keeps counting per
// connection only (Conn.stats, on the connection's own cache lines); nothing is
// shared between loops. Totals are made on demand (internal/census): the
// counters of the connections that have ended, folded in once each by finish,
// plus a walk over the live ones.

// EngineStats are a Server's or a Client's totals since it started: the
// traffic of every connection so far, open and ended, and the connections
// now, opened and closed (documented in internal/opmetrics).
type EngineStats = opmetrics.EngineStats

// foldStats adds an ended connection's counters to the engine's (finish, before
// the connection leaves its loop's table, so that a walk in stats meets it
// either live or folded, exactly once).
func (e *engine) foldStats(c *Conn) { e.census.Fold(&c.write.folded, c.Stats()) }

// stats adds the live connections' counters to the ended ones' (a walk over
// the tables, allocating nothing: call it for a metrics scrape, not per
// message). The totals never go down from one call to the next.
func (e *engine) stats() EngineStats {
	return e.census.Totals(func() (live Stats) {
		for i := range len(e.loops) + 1 {
			e.eachOf(i, func(c *Conn) {
				if !c.write.folded {
					live.Add(c.Stats())
				}
			})
		}
		return live
	})
}

// reports is what a Server and a Client both tell of their connections,
// embedded in each so that every method is written and documented once.
type reports struct{ e *engine }

// NumConns is the number of connections (a server's handshakes in progress
// included).
func (r *reports) NumConns() int { return int(r.e.census.Live.Load()) }

// Stats returns the totals: connections now, opened and closed, and the
// traffic of all of them. Publish it with expvar.Func or a Prometheus
// collector; see EngineStats for what it costs.
func (r *reports) Stats() EngineStats { return r.e.stats() }

// Metrics returns the operator metrics (see Metrics and docs/metrics.md);
// package metrics publishes them with expvar or in the Prometheus text
// format. A Client's handshake counters stay zero (a failed dial returns its
// error).
func (r *reports) Metrics() Metrics { return r.e.metrics() }

// BufferedAmount is the memory the connections hold for queued outbound
// bytes now, all together: the pooled buffers' size in whole pages (what
// they keep resident), which Config.MaxTotalBuffered bounds.
func (r *reports) BufferedAmount() int64 { return r.e.buffered.Load() }

// BufferedInbound is the number of inbound bytes the connections hold
// between reads now, all together (what Config.MaxTotalInbound bounds).
func (r *reports) BufferedInbound() int64 { return r.e.inbound.Load() }
