package frame

import (
	"bytes"
	"errors"
	"testing"
	"unicode/utf8"
)

func FuzzParseHeader(f *testing.F) {
	f.Add([]byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f})
	f.Add([]byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58})
	f.Add([]byte{0x82, 0x7E, 0x01, 0x00})
	f.Add([]byte{0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4})
	f.Add([]byte{0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0x09, 0x00})
	f.Add([]byte{0x89, 0x7E, 0x00, 0x05})
	f.Add([]byte{0xF3, 0x00})
	f.Add([]byte{0x81})
	f.Fuzz(func(t *testing.T, data []byte) {
		h, n, err := ParseHeader(data)
		if n < 2 || n > MaxHeaderSize {
			t.Fatalf("n = %d out of range (err %v)", n, err)
		}
		var pe *ProtocolError
		switch {
		case err == ErrShortHeader:
			if n <= len(data) {
				t.Fatalf("short header wants %d bytes, has %d", n, len(data))
			}
			if h != (Header{}) {
				t.Fatalf("short header returned %+v", h)
			}
			return
		case errors.As(err, &pe):
			if pe.Code != StatusProtocolError {
				t.Fatalf("%v: code %d", err, pe.Code)
			}
			if err == ErrReservedOpcode && !h.Opcode.IsReserved() ||
				err == ErrFragmentedControl && (h.Fin || !h.Opcode.IsControl()) ||
				err == ErrControlTooLong && data[1]&0x7F <= MaxControlPayload ||
				err == ErrLengthOverflow && data[2]&0x80 == 0 {
				t.Fatalf("%v for % x", err, data[:min(len(data), n)])
			}
			return
		case err != nil:
			t.Fatalf("unexpected error %v", err)
		}
		if n > len(data) || h.Length < 0 || h.Rsv > 7 || h.Opcode > 0xF {
			t.Fatalf("ParseHeader(% x) = %+v, %d", data, h, n)
		}
		if h.Opcode.IsReserved() || h.Opcode.IsControl() && (!h.Fin || h.Length > MaxControlPayload) {
			t.Fatalf("accepted invalid header %+v", h)
		}
		// Every proper prefix is short (or fails early on the same bytes).
		for i := range n {
			if _, m, err := ParseHeader(data[:i]); err != ErrShortHeader || m <= i {
				t.Fatalf("prefix %d of % x: n=%d, err=%v", i, data[:n], m, err)
			}
		}
		enc := AppendHeader(nil, h)
		if len(enc) != HeaderSize(h) || len(enc) > n {
			t.Fatalf("%+v encodes to %d bytes, HeaderSize %d, parsed from %d", h, len(enc), HeaderSize(h), n)
		}
		h2, n2, err := ParseHeader(enc)
		if err != nil || n2 != len(enc) || h2 != h {
			t.Fatalf("round trip of %+v: %+v, %d, %v", h, h2, n2, err)
		}
	})
}

func FuzzMask(f *testing.F) {
	f.Add([]byte("Hello"), uint32(0x3d21fa37), uint8(0), uint8(0), uint16(5))
	f.Add([]byte{1, 2, 3}, uint32(0xdeadbeef), uint8(3), uint8(7), uint16(300))
	f.Add([]byte{0xFF}, uint32(1), uint8(1), uint8(31), uint16(4099))
	f.Fuzz(func(t *testing.T, data []byte, key32 uint32, pos, off uint8, n uint16) {
		if len(data) == 0 {
			data = []byte{0}
		}
		// The payload sits at off in a larger buffer, filled by repeating
		// data, so that short corpus entries still reach every size and
		// alignment.
		buf := make([]byte, int(off)+int(n)+int(off))
		for i := range buf {
			buf[i] = data[i%len(data)]
		}
		key := [4]byte{byte(key32), byte(key32 >> 8), byte(key32 >> 16), byte(key32 >> 24)}
		want := bytes.Clone(buf)
		wp := maskNaive(key, int(pos), want[off:int(off)+int(n)])
		for _, impl := range []struct {
			name string
			fn   func([4]byte, int, []byte) int
		}{{"Mask", Mask}, {"maskGeneric", maskGeneric}} {
			got := bytes.Clone(buf)
			gp := impl.fn(key, int(pos), got[off:int(off)+int(n)])
			if gp != wp || !bytes.Equal(got, want) {
				t.Fatalf("%s(key %#x, pos %d, %d bytes at %d) differs from maskNaive", impl.name, key32, pos, n, off)
			}
		}
	})
}

func FuzzUTF8(f *testing.F) {
	f.Add([]byte("Hello, \u00e9t\u00e9 \u20ac \U0001F600"), []byte{3, 0, 1})
	f.Add([]byte("abcdefgh\xED\xA0\x80ijk"), []byte{8})
	f.Add([]byte("\xF4\x90\x80\x80"), []byte{0, 0})
	f.Add([]byte("\xE0\x80"), []byte{})
	f.Add([]byte("\xF0\x9F\x98"), []byte{1})
	f.Fuzz(func(t *testing.T, data, splits []byte) {
		want := utf8.Valid(data)
		if got := ValidUTF8(data); got != want {
			t.Fatalf("ValidUTF8(% x) = %v, utf8.Valid = %v", data, got, want)
		}
		// Write the pieces splits chooses (each byte is a piece length),
		// the rest in one piece.
		var v UTF8Validator
		ok := true
		rest := data
		for _, s := range splits {
			k := min(int(s), len(rest))
			ok = v.Write(rest[:k]) && ok
			rest = rest[k:]
		}
		ok = v.Write(rest) && ok
		if got := v.Complete(); got != want {
			t.Fatalf("% x split by %v: Complete = %v, utf8.Valid = %v", data, splits, got, want)
		}
		if len(data) <= 256 {
			if prefix := validPrefix(data); ok != prefix {
				t.Fatalf("% x split by %v: Writes ok = %v, valid prefix = %v", data, splits, ok, prefix)
			}
		}
	})
}

func FuzzParseClose(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x03})
	f.Add([]byte("\x03\xE8bye"))
	f.Add([]byte("\x03\xEDx"))
	f.Add([]byte("\x0F\xA0\xC3\xA9"))
	f.Add([]byte("\x03\xE8\xED\xA0\x80"))
	f.Fuzz(func(t *testing.T, data []byte) {
		code, reason, err := ParseClose(data)
		if err != nil {
			var pe *ProtocolError
			if !errors.As(err, &pe) || pe.Code == 0 || reason != nil {
				t.Fatalf("ParseClose(% x) = %d, %q, %v", data, code, reason, err)
			}
			return
		}
		if len(data) == 0 {
			if code != StatusNoStatusRcvd || reason != nil {
				t.Fatalf("empty payload: %d, %q", code, reason)
			}
			return
		}
		if !code.IsValidOnWire() || !utf8.Valid(reason) || len(reason) > MaxCloseReason {
			t.Fatalf("ParseClose(% x) accepted %d, %q", data, code, reason)
		}
		got, err := AppendClose(nil, code, string(reason))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("round trip of % x: % x, %v", data, got, err)
		}
	})
}
