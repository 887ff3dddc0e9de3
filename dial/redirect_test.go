package dial

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/weir-ws/weir/upgrade"
)

// redirector answers every handshake with a 302 to the Location loc returns.
func redirector(t *testing.T, loc func() string) string {
	return startServer(t, func(nc net.Conn) {
		if _, err := http.ReadRequest(bufio.NewReader(nc)); err != nil {
			return
		}
		io.WriteString(nc, "HTTP/1.1 302 Found\r\nLocation: "+loc()+"\r\nContent-Length: 0\r\n\r\n")
	})
}

// The credentials a change of host drops are dropped whatever the case of
// the caller's Header keys: a literal http.Header{"authorization": ...} is
// written as is, so a Del of the canonical key alone left it to go to the
// redirect's host (net/http's client compares canonical keys).
func TestDialRedirectDropsCredentialsAnyCase(t *testing.T) {
	t.Parallel()
	got := make(chan http.Header, 1)
	final := startServer(t, func(nc net.Conn) {
		req, err := http.ReadRequest(bufio.NewReader(nc))
		if err != nil {
			return
		}
		got <- req.Header
		io.WriteString(nc, accept(req.Header.Get("Sec-WebSocket-Key")))
	})
	first := redirector(t, func() string { return "ws://" + final + "/end" })
	o := &Options{NoProxy: true, MaxRedirects: 1, Header: http.Header{
		"authorization":       {"Bearer x"},
		"COOKIE":              {"session=s"},
		"proxy-Authorization": {"Basic cA=="},
		"x-keep":              {"1"},
	}}
	r, err := Dial(testCtx(t), "ws://"+first+"/", o)
	if err != nil {
		t.Fatal(err)
	}
	r.Conn.Close()
	h := <-got
	for _, k := range []string{"Authorization", "Cookie", "Proxy-Authorization"} {
		if v := h.Get(k); v != "" {
			t.Errorf("the redirect's host got %s: %q", k, v)
		}
	}
	if h.Get("X-Keep") != "1" {
		t.Errorf("X-Keep %q: other fields must follow", h.Get("X-Keep"))
	}
	if len(o.Header) != 4 {
		t.Errorf("the caller's Header changed: %v", o.Header)
	}
}

// A server on the network may not redirect the client onto a local Unix
// socket (ws+unix:): that would let any server it dials make it speak to,
// say, a container runtime's socket and hand back the answer's body.
func TestDialRedirectToUnixSocketRefused(t *testing.T) {
	t.Parallel()
	sock, ln := listenUnix(t)
	reached := make(chan struct{}, 1)
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			reached <- struct{}{}
			nc.Close()
		}
	}()
	first := redirector(t, func() string { return "ws+unix:" + sock + ":/containers/json" })
	_, err := Dial(testCtx(t), "ws://"+first+"/", &Options{NoProxy: true, MaxRedirects: 3})
	var he *upgrade.HandshakeError
	if !errors.As(err, &he) || he.Status != http.StatusFound {
		t.Fatalf("err = %v, want the 302, not followed", err)
	}
	select {
	case <-reached:
		t.Fatal("the client connected to the Unix socket")
	default:
	}
}

// A relative Location on ws+unix resolves against the resource, on the same
// socket: "/b" (or "b", or "?q") from ws+unix:SOCK:/dir/a is SOCK:/b
// (SOCK:/dir/b, SOCK:/dir/a?q), not a socket at /b.
func TestDialRedirectUnixRelative(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ loc, want string }{
		{"/b", "/b"},
		{"b?x=1", "/dir/b?x=1"},
		{"?q", "/dir/a?q"},
	} {
		t.Run(tc.loc, func(t *testing.T) {
			t.Parallel()
			sock, ln := listenUnix(t)
			got := make(chan string, 4)
			go func() {
				for {
					nc, err := ln.Accept()
					if err != nil {
						return
					}
					req, err := http.ReadRequest(bufio.NewReader(nc))
					if err != nil {
						nc.Close()
						continue
					}
					got <- req.URL.RequestURI()
					if req.URL.Path == "/dir/a" && req.URL.RawQuery == "" {
						io.WriteString(nc, "HTTP/1.1 302 Found\r\nLocation: "+tc.loc+"\r\nContent-Length: 0\r\n\r\n")
						nc.Close()
						continue
					}
					io.WriteString(nc, accept(req.Header.Get("Sec-WebSocket-Key")))
				}
			}()
			r, err := Dial(testCtx(t), "ws+unix:"+sock+":/dir/a", &Options{MaxRedirects: 1})
			if err != nil {
				t.Fatalf("Location %q: %v", tc.loc, err)
			}
			r.Conn.Close()
			if first, second := <-got, <-got; first != "/dir/a" || second != tc.want {
				t.Fatalf("requests %q then %q, want /dir/a then %q", first, second, tc.want)
			}
		})
	}
}

// listenUnix listens on a Unix socket in the test's temporary directory,
// closed when the test ends.
func listenUnix(t *testing.T) (string, net.Listener) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "s.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Skip("no Unix sockets:", err)
	}
	t.Cleanup(func() { ln.Close() })
	return sock, ln
}

// A redirect from wss (or https) to ws (or http) is not followed: the caller
// asked for TLS, and past the handshake every message, custom header and
// subprotocol (where bearer tokens often ride, since browsers can set no
// other field) would cross the network in clear, open to reading and
// tampering on the new path. Dropping Authorization and Cookie cannot scrub
// those; browsers follow no WebSocket redirect at all, and RFC 6455 §4.1
// leaves following them to the client. The 3xx is the answer.
func TestDialRedirectLeavingTLSRefused(t *testing.T) {
	t.Parallel()
	reached := make(chan struct{}, 4)
	final := startServer(t, func(nc net.Conn) {
		reached <- struct{}{}
		req, err := http.ReadRequest(bufio.NewReader(nc))
		if err != nil {
			return
		}
		io.WriteString(nc, accept(req.Header.Get("Sec-WebSocket-Key")))
	})
	// TLS is faked by the hook (the socket as is): what is tested is the
	// redirect's scheme, not crypto/tls.
	plainTLS := func(_ context.Context, nc net.Conn, _ *tls.Config) (net.Conn, error) { return nc, nil }
	for _, loc := range []string{"ws://" + final + "/end", "http://" + final + "/end"} {
		first := redirector(t, func() string { return loc })
		for _, scheme := range []string{"wss", "https"} {
			o := &Options{NoProxy: true, MaxRedirects: 3, TLSHandshake: plainTLS}
			r, err := Dial(testCtx(t), scheme+"://"+first+"/", o)
			if err == nil {
				r.Conn.Close()
			}
			var he *upgrade.HandshakeError
			if !errors.As(err, &he) || he.Status != http.StatusFound {
				t.Fatalf("%s to %s: err = %v, want the 302, not followed", scheme, loc, err)
			}
		}
	}
	select {
	case <-reached:
		t.Fatal("the client followed a redirect out of TLS")
	default:
	}
}
