package proxy

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestAddr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url, want string
		err       error
	}{
		{"http://proxy.example", "proxy.example:80", nil},
		{"https://proxy.example", "proxy.example:443", nil},
		{"socks5://proxy.example", "proxy.example:1080", nil},
		{"socks5h://[::1]", "[::1]:1080", nil},
		{"socks5://127.0.0.1:9050", "127.0.0.1:9050", nil},
		{"http://u:p@proxy.example:3128", "proxy.example:3128", nil},
		{"ftp://proxy.example", "", ErrScheme},
		{"socks4://proxy.example", "", ErrScheme},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Addr(u)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("Addr(%s) = %q, %v; want %q, %v", tt.url, got, err, tt.want, tt.err)
		}
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	var got *http.Request
	pick := func(r *http.Request) (*url.URL, error) { got = r; return &url.URL{Scheme: "http", Host: "p:1"}, nil }
	for _, secure := range []bool{false, true} {
		u, err := Lookup(pick, secure, "example.com:8080")
		want := map[bool]string{false: "http", true: "https"}[secure]
		if err != nil || u.Host != "p:1" || got.URL.Scheme != want || got.URL.Host != "example.com:8080" {
			t.Fatalf("secure=%v: %v, %v; request %v", secure, u, err, got.URL)
		}
	}
}

// startEcho is a TCP server that echoes each connection.
func startEcho(t *testing.T) string {
	t.Helper()
	return startServer(t, func(nc net.Conn) { io.Copy(nc, nc) })
}

// startServer runs serve for each connection accepted on 127.0.0.1 until the
// test ends, and returns the address.
func startServer(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	conns := make(chan net.Conn, 64)
	t.Cleanup(func() {
		ln.Close()
		close(done)
		for {
			select {
			case nc := <-conns:
				nc.Close()
			default:
				return
			}
		}
	})
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			select {
			case conns <- nc:
			default:
			}
			go func() { defer nc.Close(); serve(nc) }()
		}
	}()
	return ln.Addr().String()
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// echoOnce checks that nc reaches an echo server.
func echoOnce(t *testing.T, nc net.Conn) {
	t.Helper()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := nc.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	var b [4]byte
	if _, err := io.ReadFull(nc, b[:]); err != nil || string(b[:]) != "ping" {
		t.Fatalf("echo %q, %v", b, err)
	}
}

// connectProxy answers CONNECT with answer, then relays to the target when
// answer is a 200.
func connectProxy(answer string) func(net.Conn) {
	return func(nc net.Conn) {
		br := bufio.NewReader(nc)
		req, err := http.ReadRequest(br)
		if err != nil || req.Method != "CONNECT" {
			return
		}
		io.WriteString(nc, answer)
		if !strings.HasPrefix(answer, "HTTP/1.1 200") {
			io.Copy(io.Discard, br)
			return
		}
		up, err := net.Dial("tcp", req.Host)
		if err != nil {
			return
		}
		defer up.Close()
		go func() { io.Copy(up, br); up.(*net.TCPConn).CloseWrite() }()
		io.Copy(nc, up)
	}
}

func TestDialHTTP(t *testing.T) {
	t.Parallel()
	target := startEcho(t)
	tests := []struct {
		name, answer string
		err          error
	}{
		{"200", "HTTP/1.1 200 Connection established\r\n\r\n", nil},
		{"407", "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 5\r\n\r\nnope!", ErrRefused},
		{"not HTTP", "SSH-2.0-OpenSSH\r\n\r\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := startServer(t, connectProxy(tt.answer))
			nc, err := Dial(ctx(t), nil, &url.URL{Scheme: "http", Host: p}, target, nil)
			switch {
			case tt.name == "not HTTP":
				if err == nil {
					nc.Close()
					t.Fatal("a non-HTTP answer made a tunnel")
				}
			case tt.err != nil:
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				defer nc.Close()
				echoOnce(t, nc)
			}
		})
	}
}

// A proxy whose answer head never ends is cut off at MaxReplyBytes, at once:
// the client neither buffers what it sends nor waits for the deadline.
func TestDialHTTPReplyBounded(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	defer close(release)
	p := startServer(t, func(nc net.Conn) {
		if _, err := http.ReadRequest(bufio.NewReader(nc)); err != nil {
			return
		}
		io.WriteString(nc, "HTTP/1.1 200 OK\r\nX-Long: ")
		nc.Write([]byte(strings.Repeat("a", 4*MaxReplyBytes)))
		<-release // and never end the line
	})
	start := time.Now()
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	nc, err := Dial(c, nil, &url.URL{Scheme: "http", Host: p}, "example.com:80", nil)
	if err == nil {
		nc.Close()
	}
	if !errors.Is(err, ErrBadReply) || c.Err() != nil {
		t.Fatalf("err = %v after %v, want ErrBadReply before the deadline", err, time.Since(start))
	}
}

func TestTunnelContext(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	defer close(release)
	p := startServer(t, func(nc net.Conn) { <-release }) // never answers
	c, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	for _, scheme := range []string{"http", "socks5"} {
		_, err := Dial(c, nil, &url.URL{Scheme: scheme, Host: p}, "example.com:80", nil)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%s: err = %v, want the deadline", scheme, err)
		}
	}
}

func TestTunnelScheme(t *testing.T) {
	t.Parallel()
	a, b := net.Pipe()
	defer b.Close()
	_, err := Tunnel(ctx(t), a, &url.URL{Scheme: "socks4", Host: "p:1"}, "example.com:80", nil)
	if !errors.Is(err, ErrScheme) {
		t.Fatalf("err = %v, want ErrScheme", err)
	}
	if _, werr := a.Write([]byte{0}); werr == nil {
		t.Fatal("the connection was left open")
	}
}
