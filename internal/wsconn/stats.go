package wsconn

import "github.com/weir-ws/weir/internal/opmetrics"

// Engine-wide counters (capability A12). The hot path keeps counting per
// connection only (Conn.stats, on the connection's own cache lines); nothing is
// shared between loops. Totals are made on demand (internal/census): the
// counters of the connections that have ended, folded in once each by finish,
// plus a walk over the live ones.

// EngineStats is engine.EngineStats (documented there).
type EngineStats = opmetrics.EngineStats

// foldStats adds an ended connection's counters to the engine's (finish, before
// the connection leaves its loop's table, so that a walk in stats meets it
// either live or folded, exactly once).
func (e *Engine) foldStats(c *Conn) { e.Census.Fold(&c.WriteSide.Folded, c.Stats()) }

// Buffered is what every connection's queued output holds (BufferedAmount).
func (e *Engine) Buffered() int64 { return e.buffered.Load() }
