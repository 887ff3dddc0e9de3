package engine

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/tlshand"
	"github.com/weir-ws/weir/internal/tlsrec"
)

// modeHandler echoes and reports, at OnOpen, whether the connection runs on
// the loops with the record layer (true) or in goroutine mode (false).
type modeHandler struct {
	echoHandler
	mode chan bool
}

func (h *modeHandler) OnOpen(c *Conn) {
	if _, ok := c.TLSConnectionState(); !ok {
		panic("no TLS state")
	}
	select {
	case h.mode <- c.c.TLS != nil && c.c.Goroutine() == nil:
	default:
	}
}

func newModeHandler() *modeHandler {
	return &modeHandler{echoHandler: *newEcho(), mode: make(chan bool, 1)}
}

// startTLS starts a Server on ListenTLS with the test certificate.
func startTLS(t testing.TB, h Handler, cfg Config) (*Server, string) {
	t.Helper()
	s, err := NewServer(h, &cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	cert := cliTestCert(t)
	if err := s.ListenTLS("127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert.cert}}); err != nil {
		t.Fatal(err)
	}
	return s, s.Addr().String()
}

func clientTLS(t testing.TB) *tls.Config {
	return &tls.Config{RootCAs: cliTestCert(t).pool, ServerName: "localhost"}
}

// dialRawTLS is dialRaw over crypto/tls (cfg nil: TLS 1.3 defaults).
func dialRawTLS(t testing.TB, addr string, cfg *tls.Config) *rawClient {
	t.Helper()
	if cfg == nil {
		cfg = clientTLS(t)
	}
	nc, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rc, resp := handshakeRaw(t, nc, addr)
	if resp.StatusCode != 101 {
		t.Fatalf("handshake status %d", resp.StatusCode)
	}
	return rc
}

// choppedWriter writes in pieces of random sizes: each becomes a TLS record
// of its own, so frames and records are cut at random points.
type choppedWriter struct {
	w   io.Writer
	rng *mrand.Rand
}

func (c choppedWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		k := min(len(p), 1+c.rng.IntN(3000))
		m, err := c.w.Write(p[:k])
		n += m
		if err != nil {
			return n, err
		}
		p = p[k:]
	}
	return n, nil
}

// TestTLSLoopEcho echoes every message size over wss on the loops, with the
// client's frames cut into records at random points, against crypto/tls's
// own client.
func TestTLSLoopEcho(t *testing.T) {
	t.Parallel()
	forLoopModes(t, func(t *testing.T, cfg Config) {
		h := newModeHandler()
		s, addr := startTLS(t, h, cfg)
		rc := dialRawTLS(t, addr, nil)
		if !<-h.mode {
			t.Fatal("the server connection is not on the loops with the record layer")
		}
		rng := mrand.New(mrand.NewPCG(1, 2))
		for _, n := range []int{0, 1, 125, 126, 65535, 65536, 1 << 20} {
			p := make([]byte, n)
			for i := range p {
				p[i] = byte(rng.Uint32())
			}
			b := frameBytes(true, frame.OpBinary, 0, p, true)
			if _, err := (choppedWriter{rc.nc, rng}).Write(b); err != nil {
				t.Fatal(err)
			}
			op, got := rc.readMessage()
			if op != frame.OpBinary || !bytes.Equal(got, p) {
				t.Fatalf("size %d: echo differs (got %d bytes)", n, len(got))
			}
		}
		rc.send(true, frame.OpClose, []byte{0x03, 0xe8})
		rc.expectClose(1000)
		if m := s.TLSMetrics(); m.Loop != 1 || m.Goroutine != 0 {
			t.Fatalf("TLS metrics %+v", m)
		}
	})
}

