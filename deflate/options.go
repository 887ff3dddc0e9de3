package deflate

import (
	"fmt"

	"github.com/klauspost/compress/flate"
)

// Window sizes RFC 7692 §7.1.2 lets the endpoints negotiate, as log2 of the
// LZ77 window in bytes.
const (
	MinWindowBits = 8
	MaxWindowBits = 15
)

// Defaults applied for the zero fields of Options.
const (
	// DefaultLevel is flate.BestSpeed. On JSON-like text klauspost's level 1
	// is the fastest level, about 1.6x the throughput of its level 5 on
	// 64 KiB messages for output about 17% larger, and level 2 to 6 gain at
	// most 7% on 1 KiB messages (BenchmarkLevel).
	DefaultLevel = flate.BestSpeed
	// DefaultThreshold is the size below which messages go uncompressed.
	// Under 128 bytes klauspost's fast levels write a Huffman-only or stored
	// block whatever the history, which grows short JSON by 9 to 19%
	// (BenchmarkThreshold at 32 and 64 bytes). From 128 bytes up matches
	// start: 128-byte messages shrink to 46% with context takeover (97%
	// without), 256-byte ones to 40% (64%). Node's ws uses 1024, but for
	// zlib's per-message overhead, which pooled klauspost writers do not have.
	DefaultThreshold = 128
	// DefaultHistorySize is how much of the plaintext it sent the compressor
	// keeps per connection under context takeover. On 1 KiB JSON-like
	// messages 4 KiB gets the ratio of a full 32 KiB window within 0.2% for
	// an eighth of the memory and a sixth of the priming time
	// (BenchmarkHistory); 1 KiB primes faster but covers fewer earlier messages.
	DefaultHistorySize = 4 << 10
)

// maxHistory is flate's LZ77 window: 32 KiB, 2^MaxWindowBits.
const maxHistory = 1 << MaxWindowBits

// Options configures permessage-deflate. The zero value is the documented
// defaults; a nil *Options means the zero value. Whether a server accepts the
// extension at all (off by default) and whether a client offers it (only when
// asked) are engine settings; Options is what they point to.
//
// The takeover and window fields are preferences that shape the offer (client)
// or the answer (server); what the handshake settles is a Params.
type Options struct {
	// Level is the flate compression level, 1 (flate.BestSpeed) to 9
	// (flate.BestCompression); 0 means DefaultLevel.
	Level int

	// Threshold is the payload size below which Conn.ShouldCompress says no,
	// so the message goes out uncompressed (RSV1 clear, RFC 7692 §6). 0 means
	// DefaultThreshold; a negative value compresses every message.
	Threshold int

	// ServerNoContextTakeover: a server answers server_no_context_takeover
	// (its compressor forgets every message, keeping no per-connection
	// history); a client offers it, asking the server for the same so that
	// its own decompressor keeps none.
	ServerNoContextTakeover bool

	// ClientNoContextTakeover: a server answers client_no_context_takeover, so
	// the client compresses each message alone and the server's decompressor
	// keeps no history; a client offers it and then never uses context
	// takeover itself, whatever the answer.
	ClientNoContextTakeover bool

	// ServerMaxWindowBits (8 to 15, 0 for no preference) limits the server's
	// compression window. A server answers server_max_window_bits with it (or
	// the client's smaller value); a client offers it so that its decompressor
	// keeps at most 2^N bytes of history.
	ServerMaxWindowBits int

	// ClientMaxWindowBits (8 to 15, 0 for no preference) limits the client's
	// compression window. A server answers client_max_window_bits with it
	// when the client's offer allows that (RFC 7692 §7.1.2.2), which bounds the
	// history its decompressor keeps per connection; 8 is sent as 9, the
	// smallest raw window zlib can produce. A client offers it as a promise to
	// use no larger window; 0 offers client_max_window_bits without a value.
	ClientMaxWindowBits int

	// HistorySize is how many bytes of the plaintext it sent a compressor keeps
	// as its dictionary when it uses context takeover, 1 to 32768; 0 means
	// DefaultHistorySize. It never exceeds the negotiated window. It trades
	// per-connection memory and compression CPU against ratio; the peer's
	// history, which the decompressor must keep in full, is limited only by
	// the window bits above.
	HistorySize int
}

// Validate reports the first field out of range, wrapping ErrInvalidOptions.
// Every other function in the package treats an invalid field as zero (the
// default), so a configuration can be checked once up front.
func (o *Options) Validate() error {
	if o == nil {
		return nil
	}
	switch {
	case o.Level != 0 && (o.Level < flate.BestSpeed || o.Level > flate.BestCompression):
		return fmt.Errorf("%w: Level %d not in 1..9", ErrInvalidOptions, o.Level)
	case !validBitsOption(o.ServerMaxWindowBits):
		return fmt.Errorf("%w: ServerMaxWindowBits %d not in 8..15", ErrInvalidOptions, o.ServerMaxWindowBits)
	case !validBitsOption(o.ClientMaxWindowBits):
		return fmt.Errorf("%w: ClientMaxWindowBits %d not in 8..15", ErrInvalidOptions, o.ClientMaxWindowBits)
	case o.HistorySize < 0 || o.HistorySize > maxHistory:
		return fmt.Errorf("%w: HistorySize %d not in 0..32768", ErrInvalidOptions, o.HistorySize)
	}
	return nil
}

func validBitsOption(b int) bool {
	return b == 0 || (b >= MinWindowBits && b <= MaxWindowBits)
}

// settings is Options with the defaults filled in and invalid fields zeroed;
// the one place defaults are applied.
type settings struct {
	level, threshold, history int
	serverNoCtx, clientNoCtx  bool
	serverBits, clientBits    int // 0: no preference
}

func (o *Options) settings() settings {
	var s settings
	if o != nil {
		s = settings{
			level:       o.Level,
			threshold:   o.Threshold,
			history:     o.HistorySize,
			serverNoCtx: o.ServerNoContextTakeover,
			clientNoCtx: o.ClientNoContextTakeover,
			serverBits:  o.ServerMaxWindowBits,
			clientBits:  o.ClientMaxWindowBits,
		}
	}
	if s.level < flate.BestSpeed || s.level > flate.BestCompression {
		s.level = DefaultLevel
	}
	switch {
	case s.threshold == 0:
		s.threshold = DefaultThreshold
	case s.threshold < 0:
		s.threshold = 0
	}
	if s.history <= 0 || s.history > maxHistory {
		s.history = DefaultHistorySize
	}
	if !validBitsOption(s.serverBits) {
		s.serverBits = 0
	}
	if !validBitsOption(s.clientBits) {
		s.clientBits = 0
	}
	return s
}
