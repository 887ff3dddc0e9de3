package frame

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

// TestParseHeaderRFCExamples decodes the examples of RFC 6455 §5.7.
func TestParseHeaderRFCExamples(t *testing.T) {
	t.Parallel()
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	tests := []struct {
		name    string
		wire    []byte
		want    Header
		payload string // after unmasking, for frames that carry it
	}{
		{"unmasked text Hello", []byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f},
			Header{Fin: true, Opcode: OpText, Length: 5}, "Hello"},
		{"masked text Hello", []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58},
			Header{Fin: true, Opcode: OpText, Masked: true, Mask: key, Length: 5}, "Hello"},
		{"fragment Hel", []byte{0x01, 0x03, 0x48, 0x65, 0x6c},
			Header{Opcode: OpText, Length: 3}, "Hel"},
		{"fragment lo", []byte{0x80, 0x02, 0x6c, 0x6f},
			Header{Fin: true, Opcode: OpContinuation, Length: 2}, "lo"},
		{"unmasked ping Hello", []byte{0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f},
			Header{Fin: true, Opcode: OpPing, Length: 5}, "Hello"},
		{"masked pong Hello", []byte{0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58},
			Header{Fin: true, Opcode: OpPong, Masked: true, Mask: key, Length: 5}, "Hello"},
		{"256 bytes binary", []byte{0x82, 0x7E, 0x01, 0x00},
			Header{Fin: true, Opcode: OpBinary, Length: 256}, ""},
		{"64KiB binary", []byte{0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00},
			Header{Fin: true, Opcode: OpBinary, Length: 65536}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, n, err := ParseHeader(tt.wire)
			if err != nil {
				t.Fatalf("ParseHeader: %v", err)
			}
			if h != tt.want {
				t.Fatalf("ParseHeader = %+v, want %+v", h, tt.want)
			}
			if n != HeaderSize(h) {
				t.Errorf("n = %d, HeaderSize = %d", n, HeaderSize(h))
			}
			if got := AppendHeader(nil, h); !bytes.Equal(got, tt.wire[:n]) {
				t.Errorf("AppendHeader = % x, want % x", got, tt.wire[:n])
			}
			if tt.payload == "" {
				return
			}
			p := bytes.Clone(tt.wire[n:])
			if h.Masked {
				Mask(h.Mask, 0, p)
			}
			if string(p) != tt.payload {
				t.Errorf("payload = %q, want %q", p, tt.payload)
			}
		})
	}
}

