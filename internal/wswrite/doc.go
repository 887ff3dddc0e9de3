// Package wswrite is the write side of a WebSocket connection: every kind of
// write (messages, raw frames, prepared messages, control frames, the batched
// answers to pings) taken through the same three steps, and what the socket
// has not taken yet queued (internal/outq).
//
// The three steps, all under the caller's lock:
//
//   - encode: the frames' bytes are settled without changing any state (a
//     compressed message is deflated into scratch, its history left alone);
//   - admit: the outbound cap (Limits.MaxBuffer) and the budget shared by all
//     connections (Limits.Total, Limits.MaxTotal) judge the encoded size;
//     control frames and the rest of a message already admitted skip it;
//   - commit: the frames go out and only now does state move: the deflate
//     history advances (RFC 7692 §7.2.1: it must hold exactly what the peer
//     inflated), a close marks the close as sent.
//
// A refused write therefore leaves no trace. With nothing queued, a frame goes
// straight to the socket through Sink.Write2 (one non-blocking writev of the
// header, built on the stack, and the caller's payload, with no copy); what the
// socket does not take is copied into the queue. The caller's slice is never
// kept nor modified: a client's frame is masked into a pooled copy (RFC 6455
// §5.3).
//
// Contract:
//
//   - A Writer's fields are unexported: the engine reaches them only through
//     methods, each called with the connection's write mutex held (Queued, an
//     atomic, excepted). A Writer does no I/O of its own: the Sink does it.
//   - Its zero value is an idle write side holding no buffer.
//   - While a fragmented message (Frame with fin false) is in progress, whole
//     messages are held behind it (RFC 6455 §5.4) and control frames go out
//     between its fragments.
//   - The pooled memory behind the queue and the held messages is counted in
//     Limits.Total as it is resident: by capacity rounded up to whole pages (a
//     buffer below a page keeps its shared page resident), charged when a
//     buffer is taken or grows, refunded when it goes back. A buffer a queue
//     moves out of is counted until it goes back (outq.Queue.Growth), so the
//     total never passes what is held, even while bytes move.
//   - Limits.Total never passes Limits.MaxTotal: Admit reserves the growth a
//     write would cause with a compare-and-swap before it commits, the growth
//     spends the reservation, and the rest is given back when the write ends.
//     A write to an empty queue on the loops reserves nothing up front (the
//     socket usually takes it all, which costs the budget nothing however full
//     it is); what the socket leaves is reserved after the syscall, and if the
//     budget has no room the connection is cut (ErrBudgetCut: the write can
//     no longer be refused). Control frames are never refused; their growth
//     (at most one small buffer per connection) is counted as it happens.
//   - Corking (cork.go): between CorkOn and CorkOff (the engine runs a batch
//     of ready connections) an admitted write of at most corkMax bytes that
//     would go straight to the socket is queued instead, its memory reserved
//     first; the engine sends it at the batch end (Corked, CorkSent, under the
//     lock throughout). Corked bytes are the queue's prefix: every later write,
//     control frames included, goes behind them; owed pongs go behind them and
//     ahead of the next write, as behind bytes already sent; a close frame
//     sends them first (Uncork), so a socket closed right after it loses
//     nothing that was written before it.
package wswrite
