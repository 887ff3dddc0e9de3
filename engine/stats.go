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

// Stats returns the server's totals: connections now, opened and closed, and
// the traffic of all of them. Publish it with expvar.Func or a Prometheus
// collector; see EngineStats for what it costs.
func (s *Server) Stats() EngineStats { return s.e.stats() }

// Stats returns the client's totals, as Server.Stats.
func (cl *Client) Stats() EngineStats { return cl.e.stats() }
