package dial

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/weir-ws/weir/upgrade"
)

// serve answers one handshake on nc with the response answer makes from the
// request's key, then writes after.
func serve(t *testing.T, nc net.Conn, answer func(key string) string, after string) {
	t.Helper()
	go func() {
		defer nc.Close()
		req, err := http.ReadRequest(bufio.NewReader(nc))
		if err != nil {
			return
		}
		io.WriteString(nc, answer(req.Header.Get("Sec-WebSocket-Key"))+after)
		io.Copy(io.Discard, nc)
	}()
}

func accept(key string) string {
	return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
		upgrade.AcceptKey(key) + "\r\n\r\n"
}

func testCtx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestHandshake(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		answer func(string) string
		after  string
		check  func(*testing.T, *Result, error)
	}{
		{"101 with frame bytes after it", accept, "\x81\x02hi", func(t *testing.T, r *Result, err error) {
			if err != nil || string(r.Head) != "\x81\x02hi" || r.Response.StatusCode != 101 {
				t.Fatalf("%v; head %q", err, r.Head)
			}
		}},
		{"403 with a body", func(string) string {
			return "HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\n"
		}, "nope", func(t *testing.T, r *Result, err error) {
			var he *upgrade.HandshakeError
			if !errors.As(err, &he) || he.Status != 403 || string(he.Body) != "nope" {
				t.Fatalf("err = %v, want a 403 HandshakeError with its body", err)
			}
		}},
		{"wrong accept key", func(string) string { return accept("AAAAAAAAAAAAAAAAAAAAAA==") }, "", func(t *testing.T, r *Result, err error) {
			if !errors.Is(err, upgrade.ErrBadAccept) {
				t.Fatalf("err = %v, want ErrBadAccept", err)
			}
		}},
		{"endless header", func(string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nX: " + strings.Repeat("a", 1<<20)
		}, "", func(t *testing.T, r *Result, err error) {
			if !errors.Is(err, upgrade.ErrResponseHeaderTooLarge) {
				t.Fatalf("err = %v, want ErrResponseHeaderTooLarge", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			client, server := net.Pipe()
			serve(t, server, tt.answer, tt.after)
			req, err := upgrade.NewClientRequest("ws://example.com/chat")
			if err != nil {
				t.Fatal(err)
			}
			r, err := Handshake(testCtx(t), client, req, nil)
			if r != nil {
				defer r.Conn.Close()
			}
			tt.check(t, r, err)
		})
	}
}

// A server that never answers: ctx's end aborts the handshake.
func TestHandshakeContext(t *testing.T) {
	t.Parallel()
	client, server := net.Pipe()
	defer server.Close()
	go io.Copy(io.Discard, server)
	req, _ := upgrade.NewClientRequest("ws://example.com/")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := Handshake(ctx, client, req, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the deadline", err)
	}
}

// Redirects are followed up to MaxRedirects, and credentials do not follow a
// change of host.
func TestDialRedirect(t *testing.T) {
	t.Parallel()
	var target string
	auths := make(chan string, 4)
	hop := func(nc net.Conn, answer func(string) string) {
		req, err := http.ReadRequest(bufio.NewReader(nc))
		if err != nil {
			return
		}
		auths <- req.Header.Get("Authorization")
		io.WriteString(nc, answer(req.Header.Get("Sec-WebSocket-Key")))
	}
	final := startServer(t, func(nc net.Conn) { hop(nc, accept) })
	target = "ws://" + final + "/end"
	first := startServer(t, func(nc net.Conn) {
		hop(nc, func(string) string {
			return "HTTP/1.1 302 Found\r\nLocation: " + target + "\r\nContent-Length: 0\r\n\r\n"
		})
	})
	o := &Options{NoProxy: true, Header: http.Header{"Authorization": {"Bearer x"}}}
	if _, err := Dial(testCtx(t), "ws://"+first+"/", o); !errors.As(err, new(*upgrade.HandshakeError)) {
		t.Fatalf("MaxRedirects 0: err = %v, want the 302", err)
	}
	<-auths
	o.MaxRedirects = 1
	r, err := Dial(testCtx(t), "ws://"+first+"/", o)
	if err != nil {
		t.Fatal(err)
	}
	r.Conn.Close()
	// 127.0.0.1:a to 127.0.0.1:b is a change of host (host includes the port).
	if a, b := <-auths, <-auths; a != "Bearer x" || b != "" {
		t.Fatalf("Authorization %q then %q; want it dropped after the change of host", a, b)
	}
}

func startServer(t *testing.T, serve func(net.Conn)) string {
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
			go func() { defer nc.Close(); serve(nc) }()
		}
	}()
	return ln.Addr().String()
}