// TestTLSLoopDialEcho runs the engine's own wss client (goroutine mode) against
// the loops, with many messages in flight both ways.
func TestTLSLoopDialEcho(t *testing.T) {
	t.Parallel()
	h := newModeHandler()
	_, addr := startTLS(t, h, Config{})
	c := cliDial(t, cliClient(t, nil, Config{}), "wss://"+addr+"/", &DialOptions{TLSConfig: clientTLS(t)})
	if !<-h.mode {
		t.Fatal("not on the loops")
	}
	// The echoes are read while the messages go out, and at most 16 messages
	// (under 1 MiB) are in flight: 6 MiB written ahead of the reader would
	// pass the client's MaxWriteBuffer (4 MiB) whenever the reader lags, as
	// it does on a loaded machine (seen: "write buffer full"), since the
	// server stops reading once its own output is above WriteHighWater.
	read := make(chan error, 1)
	window := make(chan struct{}, 16)
	go func() {
		for i := range 200 {
			op, got, err := c.ReadMessage(context.Background())
			if err != nil || op != frame.OpBinary || !bytes.Equal(got, bytes.Repeat([]byte{byte(i)}, i*301)) {
				read <- fmt.Errorf("message %d: %v %d bytes", i, err, len(got))
				return
			}
			<-window
		}
		read <- nil
	}()
	for i := range 200 {
		select {
		case window <- struct{}{}:
		case err := <-read:
			t.Fatalf("reader ended early: %v", err)
		}
		msg := bytes.Repeat([]byte{byte(i)}, i*301)
		if err := c.WriteMessage(frame.OpBinary, msg); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-read; err != nil {
		t.Fatal(err)
	}
	if st, ok := c.TLSConnectionState(); !ok || st.Version != tls.VersionTLS13 {
		t.Fatalf("client TLS state %v %#x", ok, st.Version)
	}
}

// TestTLSLoopTLS12 checks that a TLS 1.2 client gets goroutine mode, and works.
func TestTLSLoopTLS12(t *testing.T) {
	t.Parallel()
	h := newModeHandler()
	s, addr := startTLS(t, h, Config{})
	cfg := clientTLS(t)
	cfg.MaxVersion = tls.VersionTLS12
	rc := dialRawTLS(t, addr, cfg)
	if <-h.mode {
		t.Fatal("a TLS 1.2 connection is on the loops")
	}
	rc.send(true, frame.OpText, []byte("over TLS 1.2"))
	if op, got := rc.readMessage(); op != frame.OpText || string(got) != "over TLS 1.2" {
		t.Fatalf("echo %v %q", op, got)
	}
	if m := s.TLSMetrics(); m.Goroutine != 1 || m.Loop != 0 {
		t.Fatalf("TLS metrics %+v", m)
	}
}

// rawTLS is a TLS 1.3 client whose records the test seals itself (tlshand's
// upgradedRecords starts a ListenTLS server with h and has a raw-record client
// upgrade on it; mode is h's report of where the connection runs, which must
// be the loops.
func upgradedRecords(t *testing.T, h Handler, mode chan bool) (*Server, *rawTLS) {
	t.Helper()
	s, addr := startTLS(t, h, Config{})
	c := dialRecords(t, addr)
	c.upgrade(addr)
	if !<-mode {
		t.Fatal("not on the loops")
	}
	return s, c
}

// client side), to send what crypto/tls never would.
type rawTLS struct {
	t  testing.TB
	nc net.Conn
	r  *tlsrec.Reader
	w  *tlsrec.Writer
	in []byte
}

func dialRecords(t testing.TB, addr string) *rawTLS {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	res, err := tlshand.Prepare(clientTLS(t), tlshand.Options{}).Client(context.Background(), nc)
	if err != nil {
		t.Fatal(err)
	}
	return &rawTLS{t: t, nc: nc, r: res.Reader, w: res.Writer, in: res.Leftover}
}

func (c *rawTLS) seal(p []byte) []byte {
	b, err := c.w.AppendSeal(nil, p)
	if err != nil {
		c.t.Fatal(err)
	}
	return b
}

func (c *rawTLS) write(b []byte) {
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

// upgrade sends the opening handshake and reads until the 101's end.
func (c *rawTLS) upgrade(addr string) {
	c.write(c.seal([]byte("GET /ws HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n\r\n")))
	var got []byte
	for !bytes.Contains(got, []byte("\r\n\r\n")) {
		p, err := c.read()
		if err != nil {
			c.t.Fatalf("reading the 101: %v", err)
		}
		got = append(got, p...)
	}
	if !bytes.HasPrefix(got, []byte("HTTP/1.1 101")) {
		c.t.Fatalf("response %q", got)
	}
}

// read returns the plaintext of the next records, or their error.
func (c *rawTLS) read() ([]byte, error) {
	for {
		res, err := c.r.Decrypt(c.in)
		p := append([]byte(nil), c.in[:res.Plain]...)
		c.in = append(c.in[:0], c.in[res.Plain:res.Plain+res.Rest]...)
		if len(p) > 0 || err != nil {
			return p, err
		}
		var b [32 << 10]byte
		n, rerr := c.nc.Read(b[:])
		c.in = append(c.in, b[:n]...)
		if rerr != nil {
			return nil, rerr
		}
	}
}

// expectAlert reads until the server's alert and then its EOF.
func (c *rawTLS) expectAlert(code uint8) {
	c.t.Helper()
	for {
		_, err := c.read()
		if err == nil {
			continue
		}
		ae, ok := err.(*tlsrec.AlertError)
		if !ok || !ae.Remote || ae.Code != code {
			c.t.Fatalf("got %v, want the server's alert %d", err, code)
		}
		break
	}
	var b [16]byte
	if n, err := c.nc.Read(b[:]); err == nil {
		c.t.Fatalf("%d bytes after the alert", n)
	}
}

// TestTLSLoopBadRecords sends what a TLS 1.3 peer must not: each gets its
// alert (RFC 8446 §6.2) and a closed connection, is counted, and the server
// goes on serving.
func TestTLSLoopBadRecords(t *testing.T) {
	t.Parallel()
	ping := frameBytes(true, frame.OpText, 0, []byte("hello"), true)
	tests := []struct {
		name  string
		bytes func(c *rawTLS) []byte
		alert uint8
	}{
		{"bad tag", func(c *rawTLS) []byte {
			b := c.seal(ping)
			b[len(b)-1] ^= 1
			return b
		}, tlsrec.AlertBadRecordMAC},
		{"plaintext after the handshake", func(c *rawTLS) []byte { return ping }, tlsrec.AlertUnexpectedMessage},
		{"plaintext record header", func(c *rawTLS) []byte { return append([]byte{22, 3, 3, 0, 5}, 1, 2, 3, 4, 5) }, tlsrec.AlertUnexpectedMessage},
		{"record over the size limit", func(c *rawTLS) []byte {
			n := tlsrec.MaxCiphertext + 1
			return append([]byte{23, 3, 3, byte(n >> 8), byte(n)}, make([]byte, 100)...)
		}, tlsrec.AlertRecordOverflow},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newModeHandler()
			s, c := upgradedRecords(t, h, h.mode)
			c.write(tc.bytes(c))
			c.expectAlert(tc.alert)
			h.waitClose(t)
			if m := s.TLSMetrics(); m.RecordErrors != 1 {
				t.Fatalf("TLS metrics %+v", m)
			}
			// The server is alive.
			rc := dialRawTLS(t, s.Addr().String(), nil)
			rc.send(true, frame.OpText, []byte("still here"))
			if _, got := rc.readMessage(); string(got) != "still here" {
				t.Fatalf("echo %q", got)
			}
		})
	}
}

