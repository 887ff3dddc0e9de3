// Package perconn runs one connection on goroutines of its own: weir's
// goroutine-per-connection mode, for sockets the event loops cannot watch (a
// *tls.Conn, a net.Pipe, platforms without a poller, Config.GoroutinePerConn).
//
// It knows nothing of WebSocket nor of the engine's connection: a Socket reads
// from its net.Conn into a buffer it sizes itself and hands the bytes to a
// Reader, and writes what a Writer hands it, each on one goroutine. The
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
//   - WriteLoop calls Writer.Take and Writer.Written on its goroutine, and
//     writes with no lock of the caller's held, so a peer that stops reading
//     blocks only that goroutine. Kick, from any goroutine (usually under the
//     caller's write lock), tells it output is queued.
//   - The read buffer comes from bufpool and goes back when ReadLoop returns.
//     It is 1 KiB while reads are small, so an idle connection blocked in Read
//     holds 1 KiB rather than 16 (readbuf.go); switching allocates nothing.
//   - Accept admits or closes what a listener accepts, and ends once the
//     listener is closed.
package perconn
