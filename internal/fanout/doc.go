// Package fanout sends one thing to many receivers kept in groups (a
// Broadcast to the connections of every event loop): each group is
// snapshotted, then sent to on a goroutine of its own, so a fan-out uses
// every core and no lock is held while sending; and, within a snapshot,
// WriteMany sends one prepared frame to many sockets in io_uring batches.
//
// Contract:
//
//   - Run calls collect for each group in turn on the caller's goroutine
//     (which may take the group's lock around it), and send once per
//     non-empty snapshot, with all its items (so that a send can batch them,
//     engine.WritePreparedMany): the last group's on the caller's goroutine,
//     the others' on a goroutine each. It returns once every send has
//     returned, with the sum of what they returned.
//   - The snapshots' slices come from a Lists and go back to it cleared, so
//     a fan-out in steady state allocates nothing per receiver and keeps no
//     receiver referenced.
//   - send must be safe to call from several goroutines at once; it may
//     reorder or overwrite the snapshot it is given, and must not keep it.
//   - WriteMany reaches its receivers only through Ops. A receiver is sent to
//     by the ring only while Ops.Direct's lock is held (the fd cannot be
//     closed and reused under it), and gets exactly one of Sent or Write per
//     message, or Failed for a refusal; Failed runs only once no lock taken by
//     the batch is held. Without io_uring (other systems, a seccomp filter,
//     every ring in use) every receiver gets Write.
package fanout
