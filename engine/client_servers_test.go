package engine

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"
)

// Small servers for the client tests: silent, a fake handshake answer, an HTTP
// CONNECT proxy.

// cliSilentServer accepts TCP connections and never answers. Accepted connections are
// sent on the returned channel.
func cliSilentServer(t testing.TB) (string, <-chan net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan net.Conn, 16)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, nc)
			mu.Unlock()
			ch <- nc
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, nc := range conns {
			nc.Close()
		}
		mu.Unlock()
	})
	return ln.Addr().String(), ch
}

// cliPeerGone reads nc until the other end closes it.
func cliPeerGone(t testing.TB, nc net.Conn) {
	t.Helper()
	nc.SetReadDeadline(time.Now().Add(cliWait))
	_, err := io.Copy(io.Discard, nc)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the client did not close its connection")
	}
}

// cliFakeServer answers every handshake with a 101 whose accept hash is right and
// whose Sec-WebSocket-Protocol is proto, then holds the connection.
func cliFakeServer(t testing.TB, proto string) string {
	t.Helper()
	return cliHostileServer(t, "Sec-WebSocket-Protocol: "+proto+"\r\n", func(nc net.Conn, _ *bufio.Reader) {
		io.Copy(io.Discard, nc)
	})
}

// cliProxy is an HTTP CONNECT proxy (RFC 9110 §9.3.6): it reads one CONNECT, dials
// the target, answers 200 and pipes both ways.
type cliProxy struct {
	ln       net.Listener
	scheme   string // http, or https when ln speaks TLS
	wantAuth string // when set, a CONNECT without this Proxy-Authorization gets 407
	hang     bool   // read the CONNECT and never answer

	mu       sync.Mutex
	connects []cliConnect
	conns    []net.Conn
	seen     chan cliConnect
}

type cliConnect struct {
	target, auth string
}

func cliStartProxy(t testing.TB, wantAuth string, hang bool) *cliProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return cliServeProxy(t, ln, "http", wantAuth, hang)
}

// cliStartTLSProxy is an HTTPS proxy: TLS to the proxy (the test certificate),
// then CONNECT inside it.
func cliStartTLSProxy(t testing.TB) *cliProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cliTestCert(t).cert}}
	return cliServeProxy(t, tls.NewListener(ln, tc), "https", "", false)
}

func cliServeProxy(t testing.TB, ln net.Listener, scheme, wantAuth string, hang bool) *cliProxy {
	p := &cliProxy{ln: ln, scheme: scheme, wantAuth: wantAuth, hang: hang, seen: make(chan cliConnect, 16)}
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			p.track(nc)
			go p.serve(nc)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, nc := range p.conns {
			nc.Close()
		}
		p.mu.Unlock()
	})
	return p
}

func (p *cliProxy) track(nc net.Conn) {
	p.mu.Lock()
	p.conns = append(p.conns, nc)
	p.mu.Unlock()
}

// url returns the proxy's URL, with user info when user is set.
func (p *cliProxy) url(user *url.Userinfo) *url.URL {
	return &url.URL{Scheme: p.scheme, Host: p.ln.Addr().String(), User: user}
}

func (p *cliProxy) used() []cliConnect {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]cliConnect(nil), p.connects...)
}

func (p *cliProxy) serve(nc net.Conn) {
	defer nc.Close()
	br := bufio.NewReader(nc)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	if req.Method != http.MethodConnect {
		io.WriteString(nc, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
		return
	}
	pc := cliConnect{target: req.RequestURI, auth: req.Header.Get("Proxy-Authorization")}
	p.mu.Lock()
	p.connects = append(p.connects, pc)
	p.mu.Unlock()
	select {
	case p.seen <- pc:
	default:
	}
	if p.hang {
		io.Copy(io.Discard, br)
		return
	}
	if p.wantAuth != "" && pc.auth != p.wantAuth {
		io.WriteString(nc, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"weir\"\r\nContent-Length: 0\r\n\r\n")
		return
	}
	up, err := net.Dial("tcp", pc.target)
	if err != nil {
		io.WriteString(nc, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
		return
	}
	p.track(up)
	defer up.Close()
	io.WriteString(nc, "HTTP/1.1 200 Connection established\r\n\r\n")
	done := make(chan struct{})
	go func() {
		io.Copy(up, br) // br may hold bytes sent right after the CONNECT
		if tc, ok := up.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
		close(done)
	}()
	io.Copy(nc, up)
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
	<-done
}
