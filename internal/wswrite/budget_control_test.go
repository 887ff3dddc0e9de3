package wswrite

import (
	"testing"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/pagepool"
)

// TestBudgetControlFramesBehindFullQueue: a control frame queued behind output
// the peer is not reading must not take the total past MaxTotal. Before, a
// ping appended to a full 8 KiB queue doubled its buffer: the total went to
// 16 KiB with a budget of 8 KiB (interop's broadcast attack saw the queues
// pass the budget once keepalive pinged the stalled peers).
func TestBudgetControlFramesBehindFullQueue(t *testing.T) {
	t.Parallel()
	for _, op := range []frame.Opcode{frame.OpPing, frame.OpPong} {
		s := newSink(0) // the socket takes nothing
		s.lim.MaxTotal = 8 << 10
		var w Writer
		if err := w.Message(s, frame.OpBinary, make([]byte, 8188), false); err != nil {
			t.Fatal(err)
		}
		if err := w.Control(s, op, []byte("p")); err != nil {
			t.Fatal(err)
		}
		if got := s.total.Load(); got > s.lim.MaxTotal {
			t.Errorf("%v: total %d, over the budget of %d", op, got, s.lim.MaxTotal)
		}
		if sent, _ := w.Close(s, nil); !sent {
			t.Errorf("the close was not recorded as sent")
		}
		if got := s.total.Load(); got > s.lim.MaxTotal {
			t.Errorf("%v then close: total %d, over the budget of %d", op, got, s.lim.MaxTotal)
		}
		w.Release(&s.lim)
	}
}

// TestBudgetControlFrameEmptyQueueFullSocket: with the budget spent by other
// connections, a ping to a connection with nothing queued goes to the socket
// as always; if the socket takes none of it, it is left out rather than
// queued past the budget (interop's broadcast attack, keepalive with no
// pongs: 8.0 MiB held with a budget of 8 MiB). A socket with room still gets
// it: a healthy connection's keepalive does not depend on the budget.
func TestBudgetControlFrameEmptyQueueFullSocket(t *testing.T) {
	t.Parallel()
	for _, room := range []int{0, 1 << 10} {
		s := newSink(room)
		s.lim.MaxTotal = 8 << 10
		s.total.Store(s.lim.MaxTotal) // spent by the others
		var w Writer
		if err := w.Control(s, frame.OpPing, []byte("p")); err != nil {
			t.Fatal(err)
		}
		if got := s.total.Load(); got != s.lim.MaxTotal {
			t.Errorf("room %d: total %d, budget %d", room, got, s.lim.MaxTotal)
		}
		if room > 0 && len(s.wire) != 3 {
			t.Errorf("room %d: %d bytes on the wire, want the 3-byte ping", room, len(s.wire))
		}
		if room == 0 && w.Pending(s) != 0 {
			t.Errorf("room 0: %d bytes queued past the budget", w.Pending(s))
		}
	}
}

// BenchmarkControlBudgeted: a ping under a budget, straight to the socket and
// behind queued output (the reservation path of emitControl).
func BenchmarkControlBudgeted(b *testing.B) {
	for _, queued := range []bool{false, true} {
		b.Run(map[bool]string{false: "straight", true: "queued"}[queued], func(b *testing.B) {
			s := newSink(0)
			s.lim.MaxTotal = 1 << 20
			s.wire = make([]byte, 0, 4096)
			var w Writer
			b.ReportAllocs()
			for b.Loop() {
				s.room, s.wire = 1<<20, s.wire[:0]
				if queued {
					s.room = 0
				}
				w.Control(s, frame.OpPing, []byte("p"))
				s.room = 1 << 20
				w.Flush(s)
			}
		})
	}
}

// TestBudgetCountsBufferInMotion: a write that moves a queue into a bigger
// buffer holds both buffers while the bytes move (the old one goes back after
// the copy), so the budget must have room for both. Before, Admit reserved
// only the difference: with a budget of 24 KiB, a queue of 8 KiB moving into a
// 16 KiB buffer was admitted, and for that moment 24 KiB + the other
// connections' share were held (the interop broadcast attack saw the pool's
// peak pass the budget by 0.1 MiB).
func TestBudgetCountsBufferInMotion(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		budget int64
		admit  bool
	}{{16 << 10, false}, {24<<10 - 1, false}, {24 << 10, true}} {
		s := newSink(0) // the socket takes nothing
		s.lim.MaxTotal = tc.budget
		var w Writer
		if err := w.Message(s, frame.OpBinary, make([]byte, 8188), false); err != nil {
			t.Fatal(err) // 8 KiB queued
		}
		err := w.Message(s, frame.OpBinary, make([]byte, 4000), false)
		if (err == nil) != tc.admit {
			t.Errorf("budget %d: the write that moves 8 KiB into 16 KiB: %v, want admitted %v", tc.budget, err, tc.admit)
		}
		if got := s.total.Load(); got > s.lim.MaxTotal {
			t.Errorf("budget %d: total %d", tc.budget, got)
		}
		w.Release(&s.lim)
	}
}

