// Package wsconn is the connection machine under package engine: a
// WebSocket connection's life on the event loops (internal/reactor) or in
// goroutine mode (internal/perconn), from its accepted or handed-off socket
// to its socket's close, and the Engine it runs on (the loops and the pool,
// the connection tables, the census, the budgets, the counters, the stop).
//
// engine is the public API over it: its Conn is this package's Conn (one
// field, the same memory, so a pointer converts either way at no cost), its
// Handler and Trace are adapted once per Server or Client, its Config is
// converted, defaults filled, once per engine; Server and Client (listening,
// accepting, TLS, Dial, net/http) live there and start connections here
// through NewConn, StartServerConn and StartOpenConn. Everything a user
// reads about a method (its contract) is on engine's declaration; the
// declarations here point there.
//
// # Contract
//
//   - A Conn's state is in parts, each with one owner (Conn's comment,
//     docs/architecture.md): the identity, set before the connection is
//     published and only read afterwards; the read side, reached only with
//     the *worker of the context that holds the running bit (internal/owned),
//     so no other goroutine can name it; the write side, under its mutex;
//     the timers; the atomics.
//   - Every piece of work on a connection is an event posted to its
//     scheduling word (Post, reactor.Sched): turns of one connection never
//     overlap, and an fd number is touched only by the turn that owns it,
//     never after the connection's finish.
//   - Handler calls go through the guarded call points (guard.go): a panic
//     in user code ends that connection (1011) under PanicClose, never the
//     process or another connection.
//   - What the network sends is checked before it costs memory: the read
//     side's limits (internal/wsread), the inbound budget shared by every
//     connection (MaxTotalInbound), the write side's (internal/wswrite).
//
// Exported names beyond engine's API (Engine's fields, Identity, ReadSide,
// Post, ...) are for package engine and its white-box tests; the package is
// internal, so no user reaches them.
package wsconn