// TestTLSLoopKeyUpdate has the client ask for a KeyUpdate: the server's
// next record comes under its next key, after its own KeyUpdate.
func TestTLSLoopKeyUpdate(t *testing.T) {
	t.Parallel()
	_, addr := startTLS(t, echoOnly{}, Config{})
	c := dialRecords(t, addr)
	c.upgrade(addr)
	for i := range 3 {
		ku, err := c.w.AppendKeyUpdate(nil, true)
		if err != nil {
			t.Fatal(err)
		}
		msg := []byte{'k', byte('0' + i)}
		c.write(append(ku, c.seal(frameBytes(true, frame.OpText, 0, msg, true))...))
		p, err := c.read()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasSuffix(p, msg) {
			t.Fatalf("echo %q", p)
		}
	}
}

// TestTLSLoopSlowloris drips a ClientHello byte by byte: the handshake
// timeout cuts it.
func TestTLSLoopSlowloris(t *testing.T) {
	t.Parallel()
	s, addr := startTLS(t, echoOnly{}, Config{HandshakeTimeout: 300 * time.Millisecond})
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	start := time.Now()
	hello := []byte{22, 3, 1, 0, 200, 1, 0, 0, 196, 3, 3}
	var cut bool
	for i := 0; time.Since(start) < 10*time.Second; i++ {
		if _, err := nc.Write(hello[i%len(hello) : i%len(hello)+1]); err != nil {
			cut = true
			break
		}
		nc.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if _, err := nc.Read(make([]byte, 1)); err != nil && !isTimeout(err) {
			cut = true
			break
		}
	}
	if !cut {
		t.Fatal("a dripping ClientHello was not cut")
	}
	if m := s.TLSMetrics(); m.Failed != 1 {
		t.Fatalf("TLS metrics %+v", m)
	}
}

