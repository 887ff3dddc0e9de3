// Package rtt matches pongs to the ping round-trip measurements waiting for
// them (RFC 6455 §5.5.3: a pong echoes the ping's payload).
//
// Contract:
//
//   - Each Waiter has a payload of its own, Len bytes: a prefix random per
//     process (so an application's own ping payloads are not taken for ours)
//     and a counter unique in the process.
//   - A Set is the Waiters of one connection. It is an immutable slice behind
//     an atomic pointer, replaced whole when a Waiter comes or goes, so
//     Deliver (the pong path) takes no lock and, on a Set nobody ever used,
//     costs one atomic load. Add, Remove and Deliver are safe from any
//     goroutine; the zero Set is empty and ready.
//   - A Waiter gets at most one round trip: a duplicate pong is matched (not
//     passed on as an ordinary pong) but not delivered again.
//   - Wait blocks until the round trip, the caller's context or the
//     connection's end, and prefers a round trip already delivered to the end.
package rtt
