package engine

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/textproto"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/testcert"
	"github.com/weir-ws/weir/upgrade"
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

		// A plain GET reaches the Upgrader and is refused: 426 Upgrade Required
		// naming websocket (RFC 7231 §6.5.15), then the connection closes.
		resp, err := http.Get(ts.URL + "/ws")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUpgradeRequired || resp.Header.Get("Upgrade") != "websocket" ||
			resp.Header.Get("Sec-WebSocket-Version") != "13, 8" || !resp.Close {
			t.Errorf("plain GET: status %d %v, want 426 with Upgrade: websocket", resp.StatusCode, resp.Header)
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
	cert, pool, err := testcert.New("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return cert, pool
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

// nhAnswer sends raw to addr and reads the answer's status line and fields with
// textproto (net/http drops Connection: close), then expects the connection to
// end.
func nhAnswer(t *testing.T, addr, raw string) (int, textproto.MIMEHeader, string) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(nc, raw); err != nil {
		t.Fatal(err)
	}
	tp := textproto.NewReader(bufio.NewReader(nc))
	line, err := tp.ReadLine()
	if err != nil {
		t.Fatal(err)
	}
	var status int
	if _, err := fmt.Sscanf(line, "HTTP/1.1 %d", &status); err != nil {
		t.Fatalf("status line %q", line)
	}
	h, err := tp.ReadMIMEHeader()
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(tp.R) // to EOF: the server closes after a rejection
	if err != nil {
		t.Fatalf("body: %v", err)
	}
	return status, h, string(body)
}

// nhPaths are the two ways a request reaches a Server's Upgrader: its own
// listener (the raw path, on the loops or in goroutine mode) and ServeHTTP.
var nhPaths = []struct {
	name  string
	serve func(t *testing.T, s *Server) string // returns the address to dial
}{
	{"listener", func(t *testing.T, s *Server) string {
		if err := s.Listen("127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		return s.Addr().String()
	}},
	{"ServeHTTP", func(t *testing.T, s *Server) string {
		ts := httptest.NewServer(s)
		t.Cleanup(ts.Close)
		return ts.Listener.Addr().String()
	}},
}

// TestPlainGETUpgradeRequired (S2): a plain GET of the endpoint gets 426 with
// Upgrade: websocket, Connection: Upgrade (and close) and the versions served,
// on both paths; an Upgrade to another protocol and other malformed handshakes
// stay 400, a wrong version stays 426.
func TestPlainGETUpgradeRequired(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		lines  []string
		status int
	}{
		{"plain GET", []string{"Accept: text/html"}, 426},
		{"Connection and key but no Upgrade", vfStd[1:], 426},
		{"Upgrade h2c", append([]string{"Upgrade: h2c"}, vfStd[1:]...), 400},
		{"Upgrade without Connection", []string{vfStd[0], vfStd[2], vfStd[3]}, 400},
		{"no key", []string{vfStd[0], vfStd[1], vfStd[3]}, 400},
		{"version 12", []string{vfStd[0], vfStd[1], vfStd[2], "Sec-WebSocket-Version: 12"}, 426},
	}
	for _, p := range nhPaths {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				h := newVFHandler()
				s, err := NewServer(h, &cfg, nil)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				addr := p.serve(t, s)
				for _, tc := range cases {
					status, hdr, body := nhAnswer(t, addr, vfRequest("GET", "/ws", addr, tc.lines...))
					if status != tc.status {
						t.Fatalf("%s: status %d, want %d", tc.name, status, tc.status)
					}
					conn := strings.ToLower(strings.Join(hdr.Values("Connection"), ","))
					upgrade := tc.status == 426
					switch {
					case !strings.Contains(conn, "close"):
						t.Errorf("%s: Connection %q without close", tc.name, conn)
					case strings.Contains(conn, "upgrade") != upgrade || (hdr.Get("Upgrade") == "websocket") != upgrade:
						t.Errorf("%s: Connection %q, Upgrade %q", tc.name, conn, hdr.Get("Upgrade"))
					case upgrade && hdr.Get("Sec-WebSocket-Version") != "13, 8":
						t.Errorf("%s: Sec-WebSocket-Version %q", tc.name, hdr.Get("Sec-WebSocket-Version"))
					case body != hdr.Get("X-WebSocket-Reject-Reason")+"\n":
						t.Errorf("%s: body %q, reason %q", tc.name, body, hdr.Get("X-WebSocket-Reject-Reason"))
					}
				}
				h.noOpen(t)
				waitFor(t, func() bool { return s.NumConns() == 0 })
			})
		})
	}
}

