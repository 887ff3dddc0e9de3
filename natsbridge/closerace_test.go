//go:build !fuzzonly

package natsbridge

import (
	"testing"

	"github.com/weir-ws/weir/frame"
)

// TestPublishAfterCloseNotStranded: a Publish that passed its closed check
// before Close and queues its message after the sender's last drain (the
// sender has returned) does not leave it in the queue counted nowhere: it is
// counted as dropped, the queue is empty and its bytes are given back.
// Publish's two halves are called apart here, the enqueue after Close, as
// such a Publish would run them.
func TestPublishAfterCloseNotStranded(t *testing.T) {
	t.Parallel()
	s := startServer(t, "s", nil, false)
	b := started(t, Config{URL: s.ClientURL()})
	b.Close() // the sender drained the queue and returned
	before := b.Stats()
	buf := b.getBuf()
	*buf = encode((*buf)[:0], frame.OpText, []byte("late"))
	size := int64(len(*buf))
	b.queued.Add(size)
	b.enqueue(outMsg{"t", buf}, size)
	after := b.Stats()
	if n := len(b.out); n != 0 {
		t.Fatalf("%d message(s) left in the send queue after Close", n)
	}
	if got := after.SendDropped - before.SendDropped; got != 1 {
		t.Fatalf("SendDropped went up by %d, want 1 (the late message)", got)
	}
	if q := b.queued.Load(); q != 0 {
		t.Fatalf("%d bytes still counted queued", q)
	}
}
