package engine

import (
	"crypto/tls"
	"fmt"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/frame"
)

// onLoops reports whether c runs on the loops with the record layer.
func onLoops(c *Conn) bool { return c.c.TLS != nil && c.c.Goroutine() == nil }

// httpTLSServer serves h through net/http's TLS server and the engine's
// ServeHTTP (goroutine mode: crypto/tls on both the handshake and records).
func httpTLSServer(t testing.TB, h Handler, cfg Config) string {
	t.Helper()
	s, err := NewServer(h, &cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(s)
	hs.TLS = &tls.Config{Certificates: []tls.Certificate{cliTestCert(t).cert}}
	hs.StartTLS()
	t.Cleanup(func() { hs.Close(); s.Close() })
	return hs.Listener.Addr().String()
}

// TestDialTLSLoopEcho: a wss client on the loops echoes every size class
// (0, 1, 125, 126, 65535, 65536, 1 MiB; text and binary), with and without
// permessage-deflate, against a crypto/tls server (net/http + ServeHTTP) and
// against ListenTLS.
func TestDialTLSLoopEcho(t *testing.T) {
	t.Parallel()
	sizes := []int{0, 1, 125, 126, 65535, 65536, 1 << 20}
	servers := []struct {
		name  string
		start func(t *testing.T, cfg Config) string
	}{
		{"net/http TLS", func(t *testing.T, cfg Config) string { return httpTLSServer(t, newCliPeer(true), cfg) }},
		{"ListenTLS", func(t *testing.T, cfg Config) string {
			_, addr := startTLS(t, newCliPeer(true), cfg)
			return addr
		}},
	}
	for _, srv := range servers {
		for _, comp := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/compression=%v", srv.name, comp), func(t *testing.T) {
				t.Parallel()
				var scfg Config
				o := &DialOptions{TLSConfig: clientTLS(t)}
				if comp {
					scfg.Compression = &deflate.Options{}
					o.Compression = &deflate.Options{}
				}
				addr := srv.start(t, scfg)
				cl := cliClient(t, nil, Config{})
				c := cliDial(t, cl, "wss://"+addr+"/", o)
				if !onLoops(c) {
					t.Fatal("client not on the loops")
				}
				if _, ok := c.Compression(); ok != comp {
					t.Fatalf("compression %v", ok)
				}
				if st, ok := c.TLSConnectionState(); !ok || st.Version != tls.VersionTLS13 || st.PeerCertificates == nil {
					t.Fatalf("TLS state %v %#x", ok, st.Version)
				}
				ctx := cliCtx(t)
				for _, op := range []frame.Opcode{frame.OpText, frame.OpBinary} {
					for _, n := range sizes {
						p := cliPayload(op, n)
						if err := c.WriteMessage(op, p); err != nil {
							t.Fatalf("write %v %d: %v", op, n, err)
						}
						gop, got, err := c.ReadMessage(ctx)
						if err != nil || gop != op {
							t.Fatalf("read %v %d: %v %v", op, n, gop, err)
						}
						mustEqual(t, got, p)
					}
				}
				if m := cl.TLSMetrics(); m.Loop != 1 || m.Goroutine != 0 {
					t.Fatalf("client TLS metrics %+v", m)
				}
				cliCloseRead(t, c)
			})
		}
	}
}