func TestParseHeader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		wire  []byte
		want  Header
		wantN int
		err   error
	}{
		// Lengths in all three forms, including non-minimal ones for data frames.
		{"len 0", []byte{0x82, 0x00}, Header{Fin: true, Opcode: OpBinary}, 2, nil},
		{"len 125", []byte{0x82, 0x7D}, Header{Fin: true, Opcode: OpBinary, Length: 125}, 2, nil},
		{"len16 126", []byte{0x82, 0x7E, 0x00, 0x7E}, Header{Fin: true, Opcode: OpBinary, Length: 126}, 4, nil},
		{"len16 65535", []byte{0x82, 0x7E, 0xFF, 0xFF}, Header{Fin: true, Opcode: OpBinary, Length: 65535}, 4, nil},
		{"len16 non-minimal 5", []byte{0x82, 0x7E, 0x00, 0x05}, Header{Fin: true, Opcode: OpBinary, Length: 5}, 4, nil},
		{"len64 max", []byte{0x02, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF},
			Header{Opcode: OpBinary, Length: 1<<63 - 1}, 10, nil},
		{"len64 non-minimal 0", []byte{0x00, 0x7F, 0, 0, 0, 0, 0, 0, 0, 0}, Header{Opcode: OpContinuation}, 10, nil},
		// Mask bit and key are reported whatever the direction.
		{"masked len16", []byte{0x81, 0xFE, 0x01, 0x00, 1, 2, 3, 4},
			Header{Fin: true, Opcode: OpText, Masked: true, Mask: [4]byte{1, 2, 3, 4}, Length: 256}, 8, nil},
		{"masked len64", []byte{0x81, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 9, 8, 7, 6},
			Header{Fin: true, Opcode: OpText, Masked: true, Mask: [4]byte{9, 8, 7, 6}, Length: 65536}, 14, nil},
		// RSV bits are reported, not judged.
		{"rsv1", []byte{0xC1, 0x00}, Header{Fin: true, Rsv: Rsv1, Opcode: OpText}, 2, nil},
		{"rsv2", []byte{0xA1, 0x00}, Header{Fin: true, Rsv: Rsv2, Opcode: OpText}, 2, nil},
		{"rsv3", []byte{0x91, 0x00}, Header{Fin: true, Rsv: Rsv3, Opcode: OpText}, 2, nil},
		{"rsv all on control", []byte{0xF9, 0x00}, Header{Fin: true, Rsv: Rsv1 | Rsv2 | Rsv3, Opcode: OpPing}, 2, nil},
		// Control frames.
		{"close 125", []byte{0x88, 0x7D}, Header{Fin: true, Opcode: OpClose, Length: 125}, 2, nil},
		{"ping masked 0", []byte{0x89, 0x80, 1, 2, 3, 4}, Header{Fin: true, Opcode: OpPing, Masked: true, Mask: [4]byte{1, 2, 3, 4}}, 6, nil},
		// §5.2: reserved opcodes.
		{"opcode 0x3", []byte{0x83, 0x00}, Header{Fin: true, Opcode: 0x3}, 2, ErrReservedOpcode},
		{"opcode 0x7", []byte{0x87, 0x00}, Header{Fin: true, Opcode: 0x7}, 2, ErrReservedOpcode},
		{"opcode 0xB", []byte{0x8B, 0x00}, Header{Fin: true, Opcode: 0xB}, 2, ErrReservedOpcode},
		{"opcode 0xF unfinished", []byte{0x0F, 0x80}, Header{Opcode: 0xF, Masked: true}, 6, ErrReservedOpcode},
		// §5.5: control frames are not fragmented.
		{"fragmented close", []byte{0x08, 0x00}, Header{Opcode: OpClose}, 2, ErrFragmentedControl},
		{"fragmented ping", []byte{0x09, 0x85}, Header{Opcode: OpPing, Masked: true}, 6, ErrFragmentedControl},
		{"fragmented pong", []byte{0x0A, 0x00}, Header{Opcode: OpPong}, 2, ErrFragmentedControl},
		// §5.5: control payloads are at most 125 bytes, so never use an extended length.
		{"ping len16", []byte{0x89, 0x7E, 0x00, 0x7E}, Header{Fin: true, Opcode: OpPing}, 4, ErrControlTooLong},
		{"close len64", []byte{0x88, 0xFF}, Header{Fin: true, Opcode: OpClose, Masked: true}, 14, ErrControlTooLong},
		{"pong len16 non-minimal", []byte{0x8A, 0x7E, 0x00, 0x05}, Header{Fin: true, Opcode: OpPong}, 4, ErrControlTooLong},
		// §5.2: the most significant bit of a 64-bit length must be 0.
		{"len64 top bit", []byte{0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0}, Header{Fin: true, Opcode: OpBinary}, 10, ErrLengthOverflow},
		{"len64 all ones masked", []byte{0x82, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4},
			Header{Fin: true, Opcode: OpBinary, Masked: true}, 14, ErrLengthOverflow},
		// Too short: the size needed so far as known.
		{"empty", nil, Header{}, 2, ErrShortHeader},
		{"one byte", []byte{0x81}, Header{}, 2, ErrShortHeader},
		{"one byte reserved", []byte{0x83}, Header{}, 2, ErrShortHeader},
		{"masked, no key", []byte{0x81, 0x85}, Header{}, 6, ErrShortHeader},
		{"masked, 3 key bytes", []byte{0x81, 0x85, 1, 2, 3}, Header{}, 6, ErrShortHeader},
		{"len16, 1 byte", []byte{0x82, 0x7E, 0x01}, Header{}, 4, ErrShortHeader},
		{"len64, 7 bytes", []byte{0x82, 0x7F, 0, 0, 0, 0, 0, 0, 1}, Header{}, 10, ErrShortHeader},
		{"len64 masked, no key", []byte{0x82, 0xFF, 0, 0, 0, 0, 0, 0, 1, 0}, Header{}, 14, ErrShortHeader},
		// The length check needs the extended length, so a short header
		// with an oversize length is short first.
		{"len64 top bit, short", []byte{0x82, 0x7F, 0x80}, Header{}, 10, ErrShortHeader},
		// Bytes after the header are left alone.
		{"trailing payload", []byte{0x82, 0x02, 0xAA, 0xBB}, Header{Fin: true, Opcode: OpBinary, Length: 2}, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, n, err := ParseHeader(tt.wire)
			if err != tt.err {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if h != tt.want || n != tt.wantN {
				t.Fatalf("ParseHeader = %+v, %d; want %+v, %d", h, n, tt.want, tt.wantN)
			}
			if errors.Is(err, ErrShortHeader) && n <= len(tt.wire) {
				t.Fatalf("short header asks for %d bytes, has %d", n, len(tt.wire))
			}
		})
	}
}

// TestParseHeaderPrefixes feeds every prefix of valid headers: each must ask
// for more bytes with the exact size once the first two bytes are there.
func TestParseHeaderPrefixes(t *testing.T) {
	t.Parallel()
	for _, h := range sampleHeaders() {
		wire := AppendHeader(nil, h)
		for i := range len(wire) {
			_, n, err := ParseHeader(wire[:i])
			want := 2
			if i >= 2 {
				want = len(wire)
			}
			if err != ErrShortHeader || n != want {
				t.Errorf("%+v: prefix %d: n, err = %d, %v; want %d, ErrShortHeader", h, i, n, err, want)
			}
		}
		got, n, err := ParseHeader(wire)
		if err != nil || n != len(wire) || got != h {
			t.Errorf("%+v: ParseHeader = %+v, %d, %v", h, got, n, err)
		}
	}
}

