//go:build !fuzzonly

package natsbridge

import (
	"fmt"
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/weir-ws/weir/frame"
)

// TestClusterExactlyOnce: three nodes, each bridged to its own server of a
// three-server cluster; a publish on any node reaches every subscriber on
// every node exactly once, with its opcode, including subscribers whose
// patterns overlap on one node (NATS sends that node one copy per matching
// subscription) and several subscribers of one pattern (one upstream
// subscription). No node gets its own publishes back from NATS.
func TestClusterExactlyOnce(t *testing.T) {
	t.Parallel()
	servers := startCluster(t, 3)
	nodes := startNodes(t, servers, Config{})
	subs := [][]*recorder{
		{nodes[0].hub.subscribe("chat.room"), nodes[0].hub.subscribe("chat.room")},
		{nodes[1].hub.subscribe("chat.room"), nodes[1].hub.subscribe("chat.*"),
			nodes[1].hub.subscribe("*.room"), nodes[1].hub.subscribe(">")},
		{nodes[2].hub.subscribe("chat.>")},
	}
	// 1 + 4 + 1 upstream subscriptions, each known to every server.
	waitInterest(t, servers, "weir.chat.room", 6)
	if n := nodes[0].br.Stats().Subscriptions; n != 1 {
		t.Fatalf("node 0 has %d upstream subscriptions for one pattern, want 1", n)
	}

	const perNode = 40
	var payloads []string
	for i, n := range nodes {
		for k := range perNode {
			p := fmt.Sprintf("n%d-%d", i, k)
			op := frame.OpText
			if k%2 == 1 {
				op = frame.OpBinary
			}
			if err := n.hub.publish("chat.room", op, []byte(p)); err != nil {
				t.Fatal(err)
			}
			payloads = append(payloads, p)
		}
	}
	// A sentinel per node, published last: NATS keeps one publisher's order
	// to each subscriber, so once a subscriber has every sentinel it has
	// all the rest, duplicates included.
	for i, n := range nodes {
		p := fmt.Sprintf("end-%d", i)
		if err := n.hub.publish("chat.room", frame.OpText, []byte(p)); err != nil {
			t.Fatal(err)
		}
		payloads = append(payloads, p)
	}
	for i, rs := range subs {
		for j, r := range rs {
			for k := range nodes {
				r.waitFor(t, fmt.Sprintf("end-%d", k))
			}
			r.mu.Lock()
			for _, p := range payloads {
				if c := r.got[p]; c != 1 {
					t.Errorf("node %d subscriber %d got %q %d times, want 1", i, j, p, c)
				}
			}
			if r.total != len(payloads) {
				t.Errorf("node %d subscriber %d got %d messages, want %d", i, j, r.total, len(payloads))
			}
			if r.ops["n0-1"] != frame.OpBinary || r.ops["n2-0"] != frame.OpText {
				t.Errorf("node %d subscriber %d: opcodes not kept: %v %v", i, j, r.ops["n0-1"], r.ops["n2-0"])
			}
			r.mu.Unlock()
		}
	}
	for i, n := range nodes {
		st := n.br.Stats()
		// Each node delivers the other two nodes' publishes, once each:
		// more would be an echo of its own or an overlap copy.
		if want := uint64(2 * (perNode + 1)); st.Delivered != want {
			t.Errorf("node %d delivered %d, want %d", i, st.Delivered, want)
		}
		if st.Sent != perNode+1 || st.SendDropped != 0 || st.Malformed != 0 || st.SlowConsumer != 0 {
			t.Errorf("node %d stats %+v", i, st)
		}
	}
	if st := nodes[1].br.Stats(); st.Overlap == 0 {
		t.Errorf("node 1 dropped no overlap copies: %+v", st)
	}
}

// TestInterestFollowsSubscribers: a node's upstream subscription exists, in
// its server and (routed) in the others, while it has local subscribers of a
// topic and goes when the last one leaves; then the node gets nothing more
// on that topic.
func TestInterestFollowsSubscribers(t *testing.T) {
	t.Parallel()
	servers := startCluster(t, 3)
	nodes := startNodes(t, servers, Config{})
	const subject = "weir.solo.t"
	base := servers[0].NumSubscriptions()

	r1 := nodes[0].hub.subscribe("solo.t")
	r2 := nodes[0].hub.subscribe("solo.t")
	waitInterest(t, servers, subject, 1)
	cid, err := nodes[0].br.nc.GetClientID()
	if err != nil {
		t.Fatal(err)
	}
	sz, err := servers[0].Subsz(&server.SubszOptions{Subscriptions: true, Test: subject})
	if err != nil {
		t.Fatal(err)
	}
	if len(sz.Subs) != 1 || sz.Subs[0].Cid != cid {
		t.Fatalf("server 0 subscriptions for %s: %+v, want one of client %d", subject, sz.Subs, cid)
	}
	if n := servers[0].NumSubscriptions(); n != base+1 {
		t.Errorf("server 0 has %d subscriptions, want %d", n, base+1)
	}

	if err := nodes[1].hub.publish("solo.t", frame.OpText, []byte("one")); err != nil {
		t.Fatal(err)
	}
	r1.waitFor(t, "one")
	r2.waitFor(t, "one")

	nodes[0].hub.unsubscribe(r1)
	if n := nodes[0].br.Stats().Subscriptions; n != 1 {
		t.Fatalf("upstream subscriptions after one of two left: %d, want 1", n)
	}
	nodes[0].hub.unsubscribe(r2)
	waitUntil(t, "no upstream subscription after the last left", func() bool {
		return nodes[0].br.Stats().Subscriptions == 0
	})
	waitInterest(t, servers, subject, 0)
	waitUntil(t, "server 0 subscriptions back to base", func() bool { return servers[0].NumSubscriptions() == base })

	// Nothing more arrives on solo.t: a publish there followed by one on
	// another topic (same publisher, so in order) adds only the latter.
	other := nodes[0].hub.subscribe("solo.u")
	waitInterest(t, servers, "weir.solo.u", 1)
	before := nodes[0].br.Stats().Delivered
	if err := nodes[1].hub.publish("solo.t", frame.OpText, []byte("two")); err != nil {
		t.Fatal(err)
	}
	if err := nodes[1].hub.publish("solo.u", frame.OpText, []byte("mark")); err != nil {
		t.Fatal(err)
	}
	other.waitFor(t, "mark")
	if d := nodes[0].br.Stats().Delivered - before; d != 1 {
		t.Errorf("delivered %d after the last subscriber left, want 1 (the mark)", d)
	}
}
