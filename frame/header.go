package frame

import "encoding/binary"

// RSV bits as they sit in the first header byte shifted right by 4
// (RFC 6455 §5.2); RFC 7692 gives RSV1 to permessage-deflate.
const (
	Rsv1 uint8 = 0x4
	Rsv2 uint8 = 0x2
	Rsv3 uint8 = 0x1
)

// MaxHeaderSize is the largest frame header: 2 bytes, a 64-bit extended
// length and a masking key (RFC 6455 §5.2).
const MaxHeaderSize = 14

// MaxControlPayload is the largest payload of a control frame (RFC 6455 §5.5).
const MaxControlPayload = 125

// Header is a decoded frame header (RFC 6455 §5.2). Rsv and Masked are
// reported as found; whether they are allowed depends on the negotiated
// extensions and on which side received the frame, which the engine knows.
type Header struct {
	Fin    bool
	Rsv    uint8 // Rsv1|Rsv2|Rsv3 bits
	Opcode Opcode
	Masked bool
	Mask   [4]byte // masking key, meaningful when Masked
	Length int64   // payload length, never negative in a parsed header
}

// Bits of the first two header bytes (RFC 6455 §5.2).
const (
	bitFin    = 0x80
	bitMasked = 0x80
	len16     = 126 // 7-bit length value announcing a 16-bit extended length
	len64     = 127 // 7-bit length value announcing a 64-bit extended length
)

// ParseHeader parses one header from the front of b so that the engine can
// decode straight out of its read buffer.
//
//   - whole header present: (h, n, nil), n = header size in bytes (2..14).
//   - b too short: (Header{}, n, ErrShortHeader) where n is the total header
//     size needed so far as known: 2 if b has fewer than 2 bytes, else the
//     exact size. The caller needs n-len(b) more bytes.
//   - protocol violation: (h, n, err) with err one of ErrReservedOpcode,
//     ErrFragmentedControl, ErrControlTooLong or ErrLengthOverflow.
//
// Violations visible in the first two bytes are reported as soon as those
// bytes are there, before the rest of the header arrives; h then holds Fin,
// Rsv, Opcode and Masked. A control frame must use the 7-bit length form,
// since its payload is at most 125 bytes (§5.5). Non-minimal length encodings
// of data frames are accepted (the minimal-length rule of §5.2 binds senders).
func ParseHeader(b []byte) (Header, int, error) {
	if len(b) < 2 {
		return Header{}, 2, ErrShortHeader
	}
	b0, b1 := b[0], b[1]
	h := Header{
		Fin:    b0&bitFin != 0,
		Rsv:    (b0 >> 4) & 0x7,
		Opcode: Opcode(b0 & 0xF),
		Masked: b1&bitMasked != 0,
	}
	l7 := int64(b1 & 0x7F)
	n := 2
	switch l7 {
	case len16:
		n += 2
	case len64:
		n += 8
	}
	if h.Masked {
		n += 4
	}

	// §5.2: reserved opcodes fail the connection. §5.5: control frames are
	// never fragmented and carry at most 125 bytes.
	if h.Opcode.IsReserved() {
		return h, n, ErrReservedOpcode
	}
	if h.Opcode.IsControl() {
		if !h.Fin {
			return h, n, ErrFragmentedControl
		}
		if l7 > MaxControlPayload {
			return h, n, ErrControlTooLong
		}
	}
	if len(b) < n {
		return Header{}, n, ErrShortHeader
	}

	// §5.2: payload length, then masking key.
	i := 2
	switch l7 {
	case len16:
		h.Length = int64(binary.BigEndian.Uint16(b[2:4]))
		i = 4
	case len64:
		v := binary.BigEndian.Uint64(b[2:10])
		if v>>63 != 0 {
			return h, n, ErrLengthOverflow
		}
		h.Length = int64(v)
		i = 10
	default:
		h.Length = l7
	}
	if h.Masked {
		copy(h.Mask[:], b[i:i+4])
	}
	return h, n, nil
}

// HeaderSize returns the encoded size of h with the minimal length encoding
// (RFC 6455 §5.2), so that callers can reserve room in front of a payload.
func HeaderSize(h Header) int {
	n := 2
	switch {
	case h.Length > 0xFFFF || h.Length < 0:
		n += 8
	case h.Length > MaxControlPayload:
		n += 2
	}
	if h.Masked {
		n += 4
	}
	return n
}

// PutHeader encodes h at the front of b with the minimal length encoding
// (RFC 6455 §5.2) and returns the number of bytes written, HeaderSize(h).
// b must have room for them (MaxHeaderSize always suffices); it panics
// otherwise. Rsv is masked to 3 bits and Opcode to 4; h.Length must not be
// negative. Nothing is validated: the engine encodes only what it chose to send.
func PutHeader(b []byte, h Header) int {
	n := HeaderSize(h)
	_ = b[n-1] // one bounds check for the whole header
	b0 := byte(h.Rsv&0x7)<<4 | byte(h.Opcode&0xF)
	if h.Fin {
		b0 |= bitFin
	}
	var b1 byte
	if h.Masked {
		b1 = bitMasked
	}
	i := 2
	switch {
	case h.Length > 0xFFFF || h.Length < 0:
		b1 |= len64
		binary.BigEndian.PutUint64(b[2:10], uint64(h.Length))
		i = 10
	case h.Length > MaxControlPayload:
		b1 |= len16
		binary.BigEndian.PutUint16(b[2:4], uint16(h.Length))
		i = 4
	default:
		b1 |= byte(h.Length)
	}
	b[0], b[1] = b0, b1
	if h.Masked {
		copy(b[i:i+4], h.Mask[:])
	}
	return n
}

// AppendHeader appends the encoding of h (see PutHeader) to dst. It
// allocates only when dst lacks room for HeaderSize(h) more bytes.
func AppendHeader(dst []byte, h Header) []byte {
	var a [MaxHeaderSize]byte
	n := PutHeader(a[:], h)
	return append(dst, a[:n]...)
}
