// Package closing is a connection's way to closed (RFC 6455 §7): what a close
// request, the peer's close frame, a protocol failure, the peer's hang-up and
// the close deadline each owe, and which close codes and reasons may be sent
// (§7.4, §5.5).
//
// Contract:
//
//   - The machine works on a connection only through [Conn]: the close frame
//     sent once, the close status (first one set wins), the request posted
//     from any goroutine, and, in the context that holds the read side (keyed
//     by W), the read side's close facts, the deadline and finish. Its state
//     is a [Read] in each connection's read side (the peer's close frame,
//     input dropped, finished) and the errors it reports ([Machine]).
//   - Requests ([Graceful], [Now], [Abort], [Busy], [Slow]) are posted from any
//     goroutine into Conn.Request and acted on by [Machine.OnRequest] in the
//     read side's context.
//   - A failure (§7.1.7) sends the error's close code (1002 unless it is a
//     *frame.ProtocolError with its own: 1007, 1008, 1009, 1011, 1013),
//     stops reading frames and waits at most the close deadline for the peer
//     to hang up; failing twice, or after finish, does nothing.
//   - The peer's close frame is echoed with its code (none for 1005, never on
//     the wire); a bad one (§7.4, §5.5.1) fails the connection with 1002 or
//     1007. A server then closes TCP once its echo is out, a client waits for
//     the server to (§7.1.1).
//   - A hang-up or I/O error after the close handshake or a failure is a clean
//     end; before it, 1006 with the abnormal-closure error or the I/O error.
//
// The package does no I/O; a connection's effects are its Conn's.
package closing
