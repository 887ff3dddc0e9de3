package deflate

import "github.com/weir-ws/weir/upgrade"

// ExtensionName is the extension token of RFC 7692 §7. Names and parameters
// are matched exactly (lower case), as upgrade matches answered names against
// offered ones.
const ExtensionName = "permessage-deflate"

// Parameter names of RFC 7692 §7.1.
const (
	paramServerNoContextTakeover = "server_no_context_takeover"
	paramClientNoContextTakeover = "client_no_context_takeover"
	paramServerMaxWindowBits     = "server_max_window_bits"
	paramClientMaxWindowBits     = "client_max_window_bits"
)

// Params are the parameters of one permessage-deflate offer or response
// (RFC 7692 §7.1), and, as returned by the negotiation, the agreement a Conn is
// built from.
type Params struct {
	// ServerNoContextTakeover: the server compresses every message with an
	// empty history (§7.1.1.1).
	ServerNoContextTakeover bool
	// ClientNoContextTakeover: the client does the same (§7.1.1.2).
	ClientNoContextTakeover bool
	// ServerMaxWindowBits bounds the server's LZ77 window to 2^N bytes, N in
	// 8..15; 0 means absent, which is 15 (§7.1.2.1).
	ServerMaxWindowBits int
	// ClientMaxWindowBits bounds the client's window the same way (§7.1.2.2).
	// In an offer the parameter may come without a value, meaning the client
	// accepts a limit from the server: ParseParams reports that as 15, which
	// is what it allows.
	ClientMaxWindowBits int
}

// ServerWindowBits is ServerMaxWindowBits with absent read as 15.
func (p Params) ServerWindowBits() int { return effectiveBits(p.ServerMaxWindowBits) }

// ClientWindowBits is ClientMaxWindowBits with absent read as 15.
func (p Params) ClientWindowBits() int { return effectiveBits(p.ClientMaxWindowBits) }

func effectiveBits(b int) int {
	if b < MinWindowBits || b > MaxWindowBits {
		return MaxWindowBits
	}
	return b
}

// ParseParams reads the parameters of a permessage-deflate element, from an
// offer or a response parsed by upgrade.ParseExtensions. It fails with
// ErrNotDeflate for another extension, ErrUnknownParam, ErrDuplicateParam or
// ErrParamValue; RFC 7692 §7.1 makes each of those a reason to decline the
// offer (server) or fail the connection (client).
func ParseParams(e upgrade.ExtensionOffer) (Params, error) {
	p, _, err := parseParams(e)
	return p, err
}

// parseParams is ParseParams that also reports client_max_window_bits sent
// without a value, which is valid in an offer only.
func parseParams(e upgrade.ExtensionOffer) (p Params, bareClientBits bool, err error) {
	if e.Name != ExtensionName {
		return p, false, ErrNotDeflate
	}
	var seen uint8
	for _, q := range e.Params {
		var bit uint8
		switch q.Name {
		case paramServerNoContextTakeover:
			bit = 1
			p.ServerNoContextTakeover = true
			if q.Value != "" {
				return p, false, ErrParamValue
			}
		case paramClientNoContextTakeover:
			bit = 2
			p.ClientNoContextTakeover = true
			if q.Value != "" {
				return p, false, ErrParamValue
			}
		case paramServerMaxWindowBits:
			bit = 4
			if p.ServerMaxWindowBits = parseBits(q.Value); p.ServerMaxWindowBits == 0 {
				return p, false, ErrParamValue
			}
		case paramClientMaxWindowBits:
			bit = 8
			if q.Value == "" {
				p.ClientMaxWindowBits, bareClientBits = MaxWindowBits, true
			} else if p.ClientMaxWindowBits = parseBits(q.Value); p.ClientMaxWindowBits == 0 {
				return p, false, ErrParamValue
			}
		default:
			return p, false, ErrUnknownParam
		}
		if seen&bit != 0 {
			return p, false, ErrDuplicateParam
		}
		seen |= bit
	}
	return p, bareClientBits, nil
}

// parseBits reads a window size: a decimal integer from 8 to 15 without
// leading zeros (RFC 7692 §7.1.2.1). It returns 0 for anything else.
func parseBits(v string) int {
	switch {
	case len(v) == 1 && v[0] >= '8' && v[0] <= '9':
		return int(v[0] - '0')
	case len(v) == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5':
		return 10 + int(v[1]-'0')
	}
	return 0
}

// AppendParams appends p as one Sec-WebSocket-Extensions element,
// "permessage-deflate" and its parameters, window sizes with their values (the
// form a response takes). It allocates nothing beyond growing dst.
func AppendParams(dst []byte, p Params) []byte {
	dst = append(dst, ExtensionName...)
	if p.ServerNoContextTakeover {
		dst = append(dst, "; "+paramServerNoContextTakeover...)
	}
	if p.ClientNoContextTakeover {
		dst = append(dst, "; "+paramClientNoContextTakeover...)
	}
	if b := p.ServerMaxWindowBits; b != 0 {
		dst = append(dst, "; "+paramServerMaxWindowBits+"="...)
		dst = appendBits(dst, b)
	}
	if b := p.ClientMaxWindowBits; b != 0 {
		dst = append(dst, "; "+paramClientMaxWindowBits+"="...)
		dst = appendBits(dst, b)
	}
	return dst
}

// FormatParams is AppendParams into a new string.
func FormatParams(p Params) string { return string(AppendParams(nil, p)) }

func appendBits(dst []byte, b int) []byte {
	b = effectiveBits(b)
	if b >= 10 {
		return append(dst, '1', byte('0'+b-10))
	}
	return append(dst, byte('0'+b))
}

// Agreement is a negotiated Params packed into one byte. The server's
// negotiator returns it as the accepted value, which upgrade hands back in
// Result.Extensions: a one-byte value is stored in an interface without
// allocating, so the handshake stays allocation-free.
type Agreement uint8

// Agreement bit layout: the two no-context-takeover flags, then each window
// size as bits-8 in three bits.
const (
	agServerNoCtx   = 1 << 0
	agClientNoCtx   = 1 << 1
	agServerBitsPos = 2
	agClientBitsPos = 5
)

// Agreement packs p, window sizes as their effective values.
func (p Params) Agreement() Agreement {
	a := Agreement((p.ServerWindowBits()-MinWindowBits)<<agServerBitsPos | (p.ClientWindowBits()-MinWindowBits)<<agClientBitsPos)
	if p.ServerNoContextTakeover {
		a |= agServerNoCtx
	}
	if p.ClientNoContextTakeover {
		a |= agClientNoCtx
	}
	return a
}

// Params unpacks a; window sizes are always set (8 to 15).
func (a Agreement) Params() Params {
	return Params{
		ServerNoContextTakeover: a&agServerNoCtx != 0,
		ClientNoContextTakeover: a&agClientNoCtx != 0,
		ServerMaxWindowBits:     MinWindowBits + int(a>>agServerBitsPos&7),
		ClientMaxWindowBits:     MinWindowBits + int(a>>agClientBitsPos&7),
	}
}
