// Package wsread is the read side of a WebSocket connection as one socket-free
// state machine: fed the bytes of a connection in whatever chunks the network
// delivers, it yields the frames (RFC 6455 §5) they carry, checked.
//
// A Reader goes header -> payload -> deliver for every frame, and from deliver
// back to header, or to closed once a close frame has been delivered, or to
// failed at the first violation. The opening handshake is not its concern: the
// engine parses it with package upgrade and starts feeding a Reader with the
// first byte after it.
//
// Contract:
//
//   - Every byte is an attacker's. Every limit (frame size, message size,
//     fragment count, the control frame rules of §5.5, RSV bits, the mask bit
//     of the side, opcode sequencing of §5.4) is checked as soon as the header
//     is there, before any arithmetic on the declared length and before any
//     allocation. Nothing is ever sized by what a header declares: the payload
//     of a frame cut by the end of a chunk is copied into a pooled buffer
//     (bufpool) that grows as bytes arrive, doubling at most, so the memory a
//     peer makes a Reader hold is bounded by a small multiple of the bytes it
//     has actually sent. Limits.Budget, when set, is charged that buffer's
//     capacity as it is taken or grows and refunded as it is returned, so that
//     the engine can bound what all its connections hold together; a refused
//     growth fails the Reader with ErrBudget. A frame delivered from the chunk
//     never touches the budget.
//   - Feeding is split-invariant: any split of an input into chunks yields the
//     same events and the same error as the input in one piece (the fuzz target
//     checks it).
//   - Zero copy when possible: a frame wholly inside the chunk is unmasked in
//     place and delivered as a slice of the chunk. Payloads (of the chunk or of
//     the Reader's buffer) are valid until the next call on the Reader.
//   - Text is validated as UTF-8 as it arrives (§8.1 fail fast), unless the
//     message is compressed (RFC 7692: checked after inflating, by the caller)
//     or Limits.SkipUTF8 is set.
//   - After a close frame is delivered nothing more is (§5.5.1): later bytes
//     are consumed and dropped. After an error, likewise.
//   - Errors are *frame.ProtocolError sentinels (those of package frame and the
//     ones below) carrying the close code to send.
//   - A Reader is used by one goroutine at a time and does no I/O. Its zero
//     value needs Start before the first Next. It does not keep its Limits
//     (a word less in every connection): Start, Next, ReadSpace and Release
//     take them, the same value each time.
package wsread
