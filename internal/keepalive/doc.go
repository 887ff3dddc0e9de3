// Package keepalive decides, for one connection, when its next keepalive
// check is due and what is due at a check: WebSocket-Node's scheme on a
// timing wheel. After Policy.Ping without input a ping goes out; any input
// counts as its answer, and output the peer takes meanwhile (its answer may
// wait behind it) starts the wait again; neither within Policy.Pong drops the
// connection; Policy.Idle without input closes it. The engine turns the
// answers into a ping, a drop (1006, ErrPeerTimeout) or a close (1001,
// ErrIdleTimeout).
//
// Contract:
//
//   - Times are ticks of a Clock (internal/wheel). Every deadline is counted
//     from a recorded tick with Clock.After, which adds the wheel's slack, so
//     a check never finds something due early.
//   - Input is not tracked here: the caller records the tick of the last
//     input (cheap, on every read) and passes it in; checks are lazy.
//   - The per-connection state is two int64s the caller keeps (the tick its
//     unanswered ping went out, 0 for none, and the output count then),
//     owned by whoever runs the connection's checks. The output count is the
//     caller's too: any number that moves when the peer takes output.
//   - Pure: no clock reads, no I/O, no allocation.
package keepalive
