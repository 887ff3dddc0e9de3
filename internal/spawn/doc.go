// Package spawn counts the goroutines an engine starts besides its loops
// (goroutine-mode connections, accept loops, TLS handshakes, the timer
// loop) so that stopping can wait for all of them.
//
// Contract:
//
//   - Go starts its functions, each on a goroutine of its own that Wait
//     waits for, all or none: after Close began it starts none and reports
//     false, and the caller must end on its own goroutine whatever they
//     would have served (close the socket, finish the connection).
//   - Close, then Wait, from the stopping goroutine: once Close returns no
//     goroutine is added, so Wait returns only when every goroutine Go
//     started has returned. (A sync.WaitGroup alone cannot say this: an Add
//     racing Wait is a misuse, and a goroutine added after Wait returned is
//     never waited for.)
//   - Every method may be called from any goroutine; Go from one of the
//     group's own goroutines too.
package spawn
