package engine

import (
	"testing"

	"github.com/weir-ws/weir/frame"
)

// bufsHandler answers every message with what its connection's read side
// holds: "none" while its bufs were never made, else whether the message and
// unparsed slices are empty. It looks from OnMessage, the read side's own
// context (the owned.By key is not checked, so nil stands for the worker).
type bufsHandler struct{ NopHandler }

func (bufsHandler) OnMessage(c *Conn, op frame.Opcode, p []byte) {
	b := c.c.ReadSide.Get(nil).Extras
	switch {
	case b == nil:
		c.WriteMessage(frame.OpText, []byte("none"))
	case b.Message == nil && b.Unparsed == nil:
		c.WriteMessage(frame.OpText, []byte("made, empty"))
	default:
		c.WriteMessage(frame.OpText, []byte("made, holding"))
	}
}

// TestReadBufsOnNeed: a connection whose handshake came in one read and whose
// messages come in one frame never makes the read side's bufs (an idle
// connection is the 352-byte Conn alone, TestConnSize); a fragmented message
// makes them once, and they stay, emptied, for the connection's life.
func TestReadBufsOnNeed(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		_, addr := startServer(t, bufsHandler{}, cfg, nil)
		rc := dialRaw(t, addr)
		expect := func(want string) {
			t.Helper()
			_, p, err := rc.readFrame()
			if err != nil {
				t.Fatal(err)
			}
			if string(p) != want {
				t.Fatalf("read side %q, want %q", p, want)
			}
		}
		rc.write(frameBytes(true, frame.OpText, 0, []byte("one"), true))
		expect("none")
		rc.write(frameBytes(false, frame.OpText, 0, []byte("fr"), true))
		rc.write(frameBytes(true, frame.OpContinuation, 0, []byte("ag"), true))
		expect("made, empty") // delivered: the message's buffer went back
		rc.write(frameBytes(true, frame.OpText, 0, []byte("two"), true))
		expect("made, empty")
	})
}
