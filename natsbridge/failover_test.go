//go:build !fuzzonly

package natsbridge

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/weir-ws/weir/frame"
)

// seqPublisher publishes "p<node>-<seq>" on a topic about once a
// millisecond until stopped.
type seqPublisher struct {
	n       atomic.Int64 // published so far: seqs 0..n-1
	refused atomic.Int64
	stop    chan struct{}
	wg      sync.WaitGroup
}

func startPublisher(h *localHub, node int, topic string) *seqPublisher {
	p := &seqPublisher{stop: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for seq := 0; ; seq++ {
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
			if h.publish(topic, frame.OpBinary, fmt.Appendf(nil, "p%d-%d", node, seq)) != nil {
				p.refused.Add(1)
			}
			p.n.Add(1)
		}
	}()
	return p
}

func (p *seqPublisher) halt() int {
	close(p.stop)
	p.wg.Wait()
	return int(p.n.Load())
}

// highest is the highest seq of node's publishes that r has got, -1 if none.
func (r *recorder) highest(node, published int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	for seq := published - 1; seq >= 0; seq-- {
		if r.got[fmt.Sprintf("p%d-%d", node, seq)] > 0 {
			return seq
		}
	}
	return -1
}

// missing returns the seqs below n of node's publishes that r did not get,
// and fails on any it got more than once.
func (r *recorder) missing(t *testing.T, node, n int) []int {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var miss []int
	for seq := range n {
		switch c := r.got[fmt.Sprintf("p%d-%d", node, seq)]; {
		case c == 0:
			miss = append(miss, seq)
		case c > 1:
			t.Errorf("p%d-%d got %d times", node, seq, c)
		}
	}
	return miss
}

// TestServerKill: node 2's NATS server dies while nodes 0 and 2 publish a
// numbered stream. Node 2's bridge reconnects to another server of its URL
// list, nats.go sends its subscription there, and delivery resumes both
// ways. What was lost is counted by sequence number and printed; it must lie
// in the gap (after what had arrived when the server died, before the
// reconnect plus a slack for the resubscription to take effect), nothing is
// delivered twice, and nodes 0 and 1 lose nothing between themselves.
func TestServerKill(t *testing.T) {
	t.Parallel()
	servers := startCluster(t, 3)
	nodes := startNodes(t, servers, Config{})
	r := []*recorder{
		nodes[0].hub.subscribe("feed"),
		nodes[1].hub.subscribe("feed"),
		nodes[2].hub.subscribe("feed"),
	}
	waitInterest(t, servers, "weir.feed", 3)
	pub0 := startPublisher(nodes[0].hub, 0, "feed")
	pub2 := startPublisher(nodes[2].hub, 2, "feed")
	stopped := false
	defer func() {
		if !stopped {
			pub0.halt()
			pub2.halt()
		}
	}()

	r[2].waitFor(t, "p0-100")
	r[1].waitFor(t, "p2-100")
	seen20 := r[2].highest(0, int(pub0.n.Load())) // p0 at node 2 before the kill
	seen21 := r[1].highest(2, int(pub2.n.Load())) // p2 at node 1 before the kill
	killed := time.Now()
	servers[2].Shutdown()

	waitUntil(t, "node 2 reconnected", func() bool { return nodes[2].br.Stats().Reconnects > 0 })
	gap := time.Since(killed)
	at0, at2 := int(pub0.n.Load()), int(pub2.n.Load())
	// The resubscription went out before the reconnect callback; give it
	// (and the reconnect buffer's flush) slack to take effect.
	const slack = 500
	r[2].waitFor(t, fmt.Sprintf("p0-%d", at0+slack+50))
	r[1].waitFor(t, fmt.Sprintf("p2-%d", at2+slack+50))

	n0, n2 := pub0.halt(), pub2.halt()
	stopped = true
	// Sentinels: a publisher's order holds per subscriber, so these come
	// last.
	for _, n := range []int{0, 2} {
		if err := nodes[n].hub.publish("feed", frame.OpText, fmt.Appendf(nil, "end-%d", n)); err != nil {
			t.Fatal(err)
		}
	}
	for _, rec := range r {
		rec.waitFor(t, "end-0")
		rec.waitFor(t, "end-2")
	}
	if pub0.refused.Load() != 0 || pub2.refused.Load() != 0 {
		t.Errorf("publishes refused: node 0 %d, node 2 %d", pub0.refused.Load(), pub2.refused.Load())
	}

	inGap := func(what string, miss []int, after, before int) {
		for _, seq := range miss {
			if seq <= after || seq >= before {
				t.Errorf("%s: lost seq %d outside the gap (%d, %d)", what, seq, after, before)
			}
		}
	}
	for _, n := range []int{0, 1} {
		if miss := r[n].missing(t, 0, n0); len(miss) != 0 {
			t.Errorf("node %d lost %d of node 0's publishes: %v", n, len(miss), miss)
		}
	}
	lost20 := r[2].missing(t, 0, n0)
	inGap("node 0 -> node 2", lost20, seen20, at0+slack)
	lost21 := r[1].missing(t, 2, n2)
	inGap("node 2 -> node 1", lost21, seen21, at2+slack)
	lost22 := r[0].missing(t, 2, n2)
	inGap("node 2 -> node 0", lost22, seen21, at2+slack)
	if miss := r[2].missing(t, 2, n2); len(miss) != 0 {
		t.Errorf("node 2 lost %d of its own publishes locally", len(miss))
	}
	st := nodes[2].br.Stats()
	t.Logf("server kill: reconnected after %v (bridge: %d disconnect, %v without a server, %d sent while disconnected, %d send drops); "+
		"lost node 0 -> node 2: %d of %d; node 2 -> node 1: %d of %d; node 2 -> node 0: %d of %d",
		gap.Round(time.Millisecond), st.Disconnects, st.Disconnected.Round(time.Millisecond), st.SentDisconnected, st.SendDropped,
		len(lost20), n0, len(lost21), n2, len(lost22), n2)
	if !st.Connected || st.Disconnects != 1 || st.Reconnects != 1 {
		t.Errorf("node 2 bridge stats after failover: %+v", st)
	}
}

