package frame

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// validPrefix is the reference for fail-fast: it reports whether q can still
// be completed into valid UTF-8. It only uses unicode/utf8: a cut sequence
// can be completed iff appending at most 3 bytes makes it valid, and 0x80,
// 0x90 and 0xA0 cover the allowed ranges of every second byte.
func validPrefix(q []byte) bool {
	if utf8.Valid(q) {
		return true
	}
	for k := 1; k <= 3; k++ {
		for _, first := range []byte{0x80, 0x90, 0xA0} {
			c := append(bytes.Clone(q), first)
			for range k - 1 {
				c = append(c, 0x80)
			}
			if utf8.Valid(c) {
				return true
			}
		}
	}
	return false
}

// failIndex returns the index of the first byte after which p can no longer
// be valid UTF-8, or -1.
func failIndex(p []byte) int {
	for i := range p {
		if !validPrefix(p[:i+1]) {
			return i
		}
	}
	return -1
}

// checkByteByByte feeds p one byte at a time and checks that Write fails
// exactly at byte fail (-1: never) and that Complete agrees with utf8.Valid.
func checkByteByByte(t *testing.T, p []byte, fail int) {
	t.Helper()
	var v UTF8Validator
	for i := range p {
		ok := v.Write(p[i : i+1])
		if want := fail < 0 || i < fail; ok != want {
			t.Fatalf("% x: byte-wise Write of byte %d = %v, want %v", p, i, ok, want)
		}
	}
	if got, want := v.Complete(), utf8.Valid(p); got != want {
		t.Fatalf("% x: byte-wise Complete = %v, want %v", p, got, want)
	}
}

func TestUTF8Validator(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		in       string
		fail     int  // index of the first byte Write must reject, -1 for none
		complete bool // Complete after writing everything
	}{
		{"empty", "", -1, true},
		{"ascii", "Hello, World", -1, true},
		{"2-byte", "\u00e9t\u00e9", -1, true},
		{"3-byte", "\u20ac \ud55c", -1, true},
		{"4-byte", "\U0001F600\U0010FFFF", -1, true},
		{"edges", "\u007f\u0080\u07ff\u0800\ud7ff\ue000\uffff\U00010000\U0010FFFF", -1, true},
		{"Autobahn 6.2 Hello-mu@ss", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5-\xc3\xb6", -1, true},
		// Bytes that can never start a sequence.
		{"lone continuation", "ab\x80", 2, false},
		{"C0 overlong lead", "\xC0\xAF", 0, false},
		{"C1 overlong lead", "a\xC1\x81", 1, false},
		{"F5", "\xF5\x80\x80\x80", 0, false},
		{"FF", "abc\xFF", 3, false},
		// Second bytes that make the sequence invalid (RFC 3629 §4).
		{"overlong 3-byte E0 80", "\xE0\x80\x80", 1, false},
		{"overlong 3-byte E0 9F", "\xE0\x9F\xBF", 1, false},
		{"E0 A0 is fine", "\xE0\xA0\x80", -1, true},
		{"surrogate ED A0", "\xED\xA0\x80", 1, false},
		{"surrogate ED BF", "\xED\xBF\xBF", 1, false},
		{"ED 9F is fine", "\xED\x9F\xBF", -1, true},
		{"overlong 4-byte F0 80", "\xF0\x80\x80\x80", 1, false},
		{"overlong 4-byte F0 8F", "\xF0\x8F\xBF\xBF", 1, false},
		{"over U+10FFFF F4 90", "\xF4\x90\x80\x80", 1, false},
		{"F4 8F is fine", "\xF4\x8F\xBF\xBF", -1, true},
		// Continuation bytes missing where the sequence needs them.
		{"2-byte then ascii", "\xC3A", 1, false},
		{"3-byte cut by ascii", "\xE2\x82A", 2, false},
		{"4-byte cut by lead", "\xF0\x9F\x98\xC3\xA9", 3, false},
		{"lead after lead", "\xE2\xE2", 1, false},
		// Cut at the end: valid so far, but not complete.
		{"cut 2-byte", "ab\xC3", -1, false},
		{"cut 3-byte", "\xE2\x82", -1, false},
		{"cut 4-byte", "\xF0\x9F\x98", -1, false},
		// Fails fast inside a long text, long before its end.
		{"long text", strings.Repeat("a", 100) + "\xED\xA0\x80" + strings.Repeat("\u00e9", 100), 101, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := []byte(tt.in)
			if got := failIndex(p); got != tt.fail {
				t.Fatalf("test case is wrong: the reference fails at %d", got)
			}
			var v UTF8Validator
			if got := v.Write(p); got != (tt.fail < 0) {
				t.Errorf("Write = %v", got)
			}
			if got := v.Complete(); got != tt.complete {
				t.Errorf("Complete = %v, want %v", got, tt.complete)
			}
			if tt.fail >= 0 && v.Write([]byte("ok")) {
				t.Error("Write after a failure returned true")
			}
			if got := ValidUTF8(p); got != tt.complete {
				t.Errorf("ValidUTF8 = %v, want %v", got, tt.complete)
			}
			checkByteByByte(t, p, tt.fail)
			v.Reset()
			if !v.Write([]byte("\u00e9")) || !v.Complete() {
				t.Error("Reset validator rejects valid text")
			}
		})
	}
}

