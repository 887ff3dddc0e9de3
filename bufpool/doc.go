// Package bufpool hands out byte slices from power-of-two size classes so that
// the engine's read, message and write buffers are recycled instead of
// allocated per frame.
//
// A request for n bytes is rounded up to the smallest class that holds it
// (MinSize, 2*MinSize, ... MaxSize for the package-level functions). Get
// returns a slice of length n whose capacity is exactly the class size. A
// request above the largest class is a plain allocation that Put will later
// drop, so a rare huge message never pins memory in a pool. Pooled buffers
// live in one sync.Pool per class, which lets the garbage collector reclaim
// them when the process goes idle.
//
// # Steady state is allocation-free
//
// Storing a []byte in a sync.Pool boxes the three-word slice header on every
// Put. Each class stores an unsafe.Pointer to the first byte of the backing
// array instead (pointer-shaped, so the interface conversion does not
// allocate) and Get rebuilds the slice from the pointer and the class size.
// Get and Put of a recycled buffer therefore allocate nothing; see the
// benchmarks and TestAllocsSteadyState.
//
// # Contract
//
//   - Contents are not zeroed: a buffer from Get holds whatever its previous
//     user left in it. Never read bytes you have not written.
//   - After Put(b) the caller must not touch b, nor any slice sharing its
//     array, again: the next Get, possibly on another goroutine, owns it.
//     Putting the same buffer twice hands it to two owners.
//   - Put the slice as Get returned it, or a re-slice of it that starts at
//     index 0 (b[:0], b[:k]): those keep the capacity, so the buffer goes back
//     to its class. Do not Put b[i:] with i > 0; its capacity is a class size
//     only by accident, and the pool would then keep the whole array alive to
//     hand out its tail.
//   - Put of a slice whose capacity is not exactly a class size (including
//     every buffer from an oversized Get, nil, and foreign slices) is a no-op:
//     such a buffer is dropped, never pooled. A foreign slice whose capacity
//     happens to be a class size is accepted and recycled like any other.
//   - Grow follows the same ownership rule: when it has to move the data it
//     Puts the old slice, which the caller must no longer use.
//   - Get, Put and Grow are safe for concurrent use; one buffer is used by one
//     goroutine at a time.
package bufpool