// TestInterestChangedWhileDisconnected: interest that changes while the
// bridge has no server reaches the server it reconnects to as it is then:
// what the node dropped during the gap is not subscribed there (it would be
// routed to the node for nothing, for good), what it added is.
func TestInterestChangedWhileDisconnected(t *testing.T) {
	t.Parallel()
	first := startServer(t, "first", nil, false)
	port := first.Addr().(*net.TCPAddr).Port
	b := New(Config{URL: first.ClientURL(), ReconnectWait: 20 * time.Millisecond})
	h := newLocalHub(t, b)
	kept := h.subscribe("kept")
	gone := h.subscribe("gone")
	waitUntil(t, "the first subscriptions", func() bool {
		return interest(first, "weir.kept") == 1 && interest(first, "weir.gone") == 1
	})
	first.Shutdown()
	first.WaitForShutdown()
	waitUntil(t, "the disconnect", func() bool { return !b.Stats().Connected })
	h.unsubscribe(gone)
	added := h.subscribe("added")
	waitUntil(t, "the bridge to record the changes", func() bool { return b.Stats().Subscriptions == 2 })

	second := startServerOn(t, "second", nil, false, port)
	defer func() { // before second's cleanup shuts it down
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	waitUntil(t, "the reconnect", func() bool { return b.Stats().Connected })
	waitUntil(t, "the interest on the new server", func() bool {
		return interest(second, "weir.kept") == 1 && interest(second, "weir.added") == 1
	})
	sz, err := second.Subsz(&server.SubszOptions{Subscriptions: true})
	if err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for _, sub := range sz.Subs {
		if strings.HasPrefix(sub.Subject, "weir.") {
			subjects = append(subjects, sub.Subject)
		}
	}
	if slices.Sort(subjects); !slices.Equal(subjects, []string{"weir.added", "weir.kept"}) {
		t.Errorf("the new server has subscriptions %q, want weir.added and weir.kept", subjects)
	}
	raw, err := nats.Connect(second.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, subject := range []string{"weir.gone", "weir.kept", "weir.added"} {
		if err := raw.Publish(subject, []byte("t"+subject)); err != nil {
			t.Fatal(err)
		}
	}
	kept.waitFor(t, "weir.kept")
	added.waitFor(t, "weir.added")
	if gone.count("weir.gone") != 0 || b.Stats().Delivered != 2 {
		t.Errorf("delivered %d, want 2 (nothing on weir.gone)", b.Stats().Delivered)
	}
}
