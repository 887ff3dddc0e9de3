package deflate

import "github.com/weir-ws/weir/bufpool"

// Conn is the permessage-deflate state of one connection: the negotiated
// parameters and, under context takeover, the history windows. Everything
// else (the compressors, their 32 KiB windows and hash tables, the
// decompressors) is borrowed from pools shared by all connections for the
// duration of one call, so with no context takeover an idle Conn holds no
// buffer at all, and with takeover it holds at most HistorySize bytes of sent
// plaintext plus 2^window bytes of received plaintext, each in a bufpool buffer
// sized to what was exchanged.
//
// Compress and Decompress may run concurrently with each other (they touch
// separate state), but each must not run concurrently with itself: the
// engine's writer and reader paths, one of each per connection. The zero Conn
// is not usable; use NewConn or Reset.
type Conn struct {
	out, in   direction
	threshold int
	level     int8
	agreed    Agreement
}

// direction is one direction's compression state, kept small: an idle Conn
// is 80 bytes.
type direction struct {
	history  []byte // last plaintext bytes, nil until the first message
	limit    int32  // bytes of history to keep, at most 32 KiB
	bits     uint8  // LZ77 window bits of the compressor, 8..15
	takeover bool   // the compressor keeps its history across messages
}

// NewConn returns the state for a connection that agreed p (from
// Agreement.Params on a server, Options.Accept on a client); isServer picks
// which half of p applies to compression and which to decompression. opts
// (nil: defaults) supplies the level, threshold and history size.
func NewConn(p Params, isServer bool, opts *Options) *Conn {
	c := new(Conn)
	c.Reset(p, isServer, opts)
	return c
}

// Reset reinitialises c as NewConn would, releasing its history first, so an
// engine can keep a Conn inside its own connection struct.
func (c *Conn) Reset(p Params, isServer bool, opts *Options) {
	c.Release()
	s := opts.settings()
	server := direction{bits: uint8(p.ServerWindowBits()), takeover: !p.ServerNoContextTakeover}
	client := direction{bits: uint8(p.ClientWindowBits()), takeover: !p.ClientNoContextTakeover}
	if isServer {
		c.out, c.in = server, client
	} else {
		c.out, c.in = client, server
	}
	// Our compressor may use less history than the window allows.
	c.out.limit = int32(min(s.history, 1<<c.out.bits))
	// The peer's may use all of it. An 8-bit window is kept as 9 bits: zlib
	// silently compresses with 9 when asked for 8.
	c.in.limit = 1 << max(c.in.bits, MinWindowBits+1)
	c.threshold, c.level = s.threshold, int8(s.level)
	c.agreed = p.Agreement()
}

// Release returns the history buffers to bufpool. The Conn must not compress or
// decompress afterwards except through Reset; Params still reports the
// agreement, and Release writes nothing else, so Params may run concurrently
// with it. Release is idempotent.
func (c *Conn) Release() {
	bufpool.Put(c.out.history)
	bufpool.Put(c.in.history)
	c.out.history, c.in.history = nil, nil
}

// Params returns the agreement c was built from, window sizes set (8 to 15).
func (c *Conn) Params() Params { return c.agreed.Params() }

// ShouldCompress reports whether a message of n bytes is worth compressing
// (n reaches Options.Threshold). RFC 7692 §6 lets every message choose; one
// sent uncompressed goes out with RSV1 clear and takes no part in the LZ77
// history on either side, so skipping is always safe.
func (c *Conn) ShouldCompress(n int) bool { return n >= c.threshold }

// WindowBits is the window our compressor may use, 8 to 15: the only
// negotiated parameter that changes the output of Compress (the package
// function), so a prepared message is compressed once per value.
func (c *Conn) WindowBits() int { return int(c.out.bits) }

// Compress appends to dst the payload of msg as one compressed message (RFC
// 7692 §7.2.1, the trailing 0x00 0x00 0xff 0xff removed) and returns it. The
// engine sends it with RSV1 set on the first frame only (§6), fragmented as it
// likes; control frames are never compressed (§6.1).
//
// dst is grown through bufpool, like bufpool.Grow: pass nil or a buffer you
// own, and afterwards use only the returned slice. On error the returned slice
// holds dst's contents and the connection must be failed: the history no
// longer matches the peer's.
func (c *Conn) Compress(dst, msg []byte) ([]byte, error) {
	out, err := c.Deflate(dst, msg)
	if err == nil {
		c.Advance(msg)
	}
	return out, err
}

// Deflate is Compress without its commitment: it appends msg compressed after
// the current history but leaves the history as it was. A writer that may
// still refuse the message after compressing it (an outbound cap judged on the
// compressed size) calls Deflate, and Advance(msg) only once the message is
// sure to go out: a message the peer never receives must never enter the
// history, or every later message that refers back into it inflates to wrong
// bytes at the peer, with no error anywhere (RFC 7692 §7.2.1: both ends' LZ77
// windows must hold the same plaintext). On error nothing changed: the
// message may be sent uncompressed instead.
func (c *Conn) Deflate(dst, msg []byte) ([]byte, error) {
	var history []byte
	if c.out.takeover {
		history = c.out.history
	}
	return deflateMessage(dst, msg, history, int(c.level), int(c.out.bits))
}

// Advance records that msg went out compressed by something other than
// Compress on this Conn, a prepared message from the package function
// Compress, so that the history stays what the peer's decompressor holds.
// Without context takeover it does nothing.
func (c *Conn) Advance(msg []byte) {
	if c.out.takeover {
		c.out.history = slide(c.out.history, msg, int(c.out.limit))
	}
}

// Decompress appends to dst the payload of the compressed message msg (RSV1
// was set on its first frame; msg is the concatenation of all its frame
// payloads, unmasked) and returns it (RFC 7692 §7.2.2). limit is the read
// limit on the inflated size (<= 0: none): past it Decompress stops at once
// with ErrMessageTooBig (1009), having produced at most limit+1 bytes. Data
// that is not valid DEFLATE gives ErrCorrupt (1007); more than 16 final
// blocks plus one per 4 KiB of msg and of its output, a *frame.ProtocolError
// with 1008.
//
// dst follows the rules of Compress. On error the connection must be failed.
func (c *Conn) Decompress(dst, msg []byte, limit int64) ([]byte, error) {
	return c.DecompressBudget(dst, msg, limit, nil)
}

// DecompressBudget is Decompress with the output's memory charged to b as it
// grows (nil: none), before each growth: a budget refusal stops inflating at
// once with ErrBudget (1013), so concurrent inflations together never hold
// more than b allows, however far their bombs would inflate. The caller
// charges dst's own capacity before the call; afterwards, success or error,
// b holds exactly the capacity of the returned slice for it.
func (c *Conn) DecompressBudget(dst, msg []byte, limit int64, b Budget) ([]byte, error) {
	var history []byte
	if c.in.takeover {
		history = c.in.history
	}
	start := len(dst)
	out, err := inflateMessage(dst, msg, history, limit, b)
	if err == nil && c.in.takeover {
		c.in.history = slide(c.in.history, out[start:], int(c.in.limit))
	}
	return out, err
}

// Compress appends to dst msg compressed as one message with an empty history,
// for a connection whose compressor window is windowBits (Conn.WindowBits).
// The result is valid on every such connection, with or without context
// takeover, so an engine's prepared (broadcast) message compresses once per
// window size and sends the same bytes to all; on a connection with takeover
// it then calls Conn.Advance. opts (nil: defaults) gives the level; a
// windowBits outside 8..15 counts as 15. dst follows the rules of
// Conn.Compress.
func Compress(dst, msg []byte, windowBits int, opts *Options) ([]byte, error) {
	return deflateMessage(dst, msg, nil, opts.settings().level, effectiveBits(windowBits))
}

// Decompress appends to dst the payload of a compressed message inflated with
// an empty history, under the rules of Conn.Decompress. It suits a connection
// whose peer does not take over context, and tests.
func Decompress(dst, msg []byte, limit int64) ([]byte, error) {
	return inflateMessage(dst, msg, nil, limit, nil)
}
