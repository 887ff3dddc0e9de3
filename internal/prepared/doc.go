// Package prepared encodes a message once for many connections: server frames
// are not masked, so the same header and payload bytes serve every server
// connection (the broadcast recipe of ws and WebSocket-Node, gorilla's
// PreparedMessage).
//
// Contract:
//
//   - A Message is immutable once made, but for its cache of compressed
//     frames, which is filled on first use under the Message's own lock: safe
//     from any goroutine.
//   - A compressed frame is made with an empty history (RFC 7692 §7.2.1), one
//     per window size, so it is valid on every connection that negotiated that
//     window, with or without context takeover; the connection's own
//     compressor only records the payload in its history after the frame goes
//     out.
//   - Frames are unmasked: a client connection masks its own copy.
package prepared
