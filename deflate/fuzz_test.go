package deflate

import (
	"bytes"
	"testing"

	"github.com/weir-ws/weir/upgrade"
)

// fuzzLimit is the read limit of FuzzDecompress: small enough that bombs hit
// it at once.
const fuzzLimit = 64 << 10

// FuzzDecompress: any payload either decodes to at most limit bytes or fails
// with ErrCorrupt or ErrMessageTooBig; it never panics and never makes a
// buffer larger than the limit's bufpool class; what it decodes, the
// reference decoder decodes the same way. The same payload then goes twice
// through a Conn with context takeover.
func FuzzDecompress(f *testing.F) {
	for _, seed := range [][]byte{
		rfcHello, rfcHelloTakeover, rfcHelloStored, rfcHelloFinal, rfcHelloTwoBlocks, rfcEmpty, {},
		{0x07, 0x00}, {0x01, 0x00, 0x00, 0xff, 0xff}, append(append([]byte{}, rfcHelloFinal[:7]...), rfcHello...),
		// Not compressed messages (RFC 7692 §7.2.2, RFC 1951 §3.2.4): the sync
		// tail left on, and the tail alone.
		append(append([]byte{}, rfcHello...), syncTail...), []byte(syncTail),
	} {
		f.Add(seed)
	}
	text, _ := Compress(nil, jsonText(1, 3000), 15, nil)
	f.Add(text)
	random, _ := Compress(nil, randomBytes(1, 500), 15, nil)
	f.Add(random)
	f.Add(bomb(f, 1<<20))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := Decompress(nil, data, fuzzLimit)
		check := func(out []byte, err error) {
			t.Helper()
			switch {
			case err != nil && err != ErrCorrupt && err != ErrMessageTooBig && err != errFinalBlocks:
				t.Fatalf("unexpected error %v", err)
			case len(out) > fuzzLimit:
				t.Fatalf("%d bytes out, limit %d", len(out), fuzzLimit)
			case cap(out) > 2*fuzzLimit:
				t.Fatalf("buffer of %d bytes for a limit of %d", cap(out), fuzzLimit)
			}
		}
		check(out, err)
		if err == nil {
			ref, _, rerr := refInflate(nil, data, fuzzLimit)
			if rerr != nil || !bytes.Equal(ref, out) {
				t.Fatalf("Decompress gave %d bytes; reference decoder %d bytes, %v", len(out), len(ref), rerr)
			}
		}

		c := NewConn(Params{}, true, nil)
		defer c.Release()
		for i := 0; i < 2; i++ {
			out, err := c.Decompress(nil, data, fuzzLimit)
			check(out, err)
			if len(c.in.history) > int(c.in.limit) {
				t.Fatalf("history of %d bytes, limit %d", len(c.in.history), c.in.limit)
			}
			if err != nil {
				break
			}
		}
	})
}

// FuzzParseParams: parsing any extension header never panics, and what parses
// formats back to text that parses to the same parameters.
func FuzzParseParams(f *testing.F) {
	for _, s := range []string{
		"permessage-deflate", "permessage-deflate; client_max_window_bits",
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=8",
		`permessage-deflate; server_max_window_bits="15"`, "permessage-deflate; x=1", "permessage-deflate, permessage-deflate; server_max_window_bits=9",
	} {
		f.Add(s)
	}
	n := NewNegotiator(nil)
	f.Fuzz(func(t *testing.T, s string) {
		offers, err := upgrade.ParseExtensions(s)
		if err != nil {
			return
		}
		for _, o := range offers {
			p, err := ParseParams(o)
			if err != nil {
				continue
			}
			back, err := upgrade.ParseExtensions(FormatParams(p))
			if err != nil {
				t.Fatalf("%q formats to unparsable %q", s, FormatParams(p))
			}
			if q, err := ParseParams(back[0]); err != nil || q != p {
				t.Fatalf("%q: %+v formats and parses back to %+v, %v", s, p, q, err)
			}
		}
		hdr, accepted, err := n.NegotiateExtensions(offers, nil)
		if err != nil {
			t.Fatal(err)
		}
		if accepted != nil {
			// Whatever the server answers is a valid response element.
			if _, err := ParseParams(mustParseF(t, string(hdr))); err != nil {
				t.Fatalf("answer %q to %q does not parse: %v", hdr, s, err)
			}
		}
	})
}

func mustParseF(t *testing.T, h string) upgrade.ExtensionOffer {
	t.Helper()
	e, err := upgrade.ParseExtensions(h)
	if err != nil || len(e) != 1 {
		t.Fatalf("ParseExtensions(%q): %v", h, err)
	}
	return e[0]
}
