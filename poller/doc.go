// Package poller reports readiness of raw file descriptors through epoll
// (Linux) or kqueue (darwin, freebsd), so an event loop can serve many idle
// connections without a goroutine or a buffer per connection. On every
// other platform New returns ErrUnsupported and the engine falls back to a
// goroutine per connection.
//
// # Edge-triggered
//
// Every registration is edge-triggered (EPOLLET, EV_CLEAR): an event is
// reported when the state changes (new data arrived, send space was freed,
// the peer hung up), not for as long as it holds. After a Readable event the
// caller must read until a short read or EAGAIN, or remember that the fd is
// still dirty; Wait will not report the bytes that were already waiting
// again. Modify is the exception that makes pausing safe: switching Read (or
// Write) interest back on reports the condition if it already holds, so data
// that arrived while reading was paused is not lost. Spurious events are
// possible (for example after Modify, or for an fd closed and reused); a
// read or write returning EAGAIN is the answer to them.
//
// # Tokens
//
// Add and Modify take a 32-bit token that every event of that registration
// carries back (Event.Token): epoll keeps it in the half of epoll_event.data
// the fd does not use, kqueue in udata. An fd number is reused as soon as it
// is closed, so an event harvested before a close can name a number that a
// newer registration owns by the time it is handled; a caller that gives each
// registration its own token (a generation) tells the two apart and drops the
// stale one. Modify replaces the token along with the interest.
//
// # Flags
//
//   - Readable: there is data to read, or a pending EOF or error that a read
//     will return.
//   - Writable: there is room in the send buffer (also: a non-blocking
//     connect finished, successfully or not).
//   - HangUp: the peer shut down its sending side or the connection is gone
//     (EPOLLRDHUP / EPOLLHUP, EV_EOF). Data sent before the hang-up may still
//     be waiting: read until EOF before closing.
//   - Error: the socket has a pending error (EPOLLERR, EV_EOF with an error
//     code); a read or write, or SO_ERROR, returns it.
//
// Several flags can come in one Event. On kqueue, read and write readiness
// are separate kernel events, so one fd can appear twice in one batch; flags
// from all of an fd's events in a batch add up.
//
// # Concurrency
//
// Wait must be called from one goroutine at a time (the loop that owns the
// Poller); it allocates nothing once its internal event buffer is sized to
// the events slice it is given. Add, Modify, Remove, Wake and Close are safe
// from any goroutine, also while Wait is blocked. Wake makes the current or
// next Wait return: wake-ups arriving before that Wait returns coalesce into
// one, and they are consumed inside Wait, never returned as events. Write
// the work for the loop first (into a queue), then call Wake; after Wait
// returns, the loop checks its queue.
//
// By default Wait blocks its thread in epoll_wait or kevent. After
// ParkInRuntime (Linux), Wait polls and, with nothing ready, parks its
// goroutine in Go's own netpoller until the epoll instance is readable: the
// thread runs other goroutines meanwhile, as it would for a goroutine blocked
// in a net.Conn read. Such a Wait is woken when the runtime polls, which,
// while every P is busy running goroutines, can be up to 10 ms later.
//
// Close makes a blocked Wait return ErrClosed and releases the kernel
// objects once no other call is using them; afterwards every method returns
// ErrClosed. Closing a watched fd removes it from the Poller (as long as no
// duplicate of the fd stays open), so Remove before close is optional.
//
// # Platform differences
//
//   - Linux: Add of an fd that is already watched fails with EEXIST
//     (errors.Is(err, fs.ErrExist)); HangUp and Error are reported even with
//     no interest set.
//   - kqueue: Add of a watched fd acts as Modify; with neither Read nor Write
//     interest nothing is registered, so a hang-up is reported only once an
//     interest is switched back on.
//   - Remove of an fd that is not watched fails with ENOENT
//     (errors.Is(err, fs.ErrNotExist)) on both.
package poller
