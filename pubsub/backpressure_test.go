package pubsub

import (
	"encoding/binary"
	"testing"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
)

// TestSlowSubscriber: one subscriber never reads; the other takes every
// message, in order, while the slow one meets its WriteBufferPolicy (drop,
// error, or close, which also takes it out of the Hub).
func TestSlowSubscriber(t *testing.T) {
	t.Parallel()
	for name, pol := range map[string]engine.WriteBufferPolicy{
		"drop": engine.WriteBufferDrop, "error": engine.WriteBufferError, "close": engine.WriteBufferClose,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, &engine.Config{MaxWriteBuffer: 64 << 10, WriteBufferPolicy: pol}, 2)
			cl := newClient(t)
			h := newHub(t, nil)
			fast, fc := dialPeer(t, s, cl)
			_, slow := dialRaw(t, s, false)
			h.Subscribe(fc, "feed")
			h.Subscribe(slow, "feed")
			msg := make([]byte, 32<<10)
			refused := false
			for i := 0; !refused; i++ {
				if i == 20000 {
					t.Fatal("the slow subscriber never met its write buffer cap")
				}
				binary.BigEndian.PutUint64(msg, uint64(i))
				n, err := h.Publish("feed", frame.OpBinary, msg)
				if err != nil || n < 1 {
					t.Fatalf("publish %d: %d, %v", i, n, err)
				}
				refused = n == 1
				// Lockstep with the fast reader, so only the slow one backs up.
				if got := fast.next(t); binary.BigEndian.Uint64([]byte(got)) != uint64(i) {
					t.Fatalf("fast subscriber: message %d out of order", i)
				}
			}
			if h.Stats().Dropped == 0 {
				t.Error("Stats.Dropped not counted")
			}
			if pol == engine.WriteBufferClose {
				eventually(t, "the slow consumer to leave the hub", func() bool { return h.Subscribers("feed") == 1 })
			} else if h.Subscribers("feed") != 2 {
				t.Errorf("Subscribers = %d: the slow one is kept under %v", h.Subscribers("feed"), pol)
			}
			if n, _ := h.Publish("feed", frame.OpBinary, msg[:8]); n < 1 {
				t.Error("the fast subscriber stopped receiving")
			}
		})
	}
}
