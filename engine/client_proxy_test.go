package engine

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"

	"crypto/tls"
	"crypto/x509"
)

// The client through SOCKS5 proxies (a small one here, for the failure cases,
// and simple-socks from npm) and HTTPS proxies. HTTP CONNECT is tested in
// client_dial_test.go.

func TestProxyAddr(t *testing.T) {
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
		{"ftp://proxy.example", "", ErrProxyScheme},
		{"socks4://proxy.example", "", ErrProxyScheme},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		got, err := proxyAddr(u)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("proxyAddr(%s) = %q, %v; want %q, %v", tt.url, got, err, tt.want, tt.err)
		}
	}
}

// socksTest is a SOCKS5 server (RFC 1928, RFC 1929) that records each request
// and answers as told.
type socksTest struct {
	socksConf
	ln net.Listener

	mu       sync.Mutex
	requests []socksRequest
}

// socksConf says how a socksTest answers.
type socksConf struct {
	user     string // when set, only user name and password auth with user/pass
	pass     string
	noMethod bool // answer 0xff to the method offer
	reply    byte // REP for CONNECT; 0 connects to the target
}

type socksRequest struct {
	atyp byte
	host string
	port int
}

func startSocksTest(t *testing.T, conf socksConf) *socksTest {
	t.Helper()
	s := &socksTest{socksConf: conf}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.ln = ln
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { s.serve(t, nc) })
		}
	}()
	return s
}

func (s *socksTest) url(user *url.Userinfo) *url.URL {
	return &url.URL{Scheme: "socks5", Host: s.ln.Addr().String(), User: user}
}

func (s *socksTest) used() []socksRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]socksRequest(nil), s.requests...)
}

func (s *socksTest) serve(t *testing.T, nc net.Conn) {
	defer nc.Close()
	br := bufio.NewReader(nc)
	read := func(n int) []byte {
		b := make([]byte, n)
		if _, err := io.ReadFull(br, b); err != nil {
			return nil
		}
		return b
	}
	h := read(2)
	if h == nil || h[0] != 5 {
		return
	}
	methods := read(int(h[1]))
	want := byte(0)
	if s.user != "" {
		want = 2
	}
	if s.noMethod || !strings.ContainsRune(string(methods), rune(want)) {
		nc.Write([]byte{5, 0xff})
		return
	}
	nc.Write([]byte{5, want})
	if want == 2 {
		v := read(2)
		if v == nil || v[0] != 1 {
			return
		}
		user := string(read(int(v[1])))
		pass := string(read(int(read(1)[0])))
		if user != s.user || pass != s.pass {
			nc.Write([]byte{1, 1})
			return
		}
		nc.Write([]byte{1, 0})
	}
	r := read(4)
	if r == nil || r[0] != 5 || r[1] != 1 {
		return
	}
	req := socksRequest{atyp: r[3]}
	switch r[3] {
	case 1:
		req.host = netip.AddrFrom4([4]byte(read(4))).String()
	case 4:
		req.host = netip.AddrFrom16([16]byte(read(16))).String()
	case 3:
		req.host = string(read(int(read(1)[0])))
	}
	req.port = int(binary.BigEndian.Uint16(read(2)))
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.mu.Unlock()
	if s.reply != 0 {
		nc.Write([]byte{5, s.reply, 0, 1, 0, 0, 0, 0, 0, 0})
		return
	}
	host := req.host
	if host == "localhost" {
		host = "127.0.0.1"
	}
	up, err := net.Dial("tcp", net.JoinHostPort(host, strconv.Itoa(req.port)))
	if err != nil {
		nc.Write([]byte{5, 5, 0, 1, 0, 0, 0, 0, 0, 0})
		return
	}
	defer up.Close()
	// Bound address as a domain, to exercise the variable-length reply.
	nc.Write(append([]byte{5, 0, 0, 3, 5}, "bound\x04\x00"...))
	go func() {
		io.Copy(up, br)
		up.(*net.TCPConn).CloseWrite()
	}()
	io.Copy(nc, up)
}

