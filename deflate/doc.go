// Package deflate implements the permessage-deflate WebSocket extension
// (RFC 7692) on github.com/klauspost/compress/flate: the negotiation, server
// and client, and a per-connection codec whose memory stays bounded, and is
// nothing at all for an idle connection without context takeover.
//
// The package does no framing and no I/O. The engine owns RSV1, fragmentation,
// control frames and the read limit; this package turns whole message
// payloads into compressed payloads and back.
//
// # Engine-facing API
//
// Server, per listener:
//
//	neg := deflate.NewNegotiator(opts)          // opts *Options; nil: defaults
//	upgrader.Extensions = neg                   // leave nil to keep it off (the default)
//
// After an accepted handshake, Result.Extensions is a deflate.Agreement when
// permessage-deflate was negotiated (one byte, so the handshake stays
// allocation-free):
//
//	if a, ok := res.Extensions.(deflate.Agreement); ok {
//		dc := deflate.NewConn(a.Params(), true, opts) // or Reset on a Conn embedded in the engine's conn
//	}
//
// Client: append opts.Offer() to ClientRequest.Extensions (only when the
// application asked for compression), and after upgrade.ValidateResponse:
//
//	p, ok, err := opts.Accept(result.Extensions)
//	// err != nil: fail the connection (RFC 7692 §5.1); !ok: no compression
//	dc := deflate.NewConn(p, false, opts)
//
// Reading, for a data message whose first frame has RSV1 set: check the
// compressed size against the frame and message limits as for any message,
// concatenate the unmasked payloads of all its frames, then
//
//	msg, err := dc.Decompress(buf, payload, maxMessageSize) // the limit applies to the inflated size
//
// and validate UTF-8 of a text message on the inflated bytes. A message
// without RSV1 is not compressed and does not touch dc. RSV1 on a
// continuation or control frame, or on any frame when nothing was negotiated,
// stays the engine's 1002 (RFC 7692 §6, §6.1).
//
// Writing: when the per-message switch allows it and dc.ShouldCompress(n)
// (Options.Threshold), send dc.Compress(buf, payload) with RSV1 set on the
// first frame only, fragmented as usual; otherwise send the payload as is with
// RSV1 clear. Control frames are never compressed (§6.1). A writer that can
// still refuse the message after compressing it (an outbound cap judged on the
// compressed size) uses dc.Deflate instead, and dc.Advance(payload) only once
// the message is committed: a refused message must not enter the history.
//
// Prepared (broadcast) messages: the package function Compress compresses a
// payload with an empty history, which is valid on every connection whose
// compressor window is the same, takeover or not. Cache one result per
// dc.WindowBits() (15 unless a client asked for less); after sending it on a
// connection call dc.Advance(payload) so that connection's history stays what
// its peer holds.
//
// Call dc.Release when the connection closes.
//
// # Memory model
//
// Compressors (a klauspost flate.Writer is about 0.8 MB at level 1, 1.2 MB
// at level 2) and decompressors (about 38 KB) are never owned by a connection:
// each Compress or Decompress call borrows one from a pool shared by all
// connections (sync.Pool, so the GC reclaims them when traffic stops) and
// returns it before returning. The compressed input is copied into a bufpool
// buffer for the duration of Decompress.
//
// What a Conn keeps between messages:
//
//   - without context takeover in a direction, nothing for that direction:
//     an idle Conn with neither is its own 80 bytes;
//   - with takeover of our compressor (server_no_context_takeover not agreed,
//     on a server), the last Options.HistorySize bytes it sent (default
//     4 KiB, never more than 2^server_max_window_bits);
//   - with takeover of the peer's compressor, the last 2^window bytes
//     received, the full 32 KiB unless the window was negotiated down: a
//     server answers client_max_window_bits from Options.ClientMaxWindowBits
//     when the client's offer allows it, or client_no_context_takeover from
//     Options.ClientNoContextTakeover to keep nothing.
//
// Histories are bufpool buffers sized to what was exchanged: a connection
// that exchanged one 1 KiB message each way holds 2128 bytes, one past 32 KiB
// each way 36944 bytes with the defaults, 5200 with client_max_window_bits=10
// (TestIdleConnHeap, BenchmarkIdleConnHeap over 10,000 Conns).
//
// Context takeover works on these histories: our compressor is primed with
// its history as a preset dictionary (flate.Writer.ResetDict) before each
// message, and the decompressor is reset with the peer's history as its
// window. Priming costs an encode pass over the history, so takeover roughly
// doubles the CPU cost of a 1 KiB message at the default 4 KiB history, and
// grows with HistorySize (BenchmarkHistory); messages under 128 bytes skip
// it (klauspost's fast levels would ignore it). Keeping a flate.Writer per
// connection instead would cost 0.8 MB per connection.
//
// # Window sizes
//
// flate's window is 32 KiB, 2^15. Our compressor honours any
// server_max_window_bits (server) or client_max_window_bits (client) from 8
// to 15, so the server accepts every valid offer rather than declining small
// windows: when the history plus the message fits in 2^N bytes no match can
// reach further back, and any larger input goes to a writer built with
// flate.NewWriterWindow(2^N), which never refers back further (it is
// klauspost's level 5 encoder, whatever Options.Level). TestWindowBitsHonoured
// checks every size against a reference decoder with input that tempts
// matches just past the window.
//
// Our decompressor inflates any window up to 15 bits, and keeps 2^N bytes of
// the peer's history for takeover. An 8-bit peer window is kept as 9 bits,
// and a server never answers client_max_window_bits=8 (it sends 9): zlib, which
// most peers use, cannot produce a raw 8-bit window and silently uses 9.
//
// # Decompression
//
// RFC 7692 §7.2.2: the receiver appends 0x00 0x00 0xff 0xff, the sync flush
// marker the sender removed, and inflates. Decompress also appends an empty
// final block, so the end of the message is told from truncated data, and
// follows §7.2.1 when a block with BFINAL set ends inside the message: the
// next block follows the padding, with the same window (the §7.2.3.4 example
// and compressors that flush with final blocks), up to 16 final blocks plus
// one per 4 KiB of the message and of its output (each restart copies up to
// 32 KiB of history; past it 1008). The read limit is enforced
// while inflating, in bounded output steps: a compression bomb stops at
// limit+1 bytes with ErrMessageTooBig, its buffers bounded by twice the limit.
// There is no per-frame incremental decompression: klauspost's inflater
// cannot suspend when input runs out mid-block, so the engine hands over the
// whole compressed message, already bounded by its frame and message limits.
//
// # Errors
//
// Codec errors are *frame.ProtocolError values whose Code the engine sends in
// its close frame: ErrMessageTooBig (1009) past the read limit, ErrCorrupt
// (1007, as Node's ws sends for zlib's Z_DATA_ERROR) for data that is not
// DEFLATE or refers back past its history. After either, or any Compress
// error, the connection must be failed: its histories no longer match the
// peer's. Negotiation errors (ErrUnknownParam, ErrDuplicateParam,
// ErrParamValue, ErrBadResponse) are sentinels for errors.Is; a server never
// returns them, it declines the offer (RFC 7692 §5).
//
// # Concurrency
//
// Negotiator and Options are read-only and shared. On a Conn, Compress (or
// Advance) and Decompress may run concurrently with each other, one call of
// each at a time: the engine's writer and reader.
package deflate