// echoOnly echoes and keeps no record of closes.
type echoOnly struct{ NopHandler }

func (echoOnly) OnMessage(c *Conn, op frame.Opcode, p []byte) { c.WriteMessage(op, p) }

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// TestTLSLoopStorm opens 200 TLS connections at once against 8 handshake
// slots: each completes its WebSocket handshake or is closed unanswered, and
// the handshake goroutines end (TestMain's leak check).
func TestTLSLoopStorm(t *testing.T) {
	t.Parallel()
	s, addr := startTLS(t, echoOnly{}, Config{MaxTLSHandshakes: 8, HandshakeTimeout: 5 * time.Second})
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, refused := 0, 0
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nc, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, clientTLS(t))
			if err != nil {
				mu.Lock()
				refused++
				mu.Unlock()
				return
			}
			defer nc.Close()
			nc.SetDeadline(time.Now().Add(20 * time.Second))
			_, err = io.WriteString(nc, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
				"Sec-WebSocket-Key: "+testKey+"\r\nSec-WebSocket-Version: 13\r\n\r\n")
			var b [12]byte
			if err == nil {
				_, err = io.ReadFull(nc, b[:])
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && string(b[:]) == "HTTP/1.1 101":
				ok++
			case err != nil:
				refused++
			default:
				t.Errorf("answer %q", b)
			}
		}()
	}
	wg.Wait()
	m := s.TLSMetrics()
	t.Logf("storm: %d upgraded, %d refused; %+v", ok, refused, m)
	if ok+refused != 200 || ok == 0 {
		t.Fatalf("%d upgraded, %d refused", ok, refused)
	}
}

// burstHandler writes n messages of size bytes at OnOpen.
type burstHandler struct {
	NopHandler
	n, size int
}

func (h burstHandler) OnOpen(c *Conn) {
	for i := range h.n {
		c.WriteMessage(frame.OpBinary, bytes.Repeat([]byte{byte(i)}, h.size))
	}
}

// TestTLSLoopBacklog has the server write 4 MiB to a client that reads late:
// the socket takes part of a sealed batch, the rest waits sealed (never
// sealed twice), and every byte arrives in order.
func TestTLSLoopBacklog(t *testing.T) {
	t.Parallel()
	_, addr := startTLS(t, burstHandler{n: 64, size: 64 << 10}, Config{})
	rc := dialRawTLS(t, addr, nil)
	time.Sleep(200 * time.Millisecond) // let the server's socket fill
	for i := range 64 {
		_, got := rc.readMessage()
		if !bytes.Equal(got, bytes.Repeat([]byte{byte(i)}, 64<<10)) {
			t.Fatalf("message %d differs (%d bytes)", i, len(got))
		}
	}
}
