// Package frame implements the RFC 6455 §5 wire format of WebSocket frames:
// header parsing and encoding, payload masking, close payloads and the UTF-8
// validation that text messages and close reasons require.
//
// The package exists so that the engine's read and write loops can be written
// against a few small, allocation-free primitives whose behaviour is pinned
// down by table tests, fuzz targets and benchmarks.
//
// Contract:
//
//   - No I/O. Every function works on byte slices the caller owns. Parsers say
//     how many bytes they need ([ErrShortHeader] with the size wanted) instead of
//     reading more; encoders write into a caller's buffer or append to it.
//   - No allocation. Every exported function runs with 0 allocs/op (the
//     benchmarks and testing.AllocsPerRun tests check it), except that the
//     Append functions grow dst with append when it has no room, and the
//     String methods format unknown values.
//   - Slices alias inputs. A slice returned by a parser (the close reason from
//     [ParseClose]) points into the input; copy it to keep it past the input's
//     lifetime.
//   - Protocol errors are *[ProtocolError] sentinels carrying the close status
//     code to send (1002 or 1007), to be tested with errors.Is and errors.As.
//   - The package judges only what RFC 6455 makes invalid for any endpoint.
//     What depends on the connection is left to the engine and only reported:
//     RSV bits (negotiated extensions, RFC 6455 §5.2 and RFC 7692), the mask bit
//     (client or server side, RFC 6455 §5.1), opcode sequencing of fragments
//     (§5.4) and message size limits.
package frame
