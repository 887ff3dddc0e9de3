// Package outq holds what one WebSocket connection has written and the socket
// has not taken yet, socket-free: the outbound byte queue, the whole messages
// held behind a fragmented message, the completion callbacks waiting for their
// bytes, and the batch of pongs owed for one read turn.
//
// Contract:
//
//   - Nothing here does I/O or locks. The engine keeps one of each per
//     connection under the connection's write mutex; every method is called
//     with that mutex held (or by the one goroutine that owns the value).
//   - The Queue's and Held's buffers come from internal/pagepool, outside the
//     Go heap, and go back to it (Put for a buffer from Take): their pages are
//     resident only while they hold output, so what a budget counts of them
//     (their capacity) is what the process holds, with no collector headroom on
//     top. A Queue holds no buffer while it is empty and released, so an idle
//     connection holds none.
//   - A partial write advances the Queue's read offset instead of moving the
//     rest to the front; the buffer is compacted only when an append needs
//     room and the live bytes and the append fit it, and moves to a larger one
//     only when they do not (a move copies the same live bytes and holds two
//     buffers meanwhile).
//   - Growth reports, before anything is appended, the most memory an append
//     of n bytes adds at any moment (nothing, or the whole pooled buffer it
//     would take: the one it gives back is held until the bytes have moved),
//     so a caller can judge a write against a budget first and queue it after
//     (encode, admit, commit) without the budget being passed meanwhile.
//   - Offsets count bytes ever appended (Queue.Total): a completion waits for
//     the offset its message ends at (Dones), which stays valid across
//     compactions and buffer swaps.
//   - Pongs keeps at most Batch bytes of encoded pong frames; past that, or
//     when asked (the socket is full), it keeps only the latest, as RFC 6455
//     §5.5.3 allows, so a peer that floods pings and never reads cannot grow
//     the connection's memory.
package outq
