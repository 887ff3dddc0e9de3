// Package owned makes "only this context touches it" a property of a field's
// type rather than of its comment. A By[T, K] keeps a T that is reached only
// through Get, which takes a K: the key the owning context holds (for a
// connection's read side, the engine's *worker, which only the goroutine
// holding the connection's running bit has in hand). Code with no key, such
// as a method any goroutine may call, cannot name the value at all.
//
// Contract:
//
//   - It costs nothing: a By[T, K] is laid out as a T, and Get, inlined,
//     returns its address. The key is neither stored nor checked.
//   - It is a fence the compiler keeps, not a lock: whoever has a K can reach
//     every By[_, K]. What it rules out is reaching the value without a key
//     in hand, so every access shows, in its arguments, the context it runs
//     in.
package owned
