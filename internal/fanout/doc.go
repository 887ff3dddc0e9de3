// Package fanout sends one thing to many receivers kept in groups (a
// Broadcast to the connections of every event loop): each group is
// snapshotted, then sent to on a goroutine of its own, so a fan-out uses
// every core and no lock is held while sending.
//
// Contract:
//
//   - Run calls collect for each group in turn on the caller's goroutine
//     (which may take the group's lock around it), and send for every item
//     of the snapshots: the last group's on the caller's goroutine, the
//     others' on a goroutine per non-empty snapshot. It returns once every
//     send has returned, with the number that reported true.
//   - The snapshots' slices come from a Lists and go back to it cleared, so
//     a fan-out in steady state allocates nothing per receiver and keeps no
//     receiver referenced.
//   - send must be safe to call from several goroutines at once.
package fanout
