package engine

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// The Server behind net/http (ServeHTTP, the socket moved onto the loops or run in
// goroutine mode) and on listeners it is handed (Start with a TCP listener, whose fd
// joins a loop, and with a tls.Listener, served in goroutine mode).

func nhNewServer(t *testing.T, cfg Config) (*Server, *echoHandler) {
	t.Helper()
	h := newEcho()
	s, err := NewServer(h, &cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, h
}

// nhEcho checks text and binary echoes of a few sizes, then closes cleanly.
func nhEcho(t *testing.T, rc *rawClient, h *echoHandler) {
	t.Helper()
	for _, n := range []int{0, 5, 200, 70000} {
		for _, op := range []frame.Opcode{frame.OpText, frame.OpBinary} {
			p := bytes.Repeat([]byte("weir"), n/4+1)[:n]
			rc.send(true, op, p)
			gotOp, got := rc.readMessage()
			if gotOp != op {
				t.Fatalf("size %d: opcode %v, want %v", n, gotOp, op)
			}
			mustEqual(t, got, p)
		}
	}
	rc.send(true, frame.OpClose, []byte{0x03, 0xe8})
	rc.expectClose(frame.StatusNormalClosure)
	rc.expectEOF()
	if r := h.waitClose(t); r.code != frame.StatusNormalClosure || r.err != nil {
		t.Fatalf("OnClose = %d %v", r.code, r.err)
	}
}

func TestServeHTTPEcho(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		s, h := nhNewServer(t, cfg)
		mux := http.NewServeMux()
		mux.Handle("GET /ws", s)
		ts := httptest.NewServer(mux)
		t.Cleanup(ts.Close)
		addr := ts.Listener.Addr().String()
		rc := dialRaw(t, addr)
		// The Upgrader writes the 101 before ServeHTTP hands the socket over, so the
		// count may lag the client by a moment.
		waitFor(t, func() bool { return s.NumConns() == 1 })
		nhEcho(t, rc, h)
		waitFor(t, func() bool { return s.NumConns() == 0 })

		// A plain GET reaches the Upgrader and is refused (426: no WebSocket version).
		resp, err := http.Get(ts.URL + "/ws")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 4 {
			t.Errorf("plain GET: status %d, want a 4xx", resp.StatusCode)
		}
	})
}

// TestServeHTTPHead: bytes the client sent behind the request in the same write
// (buffered by net/http) are the first frames of the stream.
func TestServeHTTPHead(t *testing.T) {
	t.Parallel()
	big := bytes.Repeat([]byte("0123456789"), 1000) // 10 kB: longer than net/http's buffer
	cases := []struct {
		name   string
		head   []byte // sent with the request
		later  []byte // sent after the 101 was read
		expect [][]byte
	}{
		{"one frame", frameBytes(true, frame.OpText, 0, []byte("first"), true), nil, [][]byte{[]byte("first")}},
		{"two frames", append(frameBytes(true, frame.OpText, 0, []byte("one"), true),
			frameBytes(true, frame.OpBinary, 0, []byte("two"), true)...), nil, [][]byte{[]byte("one"), []byte("two")}},
		{"fragmented message", append(frameBytes(false, frame.OpText, 0, []byte("frag"), true),
			frameBytes(true, frame.OpContinuation, 0, []byte("ment"), true)...), nil, [][]byte{[]byte("fragment")}},
		{"half a frame", frameBytes(true, frame.OpText, 0, []byte("split in two"), true)[:9],
			frameBytes(true, frame.OpText, 0, []byte("split in two"), true)[9:], [][]byte{[]byte("split in two")}},
		{"half a header", frameBytes(true, frame.OpText, 0, big, true)[:3],
			frameBytes(true, frame.OpText, 0, big, true)[3:], [][]byte{big}},
		{"frame longer than the http buffer", frameBytes(true, frame.OpBinary, 0, big, true), nil, [][]byte{big}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				h := &nhOrderHandler{}
				s, err := NewServer(h, &cfg, nil)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				ts := httptest.NewServer(s)
				t.Cleanup(ts.Close)
				addr := ts.Listener.Addr().String()
				req := "GET /ws HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
					"Sec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
				rc, resp := vfSend(t, addr, req+string(tc.head))
				if resp.StatusCode != http.StatusSwitchingProtocols {
					t.Fatalf("status %d", resp.StatusCode)
				}
				if tc.later != nil {
					rc.write(tc.later)
				}
				for i, want := range tc.expect {
					_, got := rc.readMessage()
					if !bytes.Equal(got, want) {
						t.Fatalf("message %d: got %d bytes %q, want %q", i, len(got), trunc(got), trunc(want))
					}
				}
				rc.send(true, frame.OpText, []byte("after"))
				if _, got := rc.readMessage(); string(got) != "after" {
					t.Fatalf("after the head: %q", got)
				}
				if h.early.Load() {
					t.Fatal("OnMessage was called before OnOpen")
				}
			})
		})
	}
}

// nhOrderHandler echoes and notes a message delivered before OnOpen.
type nhOrderHandler struct {
	NopHandler
	open, early atomic.Bool
}

func (h *nhOrderHandler) OnOpen(*Conn) { h.open.Store(true) }

func (h *nhOrderHandler) OnMessage(c *Conn, op frame.Opcode, p []byte) {
	if !h.open.Load() {
		h.early.Store(true)
	}
	c.WriteMessage(op, p)
}

// TestStartTCPListener: Start with a net.Listener serves it (on a loop when its fd
// can be taken); Close closes it.
func TestStartTCPListener(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		s, h := nhNewServer(t, cfg)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(ln); err != nil {
			t.Fatal(err)
		}
		if s.Addr().String() != ln.Addr().String() {
			t.Errorf("Addr %v, want %v", s.Addr(), ln.Addr())
		}
		addr := ln.Addr().String()
		nhEcho(t, dialRaw(t, addr), h)
		s.Close()
		if nc, err := net.DialTimeout("tcp", addr, 2*time.Second); err == nil {
			nc.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, err := nc.Read(make([]byte, 1))
			nc.Close()
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("the listener still accepts after Close")
			}
		}
	})
}

// nhCert makes a self-signed certificate for 127.0.0.1.
func nhCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "weir test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// TestStartTLSListener: a tls.Listener cannot give up its fd, so its connections run in
// goroutine mode; the WebSocket traffic inside TLS is the same.
func TestStartTLSListener(t *testing.T) {
	t.Parallel()
	cert, pool := nhCert(t)
	forModes(t, func(t *testing.T, cfg Config) {
		s, h := nhNewServer(t, cfg)
		inner, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln := tls.NewListener(inner, &tls.Config{Certificates: []tls.Certificate{cert}})
		if err := s.Start(ln); err != nil {
			t.Fatal(err)
		}
		addr := inner.Addr().String()
		tc, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{RootCAs: pool})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tc.Close() })
		tc.SetDeadline(time.Now().Add(20 * time.Second))
		io.WriteString(tc, "GET /ws HTTP/1.1\r\nHost: "+addr+"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Key: "+testKey+"\r\nSec-WebSocket-Version: 13\r\n\r\n")
		br := bufio.NewReader(tc)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("status %d", resp.StatusCode)
		}
		nhEcho(t, &rawClient{t: t, nc: tc, br: br}, h)
	})
}
