//go:build !fuzzonly

// The cluster test over the real pubsub.Hub: WebSocket clients subscribed
// on three weir nodes, each node's Hub bridged to its own NATS server of a
// three-server cluster. (localHub, in hub_test.go, stays for the tests that
// need a recorder per subscriber.)

package natsbridge

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/pubsub"
)

type hubSrvHandler struct {
	engine.NopHandler
	opened chan *engine.Conn
}

func (h hubSrvHandler) OnOpen(c *engine.Conn) { h.opened <- c }

type hubPeer struct {
	engine.NopHandler
	msgs chan string
}

func (p *hubPeer) OnMessage(_ *engine.Conn, _ frame.Opcode, b []byte) { p.msgs <- string(b) }

// TestPubsubHub: three nodes, each a pubsub.Hub with a Bridge to its own
// server of a three-server cluster; WebSocket clients subscribed on every
// node (overlapping patterns on one connection, on one node) get every
// publish of every node exactly once.
func TestPubsubHub(t *testing.T) {
	t.Parallel()
	servers := startCluster(t, 3)
	var hubs []*pubsub.Hub
	var bridges []*Bridge
	for i, s := range servers {
		b := New(Config{URL: s.ClientURL(), Name: fmt.Sprint("n", i)})
		h, err := pubsub.New(&pubsub.Config{Bridge: b})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		hubs = append(hubs, h)
		bridges = append(bridges, b)
	}
	cl, err := engine.NewClient(nil, &engine.Config{PingInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	type sub struct {
		node     int
		patterns []string
	}
	plan := []sub{{0, []string{"chat.room"}}, {0, []string{"chat.room"}}, {1, []string{"chat.*"}},
		{1, []string{"chat.room", ">", "*.room"}}, {2, []string{"chat.>"}}}
	var peers []*hubPeer
	for _, sp := range plan {
		h := hubSrvHandler{opened: make(chan *engine.Conn, 1)}
		srv, err := engine.NewServer(h, &engine.Config{PingInterval: -1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		if err := srv.Listen("127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		p := &hubPeer{msgs: make(chan string, 4096)}
		if _, _, err := cl.Dial(context.Background(), "ws://"+srv.Addr().String()+"/", &engine.DialOptions{Handler: p}); err != nil {
			t.Fatal(err)
		}
		c := <-h.opened
		for _, pat := range sp.patterns {
			if err := hubs[sp.node].Subscribe(c, pat); err != nil {
				t.Fatal(err)
			}
		}
		peers = append(peers, p)
	}
	waitInterest(t, servers, "weir.chat.room", 1+4+1)
	const m = 40
	want := map[string]bool{}
	for i, h := range hubs {
		for k := range m {
			p := fmt.Sprintf("n%d-%d", i, k)
			if _, err := h.Publish("chat.room", frame.OpText, []byte(p)); err != nil {
				t.Fatal(err)
			}
			want[p] = true
		}
	}
	for i, h := range hubs {
		p := fmt.Sprintf("end-%d", i)
		if _, err := h.Publish("chat.room", frame.OpText, []byte(p)); err != nil {
			t.Fatal(err)
		}
		want[p] = true
	}
	for j, p := range peers {
		got := map[string]int{}
		ends := 0
		deadline := time.After(20 * time.Second)
		for ends < 3 {
			select {
			case s := <-p.msgs:
				got[s]++
				if strings.HasPrefix(s, "end-") {
					ends++
				}
			case <-deadline:
				t.Fatalf("peer %d: timeout, got %d", j, len(got))
			}
		}
		for w := range want {
			if got[w] != 1 {
				t.Errorf("peer %d got %q %d times", j, w, got[w])
			}
		}
		if len(got) != len(want) {
			t.Errorf("peer %d got %d distinct, want %d", j, len(got), len(want))
		}
	}
	for i, b := range bridges {
		t.Logf("node %d: %+v", i, b.Stats())
	}
}
