// Package assemble builds the messages a connection's frames carry (RFC 6455
// §5.4) once internal/wsread has checked each frame: the payloads of a
// fragmented message collected into one pooled buffer, and a compressed
// message (RFC 7692) inflated and its text checked.
//
// # Contract
//
//   - Nothing is sized by a claim: the buffer grows as payloads arrive
//     (doubling at most), and each growth is charged to a shared
//     wsread.Total before it is kept; a refused growth releases the buffer,
//     refunds what it held and reports false, and the caller fails the
//     connection with wsread.ErrBudget (1013). Put refunds a buffer's
//     capacity as it goes back to the pool.
//   - Inflate bounds the inflated size by the message limit (a deflate bomb
//     ends in 1009, from package deflate) and checks text for UTF-8 after
//     inflating (§8.1), since a compressed frame's payload could not be.
//   - Keep appends bytes kept between reads to a pooled buffer that grows
//     with them (the caller bounds how many it keeps).
//   - No I/O, no goroutines, no state of its own: the buffer is the
//     caller's (its read side's), passed by pointer.
package assemble
