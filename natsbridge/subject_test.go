package natsbridge

import (
	"bytes"
	"strings"
	"testing"

	"github.com/weir-ws/weir/frame"
)

func TestValidSubject(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		s         string
		lit, wild bool
	}{
		{"weir.chat", true, true},
		{"weir.chat.room-1_x", true, true},
		{"weir.*", false, true},
		{"weir.*.x", false, true},
		{"weir.>", false, true},
		{"weir.a.>", false, true},
		{"weir.>.a", false, false},
		{"weir.a*b", true, true}, // a wildcard only as a whole token
		{"", false, false},
		{"weir.", false, false},
		{".weir", false, false},
		{"weir..x", false, false},
		{"weir.a b", false, false},
		{"weir.a\tb", false, false},
		{"weir.a\r\nPUB x 1", false, false},
		{"weir.\x00", false, false},
		{"weir.\x7f", false, false},
		{"weir.é", true, true},
		{"weir." + strings.Repeat("a", maxSubject-5), true, true},
		{"weir." + strings.Repeat("a", maxSubject-4), false, false},
	} {
		if got := validSubject(tc.s, false); got != tc.lit {
			t.Errorf("validSubject(%q, literal) = %v, want %v", tc.s, got, tc.lit)
		}
		if got := validSubject(tc.s, true); got != tc.wild {
			t.Errorf("validSubject(%q, wild) = %v, want %v", tc.s, got, tc.wild)
		}
	}
}

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"a.b", "a.b", true},
		{"a.b", "a.c", false},
		{"a.b", "a.b.c", false},
		{"a.b.c", "a.b", false},
		{"a.*", "a.b", true},
		{"a.*", "a.b.c", false},
		{"a.*", "a", false},
		{"*.b", "a.b", true},
		{"*.*", "a.b", true},
		{"a.>", "a.b", true},
		{"a.>", "a.b.c", true},
		{"a.>", "a", false},
		{">", "a", true},
		{">", "a.b", true},
		{"a.*.>", "a.b", false},
		{"a.*.>", "a.b.c", true},
		{"ab", "a", false},
		{"a", "ab", false},
	} {
		if got := match(tc.p, tc.s); got != tc.want {
			t.Errorf("match(%q, %q) = %v, want %v", tc.p, tc.s, got, tc.want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { match("weir.*.x.>", "weir.a.x.b.c") }); n != 0 {
		t.Errorf("match allocates %v times", n)
	}
}

func TestEnvelope(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		data    []byte
		op      frame.Opcode
		payload []byte
		ok      bool
	}{
		{"text", []byte("thello"), frame.OpText, []byte("hello"), true},
		{"empty text", []byte("t"), frame.OpText, []byte{}, true},
		{"binary", []byte("b\xff\x00"), frame.OpBinary, []byte("\xff\x00"), true},
		{"empty", nil, 0, nil, false},
		{"unknown type", []byte("xhello"), 0, nil, false},
		{"text not UTF-8", []byte("t\xff"), 0, nil, false},
		{"text cut rune", []byte("t\xc3"), 0, nil, false},
	} {
		op, payload, ok := decode(tc.data)
		if ok != tc.ok || op != tc.op || !bytes.Equal(payload, tc.payload) {
			t.Errorf("%s: decode = %v %q %v, want %v %q %v", tc.name, op, payload, ok, tc.op, tc.payload, tc.ok)
		}
		if ok {
			if enc := encode(nil, op, payload); !bytes.Equal(enc, tc.data) {
				t.Errorf("%s: encode = %q, want %q", tc.name, enc, tc.data)
			}
		}
	}
}

// The fuzz targets live in this file, the one test file without the
// !fuzzonly constraint: make natsbridge fuzzes with -tags fuzzonly, so that
// the instrumented build leaves out the tests that start NATS servers.

// FuzzDecode: any bytes from NATS decode without panic, and what decodes
// encodes back to the same bytes.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{"", "t", "thi", "b\x00\xff", "x", "t\xff", "t\xe2\x82"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		op, payload, ok := decode(data)
		if !ok {
			return
		}
		if enc := encode(nil, op, payload); !bytes.Equal(enc, data) {
			t.Fatalf("decode/encode %q -> %q", data, enc)
		}
	})
}

// FuzzSubject: validSubject and match never panic, and a literal subject
// that is valid matches itself and ">" patterns of its prefix.
func FuzzSubject(f *testing.F) {
	f.Add("a.b", "a.*")
	f.Add("a.b.c", "a.>")
	f.Add("", ">")
	f.Fuzz(func(t *testing.T, s, p string) {
		lit := validSubject(s, false)
		wild := validSubject(p, true)
		if lit && !match(s, s) {
			t.Fatalf("%q does not match itself", s)
		}
		if lit && !match(">", s) {
			t.Fatalf("> does not match %q", s)
		}
		if lit && wild {
			_ = match(p, s)
		}
	})
}

func BenchmarkEncodeDecode(b *testing.B) {
	payload := bytes.Repeat([]byte("x"), 256)
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = encode(buf[:0], frame.OpText, payload)
		if _, _, ok := decode(buf); !ok {
			b.Fatal("decode")
		}
	}
}
