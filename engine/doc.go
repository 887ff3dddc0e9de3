// Package engine is weir's WebSocket server and client: event loops over raw
// sockets, a bounded worker pool, timers on a wheel, and the connection (Conn) with
// its read, write and close paths. This package is the API, the Server (listening,
// accepting, TLS, net/http) and the Client (Dial); the connection machine under it
// is internal/wsconn (docs/architecture.md).
//
// # Data flow
//
// Each loop is one goroutine waiting on its own poller (epoll; kqueue on BSD and
// macOS): under DispatchInline it blocks in epoll_wait and keeps its thread; under
// DispatchPool, the default, it parks in Go's netpoller when idle, which watches
// the loop's epoll fd (docs/architecture.md, The read path). Connections are spread
// across the loops (Config.Loops, default GOMAXPROCS). Listening sockets are watched too and accepted on the loop
// (non-blocking accept4). A ready socket becomes an event bit on its connection; the
// poster that finds the connection idle hands it to a worker (Config.Workers,
// default 4×GOMAXPROCS) or, under DispatchInline, runs it on the loop. Under
// DispatchPool a loop whose wait returned a small batch (at most 4 events) runs
// those connections itself too: a hand-off costs a thread wake-up per read. The worker
// reads into a buffer it owns, parses the handshake or frames in place, unmasks in
// place, and calls the Handler. After the read the connection holds no buffer unless
// a frame or message is still in flight: an idle connection is its Conn struct and
// nothing else (no goroutine, no buffer, no timer object).
//
// # Contracts
//
//   - Conn methods are safe from any goroutine.
//   - Handler calls for one connection never overlap and arrive in order. They run on
//     a worker or on a loop goroutine. Under DispatchPool a handler that blocks ties
//     up the goroutine it runs on, never its loop for long: a turn on the loop that
//     has lasted 20 ms is left behind and another goroutine takes the loop over, and
//     after a turn of 0.5 ms or more the loop hands its turns to the pool for 100 ms.
//     Under DispatchInline a handler that blocks stalls the whole loop. Hand long
//     work to a goroutine of your own.
//   - A payload slice passed to a callback is valid only until the callback returns;
//     copy it to keep it. Writes never keep or modify the caller's slice.
//   - Protocol violations close the connection with the RFC 6455 code (1002, 1007,
//     1008, 1009) and report a *frame.ProtocolError to OnClose.
//
// # Goroutine mode
//
// The same Conn and Handler also run with one reader goroutine per connection and
// blocking writes: for a net.Listener whose fd cannot be taken (tls.Listener), for
// connections adopted from net/http when the socket cannot be moved, on platforms
// without epoll or kqueue, and everywhere with Config.GoroutinePerConn.
package engine
