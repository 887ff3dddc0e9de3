package interop

import (
	"testing"
	"unicode/utf8"
)

// Payloads: deterministic, so a failure repeats; text mixes 1- to 4-byte
// characters, so that the 16 KiB boundary falls inside a character
// (WebSocket-Node fragments there).

// echoSizes are the payload sizes of the echo rows: the edges of the 7-bit, 16-bit
// and 64-bit length encodings, then large messages.
var echoSizes = []int{0, 125, 126, 65535, 65536, 1 << 20, 8 << 20}

// textRunes cycle in textPayload: 1+2+3+4 = 10 bytes per round.
var textRunes = []rune{'a', 'é', '€', '😀'}

// textPayload returns n bytes of valid UTF-8 (ASCII fills the end when the next
// character would not fit).
func textPayload(n int) []byte {
	b := make([]byte, 0, n)
	for i := 0; ; i++ {
		r := textRunes[i%len(textRunes)]
		if len(b)+utf8.RuneLen(r) > n {
			break
		}
		b = utf8.AppendRune(b, r)
	}
	for len(b) < n {
		b = append(b, 'z')
	}
	return b
}

// binaryPayload returns n pseudo-random bytes (xorshift, seeded by n).
func binaryPayload(n int) []byte {
	b := make([]byte, n)
	x := uint32(n)*2654435761 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// utf8Samples are the text messages of the UTF-8 row.
var utf8Samples = []string{
	"é", "€", "😀", "𝄞 clef",
	"\u007f\u0080\u07ff\u0800\uffff\U00010000\U0010ffff", // encoding-length edges
	"\u0000 nul is valid",
	"mixed: Grüße, 你好, мир, 🎉🚀",
	string(textPayload(16384 + 20)), // a character across 16 KiB (WebSocket-Node's fragment size)
}

func TestPayloads(t *testing.T) {
	t.Parallel()
	for _, n := range echoSizes {
		p := textPayload(n)
		if len(p) != n || !utf8.Valid(p) {
			t.Fatalf("textPayload(%d): %d bytes, valid %v", n, len(p), utf8.Valid(p))
		}
		if len(binaryPayload(n)) != n {
			t.Fatalf("binaryPayload(%d) length", n)
		}
	}
	// Some multi-byte character must straddle the 16 KiB fragment boundary.
	p := textPayload(1 << 20)
	if utf8.RuneStart(p[16384]) {
		t.Fatalf("byte 16384 starts a character: the payload does not exercise split characters")
	}
}