// TestBudgetHeldMessages: whole messages written while a fragmented message is
// in progress are held behind it (RFC 6455 §5.4), in a buffer of their own that
// the socket cannot take: the budget must reserve for it. Before, Admit judged
// the queue's growth (none: it is empty) and the held buffer passed the budget.
func TestBudgetHeldMessages(t *testing.T) {
	t.Parallel()
	s := newSink(1 << 20) // the socket takes everything
	s.lim.MaxTotal = 8 << 10
	var w Writer
	if _, err := w.Frame(s, false, frame.OpText, 0, []byte("first fragment")); err != nil {
		t.Fatal(err)
	}
	err := w.Message(s, frame.OpBinary, make([]byte, 16<<10), false)
	if err == nil {
		t.Errorf("a 16 KiB message held behind a fragmented message was admitted with a budget of 8 KiB")
	}
	if got := s.total.Load(); got > s.lim.MaxTotal {
		t.Errorf("total %d, over the budget of %d", got, s.lim.MaxTotal)
	}
	if err := w.Message(s, frame.OpBinary, make([]byte, 1000), false); err != nil {
		t.Errorf("a 1000-byte message held within the budget: %v", err)
	}
	if _, err := w.Frame(s, true, frame.OpContinuation, 0, []byte("last")); err != nil {
		t.Fatal(err)
	}
	if got := s.total.Load(); got != 0 {
		t.Errorf("total %d after everything went out", got)
	}
	w.Release(&s.lim)
}

// TestBudgetChargesPages: the budget counts what is resident, and a pooled
// buffer below a page shares its page, which stays resident while any buffer
// in it is in use (internal/pagepool): a queue holding a few bytes is charged
// a whole page. Before, it was charged its 512-byte buffer, so connections
// each queuing a few bytes, their buffers scattered one per page, held eight
// times what the budget counted.
func TestBudgetChargesPages(t *testing.T) {
	t.Parallel()
	s := newSink(0)
	s.lim.MaxTotal = 1 << 20
	var w Writer
	if err := w.Message(s, frame.OpBinary, make([]byte, 10), false); err != nil {
		t.Fatal(err)
	}
	if got := s.total.Load(); got != pagepool.PageSize {
		t.Errorf("a queue of 12 bytes in a %d-byte buffer is charged %d, want a page (%d)", w.out.Cap(), got, pagepool.PageSize)
	}
	if err := w.Message(s, frame.OpBinary, make([]byte, 5000), false); err != nil {
		t.Fatal(err)
	}
	if got, want := s.total.Load(), int64(w.out.Cap()); got != want {
		t.Errorf("a queue in a %d-byte buffer is charged %d", w.out.Cap(), got)
	}
	w.Release(&s.lim)
	if got := s.total.Load(); got != 0 {
		t.Errorf("total %d after the queue was released", got)
	}
}

// TestBudgetContinuationToSocket: a continuation frame goes to the queue, not
// to the held messages, so on an empty queue it is tried on the socket first
// like any write, however full the budget: reserving for it up front (as for
// a held message) would refuse a frame the socket takes whole.
func TestBudgetContinuationToSocket(t *testing.T) {
	t.Parallel()
	s := newSink(1 << 20)
	s.lim.MaxTotal = 8 << 10
	var w Writer
	if _, err := w.Frame(s, false, frame.OpText, 0, []byte("first")); err != nil {
		t.Fatal(err)
	}
	s.total.Store(s.lim.MaxTotal) // spent by the others
	if _, err := w.Frame(s, true, frame.OpContinuation, 0, make([]byte, 100)); err != nil {
		t.Errorf("the last fragment, which the socket takes whole, with the budget spent elsewhere: %v", err)
	}
	if got := s.total.Load(); got != s.lim.MaxTotal {
		t.Errorf("total %d, want the others' %d", got, s.lim.MaxTotal)
	}
}
