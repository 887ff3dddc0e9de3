// Package handoff decides where a connection runs once its handshake is done:
// on an event loop, from a duplicate of the fd under its net.Conn (with the
// TLS 1.3 record layer of internal/tlsloop for wss), or in goroutine mode on
// the net.Conn itself. It serves the engine's three ways in that end with a
// net.Conn: a dialled client connection after its 101 (Client), a ListenTLS
// connection after crypto/tls's handshake (Server), a wss connection hijacked
// from an http.Server on the engine's TLS listener after its 101 (Late), and
// a plain socket handed over whole (Plain).
//
// # Contract
//
//   - Sockets are the engine's: Tune applies its TCP options, Take duplicates
//     the fd for a loop, or declines (no loop runs, not a TCP or Unix socket:
//     a net.Pipe, a proxy tunnel over TLS). Tune runs once, on the raw socket,
//     before Take.
//   - On a loop (Conn.FD >= 0) the net.Conn the fd came from is closed here:
//     one fd per connection, the loop's. For wss, crypto/tls's tls.Conn is
//     then never used again (its keys and sequence numbers are stale: closing
//     it would send a bad close_notify); Conn.Record continues exactly where
//     it stopped, with the bytes read past the handshake (tlshand's Leftover)
//     to be opened by the first read turn.
//   - In goroutine mode (FD < 0) Conn.Net works: a plain connection as it
//     came, or a tls.Conn whose state the hand-off left untouched (TLS 1.2,
//     ChaCha20-Poly1305, a KeyUpdate answered before the hand-off, a socket
//     that cannot be taken: tlshand.ClientConn.Fallback).
//   - Client and Late return the bytes that follow the 101 in the stream: the ones
//     the caller read past it, then the plaintext crypto/tls had decrypted
//     and not handed out. Nothing is dropped and nothing is read twice.
//   - Conn.TLS tells the engine's TLS counters which way a wss connection
//     went; a failed Server hand-off (its fd could not be taken) returns
//     false with the socket closed.
//
// No WebSocket here, and no engine state: the package imports neither.
package handoff
