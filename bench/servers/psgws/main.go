// Command psgws is the pub/sub benchmark server for github.com/lxzan/gws: the
// topic index a gws application keeps by hand (topic -> set of connections under a
// mutex, snapshot per publish) and gws.Broadcaster's loop, the library's own
// fan-out (one frame, each connection's write queue). A connection's first
// message is its topic; publishes come in on srvkit's TCP ingress.
package main

import (
	"net"
	"sync"
	"sync/atomic"

	"github.com/lxzan/gws"
	"github.com/weir-ws/weir/bench/internal/srvkit"
)

type topics struct {
	mu   sync.RWMutex
	subs map[string]map[*gws.Conn]struct{}
	of   map[*gws.Conn]string
	n    atomic.Int64
}

func (t *topics) OnOpen(c *gws.Conn) {}

func (t *topics) OnClose(c *gws.Conn, err error) {
	t.mu.Lock()
	if name, ok := t.of[c]; ok {
		delete(t.subs[name], c)
		delete(t.of, c)
		t.n.Add(-1)
	}
	t.mu.Unlock()
}

func (t *topics) OnPing(c *gws.Conn, p []byte) { c.WritePong(p) }
func (t *topics) OnPong(c *gws.Conn, p []byte) {}

func (t *topics) OnMessage(c *gws.Conn, m *gws.Message) {
	name := m.Data.String()
	m.Close()
	t.mu.Lock()
	if _, ok := t.of[c]; !ok {
		s := t.subs[name]
		if s == nil {
			s = map[*gws.Conn]struct{}{}
			t.subs[name] = s
		}
		s[c] = struct{}{}
		t.of[c] = name
		t.n.Add(1)
	}
	t.mu.Unlock()
}

// publish sends p to the subscribers of topic with one Broadcaster.
func (t *topics) publish(topic string, p []byte) int {
	t.mu.RLock()
	list := make([]*gws.Conn, 0, len(t.subs[topic]))
	for c := range t.subs[topic] {
		list = append(list, c)
	}
	t.mu.RUnlock()
	b := gws.NewBroadcaster(gws.OpcodeBinary, append([]byte(nil), p...))
	defer b.Close()
	n := 0
	for _, c := range list {
		if b.Broadcast(c) == nil {
			n++
		}
	}
	return n
}

func main() {
	o := srvkit.Parse()
	t := &topics{subs: map[string]map[*gws.Conn]struct{}{}, of: map[*gws.Conn]string{}}
	srv := gws.NewServer(t, &gws.ServerOption{})
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		srvkit.Fatal(err)
	}
	go srv.RunListener(ln)
	srvkit.StartIngress(o, func(topic string, p []byte) { t.publish(topic, p) })
	srvkit.Serve(o, ln.Addr().String(), func(p []byte) int { return t.publish("bench", p) },
		func() int { return int(t.n.Load()) })
}