func TestClientSOCKS5(t *testing.T) {
	t.Parallel()
	_, addr := startServer(t, newCliPeer(true), Config{}, nil)
	_, port, _ := net.SplitHostPort(addr)
	taddr := cliTLSServer(t, newCliPeer(true), Config{}, nil)
	_, tport, _ := net.SplitHostPort(taddr)
	tlsCfg := &tls.Config{RootCAs: cliTestCert(t).pool}
	tests := []struct {
		name   string
		server socksConf
		target string
		user   *url.Userinfo
		scheme string // default socks5
		want   socksRequest
		err    error
	}{
		{name: "IPv4 target", target: "ws://" + addr + "/", want: socksRequest{1, "127.0.0.1", atoi(port)}},
		{name: "host name goes to the proxy", target: "ws://localhost:" + port + "/", scheme: "socks5h",
			want: socksRequest{3, "localhost", atoi(port)}},
		{name: "wss inside the tunnel", target: "wss://localhost:" + tport + "/", want: socksRequest{3, "localhost", atoi(tport)}},
		{name: "user and password", server: socksConf{user: "alice", pass: "s3cr:t"}, target: "ws://" + addr + "/",
			user: url.UserPassword("alice", "s3cr:t"), want: socksRequest{1, "127.0.0.1", atoi(port)}},
		{name: "wrong password", server: socksConf{user: "alice", pass: "s3cr:t"}, target: "ws://" + addr + "/",
			user: url.UserPassword("alice", "nope"), err: ErrProxy},
		{name: "auth asked, none given", server: socksConf{user: "alice", pass: "x"}, target: "ws://" + addr + "/", err: ErrProxy},
		{name: "no acceptable method", server: socksConf{noMethod: true}, target: "ws://" + addr + "/", err: ErrProxy},
		{name: "connection refused by the proxy", server: socksConf{reply: 5}, target: "ws://" + addr + "/",
			want: socksRequest{1, "127.0.0.1", atoi(port)}, err: ErrProxy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := startSocksTest(t, tt.server)
			pu := s.url(tt.user)
			if tt.scheme != "" {
				pu.Scheme = tt.scheme
			}
			c, _, err := cliClient(t, nil, Config{}).Dial(cliCtx(t), tt.target, &DialOptions{
				Proxy: http.ProxyURL(pu), TLSConfig: tlsCfg,
			})
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				defer c.Abort()
				cliEchoOnce(t, c)
			}
			got := s.used()
			if tt.want == (socksRequest{}) {
				if len(got) != 0 {
					t.Fatalf("requests %+v, want none", got)
				}
				return
			}
			if len(got) != 1 || got[0] != tt.want {
				t.Fatalf("requests %+v, want %+v", got, tt.want)
			}
		})
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// simple-socks from npm: a third-party SOCKS5 proxy, with and without
// authentication.
func TestClientSOCKS5Node(t *testing.T) {
	t.Parallel()
	_, addr := startServer(t, newCliPeer(true), Config{}, nil)
	tests := []struct {
		name       string
		user, pass string // the proxy's
		cred       *url.Userinfo
		err        error
	}{
		{name: "no auth"},
		{name: "user and password", user: "foo", pass: "bar", cred: url.UserPassword("foo", "bar")},
		{name: "wrong password", user: "foo", pass: "bar", cred: url.UserPassword("foo", "baz"), err: ErrProxy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			paddr, events := cliNodeSocks(t, tt.user, tt.pass)
			c, _, err := cliClient(t, nil, Config{}).Dial(cliCtx(t), "ws://"+addr+"/", &DialOptions{
				Proxy: http.ProxyURL(&url.URL{Scheme: "socks5", Host: paddr, User: tt.cred}),
			})
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				if ev := cliRecv(t, events, "authError"); ev["ev"] != "authError" {
					t.Fatalf("proxy event %v", ev)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Abort()
			cliEchoOnce(t, c)
			ev := cliRecv(t, events, "connect")
			if ev["ev"] != "connect" || ev["address"] != "127.0.0.1" || net.JoinHostPort("127.0.0.1", strconv.Itoa(int(ev["port"].(float64)))) != addr {
				t.Fatalf("proxy event %v, want a connect to %s", ev, addr)
			}
		})
	}
}

