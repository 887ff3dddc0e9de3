package wswrite

import (
	"strings"
	"testing"

	"github.com/weir-ws/weir/frame"
)

// TestCork: corked writes reach no socket until the batch end; what comes
// after them (a message too big to cork, a control frame, a write after the
// turn) goes behind them; the batch end's send of any part of them leaves the
// rest queued in order; a lone corked message that went out whole leaves
// nothing owed.
func TestCork(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", corkMax+1)
	for _, took := range []int{-1, 0, 1, 3, 100, 1 << 20} { // -1: only "a", sent whole
		s := newSink(1 << 20)
		s.lim.DrainLowWater = 1 << 20
		var w Writer
		w.CorkOn()
		if err := w.Message(s, frame.OpText, []byte("a"), true); err != nil {
			t.Fatal(err)
		}
		want := []string{"text:a"}
		if took >= 0 {
			for _, m := range []string{"bb", big} {
				if err := w.Message(s, frame.OpText, []byte(m), true); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Control(s, frame.OpPing, []byte("p")); err != nil {
				t.Fatal(err)
			}
			want = append(want, "text:bb", "text:"+big, "ping:p")
		}
		if len(s.wire) != 0 {
			t.Fatalf("took %d: %d bytes on the wire before the batch end", took, len(s.wire))
		}
		if !w.CorkOff() || w.CorkOff() {
			t.Fatalf("took %d: not listed exactly once", took)
		}
		if took >= 0 {
			if err := w.Message(s, frame.OpText, []byte("after"), true); err != nil {
				t.Fatal(err)
			}
			want = append(want, "text:after")
		}
		b := w.Corked()
		n := min(max(took, 0), len(b))
		if took < 0 {
			n = len(b)
		}
		s.wire = append(s.wire, b[:n]...) // the batch's send
		turn := w.CorkSent(s, n, nil)
		if took < 0 {
			if turn || w.Len() != 0 || w.Queued() {
				t.Fatalf("lone message: turn %v, %d queued, Queued %v", turn, w.Len(), w.Queued())
			}
		} else if w.Len() != len(b)-n {
			t.Fatalf("took %d: %d bytes queued, want %d", took, w.Len(), len(b)-n)
		}
		w.Flush(s)
		got := messages(t, s.wire)
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("took %d: wire %.60q, want %.60q", took, got, want)
		}
		if w.Corked() != nil || s.total.Load() != 0 {
			t.Fatalf("took %d: corked bytes left, total %d", took, s.total.Load())
		}
	}
}

// corkEnd is the batch end's send for one Writer: the socket takes what it has
// room for (the sink's room), the rest stays queued.
func corkEnd(s *sink, w *Writer) bool {
	b := w.Corked()
	if b == nil {
		return false
	}
	n := min(len(b), s.room)
	s.room -= n
	s.wire = append(s.wire, b[:n]...)
	return w.CorkSent(s, n, nil)
}

// TestCorkPongOrder: pongs owed when a write comes go behind the bytes corked
// before it and ahead of it, as they would without corking (the corked bytes
// are as good as sent), and corked bytes do not make the socket look full: two
// pings in a turn get two pongs (RFC 6455 §5.5.3 lets a full socket answer
// only the latest).
func TestCorkPongOrder(t *testing.T) {
	t.Parallel()
	for _, flushTurn := range []bool{false, true} {
		s := newSink(1 << 20)
		var w Writer
		w.CorkOn()
		msg := func(m string) {
			if err := w.Message(s, frame.OpText, []byte(m), true); err != nil {
				t.Fatal(err)
			}
		}
		msg("a")
		w.AutoPong(s, []byte("p1"))
		w.AutoPong(s, []byte("p2"))
		if flushTurn { // the flush turn AutoPong asked for runs before the next write
			w.Flush(s)
		}
		msg("b")
		w.AutoPong(s, []byte("p3"))
		w.CorkOff()
		corkEnd(s, &w)
		w.Flush(s) // the flush turn after the batch end: the pongs owed at the turn's end
		got := strings.Join(messages(t, s.wire), "|")
		if want := "text:a|pong:p1|pong:p2|text:b|pong:p3"; got != want {
			t.Fatalf("flush turn %v: wire %q, want %q", flushTurn, got, want)
		}
	}
}

// TestCorkClose: a close frame written after corked bytes sends them first, at
// once, and goes out behind them: the socket may close right after the close
// frame (CloseNow, a failing close), and what was corked must not be lost.
func TestCorkClose(t *testing.T) {
	t.Parallel()
	s := newSink(1 << 20)
	var w Writer
	w.CorkOn()
	if err := w.Message(s, frame.OpText, []byte("a"), true); err != nil {
		t.Fatal(err)
	}
	if len(s.wire) != 0 {
		t.Fatal("not corked")
	}
	if sent, _ := w.Close(s, []byte{3, 232}); !sent {
		t.Fatal("close not sent")
	}
	if got := strings.Join(messages(t, s.wire), "|"); got != "text:a|close:\x03\xe8" || w.Len() != 0 {
		t.Fatalf("wire %q, %d queued after the close", got, w.Len())
	}
	w.MarkClosed() // the socket closes
	w.CorkOff()
	if w.Corked() != nil {
		t.Fatal("corked bytes left after the close")
	}
	w.Release(&s.lim)
	if s.total.Load() != 0 {
		t.Fatalf("total %d after release", s.total.Load())
	}
}

// TestCorkBudget: corked bytes are charged to the shared budget until the
// batch end sends them; a write that finds no room in the budget is not corked
// (it goes straight to the socket, as without corking), and a write behind
// corked bytes reserves its growth like any queued write, so the total never
// passes MaxTotal.
func TestCorkBudget(t *testing.T) {
	t.Parallel()
	page := int64(4096)
	s := newSink(1 << 20)
	s.lim.MaxTotal = page
	var w Writer
	w.CorkOn()
	if err := w.Message(s, frame.OpText, []byte("a"), true); err != nil {
		t.Fatal(err)
	}
	if len(s.wire) != 0 || s.total.Load() != page {
		t.Fatalf("corked: %d bytes on the wire, total %d, want 0 and %d", len(s.wire), s.total.Load(), page)
	}
	big := strings.Repeat("x", corkMax) // too big to cork: behind the corked bytes, a new buffer
	if err := w.Message(s, frame.OpText, []byte(big), true); err != ErrFull {
		t.Fatalf("write past the budget behind corked bytes: %v, want ErrFull", err)
	}
	if s.total.Load() > s.lim.MaxTotal {
		t.Fatalf("total %d past MaxTotal %d", s.total.Load(), s.lim.MaxTotal)
	}
	w.CorkOff()
	if corkEnd(s, &w) || s.total.Load() != 0 || w.Len() != 0 {
		t.Fatalf("after the batch end: total %d, %d queued", s.total.Load(), w.Len())
	}
	// A budget with no room: the write goes straight to the socket.
	s.lim.MaxTotal = 0
	w.CorkOn()
	if err := w.Message(s, frame.OpText, []byte("c"), true); err != nil {
		t.Fatal(err)
	}
	if w.CorkOff() || s.total.Load() != 0 {
		t.Fatalf("corked past the budget: total %d", s.total.Load())
	}
	if got := strings.Join(messages(t, s.wire), "|"); got != "text:a|text:c" {
		t.Fatalf("wire %q", got)
	}
}