// TestValidUTF8Sequences compares ValidUTF8 with utf8.Valid on every 1- and
// 2-byte input and on 3- and 4-byte inputs whose later bytes sweep the
// boundaries, each alone and placed where the word-wide path sees it.
func TestValidUTF8Sequences(t *testing.T) {
	t.Parallel()
	edges := []byte{0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xE0, 0xF0, 0xFF}
	var seqs [][]byte
	for a := range 256 {
		seqs = append(seqs, []byte{byte(a)})
		for b := range 256 {
			seqs = append(seqs, []byte{byte(a), byte(b)})
			if a < 0xC2 || a > 0xF4 {
				continue
			}
			for _, c := range edges {
				seqs = append(seqs, []byte{byte(a), byte(b), c})
				if a >= 0xF0 {
					for _, d := range edges {
						seqs = append(seqs, []byte{byte(a), byte(b), c, d})
					}
				}
			}
		}
	}
	var buf []byte
	for _, s := range seqs {
		for _, ctx := range [][2]string{{"", ""}, {"abcdefg", ""}, {"abcdefgh", "ijklmnop"}, {"abcd", "\u00e9\u00e9\u00e9\u00e9"}} {
			buf = append(append(append(buf[:0], ctx[0]...), s...), ctx[1]...)
			if got, want := ValidUTF8(buf), utf8.Valid(buf); got != want {
				t.Fatalf("ValidUTF8(% x) = %v, utf8.Valid = %v", buf, got, want)
			}
		}
	}
}

// randomText returns text mixing ASCII with 2-, 3- and 4-byte runes, with
// an occasional corrupt byte if corrupt is set.
func randomText(rng *rand.Rand, n int, corrupt bool) []byte {
	runes := []rune{'a', ' ', 'Z', '\u00e9', '\u03bb', '\u07ff', '\u0800', '\u20ac', '\ud7ff', '\ue000', '\uffff', '\U00010000', '\U0001F600', '\U0010FFFF'}
	var p []byte
	for len(p) < n {
		if rng.IntN(3) == 0 {
			for range rng.IntN(20) {
				p = append(p, byte('a'+rng.IntN(26)))
			}
		}
		p = utf8.AppendRune(p, runes[rng.IntN(len(runes))])
		if corrupt && rng.IntN(50) == 0 {
			p = append(p, byte(0x80+rng.IntN(0x80)))
		}
	}
	return p
}

// TestUTF8ValidatorSplits checks that the verdict and the failing byte do not
// depend on how the stream is split.
func TestUTF8ValidatorSplits(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 300 {
		p := randomText(rng, rng.IntN(300), i%2 == 1)
		fail := failIndex(p)
		var v UTF8Validator
		ok, at := true, 0
		for rest := p; len(rest) > 0 && ok; {
			k := 1 + rng.IntN(len(rest))
			ok = v.Write(rest[:k])
			at += k
			rest = rest[k:]
		}
		if fail >= 0 {
			// The piece holding byte fail must be the one that failed.
			if ok || at <= fail {
				t.Fatalf("% x: failed=%v after %d bytes, want a failure at byte %d", p, !ok, at, fail)
			}
		} else if !ok {
			t.Fatalf("% x: valid prefix rejected", p)
		}
		if got, want := v.Complete(), utf8.Valid(p); got != want {
			t.Fatalf("% x: Complete = %v, want %v", p, got, want)
		}
		if got, want := ValidUTF8(p), utf8.Valid(p); got != want {
			t.Fatalf("% x: ValidUTF8 = %v, want %v", p, got, want)
		}
		if len(p) < 120 {
			checkByteByByte(t, p, fail)
		}
	}
}

func TestUTF8NoAlloc(t *testing.T) {
	p := randomText(rand.New(rand.NewPCG(7, 8)), 4096, false)
	if n := testing.AllocsPerRun(20, func() {
		var v UTF8Validator
		v.Write(p[:1001])
		v.Write(p[1001:])
		if !v.Complete() || !ValidUTF8(p) {
			t.Fatal("valid text rejected")
		}
	}); n != 0 {
		t.Errorf("UTF-8 validation allocates %v times per run", n)
	}
}

// TestValidUTF8Positions puts one sequence at every position of an ASCII
// buffer of every length up to 200, so that each step of the word-wide path
// (8, 32 and 64 bytes, the skip to the first non-ASCII byte, the last 8
// bytes) meets it at every offset.
func TestValidUTF8Positions(t *testing.T) {
	t.Parallel()
	seqs := []string{"\xFF", "\x80", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xED\xA0\x80", "\xE2\x82", "\xF4\x90\x80\x80"}
	buf := make([]byte, 0, 200)
	for n := 1; n <= 200; n++ {
		for _, s := range seqs {
			for at := 0; at+len(s) <= n; at++ {
				buf = buf[:n]
				for i := range buf {
					buf[i] = 'a' + byte(i%26)
				}
				copy(buf[at:], s)
				want := utf8.Valid(buf)
				if got := ValidUTF8(buf); got != want {
					t.Fatalf("ValidUTF8(%d bytes, % x at %d) = %v, want %v", n, s, at, got, want)
				}
				var v UTF8Validator
				if got := v.Write(buf) && v.Complete(); got != want {
					t.Fatalf("Validator(%d bytes, % x at %d) = %v, want %v", n, s, at, got, want)
				}
			}
		}
	}
}