// sampleHeaders returns valid headers at every length-encoding boundary.
func sampleHeaders() []Header {
	var hs []Header
	for _, l := range []int64{0, 1, 125, 126, 127, 65535, 65536, 1 << 32, 1<<63 - 1} {
		for _, op := range []Opcode{OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong} {
			if op.IsControl() && l > MaxControlPayload {
				continue
			}
			for _, masked := range []bool{false, true} {
				h := Header{Fin: true, Opcode: op, Length: l, Masked: masked, Rsv: uint8(l % 8)}
				if masked {
					h.Mask = [4]byte{byte(l), 0xA5, 0x5A, byte(op)}
				}
				if !op.IsControl() && l%2 == 0 {
					h.Fin = false
				}
				hs = append(hs, h)
			}
		}
	}
	return hs
}

func TestPutHeader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		h    Header
		want []byte
	}{
		{Header{Fin: true, Opcode: OpText, Length: 5}, []byte{0x81, 0x05}},
		{Header{Fin: true, Opcode: OpText, Masked: true, Mask: [4]byte{0x37, 0xfa, 0x21, 0x3d}, Length: 5},
			[]byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d}},
		{Header{Opcode: OpBinary, Length: 125}, []byte{0x02, 0x7D}},
		{Header{Opcode: OpBinary, Length: 126}, []byte{0x02, 0x7E, 0x00, 0x7E}},
		{Header{Fin: true, Opcode: OpBinary, Length: 256}, []byte{0x82, 0x7E, 0x01, 0x00}},
		{Header{Opcode: OpBinary, Length: 65535}, []byte{0x02, 0x7E, 0xFF, 0xFF}},
		{Header{Fin: true, Opcode: OpBinary, Length: 65536}, []byte{0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}},
		{Header{Fin: true, Opcode: OpBinary, Length: 1<<63 - 1, Masked: true, Mask: [4]byte{1, 2, 3, 4}},
			[]byte{0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4}},
		{Header{Fin: true, Rsv: Rsv1, Opcode: OpText}, []byte{0xC1, 0x00}},
		{Header{Rsv: Rsv2 | Rsv3, Opcode: OpContinuation}, []byte{0x30, 0x00}},
		// Out-of-range fields are cut to their bit width.
		{Header{Rsv: 0xFF, Opcode: 0xF2}, []byte{0x72, 0x00}},
	}
	for _, tt := range tests {
		if got := HeaderSize(tt.h); got != len(tt.want) {
			t.Errorf("HeaderSize(%+v) = %d, want %d", tt.h, got, len(tt.want))
		}
		var b [MaxHeaderSize]byte
		n := PutHeader(b[:], tt.h)
		if !bytes.Equal(b[:n], tt.want) {
			t.Errorf("PutHeader(%+v) = % x, want % x", tt.h, b[:n], tt.want)
		}
		// Exactly HeaderSize bytes of room is enough.
		exact := make([]byte, len(tt.want))
		if n := PutHeader(exact, tt.h); n != len(tt.want) || !bytes.Equal(exact, tt.want) {
			t.Errorf("PutHeader into exact buffer = % x", exact)
		}
		prefix := []byte("abc")
		if got := AppendHeader(prefix, tt.h); !bytes.Equal(got, append([]byte("abc"), tt.want...)) {
			t.Errorf("AppendHeader(%+v) = % x", tt.h, got)
		}
	}
}

func TestPutHeaderShortBufferPanics(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("PutHeader into a 3-byte buffer did not panic for a 4-byte header")
		}
	}()
	PutHeader(make([]byte, 3), Header{Opcode: OpBinary, Length: 200})
}

func TestProtocolErrorIsAs(t *testing.T) {
	t.Parallel()
	_, _, err := ParseHeader([]byte{0x09, 0x00})
	wrapped := fmt.Errorf("conn 7: %w", err)
	if !errors.Is(wrapped, ErrFragmentedControl) {
		t.Fatalf("errors.Is(%v, ErrFragmentedControl) = false", wrapped)
	}
	var pe *ProtocolError
	if !errors.As(wrapped, &pe) || pe.Code != StatusProtocolError {
		t.Fatalf("errors.As: %v, %+v", wrapped, pe)
	}
	if errors.As(ErrShortHeader, &pe) {
		t.Error("ErrShortHeader must not be a ProtocolError")
	}
}

func TestHeaderNoAlloc(t *testing.T) {
	wire := []byte{0x81, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 9, 8, 7, 6}
	h := Header{Fin: true, Opcode: OpText, Masked: true, Mask: [4]byte{9, 8, 7, 6}, Length: 65536}
	dst := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() {
		if _, _, err := ParseHeader(wire); err != nil {
			t.Fatal(err)
		}
		if _, _, err := ParseHeader(wire[:5]); err != ErrShortHeader {
			t.Fatal(err)
		}
		if _, _, err := ParseHeader([]byte{0x83, 0}); err != ErrReservedOpcode {
			t.Fatal(err)
		}
		dst = AppendHeader(dst[:0], h)
	}); n != 0 {
		t.Errorf("ParseHeader/AppendHeader allocate %v times per run", n)
	}
}