// hookRecord is one OnHandshakeError call.
type hookRecord struct {
	peer netip.AddrPort
	r    *http.Request
	err  *upgrade.HandshakeError
}

// TestOnHandshakeErrorEngine (H8): the Upgrader's hook hears every refusal on
// both paths, with the client's address, the *http.Request only through
// ServeHTTP, and the status and reason the client got; an accepted handshake
// is not reported.
func TestOnHandshakeErrorEngine(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		req    func(addr string) string
		status int
		err    error
		reason string
		raw    bool // the engine's listener only: net/http answers this one itself
	}{
		{"plain GET", func(a string) string { return vfRequest("GET", "/ws", a) }, 426, upgrade.ErrUpgradeRequired, "Upgrade: websocket required", false},
		{"wrong path", func(a string) string { return vfRequest("GET", "/elsewhere", a, vfStd...) }, 404, upgrade.ErrNotFound, "", false},
		{"cross origin", func(a string) string { return vfRequest("GET", "/ws", a, vfLines("Origin: http://evil.example")...) }, 403, upgrade.ErrOriginDenied, "", false},
		{"verify", func(a string) string { return vfRequest("GET", "/ws", a, vfLines("X-Deny: 1")...) }, 401, upgrade.ErrRejected, "who are you", false},
		{"not HTTP", func(string) string { return "HELLO\r\n\r\n" }, 400, upgrade.ErrMalformed, "", true},
		{"accepted", func(a string) string { return vfRequest("GET", "/ws", a, vfStd...) }, 101, nil, "", false},
	}
	for _, p := range nhPaths {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				calls := make(chan hookRecord, 8)
				u := &upgrade.Upgrader{
					Path: "/ws",
					Verify: func(r *upgrade.Request, d *upgrade.Decision) {
						if _, deny := r.LookupHeader("X-Deny"); deny {
							d.Reject(401, "who are you")
						}
					},
					OnHandshakeError: func(peer netip.AddrPort, r *http.Request, err *upgrade.HandshakeError) {
						calls <- hookRecord{peer, r, err}
					},
				}
				s, err := NewServer(newEcho(), &cfg, u)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				addr := p.serve(t, s)
				for _, tc := range cases {
					if tc.raw && p.name == "ServeHTTP" {
						continue
					}
					rc, resp := vfSend(t, addr, tc.req(addr))
					if resp.StatusCode != tc.status {
						t.Fatalf("%s: status %d, want %d", tc.name, resp.StatusCode, tc.status)
					}
					if tc.status == 101 {
						closeClient(rc)
						continue
					}
					rc.expectEOF()
					var got hookRecord
					select {
					case got = <-calls:
					case <-time.After(10 * time.Second):
						t.Fatalf("%s: hook not called", tc.name)
					}
					la := rc.nc.LocalAddr().(*net.TCPAddr).AddrPort()
					client := netip.AddrPortFrom(la.Addr().Unmap(), la.Port())
					he := got.err
					switch {
					case got.peer != client:
						t.Errorf("%s: peer %v, client %v", tc.name, got.peer, client)
					case (got.r != nil) != (p.name == "ServeHTTP"):
						t.Errorf("%s: request %v on the %s path", tc.name, got.r, p.name)
					case he.Status != tc.status || !errors.Is(he, tc.err):
						t.Errorf("%s: hook got %d %v", tc.name, he.Status, he)
					case he.Reason != resp.Header.Get("X-WebSocket-Reject-Reason") || tc.reason != "" && he.Reason != tc.reason:
						t.Errorf("%s: hook reason %q, client %q", tc.name, he.Reason, resp.Header.Get("X-WebSocket-Reject-Reason"))
					}
				}
				select {
				case got := <-calls:
					t.Fatalf("an extra hook call: %d %v", got.err.Status, got.err)
				default:
				}
			})
		})
	}
}
