//go:build !fuzzonly

package natsbridge

import (
	"bytes"
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/pubsub"
)

// orderDialer's connections note, for each write that carries a publish of
// subject, whether the Hub's local fan-out had already delivered it then.
type orderDialer struct {
	subject []byte
	hub     atomic.Pointer[pubsub.Hub]
	want    atomic.Uint64 // the Hub's Delivered before the publish in flight
	writes  atomic.Int64  // writes carrying the subject
	before  atomic.Int64  // of them, made before the local fan-out delivered
}

func (d *orderDialer) Dial(network, address string) (net.Conn, error) {
	c, err := net.DialTimeout(network, address, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &orderConn{Conn: c, d: d}, nil
}

type orderConn struct {
	net.Conn
	d *orderDialer
}

func (c *orderConn) Write(p []byte) (int, error) {
	if h := c.d.hub.Load(); h != nil && bytes.Contains(p, c.d.subject) {
		if h.Stats().Delivered == c.d.want.Load() {
			c.d.before.Add(1)
		}
		c.d.writes.Add(1)
	}
	return c.Conn.Write(p)
}

// TestHubPublishReachesNATSBeforeFanout: a Hub.Publish on a node with a
// Bridge gets the message onto the NATS socket before its local fan-out
// delivers it, so that other nodes do not wait for this node's writes. The
// path to the socket is two goroutine hand-offs (the bridge's sender, then
// nats.go's flusher), both made runnable on the publisher's P: they must run
// in the one yield the Hub gives them (see pubsub.Bridge), not after the
// fan-out. One P makes the order deterministic, as a busy node's is: without
// the yield (pubsub/publish.go's Gosched), no write came first in 20.
func TestHubPublishReachesNATSBeforeFanout(t *testing.T) {
	// Not parallel: GOMAXPROCS is the process's.
	s := startServer(t, "s", nil, false)
	d := &orderDialer{subject: []byte("PUB weir.room ")}
	b := New(Config{URL: s.ClientURL(), Options: []nats.Option{nats.SetCustomDialer(d)}})
	h, sc, msgs := hubWithPeer(t, b, pubsub.Config{})
	if err := h.Subscribe(sc, "room"); err != nil {
		t.Fatal(err)
	}
	d.hub.Store(h)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	const n = 20
	for i := range n {
		d.want.Store(h.Stats().Delivered)
		if got, err := h.Publish("room", frame.OpText, []byte("m")); got != 1 || err != nil {
			t.Fatalf("Publish = %d, %v", got, err)
		}
		select {
		case <-msgs:
		case <-time.After(10 * time.Second):
			t.Fatal("the local subscriber got nothing")
		}
		waitUntil(t, "the NATS write", func() bool { return d.writes.Load() == int64(i+1) })
	}
	// One P still leaves the scheduler a choice now and then (it takes from
	// the global run queue first every 61st time), so allow a few late.
	if got := d.before.Load(); got < n*3/4 {
		t.Errorf("%d of %d publishes reached the NATS socket before the local fan-out delivered them", got, n)
	}
}
