package loadgen

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
)

// The generator against real servers on 127.0.0.1:0: weir echo servers, and a
// raw TCP echo server for the baseline. No timing assertions: waits are bounded
// only by the test's context.

// echoServer echoes every message and remembers where its clients came from.
type echoServer struct {
	engine.NopHandler
	mu      sync.Mutex
	remotes map[netip.Addr]int
}

func (s *echoServer) OnOpen(c *engine.Conn) {
	s.mu.Lock()
	s.remotes[c.RemoteAddr().Addr()]++
	s.mu.Unlock()
}

func (s *echoServer) OnMessage(c *engine.Conn, op frame.Opcode, p []byte) { c.WriteMessage(op, p) }

func startEcho(t *testing.T, cfg engine.Config) (*engine.Server, *echoServer) {
	t.Helper()
	h := &echoServer{remotes: map[netip.Addr]int{}}
	srv, err := engine.NewServer(h, &cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, h
}

// startRawEcho is a TCP echo server, one goroutine per connection.
func startRawEcho(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				io.Copy(nc, nc)
			}()
		}
	}()
	return ln.Addr().String()
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// start runs a generator in-process and waits for "ready" with every connection up.
func start(t *testing.T, o Options) *Proc {
	t.Helper()
	p := Local(testCtx(t), o, testLog{t})
	t.Cleanup(func() { p.Close() })
	ready, err := p.Await(testCtx(t), EvReady, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !o.Storm && (ready.Conns != int64(o.Conns) || ready.Failed != 0) {
		t.Fatalf("ready: %d up, %d failed; want %d, 0", ready.Conns, ready.Failed, o.Conns)
	}
	return p
}

// testLog sends the generator's log to the test's.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// reportUntil asks for reports until ok accepts one.
func reportUntil(t *testing.T, p *Proc, ok func(Event) bool) Event {
	t.Helper()
	for {
		if err := p.Send(CmdReport); err != nil {
			t.Fatal(err)
		}
		e, err := p.Await(testCtx(t), EvResult, nil)
		if err != nil {
			t.Fatal(err)
		}
		if ok(e) {
			return e
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func send(t *testing.T, p *Proc, cmd, ack string) {
	t.Helper()
	if err := p.Send(cmd); err != nil {
		t.Fatal(err)
	}
	if ack != "" {
		if _, err := p.Await(testCtx(t), ack, nil); err != nil {
			t.Fatal(err)
		}
	}
}

func TestEcho(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  engine.Config
		o    Options
	}{
		{"binary", engine.Config{}, Options{Conns: 200, Size: 64}},
		{"text", engine.Config{}, Options{Conns: 50, Size: 1000, Text: true}},
		{"empty messages", engine.Config{}, Options{Conns: 20, Size: 0}},
		{"deflate", engine.Config{Compression: &deflate.Options{}}, Options{Conns: 50, Size: 1024, Text: true, Deflate: true}},
		{"raw", engine.Config{}, Options{Conns: 50, Size: 256, Raw: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := tt.o
			if o.Raw {
				o.Target = startRawEcho(t)
			} else {
				srv, _ := startEcho(t, tt.cfg)
				o.Target = srv.Addr().String()
			}
			p := Local(testCtx(t), o, testLog{t})
			t.Cleanup(func() { p.Close() })
			ready, err := p.Await(testCtx(t), EvReady, nil)
			if err != nil {
				t.Fatal(err)
			}
			if ready.Conns != int64(o.Conns) || ready.Failed != 0 {
				t.Fatalf("ready: %+v", ready)
			}
			if o.Deflate && ready.Compressed != int64(o.Conns) {
				t.Fatalf("%d of %d connections compressed", ready.Compressed, o.Conns)
			}
			send(t, p, CmdGo, "")
			reportUntil(t, p, func(e Event) bool { return e.Msgs >= uint64(o.Conns) })
			send(t, p, CmdMark, EvMarked)
			// Past one round trip a connection, some connection has completed one
			// that began after the mark, and that one is in the histogram.
			e := reportUntil(t, p, func(e Event) bool { return e.Msgs > uint64(o.Conns) })
			if e.Errors != 0 || e.Open != int64(o.Conns) {
				t.Fatalf("result: %d errors, %d open of %d", e.Errors, e.Open, o.Conns)
			}
			if n := e.Hist.Count(); n == 0 {
				t.Fatal("empty histogram")
			}
			p50, p99, p999 := e.Hist.Quantile(.5), e.Hist.Quantile(.99), e.Hist.Quantile(.999)
			if !(0 < p50 && p50 <= p99 && p99 <= p999) {
				t.Fatalf("p50 %v p99 %v p999 %v", p50, p99, p999)
			}
			send(t, p, CmdStop, "")
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestIdle(t *testing.T) {
	t.Parallel()
	srv, _ := startEcho(t, engine.Config{})
	p := start(t, Options{Target: srv.Addr().String(), Conns: 300})
	e := reportUntil(t, p, func(Event) bool { return true })
	if e.Open != 300 || e.Msgs != 0 || e.Errors != 0 {
		t.Fatalf("idle: %+v", e)
	}
	if n := srv.NumConns(); n != 300 {
		t.Fatalf("server has %d connections, want 300", n)
	}
}

func TestStorm(t *testing.T) {
	t.Parallel()
	for _, raw := range []bool{false, true} {
		t.Run(map[bool]string{false: "websocket", true: "raw"}[raw], func(t *testing.T) {
			t.Parallel()
			o := Options{Storm: true, Raw: raw, Concurrency: 4, StormFor: 300 * time.Millisecond}
			if raw {
				o.Target = startRawEcho(t)
			} else {
				srv, _ := startEcho(t, engine.Config{})
				o.Target = srv.Addr().String()
			}
			p := start(t, o)
			send(t, p, CmdGo, "")
			var progress int
			e, err := p.Await(testCtx(t), EvResult, func(e Event) {
				if e.Ev == EvProgress {
					progress++
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if e.Handshakes == 0 || e.Errors != 0 {
				t.Fatalf("storm: %d handshakes, %d errors", e.Handshakes, e.Errors)
			}
			if n := e.Hist.Count(); n != e.Handshakes {
				t.Fatalf("histogram holds %d handshakes, result says %d", n, e.Handshakes)
			}
			t.Logf("%d handshakes, %d progress events", e.Handshakes, progress)
		})
	}
}

func TestBroadcast(t *testing.T) {
	t.Parallel()
	srv, _ := startEcho(t, engine.Config{})
	const n = 100
	p := start(t, Options{Target: srv.Addr().String(), Conns: n})
	for rep := range 2 {
		send(t, p, CmdBcast, EvArmed)
		for c := range srv.Conns() {
			c.WriteText("news")
		}
		e := reportUntil(t, p, func(e Event) bool { return e.BcastGot >= n })
		if e.BcastGot != n || e.BcastLast == 0 {
			t.Fatalf("broadcast %d: got %d of %d, last %d", rep, e.BcastGot, n, e.BcastLast)
		}
	}
}

func TestSources(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("127.0.0.2 and up are local only on Linux by default")
	}
	srv, h := startEcho(t, engine.Config{})
	start(t, Options{Target: srv.Addr().String(), Conns: 30, Base: 1, Sources: 3})
	// The client has its 101 before the server's OnOpen has run: wait for all 30.
	h.mu.Lock()
	defer h.mu.Unlock()
	for deadline := time.Now().Add(10 * time.Second); srv.NumConns() < 30 || sumCounts(h.remotes) < 30; {
		if time.Now().After(deadline) {
			t.Fatalf("the server saw %v", h.remotes)
		}
		h.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		h.mu.Lock()
	}
	for _, a := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"} {
		if n := h.remotes[netip.MustParseAddr(a)]; n != 10 {
			t.Errorf("%d connections from %s, want 10 (all: %v)", n, a, h.remotes)
		}
	}
}

func sumCounts(m map[netip.Addr]int) int {
	n := 0
	for _, c := range m {
		n += c
	}
	return n
}

func TestServeErrors(t *testing.T) {
	t.Parallel()
	srv, _ := startEcho(t, engine.Config{})
	o := Options{Target: srv.Addr().String(), Conns: 2}

	err := Serve(context.Background(), o, strings.NewReader("report\nbogus\n"), io.Discard, io.Discard)
	if !errors.Is(err, ErrCommand) {
		t.Errorf("unknown command: %v, want ErrCommand", err)
	}
	if err := Serve(context.Background(), o, strings.NewReader(""), io.Discard, io.Discard); err != nil {
		t.Errorf("end of commands: %v, want nil", err)
	}
	if err := Serve(context.Background(), Options{}, strings.NewReader(""), io.Discard, io.Discard); !errors.Is(err, ErrBadOptions) {
		t.Errorf("no target: %v, want ErrBadOptions", err)
	}

	// A Proc sees the generator's end, with the reason.
	p := Local(testCtx(t), Options{Target: "ftp://x"}, io.Discard)
	if _, err := p.Next(testCtx(t)); !errors.Is(err, ErrExited) || !errors.Is(err, ErrBadOptions) {
		t.Errorf("Next after a failed start: %v", err)
	}
	if err := p.Send(CmdGo); err == nil {
		t.Error("Send to an ended generator succeeded")
	}

	// Cancelling the context ends Local's generator with the context's error.
	ctx, cancel := context.WithCancel(testCtx(t))
	p = Local(ctx, o, io.Discard)
	if _, err := p.Await(ctx, EvReady, nil); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := p.Next(testCtx(t)); !errors.Is(err, context.Canceled) {
		t.Errorf("after cancel: %v, want context.Canceled", err)
	}
}

func TestConnectFailures(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: every dial is refused
	var log strings.Builder
	var mu sync.Mutex
	p := Local(testCtx(t), Options{Target: addr, Conns: 10}, writerFunc(func(b []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return log.Write(b)
	}))
	defer p.Close()
	ready, err := p.Await(testCtx(t), EvReady, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ready.Conns != 0 || ready.Failed != 10 {
		t.Fatalf("ready: %+v, want 0 up, 10 failed", ready)
	}
	mu.Lock()
	defer mu.Unlock()
	if n := strings.Count(log.String(), "\n"); n != loggedDialErrors {
		t.Fatalf("%d dial errors logged, want %d:\n%s", n, loggedDialErrors, log.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }
