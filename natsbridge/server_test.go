//go:build !fuzzonly

package natsbridge

import (
	"fmt"
	"github.com/weir-ws/weir/frame"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/weir-ws/weir/internal/leakcheck"
)

func TestMain(m *testing.M) {
	// nats.go's and the servers' goroutines must end with the bridges and
	// servers the tests close: a bridge's Close that leaves its
	// connection's reader or flusher behind shows here.
	leakcheck.Run(m, nil,
		"github.com/weir-ws/weir/natsbridge.",
		"github.com/nats-io/nats%2ego.",
		"github.com/nats-io/nats-server/v2/server.")
}

// startServer runs an in-process NATS server on a random port of 127.0.0.1,
// routed to routes (cluster addresses) if any, shut down at cleanup.
func startServer(t testing.TB, name string, routes []*url.URL, cluster bool) *server.Server {
	t.Helper()
	return startServerOn(t, name, routes, cluster, -1)
}

// startServerOn is startServer on a given client port (-1: any).
func startServerOn(t testing.TB, name string, routes []*url.URL, cluster bool, port int) *server.Server {
	t.Helper()
	opts := &server.Options{
		ServerName: name,
		Host:       "127.0.0.1",
		Port:       port,
		NoLog:      true,
		NoSigs:     true,
		Routes:     routes,
	}
	if cluster {
		opts.Cluster = server.ClusterOpts{Name: "weir-test", Host: "127.0.0.1", Port: -1}
	}
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatalf("server %s not ready", name)
	}
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}

// startCluster runs n routed servers (the others route to the first; gossip
// completes the mesh) and waits until each sees the n-1 others.
func startCluster(t *testing.T, n int) []*server.Server {
	t.Helper()
	first := startServer(t, "s0", nil, true)
	seed := &url.URL{Scheme: "nats", Host: first.ClusterAddr().String()}
	servers := []*server.Server{first}
	for i := 1; i < n; i++ {
		servers = append(servers, startServer(t, fmt.Sprintf("s%d", i), []*url.URL{seed}, true))
	}
	waitUntil(t, "cluster mesh", func() bool {
		for _, s := range servers {
			if s.NumRemotes() != n-1 {
				return false
			}
		}
		return true
	})
	return servers
}

// node is one weir node: a bridge to its own NATS server and a hub over it.
type node struct {
	srv *server.Server
	br  *Bridge
	hub *localHub
}

// startNodes starts a bridge per server; each is given every server's URL,
// its own first and in that order (DontRandomize), so it connects to its own
// and can reconnect to the others.
func startNodes(t *testing.T, servers []*server.Server, cfg Config) []*node {
	t.Helper()
	nodes := make([]*node, len(servers))
	for i, s := range servers {
		urls := []string{s.ClientURL()}
		for j, o := range servers {
			if j != i {
				urls = append(urls, o.ClientURL())
			}
		}
		c := cfg
		c.URL = strings.Join(urls, ",")
		c.Name = fmt.Sprintf("weir-node%d", i)
		c.Options = append([]nats.Option{nats.DontRandomize()}, cfg.Options...)
		b := New(c)
		nodes[i] = &node{srv: s, br: b, hub: newLocalHub(t, b)}
	}
	return nodes
}

// interest is the number of subscriptions, local and routed, that a server
// knows matching the literal subject. (Account.Interest counts a subject's
// interest, not its subscriptions, so the two monitoring lists are summed.)
func interest(s *server.Server, subject string) int {
	sz, err := s.Subsz(&server.SubszOptions{Subscriptions: true, Test: subject})
	if err != nil {
		panic(err)
	}
	n := len(sz.Subs)
	rz, err := s.Routez(&server.RoutezOptions{Subscriptions: true})
	if err != nil {
		panic(err)
	}
	for _, r := range rz.Routes {
		for _, sub := range r.Subs {
			if match(sub, subject) {
				n++
			}
		}
	}
	return n
}

// waitInterest waits until every server knows want subscriptions matching
// subject: the cluster routes a publish on it to every node that asked.
func waitInterest(t *testing.T, servers []*server.Server, subject string, want int) {
	t.Helper()
	waitUntil(t, fmt.Sprintf("interest %d in %s", want, subject), func() bool {
		for _, s := range servers {
			if interest(s, subject) != want {
				return false
			}
		}
		return true
	})
}

// started returns a Bridge on cfg, started with a deliver that takes
// everything, and closed when the test ends (Close may come before).
func started(tb testing.TB, cfg Config) *Bridge {
	tb.Helper()
	b := New(cfg)
	if err := b.Start(func(string, frame.Opcode, []byte) error { return nil }); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { b.Close() })
	return b
}
