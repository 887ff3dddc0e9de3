// Package census counts an engine's connections: how many are live now
// (handshakes included), how many it ever took on and how many ended, the
// traffic of those that ended, and a stopping engine's wait for the last one.
//
// Contract:
//
//   - [Census.Join] and [Census.Leave] are called once each per connection;
//     Live is the difference, and admission (internal/admit) reads it for
//     MaxConns.
//   - Totals never go down from one call to the next and count each
//     connection exactly once: an ending connection's traffic is folded in
//     once ([Census.Fold], marked in a flag of its own kept under the
//     census's lock) before it leaves the table its engine walks, and
//     [Census.Totals] walks the live ones, skipping the folded, under the
//     same lock. A walk allocates nothing.
//   - [Census.Emptied] gives a channel closed by the Leave that takes Live to
//     zero while the engine stops, the same one to every waiter until then;
//     [Census.Abort] aborts the live connections, rescanning (a connection
//     registered during a scan shows up in a later one), until that channel
//     closes, none is left, or its deadline passes.
//
// The package knows nothing of sockets or of the connections themselves:
// their traffic is an opmetrics.Stats, their abort a callback.
package census
