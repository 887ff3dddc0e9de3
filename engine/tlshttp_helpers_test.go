package engine

// Helpers of the TLSListener tests (tlshttp_test.go).

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/tlshand"
)

// lateOpen is what OnOpen saw of a connection.
type lateOpen struct {
	loop    bool // on a loop with the record layer
	stateOK bool // TLSConnectionState answered
	version uint16
	server  string // the SNI the state reports
}

// lateHandler echoes and reports each OnOpen.
type lateHandler struct {
	echoHandler
	opened chan lateOpen
}

func (h *lateHandler) OnOpen(c *Conn) {
	st, ok := c.TLSConnectionState()
	h.opened <- lateOpen{loop: c.c.TLS != nil && c.c.Goroutine() == nil && c.c.FD.Int() >= 0,
		stateOK: ok && st.HandshakeComplete, version: st.Version, server: st.ServerName}
}

// OnClose does not wait: the tests here close more connections than
// echoHandler's channel holds.
func (h *lateHandler) OnClose(*Conn, frame.StatusCode, string, error) {}

func (h *lateHandler) open(t testing.TB) lateOpen {
	t.Helper()
	select {
	case o := <-h.opened:
		return o
	case <-time.After(20 * time.Second):
		t.Fatal("no OnOpen")
		return lateOpen{}
	}
}

// lateServer is an http.Server on a TLSListener of a weir Server: "/" is the
// Server (ServeHTTP), "/plain" answers plain HTTPS with n bytes (?n=).
type lateServer struct {
	s    *Server
	h    *lateHandler
	l    *tlshand.Listener
	addr string
}

func startLate(t testing.TB, cfg Config, mod func(*tls.Config)) *lateServer {
	t.Helper()
	h := &lateHandler{echoHandler: *newEcho(), opened: make(chan lateOpen, 64)}
	s, err := NewServer(h, &cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tcfg := &tls.Config{Certificates: []tls.Certificate{cliTestCert(t).cert}}
	if mod != nil {
		mod(tcfg)
	}
	ln, err := s.TLSListener(raw, tcfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", s)
	mux.HandleFunc("/plain", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		n := 5
		fmt.Sscan(r.URL.Query().Get("n"), &n)
		w.Header().Set("Content-Length", fmt.Sprint(n))
		w.Write(bytes.Repeat([]byte("x"), n))
	})
	hs := &http.Server{Handler: mux}
	served := make(chan struct{})
	go func() { defer close(served); hs.Serve(ln) }()
	ls := &lateServer{s: s, h: h, l: ln.(*tlshand.Listener), addr: raw.Addr().String()}
	t.Cleanup(func() {
		hs.Close()
		<-served
		s.Close()
	})
	return ls
}

// noLeak waits until no connection of the listener holds hand-off state.
func (ls *lateServer) noLeak(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for ls.l.Live() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still hold hand-off state", ls.l.Live())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// echoSizes echoes messages of 0 to 1 MiB, the frames cut into records at
// random points.
func echoSizes(t testing.TB, rc *rawClient) {
	t.Helper()
	rng := mrand.New(mrand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 125, 126, 16 << 10, 65535, 65536, 1 << 20} {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		if _, err := (choppedWriter{rc.nc, rng}).Write(frameBytes(true, frame.OpBinary, 0, p, true)); err != nil {
			t.Fatal(err)
		}
		op, got := rc.readMessage()
		if op != frame.OpBinary || !bytes.Equal(got, p) {
			t.Fatalf("size %d: echo differs (got %d bytes)", n, len(got))
		}
	}
}

// TestTLSListenerEcho: crypto/tls's client and the engine's own wss client,
// dialTLS connects to ls with crypto/tls, bounded at 20 s, closed when the
// test ends.
func (ls *lateServer) dialTLS(t testing.TB) (*tls.Conn, *bufio.Reader) {
	t.Helper()
	tc, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", ls.addr, clientTLS(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tc.Close() })
	tc.SetDeadline(time.Now().Add(20 * time.Second))
	return tc, bufio.NewReader(tc)
}