// TestDialTLS12GoroutineMode: a TLS 1.2-only server keeps the client in
// goroutine mode, which works as before.
func TestDialTLS12GoroutineMode(t *testing.T) {
	t.Parallel()
	s, err := NewServer(newCliPeer(true), &Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(s)
	hs.TLS = &tls.Config{Certificates: []tls.Certificate{cliTestCert(t).cert}, MaxVersion: tls.VersionTLS12}
	hs.StartTLS()
	t.Cleanup(func() { hs.Close(); s.Close() })
	cl := cliClient(t, nil, Config{})
	c := cliDial(t, cl, "wss://"+hs.Listener.Addr().String()+"/", &DialOptions{TLSConfig: clientTLS(t)})
	if onLoops(c) || c.c.Goroutine() == nil {
		t.Fatal("TLS 1.2 client not in goroutine mode")
	}
	if st, ok := c.TLSConnectionState(); !ok || st.Version != tls.VersionTLS12 {
		t.Fatalf("TLS state %v %#x", ok, st.Version)
	}
	cliEchoRead(t, c)
	if m := cl.TLSMetrics(); m.Loop != 0 || m.Goroutine != 1 {
		t.Fatalf("client TLS metrics %+v", m)
	}
	cliCloseRead(t, c)
}

// TestDialTLSResumeClientCert: the user's tls.Config keeps working on the
// loops: a client certificate the server asks for, and session resumption
// through ClientSessionCache (the server's tickets arrive before the 101 and
// crypto/tls takes them), both dials on the loops.
func TestDialTLSResumeClientCert(t *testing.T) {
	t.Parallel()
	peer := newCliPeer(true)
	s, err := NewServer(peer, &Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	cert := cliTestCert(t)
	if err := s.ListenTLS("127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert.cert},
		ClientAuth: tls.RequireAnyClientCert}); err != nil {
		t.Fatal(err)
	}
	cfg := clientTLS(t)
	cfg.Certificates = []tls.Certificate{cert.cert}
	cfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	cl := cliClient(t, nil, Config{})
	for i := range 2 {
		c := cliDial(t, cl, "wss://"+s.Addr().String()+"/", &DialOptions{TLSConfig: cfg})
		sc := cliRecv(t, peer.opened, "server conn")
		if !onLoops(c) || !onLoops(sc) {
			t.Fatalf("dial %d: client on loops %v, server %v", i, onLoops(c), onLoops(sc))
		}
		st, _ := c.TLSConnectionState()
		if st.DidResume != (i == 1) {
			t.Fatalf("dial %d: DidResume %v", i, st.DidResume)
		}
		if sst, _ := sc.TLSConnectionState(); i == 0 && len(sst.PeerCertificates) == 0 {
			t.Fatal("server saw no client certificate")
		}
		cliEchoOnce(t, c)
		cliCloseRead(t, c)
	}
}

// TestDialTLSGoroutines: once their handshakes are done, 200 wss client
// connections (and their ListenTLS server connections) add no goroutine.
func TestDialTLSGoroutines(t *testing.T) {
	if testing.Short() {
		t.Skip("200 TLS handshakes")
	}
	const n = 200
	_, addr := startTLS(t, NopHandler{}, Config{})
	cl := cliClient(t, NopHandler{}, Config{})
	o := &DialOptions{TLSConfig: clientTLS(t)}
	c0 := cliDial(t, cl, "wss://"+addr+"/", o) // warm up: loops, pools, timers
	_, g0 := settledGoroutines()
	for range n {
		c := cliDial(t, cl, "wss://"+addr+"/", o)
		if !onLoops(c) {
			t.Fatal("client not on the loops")
		}
	}
	_, g1 := settledGoroutines()
	t.Logf("%d wss client connections (and their servers') on the loops: goroutines %d -> %d; %+v", n, g0, g1, cl.TLSMetrics())
	if g1-g0 >= 10 {
		t.Errorf("goroutines grew by %d for %d connections", g1-g0, n)
	}
	_ = c0
}

// settledGoroutines waits for the goroutine count to stop moving (dial
// helpers, handshake goroutines finishing) and returns it.
func settledGoroutines() (time.Duration, int) {
	start := time.Now()
	prev := runtime.NumGoroutine()
	for i := 0; i < 50; i++ {
		time.Sleep(20 * time.Millisecond)
		n := runtime.NumGoroutine()
		if n == prev && i >= 5 {
			break
		}
		prev = n
	}
	return time.Since(start), prev
}
