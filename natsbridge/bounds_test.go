//go:build !fuzzonly

package natsbridge

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/weir-ws/weir/frame"
)

// TestSlowDeliver: while deliver is stuck, at most DeliverQueue messages
// wait; nats.go drops the rest and the bridge counts them, so every message
// is either delivered or counted. deliver is released only once all n
// messages are accounted for at the bridge (in deliver, waiting in the
// channel, or dropped): released any earlier, the ones still on the wire
// find room again and the bound below does not hold.
func TestSlowDeliver(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "solo", nil, false)
	b := New(Config{URL: srv.ClientURL(), DeliverQueue: 4})
	release := make(chan struct{})
	var delivered, entered atomic.Int64
	if err := b.Start(func(string, frame.Opcode, []byte) error {
		entered.Add(1)
		<-release
		delivered.Add(1)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	b.Interest("slow", true)
	waitUntil(t, "subscription", func() bool { return interest(srv, "weir.slow") == 1 })
	raw, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	const n = 100
	for i := range n {
		if err := raw.Publish("weir.slow", fmt.Appendf(nil, "t%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := raw.Flush(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "every message in deliver, queued or dropped", func() bool {
		return int(entered.Load())+len(b.in)+int(b.Stats().SlowConsumer) == n
	})
	close(release)
	waitUntil(t, "every message delivered or counted", func() bool {
		st := b.Stats()
		return int(st.Delivered+st.SlowConsumer) == n
	})
	if d := delivered.Load(); d > 4+1 {
		t.Errorf("delivered %d with a queue of 4 (plus the one in deliver)", d)
	}
}

// TestCloseWhileBusy: Close during publishes, interest changes and
// deliveries neither panics nor races, and deliver is not called after Close
// returns.
func TestCloseWhileBusy(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "solo", nil, false)
	peer := New(Config{URL: srv.ClientURL()})
	ph := newLocalHub(t, peer)
	b := New(Config{URL: srv.ClientURL()})
	var closed, late atomic.Bool
	if err := b.Start(func(string, frame.Opcode, []byte) error {
		if closed.Load() {
			late.Store(true)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	b.Interest("busy.>", true)
	waitUntil(t, "subscription", func() bool { return interest(srv, "weir.busy.x") == 1 })
	stop := make(chan struct{})
	// loop runs step (with its iteration number) in a goroutine until stop
	// or until step returns false, pacing itself: flat-out loops would
	// starve the parallel tests on a 2-core box without adding anything to
	// this one.
	var wg sync.WaitGroup
	loop := func(step func(i int) bool) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if !step(i) {
					return
				}
				time.Sleep(50 * time.Microsecond)
			}
		}()
	}
	loop(func(int) bool { // the peer keeps b delivering
		_ = ph.publish("busy.x", frame.OpText, []byte("m"))
		return true
	})
	loop(func(int) bool { // b publishes
		return !errors.Is(b.Publish("busy.y", frame.OpBinary, []byte("m")), ErrClosed)
	})
	loop(func(i int) bool { // b's interest churns
		topic := fmt.Sprintf("busy.t%d", i%8)
		b.Interest(topic, true)
		b.Interest(topic, false)
		return true
	})
	waitUntil(t, "deliveries", func() bool { return b.Stats().Delivered > 100 })
	if err := b.Close(); err != nil {
		t.Log("Close:", err) // the flush may time out on a busy box
	}
	closed.Store(true)
	close(stop)
	wg.Wait()
	if late.Load() {
		t.Error("deliver called after Close returned")
	}
	if st := b.Stats(); st.Subscriptions != 0 || st.Connected {
		t.Errorf("after Close: %+v", st)
	}
}

// BenchmarkPublish: the cost of Bridge.Publish to a local server (the
// publisher's side: envelope, queue; the send goroutine runs beside it).
// allocs/op counts the whole process, the in-process server's reading of
// each message included (about 1/op); the bridge's own are the envelope
// buffers sync.Pool misses when a burst outruns the sender.
func BenchmarkPublish(b *testing.B) {
	srv := startServer(b, "bench", nil, false)
	br := started(b, Config{URL: srv.ClientURL(), SendQueue: 1 << 16})
	payload := make([]byte, 128)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	var full int
	for b.Loop() {
		if err := br.Publish("bench.topic", frame.OpBinary, payload); err != nil {
			full++
		}
	}
	b.ReportMetric(float64(full)/float64(b.N), "refused/op")
}
