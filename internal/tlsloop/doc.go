// Package tlsloop is the record layer of a wss connection on the event loops
// (docs/tls-design.md): after crypto/tls's handshake (internal/tlshand) the
// raw socket runs with the TLS 1.3 records of internal/tlsrec, and this
// package keeps what sits between the socket and the WebSocket code: the
// partial record between reads, the sealed bytes a short write left, the
// KeyUpdate owed to the peer and the alert owed when closing.
//
// Contract:
//
//   - A Conn is made by New once the handshake hands off, before the
//     connection is published. ConnectionState never changes afterwards, so
//     any goroutine may call it (it makes a Conn an upgrade.TLSConn). It is
//     rebuilt on each call from a compact form (state.go) and equals the
//     state New was given, field by field, ExportKeyingMaterial included.
//   - Its parts have the owners of the engine's Conn. The read side (Read,
//     and the steps it takes: Fresh, Kept, Input, Fail; ReleaseRead) belongs to the context that holds the
//     connection's running bit; the write side (OweUpdate, Write2,
//     DropBacklog, Bye) is called under the connection's write lock. Input
//     reports a KeyUpdate request; the caller passes it on with OweUpdate
//     under the write lock.
//   - Input opens records in place in the caller's buffer (the kept partial
//     record followed by what was just read) and packs their plaintext at its
//     front; a record not yet whole is kept in a pooled buffer, never sized
//     by what its header claims beyond one record (tlsrec bounds it). On an
//     error the plaintext authenticated before it is still returned, to be
//     delivered first; Fail then says what the error means and which alert
//     Bye sends (RFC 8446 §6.2), or that nothing goes back after the peer's
//     fatal alert.
//   - Read is one read of a turn over a [Reader]: the handshake's leftover
//     first, then the socket behind the kept partial record, the plaintext
//     handed on before an error, and the error told as the peer's EOF, the
//     peer's alert, or a bad record (whose alert Bye sends). The kept
//     partial record's buffer is charged to the caller's inbound budget
//     (Reader.Hold) as it is taken, grows or goes, and ReleaseRead returns
//     what is left to refund; a refused charge lets the partial record go,
//     ends the connection (OverBudget) and drops whatever is read after it.
//   - Write2 reports plaintext: n is how many bytes of a and b the socket took
//     whole. Sealed bytes a socket took only part of stay in a backlog that
//     carries the next plaintext bytes, which the caller hands back first in
//     its next write (all of them: everything not reported taken, front
//     first, as the Writer's contiguous queue does); those are skipped, never
//     sealed twice, so a sequence
//     number is never spent twice and the caller's queue, counts and
//     backpressure stay in plaintext. The backlog's memory is reported to the
//     Socket (Held) so the engine counts it like its write queue.
//   - Nothing here blocks: every write goes through Socket.Write2, which takes
//     what the socket takes now.
package tlsloop
