// Package workq is the hand-over queue between the goroutines that post work
// and a fixed set of workers that do it.
//
// Contract:
//
//   - Put never blocks and never starts a goroutine: while the channel is full,
//     items wait in an overflow list, in order, and workers move them into the
//     channel as they take from it. A poster (which may itself be a worker)
//     therefore never waits for the workers.
//   - Two lanes: Put queues fresh work, PutBack work that has had a turn and
//     has more to do. Fresh work is taken first, except that one take in four
//     tries the back lane first, so neither lane starves: a connection with a
//     little new input is not queued behind a turn of every busy one.
//   - A third lane, PutFront, goes before fresh work (the one take in four
//     for the back lane still comes first): for small work a client waits on,
//     such as a handshake, which must not queue behind a turn of every
//     connection that just woke up.
//   - Order is kept within a lane: an item put after another is taken after
//     it, overflow or not.
//   - Nothing is lost or duplicated: every item put is taken exactly once,
//     until Stop. The caller puts each item at most once at a time (the engine
//     puts only a connection whose running bit it set), so overflow never
//     holds more entries than there are items.
//   - Get blocks until an item or Stop; after Stop it reports false.
package workq
