package pubsub

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/leakcheck"
)

// TestMain fails the run if a goroutine of pubsub or engine outlives the
// tests: every Server, Client and Hub is closed, every fan-out goroutine done.
func TestMain(m *testing.M) {
	leakcheck.Run(m, nil, "github.com/weir-ws/weir/pubsub.", "github.com/weir-ws/weir/engine.")
}

// testServer is an engine server whose opened connections arrive on opened,
// and whose closed ones are counted into closed.
type testServer struct {
	srv    *engine.Server
	addr   string
	opened chan *engine.Conn
	closed chan *engine.Conn
}

type srvHandler struct {
	engine.NopHandler
	opened, closed chan *engine.Conn
}

func (h srvHandler) OnOpen(c *engine.Conn) { h.opened <- c }

func (h srvHandler) OnClose(c *engine.Conn, _ frame.StatusCode, _ string, _ error) {
	select {
	case h.closed <- c:
	default:
	}
}

func newServer(t testing.TB, cfg *engine.Config, n int) *testServer {
	t.Helper()
	h := srvHandler{opened: make(chan *engine.Conn, n), closed: make(chan *engine.Conn, n)}
	if cfg == nil {
		cfg = &engine.Config{}
	}
	cfg.PingInterval = -1
	srv, err := engine.NewServer(h, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	return &testServer{srv: srv, addr: srv.Addr().String(), opened: h.opened, closed: h.closed}
}

// accept returns the next server-side connection.
func (s *testServer) accept(t testing.TB) *engine.Conn {
	t.Helper()
	select {
	case c := <-s.opened:
		return c
	case <-time.After(20 * time.Second):
		t.Fatal("no connection opened")
		return nil
	}
}

// peer is a client end that records the messages it receives.
type peer struct {
	engine.NopHandler
	msgs chan string
	c    *engine.Conn
}

func (p *peer) OnMessage(_ *engine.Conn, _ frame.Opcode, b []byte) { p.msgs <- string(b) }

// next returns the next message, failing after a generous wait.
func (p *peer) next(t testing.TB) string {
	t.Helper()
	select {
	case m := <-p.msgs:
		return m
	case <-time.After(20 * time.Second):
		t.Fatal("no message")
		return ""
	}
}

// expect checks the next messages; callers end with a marker published after
// what must not arrive, so a stray message shows up in its place.
func (p *peer) expect(t testing.TB, want ...string) {
	t.Helper()
	for _, w := range want {
		if got := p.next(t); got != w {
			t.Fatalf("got %q, want %q", got, w)
		}
	}
}

// newClient returns an engine Client closed at cleanup.
func newClient(t testing.TB) *engine.Client {
	t.Helper()
	cl, err := engine.NewClient(nil, &engine.Config{PingInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

// dialPeer connects a recording client and returns it with the server side.
func dialPeer(t testing.TB, s *testServer, cl *engine.Client) (*peer, *engine.Conn) {
	t.Helper()
	p := &peer{msgs: make(chan string, 4096)}
	c, _, err := cl.Dial(context.Background(), "ws://"+s.addr+"/", &engine.DialOptions{Handler: p})
	if err != nil {
		t.Fatal(err)
	}
	p.c = c
	return p, s.accept(t)
}

// dialRaw connects a bare TCP client that completes the handshake; drain
// makes it discard whatever arrives, else it never reads (a slow consumer).
func dialRaw(t testing.TB, s *testServer, drain bool) (net.Conn, *engine.Conn) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", s.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	req := "GET / HTTP/1.1\r\nHost: " + s.addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(nc, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %v %v", resp, err)
	}
	if drain {
		go io.Copy(io.Discard, br)
	}
	return nc, s.accept(t)
}

// eventually polls cond until it holds, failing after a generous wait.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// fakeBridge records what a Hub tells it.
type fakeBridge struct {
	mu        sync.Mutex
	deliver   func(string, frame.Opcode, []byte) error
	interest  map[string]bool
	calls     []string
	published []string
	closed    bool
}

func newFakeBridge() *fakeBridge { return &fakeBridge{interest: make(map[string]bool)} }

func (b *fakeBridge) Start(d func(string, frame.Opcode, []byte) error) error {
	b.deliver = d
	return nil
}

func (b *fakeBridge) Publish(topic string, _ frame.Opcode, p []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.published = append(b.published, topic+":"+string(p))
	return nil
}

func (b *fakeBridge) Interest(topic string, on bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.interest[topic] == on {
		panic("pubsub: Interest repeated " + topic)
	}
	if on {
		b.interest[topic] = true
		b.calls = append(b.calls, "+"+topic)
	} else {
		delete(b.interest, topic)
		b.calls = append(b.calls, "-"+topic)
	}
}

func (b *fakeBridge) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return nil
}

func (b *fakeBridge) snapshot() (interest map[string]bool, calls, published []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := make(map[string]bool, len(b.interest))
	for k, v := range b.interest {
		m[k] = v
	}
	return m, append([]string(nil), b.calls...), append([]string(nil), b.published...)
}

func newHub(t testing.TB, cfg *Config) *Hub {
	t.Helper()
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}
