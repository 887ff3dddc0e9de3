// Package sockfd is a socket owned by one connection: its fd number, closed
// once, plus a generation that names this ownership of the number.
//
// An fd number is reused by the kernel as soon as it is closed, so a late
// syscall on a stale number (epoll_ctl, read, write, shutdown) hits whatever
// socket was opened next. An FD makes the rules explicit:
//
//   - Only the owner closes it, once (Close); afterwards Int returns -1, so a
//     syscall that still gets through fails with EBADF instead of touching
//     another socket. The owner serialises Close with its own syscalls
//     (the engine: worker context, or the connection's write lock).
//   - Gen is a process-wide generation, never 0, given at Own. A poller
//     registration carries it as its token, so an event reported for an
//     earlier owner of the same number is told apart and dropped.
//   - Num is the number as owned, for bookkeeping (a loop's fd-indexed
//     table) after Close, never for a syscall.
//
// The zero FD owns nothing: Int and Num return -1 and Gen returns 0.
package sockfd
