package deflate

import (
	"bytes"
	"errors"
	"testing"
)

// The examples of RFC 7692 §7.2.3, as printed.
var (
	rfcHello          = []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}                                     // §7.2.3.1
	rfcHelloTakeover  = []byte{0xf2, 0x00, 0x11, 0x00, 0x00}                                                 // §7.2.3.2, second message
	rfcHelloStored    = []byte{0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00}             // §7.2.3.3
	rfcHelloFinal     = []byte{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00}                               // §7.2.3.4
	rfcHelloTwoBlocks = []byte{0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00} // §7.2.3.5
	rfcEmpty          = []byte{0x00}                                                                         // §7.2.3.6
)

func TestRFCExamplesDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		payload []byte
		want    string
	}{
		{"7.2.3.1 one compressed block", rfcHello, "Hello"},
		{"7.2.3.3 stored block", rfcHelloStored, "Hello"},
		{"7.2.3.4 BFINAL set", rfcHelloFinal, "Hello"},
		{"7.2.3.4 BFINAL set, padding octet omitted", rfcHelloFinal[:7], "Hello"},
		{"7.2.3.5 two blocks", rfcHelloTwoBlocks, "Hello"},
		{"7.2.3.6 empty", rfcEmpty, ""},
		// §7.2.1: a block may follow a BFINAL block in the same message, and
		// refer back across it.
		{"7.2.3.4 then 7.2.3.1 in one message", append(append([]byte{}, rfcHelloFinal[:7]...), rfcHello...), "HelloHello"},
		{"7.2.3.4 then a back reference", append(append([]byte{}, rfcHelloFinal[:7]...), rfcHelloTakeover...), "HelloHello"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Decompress(nil, tt.payload, 1<<20)
			if err != nil || string(got) != tt.want {
				t.Fatalf("Decompress(% x) = %q, %v; want %q", tt.payload, got, err, tt.want)
			}
			ref, _, err := refInflate(nil, tt.payload, 1<<20)
			if err != nil || string(ref) != tt.want {
				t.Fatalf("reference decoder: %q, %v; want %q", ref, err, tt.want)
			}
		})
	}
}

// TestRFCExampleTakeover is §7.2.3.2: the second "Hello" refers back into the
// first message, so it decodes only with the window taken over.
func TestRFCExampleTakeover(t *testing.T) {
	t.Parallel()
	for _, server := range []bool{true, false} {
		c := NewConn(Params{}, server, nil)
		for i, msg := range [][]byte{rfcHello, rfcHelloTakeover} {
			got, err := c.Decompress(nil, msg, 1<<10)
			if err != nil || string(got) != "Hello" {
				t.Fatalf("server=%v message %d: %q, %v", server, i, got, err)
			}
		}
		c.Release()
	}
	// Without takeover the peer's window starts empty: the reference is
	// corrupt data.
	for _, p := range []Params{{ClientNoContextTakeover: true}} {
		c := NewConn(p, true, nil)
		if _, err := c.Decompress(nil, rfcHello, 1<<10); err != nil {
			t.Fatal(err)
		}
		if got, err := c.Decompress(nil, rfcHelloTakeover, 1<<10); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("no takeover: %q, %v; want ErrCorrupt", got, err)
		}
		c.Release()
	}
}

