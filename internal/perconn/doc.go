// Package perconn runs one connection on goroutines of its own: weir's
// goroutine-per-connection mode, for sockets the event loops cannot watch (a
// *tls.Conn, a net.Pipe, platforms without a poller, Config.GoroutinePerConn).
//
// It knows nothing of WebSocket nor of the engine's connection: a Socket reads
// from its net.Conn into a buffer it sizes itself and hands the bytes to a
// Reader, and writes what it takes from an Output, each on one goroutine. The
// engine's connection implements both interfaces.
//
// Contract:
//
//   - ReadLoop is the connection's running context: every Reader method is
//     called on its goroutine, one at a time. It reads only while the Reader
//     has no events pending and does not hold input back.
//   - Wake, from any goroutine, makes ReadLoop look at the Reader's events
//     soon: it ends a blocked Read with a past read deadline, and ends the wait
//     of a Reader that holds input back.
//   - WriteLoop takes the connection's queue whole (Output.Take, under the
//     Output's lock: the connection's write lock) and writes it with the lock
//     released, so a peer that stops reading blocks only that goroutine;
//     Inflight, under the lock, is what it is writing meanwhile, and after a
//     failed write what that write left (never out: bytes that neither the
//     queue nor Inflight holds went out). Kick, from any goroutine (usually
//     under the write lock), tells it output is queued. WillWrite records,
//     before the writer goroutine starts, that one runs: the connection may
//     then leave it the completions of what it writes after the end, and
//     Output.Ended, once it stops, says that nothing more goes out.
//   - The socket is closed once: by Close (under the write lock, the Output
//     closed) at once when told to or when nothing is queued or in flight,
//     else by WriteLoop once the queue is out, within Close's write
//     deadline; either way after Output.Release. Flush writes the queue on
//     the caller's goroutine for a connection whose writer never started.
//   - The read buffer comes from bufpool and goes back when ReadLoop returns.
//     It is 1 KiB while reads are small, so an idle connection blocked in Read
//     holds 1 KiB rather than 16 (readbuf.go); switching allocates nothing.
//   - Accept admits or closes what a listener accepts, and ends once the
//     listener is closed.
package perconn
