// Package defaults fills in the zero (or, where the field documents it,
// negative) fields of the engine's Config with their documented defaults. It
// works on plain values through pointers to the Config's own fields, so the
// exported Config keeps its declaration and documentation in engine while the
// arithmetic lives, and is tested, here.
//
// # Contract
//
//   - Fill changes a field only when it asks for the default: zero, or zero
//     or negative for the sizes and counts that have no meaning below one.
//     A negative HandshakeTimeout, PingInterval, PongTimeout, WriteHighWater,
//     MaxTotalBuffered, MaxTotalInbound or MaxFragments is kept: it means
//     "none" or "no cap" to the engine.
//   - Derived defaults follow the fields they derive from once those are
//     filled: MaxFrameSize from MaxMessageSize, MaxFragments and
//     MaxTotalInbound from MaxMessageSize, WriteHighWater from MaxWriteBuffer.
//   - No arithmetic overflows, whatever the caller set: MaxFragments stays
//     within int32 and MaxTotalInbound within int64.
//   - Every pointer in Fields must be set.
//   - QueueShare(total) is what the queues may hold of a MaxTotalBuffered of
//     total: at most total, at least three quarters of it, total less 2 MiB
//     from 8 MiB up; negative (no cap) stays negative.
package defaults
