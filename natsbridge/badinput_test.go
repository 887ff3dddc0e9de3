//go:build !fuzzonly

package natsbridge

import (
	"bytes"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/weir-ws/weir/frame"
)

// TestBadInputFromNATS: anyone who can publish on the NATS cluster can send
// a weir subject anything. Garbage, text that is not UTF-8 and oversized
// messages are dropped and counted; a good message after them still arrives;
// a deliver that panics costs that message, not the process.
func TestBadInputFromNATS(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "solo", nil, false)
	b := New(Config{URL: srv.ClientURL(), MaxMessage: 1024})
	h := newLocalHub(t, b)
	r := h.subscribe("in")
	waitUntil(t, "subscription", func() bool { return interest(srv, "weir.in") == 1 })

	raw, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	bad := [][]byte{
		nil,                                     // no type byte
		[]byte("xhello"),                        // unknown type byte
		[]byte("\x00\x01\x02"),                  // binary garbage
		[]byte("t\xff\xfe"),                     // text, not UTF-8
		[]byte("t\xe2\x82"),                     // text, cut rune
		[]byte("b" + strings.Repeat("x", 1025)), // over MaxMessage
		append([]byte("t"), bytes.Repeat([]byte("y"), 200<<10)...), // far over
	}
	for _, m := range bad {
		if err := raw.Publish("weir.in", m); err != nil {
			t.Fatal(err)
		}
	}
	if err := raw.Publish("weir.in", []byte("b"+strings.Repeat("z", 1024))); err != nil { // exactly MaxMessage
		t.Fatal(err)
	}
	if err := raw.Publish("weir.in", []byte("tgood")); err != nil {
		t.Fatal(err)
	}
	r.waitFor(t, "good")
	st := b.Stats()
	if st.Malformed != 5 || st.Oversized != 2 || st.Delivered != 2 {
		t.Errorf("malformed %d (want 5), oversized %d (want 2), delivered %d (want 2)", st.Malformed, st.Oversized, st.Delivered)
	}
	if r.count(strings.Repeat("z", 1024)) != 1 || r.count("good") != 1 {
		t.Errorf("subscriber did not get the two good messages once each")
	}
}

func TestDeliverPanic(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "solo", nil, false)
	b := New(Config{URL: srv.ClientURL()})
	var calls atomic.Int64
	if err := b.Start(func(topic string, op frame.Opcode, payload []byte) error {
		calls.Add(1)
		if string(payload) == "boom" {
			panic("hub bug")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	b.Interest("p", true)
	waitUntil(t, "subscription", func() bool { return interest(srv, "weir.p") == 1 })
	raw, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, m := range []string{"tboom", "tok"} {
		if err := raw.Publish("weir.p", []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "both delivered", func() bool { return calls.Load() == 2 })
	if st := b.Stats(); st.DeliverPanics != 1 {
		t.Errorf("DeliverPanics %d, want 1", st.DeliverPanics)
	}
}

// TestLocalRefusals: what the bridge refuses from its own node, with the
// sentinel errors, without sending anything.
func TestLocalRefusals(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "solo", nil, false)
	var reported atomic.Int64
	b := New(Config{URL: srv.ClientURL(), MaxMessage: 100, SendQueueBytes: 50,
		OnError: func(error) { reported.Add(1) }})
	if err := b.Publish("t", frame.OpText, nil); !errors.Is(err, ErrNotStarted) {
		t.Errorf("Publish before Start: %v", err)
	}
	h := newLocalHub(t, b)
	if err := b.Start(h.fanOut); !errors.Is(err, ErrStarted) {
		t.Errorf("second Start: %v", err)
	}
	for _, tc := range []struct {
		topic string
		op    frame.Opcode
		size  int
		want  error
	}{
		{"t", frame.OpPing, 1, ErrOpcode},
		{"t", frame.OpClose, 1, ErrOpcode},
		{"t", frame.OpText, 101, ErrTooLarge},
		{"t", frame.OpText, 60, ErrQueueFull}, // over SendQueueBytes
		{"a b", frame.OpText, 1, ErrTopic},
		{"a.*", frame.OpText, 1, ErrTopic},
		{"a.>", frame.OpText, 1, ErrTopic},
		{"", frame.OpText, 1, ErrTopic},
		{"a..b", frame.OpText, 1, ErrTopic},
		{"t", frame.OpText, 10, nil},
	} {
		if err := b.Publish(tc.topic, tc.op, make([]byte, tc.size)); !errors.Is(err, tc.want) {
			t.Errorf("Publish(%q, %v, %d bytes) = %v, want %v", tc.topic, tc.op, tc.size, err, tc.want)
		}
	}
	for _, topic := range []string{"a b", "a.>.b", "", "a..b", "x\r\nPUB y 1"} {
		b.Interest(topic, true)
	}
	if st := b.Stats(); st.InterestErrors != 5 || st.Subscriptions != 0 || reported.Load() != 5 {
		t.Errorf("after bad interest: %+v, %d reported", st, reported.Load())
	}
	b.Interest("never.subscribed", false) // no-op
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish("t", frame.OpText, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Publish after Close: %v", err)
	}
	if err := b.Start(h.fanOut); !errors.Is(err, ErrClosed) {
		t.Errorf("Start after Close: %v", err)
	}
	b.Interest("t", true) // no-op after Close
	if st := b.Stats(); st.Sent != 1 || st.SendDropped != 2 {
		t.Errorf("Sent %d (want 1), SendDropped %d (want 2)", st.Sent, st.SendDropped)
	}
}

// TestInterestIsState: Interest says what the node has now, not a count: a
// repeated on changes nothing and one off ends the upstream subscription
// (the Hub reconciles and may say on again after a raced subscribe).
func TestInterestIsState(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "solo", nil, false)
	b := started(t, Config{URL: srv.ClientURL()})
	b.Interest("s", true)
	b.Interest("s", true)
	// The bridge's interest goroutine subscribes (Interest only records).
	waitUntil(t, "subscription", func() bool { return interest(srv, "weir.s") == 1 })
	if n := b.Stats().Subscriptions; n != 1 {
		t.Fatalf("%d upstream subscriptions after on, on; want 1", n)
	}
	b.Interest("s", false)
	waitUntil(t, "no subscription", func() bool { return interest(srv, "weir.s") == 0 })
	if n := b.Stats().Subscriptions; n != 0 {
		t.Fatalf("%d upstream subscriptions after on, on, off; want 0", n)
	}
}
