package opening

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// FuzzInputSplit: a request fed in two reads, cut anywhere, ends as it does in
// one: the same steps, the same answer, the same bytes handed on as frames
// (Parse) and nothing kept afterwards.
func FuzzInputSplit(f *testing.F) {
	f.Add([]byte(request+"frames"), uint16(10))
	f.Add([]byte("GET / HTTP/1.0\r\n\r\n"), uint16(3))
	f.Add([]byte(strings.Repeat("a", 9000)), uint16(4000))
	f.Fuzz(func(t *testing.T, in []byte, cut uint16) { checkSplit(t, in, int(cut)%(len(in)+1)) })
}

// TestInputSplitRandom is FuzzInputSplit's property over requests with random
// bytes changed, cut at random points, in every test run.
func TestInputSplitRandom(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(11, 12))
	for range 2000 {
		in := []byte(request + "frames")
		for range rng.IntN(4) {
			in[rng.IntN(len(in))] = byte(rng.UintN(256))
		}
		checkSplit(t, in, rng.IntN(len(in)+1))
	}
}

// checkSplit feeds in whole, then cut at at, and compares the two.
func checkSplit(t *testing.T, in []byte, at int) {
	t.Helper()
	one := newFake(nil)
	feed(one, in)
	two := newFake(nil)
	feed(two, in[:at])
	feed(two, in[at:])
	if a, b := strings.Join(one.log, " "), strings.Join(two.log, " "); a != b {
		t.Fatalf("cut at %d: did %q, in one read %q", at, b, a)
	}
	if a, b := strings.Join(one.answers, "|"), strings.Join(two.answers, "|"); a != b {
		t.Fatalf("cut at %d: answered %q, in one read %q", at, b, a)
	}
	if a, b := strings.Join(one.parsed, ""), strings.Join(two.parsed, ""); a != b {
		t.Fatalf("cut at %d: handed on %q, in one read %q", at, b, a)
	}
	if one.opened && (one.kept != nil || two.kept != nil) {
		t.Fatalf("kept %q / %q after opening", one.kept, two.kept)
	}
}

// feed gives data to f as a reader would: to the handshake while it runs,
// then as frames; nothing once it is refused or finished.
func feed(f *fake, data []byte) {
	switch {
	case len(data) == 0 || f.finished || len(f.answers) > 0 && !f.opened:
	case f.opened:
		f.Parse(0, data)
	default:
		Input(f, 0, data)
	}
}
