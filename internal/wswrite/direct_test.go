package wswrite

import (
	"errors"
	"testing"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/prepared"
)

// TestPreparedDirect: a batched send (PreparedDirect, the caller's own send
// of part of the frame, PreparedSent) leaves the Writer as Prepared would:
// what the socket did not take queued, behind it what came next, all whole
// and in order on the wire; a write that would not go straight to the socket
// is handed back (nil frame); a failed send fails the Writer.
func TestPreparedDirect(t *testing.T) {
	t.Parallel()
	pm := prepared.New(frame.OpText, []byte("fan-out"))
	for _, took := range []int{9, 0, 1, 2, 5} { // the frame is 9 bytes
		s := newSink(1 << 20)
		var w Writer
		f, err := w.PreparedDirect(s, pm)
		if err != nil || len(f) != 9 {
			t.Fatalf("took %d: PreparedDirect = %d bytes, %v", took, len(f), err)
		}
		s.wire = append(s.wire, f[:took]...) // the caller's send
		if err := w.PreparedSent(s, f, took, nil); err != nil {
			t.Fatal(err)
		}
		if took < len(f) {
			// writeOut's one more try after queueing found room: the rest went out.
			if w.Len() != 0 || s.retries != 1 {
				t.Fatalf("took %d: %d bytes queued, %d retries", took, w.Len(), s.retries)
			}
		}
		// A socket that takes nothing: the rest stays queued, and the next
		// write is not for a batch.
		s.room = 0
		if f, _ := w.PreparedDirect(s, pm); f == nil {
			// nothing queued yet: still direct; take none of it
			t.Fatalf("took %d: not direct with nothing queued", took)
		} else if err := w.PreparedSent(s, f, 0, nil); err != nil {
			t.Fatal(err)
		}
		if f, err := w.PreparedDirect(s, pm); f != nil || err != nil {
			t.Fatalf("took %d: direct with %d bytes queued (%v)", took, w.Len(), err)
		}
		if err := w.Message(s, frame.OpText, []byte("after"), true); err != nil {
			t.Fatal(err)
		}
		s.room = 1 << 20
		w.Flush(s)
		got := messages(t, s.wire)
		if len(got) != 3 || got[0] != "text:fan-out" || got[1] != "text:fan-out" || got[2] != "text:after" {
			t.Fatalf("took %d: wire %q", took, got)
		}
		if w.FramesOut() != 3 || s.total.Load() != 0 {
			t.Fatalf("took %d: frames %d, total %d", took, w.FramesOut(), s.total.Load())
		}
	}
	// A failed send fails the Writer; a client's frame is not for a batch.
	s := newSink(1 << 20)
	var w Writer
	f, _ := w.PreparedDirect(s, pm)
	boom := errors.New("boom")
	if err := w.PreparedSent(s, f, 0, boom); err != boom || !w.WriteErr() {
		t.Fatalf("failed send: %v, WriteErr %v", err, w.WriteErr())
	}
	c := newSink(1 << 20)
	c.client = true
	if f, err := new(Writer).PreparedDirect(c, pm); f != nil || err != nil {
		t.Fatal("a client's frame went to a batch")
	}
}
