package engine

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"testing"

	"github.com/weir-ws/weir/upgrade"
)

// stateSeen is every field of a tls.ConnectionState a user can rely on, and
// keying material exported from it (RFC 5705 / RFC 8446 §7.5).
type stateSeen struct {
	loop     bool // the Conn runs on the loops with the record layer (not for the hook)
	st       tls.ConnectionState
	ekm      []byte
	ekmErr   error
	fromHook bool
}

func seeState(st tls.ConnectionState) (s stateSeen) {
	defer func() { // a state rebuilt without crypto/tls's exporter calls nil
		if p := recover(); p != nil {
			s = stateSeen{st: st, ekmErr: fmt.Errorf("ExportKeyingMaterial panicked: %v", p)}
		}
	}()
	ekm, err := st.ExportKeyingMaterial("EXPERIMENTAL weir test", []byte("context"), 32)
	return stateSeen{st: st, ekm: ekm, ekmErr: err}
}

type stateHandler struct {
	NopHandler
	opened chan stateSeen
}

func (h *stateHandler) OnOpen(c *Conn) {
	st, _ := c.TLSConnectionState()
	s := seeState(st)
	s.loop = c.c.TLS != nil && c.c.Goroutine() == nil
	h.opened <- s
}

// TestTLSLoopStateSurvives: what a loop-mode connection keeps of its
// handshake (tlsloop.Conn's ConnectionState) is what crypto/tls said, field
// by field, on both sides and in the verify hook: version, suite, curve, ALPN,
// SNI, the peer's certificate (a client certificate on the server side), and
// ExportKeyingMaterial, which must give both ends the same bytes.
func TestTLSLoopStateSurvives(t *testing.T) {
	t.Parallel()
	cert := cliTestCert(t)
	hooked := make(chan stateSeen, 1)
	u := &upgrade.Upgrader{Verify: func(r *upgrade.Request, d *upgrade.Decision) {
		s := stateSeen{fromHook: true}
		if st := r.TLS(); st != nil {
			s = seeState(*st)
			s.fromHook = true
		}
		hooked <- s
	}}
	h := &stateHandler{opened: make(chan stateSeen, 1)}
	cfg := Config{}
	s, err := NewServer(h, &cfg, u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	srvTLS := &tls.Config{Certificates: []tls.Certificate{cert.cert}, ClientAuth: tls.RequireAnyClientCert,
		NextProtos: []string{"weir-test"}}
	if err := s.ListenTLS("127.0.0.1:0", srvTLS); err != nil {
		t.Fatal(err)
	}
	cliTLS := &tls.Config{RootCAs: cert.pool, ServerName: "localhost", Certificates: []tls.Certificate{cert.cert},
		NextProtos: []string{"weir-test"}}
	c := cliDial(t, cliClient(t, nil, Config{}), "wss://"+s.Addr().String()+"/", &DialOptions{TLSConfig: cliTLS})
	cst, ok := c.TLSConnectionState()
	if !ok {
		t.Fatal("client: no TLS state")
	}
	client := seeState(cst)
	client.loop = c.c.TLS != nil && c.c.Goroutine() == nil
	server := cliRecv(t, h.opened, "OnOpen")
	hook := cliRecv(t, hooked, "verify")
	if !server.loop || !client.loop {
		t.Fatalf("on the loops: server %v, client %v", server.loop, client.loop)
	}
	for _, side := range []struct {
		what string
		s    stateSeen
	}{{"server", server}, {"verify hook", hook}, {"client", client}} {
		st := side.s.st
		switch {
		case st.Version != tls.VersionTLS13 || !st.HandshakeComplete || st.DidResume:
			t.Errorf("%s: version %#x complete %v resumed %v", side.what, st.Version, st.HandshakeComplete, st.DidResume)
		case st.CipherSuite != cst.CipherSuite || st.CipherSuite == 0 || st.CurveID != cst.CurveID || st.CurveID == 0:
			t.Errorf("%s: suite %#x curve %v, client has %#x %v", side.what, st.CipherSuite, st.CurveID, cst.CipherSuite, cst.CurveID)
		case st.NegotiatedProtocol != "weir-test":
			t.Errorf("%s: ALPN %q", side.what, st.NegotiatedProtocol)
		case side.what != "client" && st.ServerName != "localhost":
			t.Errorf("%s: SNI %q", side.what, st.ServerName)
		case len(st.PeerCertificates) != 1 || !st.PeerCertificates[0].Equal(cert.cert.Leaf):
			t.Errorf("%s: %d peer certificates", side.what, len(st.PeerCertificates))
		case side.what == "client" && len(st.VerifiedChains) == 0:
			t.Errorf("client: no verified chains")
		case side.s.ekmErr != nil || len(side.s.ekm) != 32 || !bytes.Equal(side.s.ekm, client.ekm):
			t.Errorf("%s: ExportKeyingMaterial %x %v, client %x", side.what, side.s.ekm, side.s.ekmErr, client.ekm)
		}
	}
}

// TestTLSDropExporter: with Config.TLSDropExporter a loop-mode connection's
// state has every field but the exporter, which returns ErrNoTLSExporter
// (not crypto/tls's keys, not a panic); without it the exporter works
// (TestTLSLoopStateSurvives compares its bytes with the client's).
func TestTLSDropExporter(t *testing.T) {
	t.Parallel()
	for _, drop := range []bool{false, true} {
		h := &stateHandler{opened: make(chan stateSeen, 1)}
		_, addr := startTLS(t, h, Config{TLSDropExporter: drop})
		rc := dialRawTLS(t, addr, nil) // upgraded
		s := <-h.opened
		if !s.loop || s.st.Version != tls.VersionTLS13 {
			t.Fatalf("drop %v: not on the loops with TLS 1.3: %+v", drop, s)
		}
		if drop && (!errors.Is(s.ekmErr, ErrNoTLSExporter) || s.ekm != nil) {
			t.Errorf("dropped exporter: %x, %v", s.ekm, s.ekmErr)
		}
		if !drop && (s.ekmErr != nil || len(s.ekm) != 32) {
			t.Errorf("kept exporter: %x, %v", s.ekm, s.ekmErr)
		}
		rc.nc.Close()
	}
}
