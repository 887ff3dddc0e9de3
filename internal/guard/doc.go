// Package guard contains the panics of user code called by the engine: Handler
// callbacks, WriteMessageFunc done callbacks, AfterClose hooks and the
// handshake's hooks. The engine calls them from shared workers, from the
// event loops and from reader goroutines; a panic escaping any of them would
// end the process and every other connection with it, so each call goes
// through a guard, the way net/http recovers a handler's panic per connection.
//
// Contract:
//
//   - A call point is one direct call with an open-coded defer of [Recover]
//     (or [RecoverAny]) around the callback: recover works only in the
//     deferred function itself, which Recover is. What follows a recovered
//     panic is [Panicked] and [PanickedAny], generic over the connection (C)
//     and the key of the context that ran the callback (W). The connection's
//     methods ([Conn]) are called only after a panic.
//   - Under [Close] (the default) a panic is logged with its stack on the
//     connection's logger, and the connection fails with 1011 (internal error,
//     RFC 6455 §7.4.1) exactly like a protocol error: Conn.Fail gets an
//     [*Error], which unwraps to [ErrPanic]. A connection already failing or
//     finished (a panic in OnClose) is the connection's to ignore: the log
//     line is then all that is left.
//   - Under [Propagate] recover is not called, so the panic goes on with its
//     stack intact (a crash and a core for those who prefer them).
//   - [Hook] runs a handshake hook and reports its panic (logged) instead: no
//     connection exists yet to fail, the caller answers 500.
//
// The package does no I/O besides its log lines and holds no state.
package guard
