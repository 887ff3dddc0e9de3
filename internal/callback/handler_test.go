package callback

import (
	"testing"

	"github.com/weir-ws/weir/frame"
)

type conn struct{ id int }

var _ Handler[*conn] = Nop[*conn]{}

// counting embeds Nop and overrides two calls, as a program's handler does.
type counting struct {
	Nop[*conn]
	msgs  int
	pings int
}

func (h *counting) OnMessage(*conn, frame.Opcode, []byte) { h.msgs++ }
func (h *counting) OnPing(*conn, []byte) bool             { h.pings++; return false }

// TestNopEmbedded: the calls a handler overrides reach it, the others do
// nothing, and Nop lets every pong go (OnPing reports true) unless overridden.
func TestNopEmbedded(t *testing.T) {
	t.Parallel()
	c := &conn{id: 1}
	if !(Nop[*conn]{}).OnPing(c, nil) {
		t.Error("Nop.OnPing = false, want true: the automatic pong goes")
	}
	h := &counting{}
	var hh Handler[*conn] = h
	hh.OnOpen(c)
	hh.OnMessage(c, frame.OpText, []byte("x"))
	hh.OnFrame(c, frame.Header{}, nil)
	if hh.OnPing(c, nil) {
		t.Error("overridden OnPing = true, want false")
	}
	hh.OnPong(c, nil)
	hh.OnDrain(c)
	hh.OnClose(c, 1000, "", nil)
	if h.msgs != 1 || h.pings != 1 {
		t.Errorf("msgs, pings = %d, %d; want 1, 1", h.msgs, h.pings)
	}
}
