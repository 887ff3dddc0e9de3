// Package reactor runs connections' turns: the event loops (a poller each,
// the fd-indexed table of registered connections, an inbox, listening
// sockets, a timing wheel), the worker pool they hand turns to, the loop's
// own small batches and its takeover, and the corked batches of a worker's
// writes. It knows nothing of WebSocket: a connection is a T reached through
// [Ops], which the engine implements with a one-line method each, and a turn
// runs with a W in hand (the engine's *worker, the key of a connection's read
// side). Nothing here allocates per event or per turn (the fd table grows by
// doubling).
//
// # Contract
//
//   - Scheduling word ([Sched]): every piece of work is an event bit posted
//     to the connection's word, from any goroutine. The poster that sets
//     [Running] owns the connection and hands it to its runner; a later post
//     only adds its bit, and [Reactor.Run] takes every bit posted before it
//     releases the word, so turns of one connection never overlap, none is
//     lost, and an event posted during a turn runs after it, on the same
//     runner. Bits from [EvUser] up are the connection's own.
//   - A turn whose Handle reports more input keeps the running bit and is
//     queued behind fresh work (the pool's back lane, or the loop's inbox
//     when Inline): Run reports true. [Heavy] is the owner's to set and
//     clear; while set, every hand-over goes to the back lane.
//   - Loops: a connection is registered ([Loop.Add]) with its fd's
//     generation as the poller token, listeners ([Loop.Listen]) with 0. An
//     event is delivered to the connection in the table at its fd only if
//     the tokens match: one taken from the kernel for an earlier owner of
//     the number is dropped, and a token-0 event goes to the fd's listener.
//     Only the owner of a connection's running bit calls [Loop.SetRead] and
//     [Loop.Remove] (before its fd is closed), so no other goroutine issues
//     epoll_ctl on a number that may have changed hands.
//   - Dispatch ([Config.Inline] false): a small batch of ready connections
//     runs on the loop itself (internal/turns); bigger ones and every turn in
//     the slow phase go to the pool (internal/workq), a handshake to the
//     front lane ([Ops.Front]), a heavy connection to the back lane. Posting
//     never blocks. A turn on the loop that lasts turns.StuckAfter is left
//     behind: another goroutine takes the loop over with its own worker
//     ([Ops.TookOver] is told), and the blocked runner, once its turn
//     returns, gives its remaining turns to the pool and ends.
//   - Corking ([Config.Cork], io_uring only): while a worker runs a batch of
//     more than one ready connection, the Corkable ones' writes are held
//     ([Ops.CorkOn]) and go out with one io_uring_enter at the batch end, or
//     after corkBatchMax of them; a turn that blocks has the batch sent by
//     the watchdog, and a pool worker's turn taken ahead put back.
//   - [Reactor.Stop] ends the loops and workers (also runners started by a
//     takeover) and waits for them; no runner starts after it.
package reactor
