package engine

import (
	"errors"
	"testing"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/frame"
)

// TestCompressionEmptyMessage: the compressed empty message of RFC 7692
// §7.2.3.6 (the single octet 0x00) in one frame, after an empty first frame,
// and before an empty continuation, with and without context takeover, in
// every mode; each echo (compressed, Threshold -1) inflates to nothing, and a
// back reference into the message before it still decodes afterwards. A
// zero-octet payload with RSV1 is not a compressed message: with the §7.2.2
// tail appended it is a stored block whose LEN and NLEN disagree (RFC 1951
// §3.2.4; see deflate's TestEmptyPayloadAndUnstrippedTail), so it gets 1007.
func TestCompressionEmptyMessage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, offer string
		takeover    bool
	}{
		{"takeover", "Sec-WebSocket-Extensions: permessage-deflate", true},
		{"no takeover", "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; server_no_context_takeover", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				cfg.Compression = &deflate.Options{Threshold: -1}
				_, addr := startServer(t, newEcho(), cfg, nil)
				rc := dialRaw(t, addr, tc.offer)
				in := deflate.NewConn(deflate.Params{ServerNoContextTakeover: !tc.takeover}, false, nil)
				defer in.Release()
				expect := func(step, want string) {
					t.Helper()
					h, p, err := rc.readFrame()
					if err != nil || h.Opcode != frame.OpText || !h.Fin {
						t.Fatalf("%s: op %v fin %v err %v", step, h.Opcode, h.Fin, err)
					}
					if h.Rsv != frame.Rsv1 {
						t.Fatalf("%s: echo not compressed (rsv %x, % x)", step, h.Rsv, p)
					}
					got, err := in.Decompress(nil, p, 1<<10)
					if err != nil || string(got) != want {
						t.Fatalf("%s: echo % x inflates to %q, %v; want %q", step, p, got, err, want)
					}
				}
				second := compressedHello
				if tc.takeover {
					second = []byte{0xf2, 0x00, 0x11, 0x00, 0x00} // §7.2.3.2: refers back to the first Hello
				}
				steps := []struct {
					name, want string
					wire       []byte
				}{
					{"hello", "Hello", frameBytes(true, frame.OpText, frame.Rsv1, compressedHello, true)},
					{"0x00 in one frame", "", frameBytes(true, frame.OpText, frame.Rsv1, []byte{0x00}, true)},
					{"empty first frame, then 0x00", "", append(frameBytes(false, frame.OpText, frame.Rsv1, nil, true),
						frameBytes(true, frame.OpContinuation, 0, []byte{0x00}, true)...)},
					{"0x00, then an empty continuation", "", append(frameBytes(false, frame.OpText, frame.Rsv1, []byte{0x00}, true),
						frameBytes(true, frame.OpContinuation, 0, nil, true)...)},
					{"hello after the empty ones", "Hello", frameBytes(true, frame.OpText, frame.Rsv1, second, true)},
				}
				for _, s := range steps {
					rc.write(s.wire)
					expect(s.name, s.want)
				}
			})
		})
	}
	t.Run("zero octets with rsv1", func(t *testing.T) {
		t.Parallel()
		forModes(t, func(t *testing.T, cfg Config) {
			cfg.Compression = &deflate.Options{}
			h := newEcho()
			_, addr := startServer(t, h, cfg, nil)
			rc := dialRaw(t, addr, "Sec-WebSocket-Extensions: permessage-deflate")
			rc.write(frameBytes(true, frame.OpBinary, frame.Rsv1, nil, true))
			rc.expectClose(1007)
			rc.expectEOF()
			if r := h.waitClose(t); r.code != 1007 || !errors.Is(r.err, deflate.ErrCorrupt) {
				t.Fatalf("OnClose = %d %v, want 1007 ErrCorrupt", r.code, r.err)
			}
		})
	})
}
