package proxy

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func TestSOCKS5(t *testing.T) {
	t.Parallel()
	addr := startEcho(t)
	_, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	tests := []struct {
		name   string
		server socksConf
		target string
		user   *url.Userinfo
		scheme string // default socks5
		want   socksReq
		err    error
	}{
		{name: "IPv4 target", target: addr, want: socksReq{1, "127.0.0.1", p}},
		{name: "host name goes to the proxy", target: "localhost:" + port, scheme: "socks5h",
			want: socksReq{3, "localhost", p}},
		{name: "user and password", server: socksConf{user: "alice", pass: "s3cr:t"}, target: addr,
			user: url.UserPassword("alice", "s3cr:t"), want: socksReq{1, "127.0.0.1", p}},
		{name: "wrong password", server: socksConf{user: "alice", pass: "s3cr:t"}, target: addr,
			user: url.UserPassword("alice", "nope"), err: ErrRefused},
		// RFC 1929 §2: the reply's VER is 1; a reply of another version is
		// not an answer to the sub-negotiation, whatever its STATUS says.
		{name: "auth reply of another version", server: socksConf{user: "alice", pass: "s3cr:t", authVer: 5}, target: addr,
			user: url.UserPassword("alice", "s3cr:t"), err: ErrBadReply},
		{name: "auth asked, none given", server: socksConf{user: "alice", pass: "x"}, target: addr, err: ErrRefused},
		{name: "no acceptable method", server: socksConf{noMethod: true}, target: addr, err: ErrRefused},
		// RFC 1928 §3: the server selects one of the METHODS offered. Only
		// "no authentication" was: a choice of user name and password is not
		// an answer to the offer, not a refusal.
		{name: "user and password chosen, not offered", server: socksConf{choose: 2}, target: addr, err: ErrBadReply},
		{name: "connection refused by the proxy", server: socksConf{reply: 5}, target: addr,
			want: socksReq{1, "127.0.0.1", p}, err: ErrRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := startSocksTest(t, tt.server)
			pu := s.url(tt.user)
			if tt.scheme != "" {
				pu.Scheme = tt.scheme
			}
			nc, err := Dial(ctx(t), nil, pu, tt.target, nil)
			if tt.err != nil {
				if nc != nil {
					nc.Close() // the serving goroutine ends with it
				}
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				defer nc.Close()
				echoOnce(t, nc)
			}
			got := s.used()
			if tt.want == (socksReq{}) {
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

// socksTest is a SOCKS5 server (RFC 1928, RFC 1929) that records each request
// and answers as told.
type socksTest struct {
	socksConf
	ln net.Listener

	mu       sync.Mutex
	requests []socksReq
}

// socksConf says how a socksTest answers.
type socksConf struct {
	user     string // when set, only user name and password auth with user/pass
	pass     string
	noMethod bool // answer 0xff to the method offer
	choose   byte // when set, the method answered whatever was offered
	reply    byte // REP for CONNECT; 0 connects to the target
	authVer  byte // VER of the RFC 1929 reply; 0 for 1, the only version
}

type socksReq struct {
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

func (s *socksTest) used() []socksReq {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]socksReq(nil), s.requests...)
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
	if s.choose != 0 {
		nc.Write([]byte{5, s.choose})
		return
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
		ver := s.authVer
		if ver == 0 {
			ver = 1
		}
		nc.Write([]byte{ver, 0})
	}
	r := read(4)
	if r == nil || r[0] != 5 || r[1] != 1 {
		return
	}
	req := socksReq{atyp: r[3]}
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
