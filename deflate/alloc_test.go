package deflate

import (
	"testing"

	"github.com/weir-ws/weir/upgrade"
)

// TestAllocsSteadyState: with pooled codecs warm, compressing and
// decompressing allocate nothing, with and without context takeover, as long
// as dst has room (the engine passes a bufpool buffer).
func TestAllocsSteadyState(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops Puts under -race")
	}
	for _, size := range []int{1 << 10, 64 << 10} {
		msg := jsonText(int64(size), size)
		for _, mode := range takeoverModes[:2] {
			pr := newPair(mode.p, nil)
			zbuf := make([]byte, 0, 2*size+64)
			obuf := make([]byte, 0, size)
			var z []byte
			run := func() {
				var err error
				if z, err = pr.server.Compress(zbuf[:0], msg); err != nil {
					t.Fatal(err)
				}
				if _, err = pr.client.Decompress(obuf[:0], z, int64(size)); err != nil {
					t.Fatal(err)
				}
			}
			for i := 0; i < 4; i++ {
				run() // fill the pools and the history windows
			}
			if n := testing.AllocsPerRun(50, run); n != 0 {
				t.Errorf("%d bytes, %s: %v allocs per message", size, mode.name, n)
			}
			pr.release()
		}
	}
}

// TestAllocsNegotiate: the server's negotiation allocates nothing, the
// accepted Agreement included, so upgrade's handshake stays allocation-free.
func TestAllocsNegotiate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	n := NewNegotiator(&Options{ClientMaxWindowBits: 12})
	offers, err := upgrade.ParseExtensions("permessage-deflate; bogus, permessage-deflate; client_max_window_bits; server_max_window_bits=10")
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]byte, 0, 256)
	var accepted any
	if allocs := testing.AllocsPerRun(100, func() {
		_, accepted, _ = n.NegotiateExtensions(offers, dst[:0])
	}); allocs != 0 {
		t.Fatalf("NegotiateExtensions: %v allocs", allocs)
	}
	if accepted == nil {
		t.Fatal("offer declined")
	}
}
