// Package turns is an event loop's bookkeeping of the connection turns it runs
// itself under DispatchPool (issue 15), and every turn's read budget: whether a batch runs on the loop or goes
// to the worker pool, the slow phase after a long turn, and the watchdog that
// leaves a blocked turn behind so another goroutine can take the loop over.
// It knows nothing of connections, pollers or workers: the engine's loop asks
// it before and after each turn and hands it two callbacks for the watchdog.
//
// # Contract
//
//   - OnLoop says whether a batch of n ready connections runs on the loop: at
//     most Batch of them, and not during the slow phase. A turn that took
//     SlowTurn or more starts a slow phase of SlowFor.
//   - Begin and End bracket every turn run on the loop (one goroutine at a
//     time: the loop's current runner); they cost a few atomics and, while
//     the watchdog is not armed, a timer reset. Nothing here is per frame.
//   - The watchdog runs on its timer while turns come. When a turn has lasted
//     StuckAfter it clears the turn (so it is left behind once only) and calls
//     TakeOver, which must call LeaveBehind (bumping Gen) before it starts a
//     new runner; a runner whose generation is no longer Gen runs no more
//     turns. Once Stopped reports true the watchdog does nothing and never
//     re-arms.
//   - Takeovers counts takeovers and allows one log line per LogEvery.
//   - Read (read.go) is one connection's read turn's budget, in any dispatch
//     mode: at most MaxReads reads and MaxBytes bytes, and LightBytes for a
//     turn from the pool's fresh lane, whose reads it cuts to what is left;
//     a light turn that spends its budget makes the connection heavy, and a
//     heavy one that reads the socket dry with less than LightBytes read
//     makes it light again.
package turns