// cliNodeSocks starts simple-socks (testdata/nodews/socks.mjs), requiring user
// and pass when user is set, and returns its address and its events.
func cliNodeSocks(t *testing.T, user, pass string) (string, <-chan map[string]any) {
	t.Helper()
	cliNodeSetup(t)
	args := []string{"socks.mjs"}
	if user != "" {
		args = append(args, user, pass)
	}
	cmd := exec.Command(cliNodeBin, args...)
	cmd.Dir = cliNodeDir
	stderr := &syncBuf{}
	cmd.Stderr = stderr
	stdin, stdout := startPiped(t, cmd)
	t.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
		if t.Failed() {
			t.Logf("simple-socks stderr:\n%s", stderr)
		}
	})
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), "LISTEN ") {
		t.Fatalf("simple-socks did not start: %q\n%s", sc.Text(), stderr)
	}
	events := make(chan map[string]any, 16)
	go func() {
		for sc.Scan() {
			var ev map[string]any
			if json.Unmarshal(sc.Bytes(), &ev) == nil {
				events <- ev
			}
		}
	}()
	return net.JoinHostPort("127.0.0.1", strings.TrimPrefix(sc.Text(), "LISTEN ")), events
}

// An HTTPS proxy: TLS to the proxy, CONNECT inside, then ws or wss through it.
func TestClientHTTPSProxy(t *testing.T) {
	t.Parallel()
	_, addr := startServer(t, newCliPeer(true), Config{}, nil)
	taddr := cliTLSServer(t, newCliPeer(true), Config{}, nil)
	_, tport, _ := net.SplitHostPort(taddr)
	roots := &tls.Config{RootCAs: cliTestCert(t).pool}
	for _, target := range []string{"ws://" + addr + "/", "wss://localhost:" + tport + "/"} {
		t.Run(target[:strings.Index(target, ":")], func(t *testing.T) {
			t.Parallel()
			p := cliStartTLSProxy(t)
			c := cliDial(t, cliClient(t, nil, Config{}), target, &DialOptions{Proxy: http.ProxyURL(p.url(nil)), TLSConfig: roots})
			cliEchoOnce(t, c)
			u, _ := url.Parse(target)
			if got := p.used(); len(got) != 1 || got[0].target != u.Host {
				t.Fatalf("CONNECTs %+v, want one to %s", got, u.Host)
			}
		})
	}
	t.Run("untrusted proxy certificate", func(t *testing.T) {
		t.Parallel()
		p := cliStartTLSProxy(t)
		_, _, err := cliClient(t, nil, Config{}).Dial(cliCtx(t), "ws://"+addr+"/", &DialOptions{Proxy: http.ProxyURL(p.url(nil))})
		var uae x509.UnknownAuthorityError
		if !errors.As(err, &uae) || len(p.used()) != 0 {
			t.Fatalf("err = %v (%T), CONNECTs %+v; want an unknown-authority error before any CONNECT", err, err, p.used())
		}
	})
	t.Run("unsupported scheme", func(t *testing.T) {
		t.Parallel()
		_, _, err := cliClient(t, nil, Config{}).Dial(cliCtx(t), "ws://"+addr+"/", &DialOptions{
			Proxy: http.ProxyURL(&url.URL{Scheme: "socks4", Host: "127.0.0.1:1"}),
		})
		if !errors.Is(err, ErrProxyScheme) {
			t.Fatalf("err = %v, want ErrProxyScheme", err)
		}
	})
}
