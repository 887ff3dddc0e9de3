// Package sock is the raw-socket plumbing under weir's event loops: listening
// sockets accepted from on a loop, fds taken from net.Conns and net.Listeners,
// TCP options, and the owned fd through which every read, write, shutdown and
// close of a connection's socket goes. It knows nothing of WebSocket or of the
// engine; it is the only place outside the poller that makes socket syscalls.
//
// # Ownership
//
// An fd number is reused by the kernel as soon as it is closed, so a late
// syscall on a stale number (epoll_ctl, read, write, shutdown) hits whatever
// socket was opened next. An FD makes the rules explicit:
//
//   - Only the owner closes it, once (Close); afterwards Int returns -1, so a
//     syscall that still gets through (Read, Write2, Shutdown) fails with
//     EBADF instead of touching another socket. The owner serialises Close
//     with its own syscalls (the engine: worker context, or the connection's
//     write lock).
//   - Gen is a process-wide generation, never 0, given at Own. A poller
//     registration carries it as its token, so an event reported for an
//     earlier owner of the same number is told apart and dropped.
//   - Num is the number as owned, for bookkeeping (a loop's fd-indexed
//     table) after Close, never for a syscall.
//
// The zero FD owns nothing: Int and Num return -1 and Gen returns 0.
//
// A Listener owns its listening fd the same way: Close takes the accept lock,
// so that the fd is never freed under an accept in progress.
//
// # Sockets handed out
//
// Every fd this package hands out (Listen, Listener.Accept, TakeConn,
// FromListener) is non-blocking and close-on-exec, and the caller owns it.
// Accepted sockets are not tuned: TuneAccepted sets TCP_NODELAY and the
// caller's TCPOptions once the caller has decided to keep the socket.
//
// # Platforms
//
// Linux, macOS and FreeBSD have the raw paths (accept4 where the kernel has
// it, writev on Linux, two writes on the BSDs). Elsewhere nothing is owned:
// Listen returns ErrUnsupported, TakeConn and FromListener report false, and
// TCP options go through the net package. IsAgain and IsIntr classify the
// errors the raw calls return.
package sock