// TestRFCExamplesEncode: for "Hello" weir's encoder (klauspost level 1 stores
// inputs this short) produces one of the RFC's printed encodings, and
// with takeover the second message is shorter and decodes only with the
// shared window.
func TestRFCExamplesEncode(t *testing.T) {
	t.Parallel()
	got, err := Compress(nil, []byte("Hello"), 15, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, rfcHello) && !bytes.Equal(got, rfcHelloStored) {
		t.Fatalf("Compress(Hello) = % x; want §7.2.3.1 % x or §7.2.3.3 % x", got, rfcHello, rfcHelloStored)
	}

	// The short "Hello" gains nothing from takeover with klauspost (see
	// DefaultThreshold); a message past the threshold shows the effect.
	msg := jsonText(1, 600)
	sender := NewConn(Params{}, true, nil)
	receiver := NewConn(Params{}, false, nil)
	defer sender.Release()
	defer receiver.Release()
	first, err := sender.Compress(nil, msg)
	if err != nil {
		t.Fatal(err)
	}
	second, err := sender.Compress(nil, msg)
	if err != nil {
		t.Fatal(err)
	}
	if len(second) >= len(first)/4 {
		t.Fatalf("takeover: second message %d bytes, first %d: want under a quarter", len(second), len(first))
	}
	for i, m := range [][]byte{first, second} {
		out, err := receiver.Decompress(nil, m, 1<<20)
		if err != nil || !bytes.Equal(out, msg) {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if _, err := Decompress(nil, second, 1<<20); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("second message without the window: %v; want ErrCorrupt", err)
	}
	if _, _, err := refInflate(nil, second, 1<<20); err == nil {
		t.Fatal("reference decoder decoded the second message without the window")
	}
	if out, _, err := refInflate(msg, second, 1<<20); err != nil || !bytes.Equal(out, msg) {
		t.Fatalf("reference decoder with the window: %v", err)
	}
}

// TestEmptyPayloadAndUnstrippedTail: two payloads that look valid at a glance
// and are not. RFC 7692 §7.2.2 has the receiver append 0x00 0x00 0xff 0xff
// and inflate; a message starts on a byte boundary (the stream is aligned
// after the previous message's sync flush), so those four octets alone are
// not an empty stored block: 0x00 is a block header (BFINAL 0, BTYPE 00) and
// its padding, 0x00 0xff is LEN = 0xff00, and NLEN is not its complement or
// is missing (RFC 1951 §3.2.4). An empty stored block at a byte boundary is
// five octets, 00 00 00 ff ff; §7.2.1's algorithm always leaves its header
// octet in the payload, which is why the empty message is 0x00 (§7.2.3.6),
// never zero octets. zlib agrees: inflating an empty payload or an unstripped
// tail and then any further message of the stream fails with "invalid stored
// block lengths" (Python's websockets and Firefox refuse such messages), so
// weir answers them with 1007 rather than leave a poisoned stream. The valid
// forms beside them decode in every mode.
func TestEmptyPayloadAndUnstrippedTail(t *testing.T) {
	t.Parallel()
	unstripped := append(append([]byte{}, rfcHello...), syncTail...)
	for _, tt := range []struct {
		name    string
		payload []byte
		want    string
		err     error
	}{
		{"empty payload", []byte{}, "", ErrCorrupt},
		{"sync tail left on", unstripped, "", ErrCorrupt},
		{"sync tail alone", []byte(syncTail), "", ErrCorrupt},
		{"7.2.3.6 empty message", rfcEmpty, "", nil},
		{"empty stored block, then 7.2.3.6", []byte{0x00, 0x00, 0x00, 0xff, 0xff, 0x00}, "", nil},
		{"7.2.3.1 with its tail, then 7.2.3.6", append(append([]byte{}, unstripped...), 0x00), "Hello", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Decompress(nil, tt.payload, 1<<20)
			if !errors.Is(err, tt.err) || err == nil && string(got) != tt.want {
				t.Fatalf("Decompress(% x) = %q, %v; want %q, %v", tt.payload, got, err, tt.want, tt.err)
			}
			if _, _, rerr := refInflate(nil, tt.payload, 1<<20); (rerr == nil) != (tt.err == nil) {
				t.Fatalf("reference decoder: %v; want error %v", rerr, tt.err)
			}
			// With context takeover, the valid ones leave the stream usable:
			// "Hello" then a back reference to it.
			for _, p := range []Params{{}, {ClientNoContextTakeover: true}} {
				c := NewConn(p, true, nil)
				_, _ = c.Decompress(nil, rfcHello, 1<<10)
				got, err := c.Decompress(nil, tt.payload, 1<<10)
				if !errors.Is(err, tt.err) || err == nil && string(got) != tt.want {
					t.Fatalf("%+v: after Hello: %q, %v", p, got, err)
				}
				if err == nil && !p.ClientNoContextTakeover {
					if got, err := c.Decompress(nil, rfcHelloTakeover, 1<<10); err != nil || string(got) != "Hello" {
						t.Fatalf("takeover after it: %q, %v", got, err)
					}
				}
				c.Release()
			}
		})
	}
}
