// Package opening is the server's side of the opening handshake (RFC 6455
// §4.2) on a connection that reads its own bytes (a loop's worker, or
// goroutine mode's reader): the request gathered across reads, the checks
// made around package upgrade's Handshake, a verify decision deferred and
// finished later, and the answer: the 101 and the bytes that followed the
// request handed on as frames, or a refusal.
//
// Contract:
//
//   - The machine works on a connection only through [Conn], in the context
//     that holds its read side (keyed by W): its pooled buffer of bytes kept
//     unparsed, the context's request view and answer scratch, the server's
//     state, the caps and hooks, the answer written and what follows it. It
//     holds no state of its own.
//   - A request cut by the end of a read is kept in the read side's buffer
//     and parsed again with the next bytes (upgrade.Upgrader.Parse bounds
//     it); a request that arrives whole in one read is parsed where it lies
//     and copies nothing.
//   - In order, after the request parses: a server that aborts answers
//     nothing ([Conn.Abort]); one that stops answers 503 ([ErrBusy]); a
//     client IP over its cap behind a trusted proxy 503 (internal/admit);
//     then upgrade's checks and user hooks run under [Conn.Guard], a panic
//     answered 500 ([ErrHookPanic]).
//   - A deferred decision keeps only the bytes after the request, at most
//     [MaxEarly] in all while it waits ([Early]); once it arrives ([Decided])
//     the handshake finishes as a synchronous one would, answered 503 if the
//     server began stopping meanwhile.
//   - Accepted: the connection becomes open before its 101 is written (a
//     client that read it finds it open), then OnOpen, then the bytes after
//     the request are parsed as frames. Refused: the answer is counted by its
//     status, written, and the connection lingers ([Conn.Linger]) so that the
//     peer reads it rather than a reset; where it cannot, it ends at once.
//   - Upgrader makes the server's Upgrader from the user's: the server's
//     permessage-deflate and handshake bound added on a copy, only where
//     the user set none; the user's own when nothing is added.
//
// The package does no I/O; a connection's effects are its Conn's.
package opening
