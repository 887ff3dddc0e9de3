//go:build !fuzzonly

package natsbridge

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"
	"weak"

	"github.com/nats-io/nats.go"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/pubsub"
)

// hubWithPeer makes a pubsub.Hub over b (cfg's Bridge is set to it) and a
// WebSocket client connected to an engine server; it returns the Hub, the
// server side of the connection (to subscribe) and the client's messages.
func hubWithPeer(t *testing.T, b *Bridge, cfg pubsub.Config) (*pubsub.Hub, *engine.Conn, chan string) {
	t.Helper()
	cfg.Bridge = b
	h, err := pubsub.New(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	hs := hubSrvHandler{opened: make(chan *engine.Conn, 1)}
	srv, err := engine.NewServer(hs, &engine.Config{PingInterval: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	cl, err := engine.NewClient(nil, &engine.Config{PingInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	p := &hubPeer{msgs: make(chan string, 1024)}
	if _, _, err := cl.Dial(context.Background(), "ws://"+srv.Addr().String()+"/", &engine.DialOptions{Handler: p}); err != nil {
		t.Fatal(err)
	}
	return h, <-hs.opened, p.msgs
}

// TestHubRefusalsNotDelivered: a message from NATS that the bridge's own
// checks pass can still fail the Hub's (a topic over its MaxTopicLen or
// MaxTokens, a wildcard topic, a closing Hub). Before the fix the bridge
// counted it in Stats.Delivered before it called deliver, which could not
// say no: the Hub dropped it silently and the bridge reported it delivered.
// deliver now returns the Hub's refusal and the bridge counts it in
// Stats.Refused.
func TestHubRefusalsNotDelivered(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "solo", nil, false)
	b := New(Config{URL: srv.ClientURL()})
	h, c, msgs := hubWithPeer(t, b, pubsub.Config{MaxTopicLen: 32, MaxTokens: 4})
	if err := h.Subscribe(c, ">"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "subscription", func() bool { return interest(srv, "weir.x") == 1 })

	raw, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	refused := []string{
		"weir.a.b.c.d.e",                      // 5 tokens, MaxTokens 4
		"weir." + strings.Repeat("x", 33),     // over MaxTopicLen
		"weir.a.*",                            // a pattern: no publish names one
		"weir.a.>",                            // nor this
		"weir.ok." + strings.Repeat("y", 200), // over MaxTopicLen again
	}
	for _, subject := range refused {
		if err := raw.Publish(subject, []byte("tbad")); err != nil {
			t.Fatal(err)
		}
	}
	if err := raw.Publish("weir.ok", []byte("tgood")); err != nil {
		t.Fatal(err)
	}
	if got := <-msgs; got != "good" {
		t.Fatalf("subscriber got %q first, want good", got)
	}
	waitUntil(t, "every message counted", func() bool {
		st := b.Stats()
		return st.Delivered+st.Refused >= uint64(len(refused)+1)
	})
	if st := b.Stats(); st.Delivered != 1 || st.Refused != uint64(len(refused)) {
		t.Errorf("Delivered %d (want 1), Refused %d (want %d)", st.Delivered, st.Refused, len(refused))
	}
	if st := h.Stats(); st.Remote != 1 {
		t.Errorf("Hub: Remote %d, want 1", st.Remote)
	}
}

// TestSubjectCacheDoesNotPinTopics: the sender goroutine caches each
// topic's subject. Its key was the topic as the publisher gave it, often
// cut out of a client's message, and so it kept that whole message (up to
// 4096 of them). The key is now part of the subject the cache makes.
func TestSubjectCacheDoesNotPinTopics(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "solo", nil, false)
	b := started(t, Config{URL: srv.ClientURL()})
	msg := "room.1 " + strings.Repeat("x", 64<<10)
	w := weak.Make(unsafe.StringData(msg))
	if err := b.Publish(msg[:len("room.1")], frame.OpText, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	msg = ""
	waitUntil(t, "the send", func() bool { return b.Stats().Sent == 1 })
	for range 20 {
		runtime.GC()
		if w.Value() == nil {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Error("the subject cache keeps the 64 KiB message the topic was cut from")
}
