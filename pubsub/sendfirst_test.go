package pubsub

import (
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/weir-ws/weir/frame"
)

// queueBridge is a Bridge whose Publish only queues, as natsbridge's does: a
// goroutine of its own sends. When it sends, it records whether the Hub's
// local fan-out of that publish has written yet.
type queueBridge struct {
	*fakeBridge
	hub    *Hub
	q      chan uint64 // the Hub's delivered count when Publish queued
	sent   atomic.Int64
	before atomic.Int64 // sends made before the local fan-out wrote
}

func (b *queueBridge) Publish(string, frame.Opcode, []byte) error {
	b.q <- b.hub.delivered.Load()
	return nil
}

func (b *queueBridge) run() {
	for d := range b.q {
		if b.hub.delivered.Load() == d {
			b.before.Add(1)
		}
		b.sent.Add(1)
	}
}

// TestPublishBridgeSendsBeforeFanout: a bridge's sender goroutine sends a
// publish before the Hub writes it to the local subscribers. Made runnable
// by Publish's queueing, it waits on the publisher's P (runnext) until the
// publisher blocks, which the local fan-out does not do: with 100 local
// receivers on 2 cores, other nodes got the publish 0.8 ms later (a runtime
// trace of the benchmark's node A: the send ran right after the fan-out's
// last write). With one P, as here, that wait is certain unless Publish
// yields; with more it lasts until another P steals the goroutine.
func TestPublishBridgeSendsBeforeFanout(t *testing.T) {
	// Not parallel: GOMAXPROCS is the process's.
	qb := &queueBridge{fakeBridge: newFakeBridge(), q: make(chan uint64, 64)}
	h := newHub(t, &Config{Bridge: qb})
	qb.hub = h
	go qb.run()
	defer close(qb.q)
	s := newServer(t, nil, 1)
	p, c := dialPeer(t, s, newClient(t))
	if err := h.Subscribe(c, "room"); err != nil {
		t.Fatal(err)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	const n = 20
	for i := range n {
		if got, err := h.Publish("room", frame.OpText, []byte("m")); got != 1 || err != nil {
			t.Fatalf("Publish = %d, %v", got, err)
		}
		p.expect(t, "m")
		eventually(t, "the bridge's send", func() bool { return qb.sent.Load() == int64(i+1) })
	}
	// The scheduler takes the yielding publisher back first once in 61
	// schedules (its fairness check of the global queue): allow a few.
	if got := qb.before.Load(); got < n*3/4 {
		t.Errorf("the bridge sent %d of %d publishes before the local fan-out wrote them, want %d or more", got, n, n*3/4)
	}
}
