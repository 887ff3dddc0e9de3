package engine

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/weir-ws/weir/internal/wsconn"
	"github.com/weir-ws/weir/upgrade"
)

// tlsSeen is what a handshake hook or OnOpen saw of the connection's TLS.
type tlsSeen struct {
	tls      bool // the state was there at all
	complete bool
	version  uint16
	peer     *x509.Certificate // the first peer certificate, if any
}

func seeTLS(st *tls.ConnectionState) tlsSeen {
	if st == nil {
		return tlsSeen{}
	}
	s := tlsSeen{tls: true, complete: st.HandshakeComplete, version: st.Version}
	if len(st.PeerCertificates) > 0 {
		s.peer = st.PeerCertificates[0]
	}
	return s
}

func seeConnTLS(c *Conn) tlsSeen {
	st, ok := c.TLSConnectionState()
	if !ok {
		if st.Version != 0 || st.HandshakeComplete {
			return tlsSeen{complete: true} // a zero state is promised with false
		}
		return tlsSeen{}
	}
	return seeTLS(&st)
}

// tlsHookHandler hands the server side's view at OnOpen to the test.
type tlsHookHandler struct {
	NopHandler
	opened chan tlsSeen
}

func (h *tlsHookHandler) OnOpen(c *Conn) { h.opened <- seeConnTLS(c) }

// TestTLSState checks what the verify hook (upgrade.Request.TLS) and both ends
// (Conn.TLSConnectionState) see of TLS: over a tls.Listener and over net/http's
// HTTPS, with and without a client certificate, and nothing over plain TCP.
func TestTLSState(t *testing.T) {
	t.Parallel()
	cert := cliTestCert(t)
	tests := []struct {
		name       string
		mode       Config
		how        string // "tls-listener", "https", "plain"
		clientAuth tls.ClientAuthType
		clientCert bool
	}{
		{"tls listener, client certificate", Config{}, "tls-listener", tls.RequireAnyClientCert, true},
		{"tls listener, no client certificate", Config{}, "tls-listener", tls.NoClientCert, false},
		{"tls listener, certificate asked, none given", Config{}, "tls-listener", tls.RequestClientCert, false},
		{"https ServeHTTP, client certificate", Config{}, "https", tls.RequireAnyClientCert, true},
		{"https ServeHTTP, goroutine mode", Config{GoroutinePerConn: true}, "https", tls.NoClientCert, false},
		{"plain, loops", Config{}, "plain", 0, false},
		{"plain, goroutine mode", Config{GoroutinePerConn: true}, "plain", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			verified := make(chan tlsSeen, 1)
			u := &upgrade.Upgrader{Verify: func(r *upgrade.Request, d *upgrade.Decision) {
				verified <- seeTLS(r.TLS())
			}}
			h := &tlsHookHandler{opened: make(chan tlsSeen, 1)}
			s, err := NewServer(h, &tc.mode, u)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			srvTLS := &tls.Config{Certificates: []tls.Certificate{cert.cert}, ClientAuth: tc.clientAuth}
			var url string
			switch tc.how {
			case "tls-listener":
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				if err := s.Start(tls.NewListener(ln, srvTLS)); err != nil {
					t.Fatal(err)
				}
				url = "wss://" + ln.Addr().String() + "/"
			case "https":
				hs := httptest.NewUnstartedServer(s)
				hs.TLS = srvTLS
				hs.StartTLS()
				t.Cleanup(hs.Close)
				url = "wss" + strings.TrimPrefix(hs.URL, "https") + "/"
			default:
				if err := s.Listen("127.0.0.1:0"); err != nil {
					t.Fatal(err)
				}
				url = "ws://" + s.Addr().String() + "/"
			}
			cliTLS := &tls.Config{RootCAs: cert.pool}
			if tc.clientCert {
				cliTLS.Certificates = []tls.Certificate{cert.cert}
			}
			c := cliDial(t, cliClient(t, nil, tc.mode), url, &DialOptions{TLSConfig: cliTLS})

			wantTLS := tc.how != "plain"
			var wantPeer *x509.Certificate
			if tc.clientCert {
				wantPeer = cert.cert.Leaf
			}
			for _, side := range []struct {
				what string
				seen tlsSeen
			}{
				{"verify hook", cliRecv(t, verified, "verify")},
				{"server OnOpen", cliRecv(t, h.opened, "OnOpen")},
			} {
				got := side.seen
				if got.tls != wantTLS || got.complete != wantTLS {
					t.Fatalf("%s: TLS %v, handshake complete %v; want %v", side.what, got.tls, got.complete, wantTLS)
				}
				if wantTLS && got.version < tls.VersionTLS12 {
					t.Errorf("%s: version %#x", side.what, got.version)
				}
				if (got.peer == nil) != (wantPeer == nil) || got.peer != nil && !got.peer.Equal(wantPeer) {
					t.Errorf("%s: peer certificate %v, want %v", side.what, got.peer != nil, wantPeer != nil)
				}
			}
			got := seeConnTLS(c)
			if got.tls != wantTLS || got.complete != wantTLS {
				t.Fatalf("client: TLS %v, handshake complete %v; want %v", got.tls, got.complete, wantTLS)
			}
			if wantTLS && (got.peer == nil || !got.peer.Equal(cert.cert.Leaf)) {
				t.Errorf("client: the server's certificate is not among the peer certificates")
			}
		})
	}
}

// TestTLSStateNode checks the client side against a third-party server (ws over
// Node's https).
func TestTLSStateNode(t *testing.T) {
	t.Parallel()
	n := cliNode(t, true)
	cert := cliTestCert(t)
	c := cliDial(t, cliClient(t, nil, Config{}), "wss://"+n.addr+"/echo", &DialOptions{TLSConfig: &tls.Config{RootCAs: cert.pool}})
	st, ok := c.TLSConnectionState()
	if !ok || !st.HandshakeComplete || len(st.PeerCertificates) == 0 || !st.PeerCertificates[0].Equal(cert.cert.Leaf) {
		t.Fatalf("TLSConnectionState ok=%v complete=%v peers=%d", ok, st.HandshakeComplete, len(st.PeerCertificates))
	}
	if st.Version < tls.VersionTLS12 {
		t.Errorf("version %#x", st.Version)
	}
}

// TestRequestTLSUnset checks upgrade.Request.TLS on a request parsed without a
// connection (the raw path of the loops): nil, also after SetTLS(nil).
func TestRequestTLSUnset(t *testing.T) {
	t.Parallel()
	r := upgrade.NewRequest()
	if r.TLS() != nil {
		t.Fatal("TLS() of a fresh request is not nil")
	}
	r.SetTLS(wsconn.TLSConnOf(&net.TCPConn{}))
	if r.TLS() != nil {
		t.Fatal("TLS() after SetTLS of a plain conn is not nil")
	}
}
