//go:build !fuzzonly

package natsbridge

import (
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/weir-ws/weir/frame"
)

// stallDialer's connections can be stalled: a Write then blocks until
// release is closed, as one to a server that stopped reading (a full TCP
// window, a partition without a reset).
type stallDialer struct {
	stalled atomic.Bool
	waiting atomic.Int64 // Writes blocked now
	release chan struct{}
}

func (d *stallDialer) Dial(network, address string) (net.Conn, error) {
	c, err := net.DialTimeout(network, address, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &stallConn{Conn: c, d: d}, nil
}

type stallConn struct {
	net.Conn
	d *stallDialer
}

func (c *stallConn) Write(p []byte) (int, error) {
	if c.d.stalled.Load() {
		c.d.waiting.Add(1)
		<-c.d.release
		c.d.waiting.Add(-1)
	}
	return c.Conn.Write(p)
}

// TestInterestDoesNotWaitOnNATS: the Hub calls Interest under its own lock
// on the goroutine that changed the subscriptions, an engine worker when a
// connection closes, so Interest must not wait on the network
// (pubsub.Bridge). nats.go writes to its socket holding its connection's
// lock (its flusher, and a Publish that fills the 32 KiB buffer), for up to
// its FlusherTimeout, a minute by default; a subscribe or unsubscribe made
// on Interest's goroutine waited for that lock, and so did the engine worker
// and every Subscribe of the Hub behind it. Before the fix Interest was
// still waiting when the test released the stalled write. Stats, which
// asked nats.go whether it was connected, waited for the same lock.
func TestInterestDoesNotWaitOnNATS(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "solo", nil, false)
	d := &stallDialer{release: make(chan struct{})}
	b := New(Config{URL: srv.ClientURL(), Options: []nats.Option{nats.SetCustomDialer(d)}})
	if err := b.Start(func(string, frame.Opcode, []byte) error { return nil }); err != nil {
		t.Fatal(err)
	}
	released := false
	release := func() {
		if !released {
			released = true
			d.stalled.Store(false)
			close(d.release)
		}
	}
	defer func() {
		release()
		b.Close()
	}()
	b.Interest("before", true)
	waitUntil(t, "the first subscription", func() bool { return interest(srv, "weir.before") == 1 })

	d.stalled.Store(true)
	payload := make([]byte, 8<<10)
	for range 8 { // 64 KiB: over nats.go's buffer, so a write happens
		if err := b.Publish("load", frame.OpBinary, payload); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "a stuck write", func() bool { return d.waiting.Load() > 0 })
	done := make(chan struct{})
	go func() {
		b.Stats() // a metrics scrape, maybe from an engine callback
		b.Interest("during", true)
		b.Interest("before", false)
		// Clients' churn of names while nats.go is stuck leaves nothing.
		for i := range 10000 {
			topic := fmt.Sprintf("churn.%d", i)
			b.Interest(topic, true)
			b.Interest(topic, false)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		release()
		<-done
		t.Fatal("Stats or Interest waited for a stuck NATS write")
	}
	b.mu.RLock()
	held, todo := len(b.subs), len(b.todo)
	b.mu.RUnlock()
	// Held: before (to unsubscribe) and during, and the one subject
	// interestLoop may be in the middle of (a churn name whose subscribe
	// nats.go took before its write got stuck), which it drops once done.
	if held > 3 || todo > 2 {
		t.Errorf("after the churn, %d subjects held and %d to do, want at most 3 and 2", held, todo)
	}
	release()
	waitUntil(t, "the interest changes made during the stall", func() bool {
		return interest(srv, "weir.during") == 1 && interest(srv, "weir.before") == 0
	})
}
