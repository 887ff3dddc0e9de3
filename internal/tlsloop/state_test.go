package tlsloop

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"reflect"
	"testing"
	"unsafe"

	"github.com/weir-ws/weir/internal/testcert"
)

// testCert is a self-signed certificate for "localhost", also usable as a
// client certificate.
func testCert(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	cert, pool, err := testcert.New("localhost")
	if err != nil {
		t.Fatal(err)
	}
	return cert, pool
}

// handshake runs crypto/tls over loopback TCP (buffered both ways, unlike
// net.Pipe, so a server's session ticket does not block it) and returns both
// ends' states.
func handshake(t testing.TB, srv, cli *tls.Config) (server, client tls.ConnectionState) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	b, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	a, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	sc, cc := tls.Server(a, srv), tls.Client(b, cli)
	errc := make(chan error, 1)
	go func() { errc <- sc.Handshake() }()
	if err := cc.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if cli.ClientSessionCache != nil && cc.ConnectionState().Version == tls.VersionTLS13 {
		go sc.Write([]byte("x")) // the ticket comes with the first record
		cc.Read(make([]byte, 1))
	}
	return sc.ConnectionState(), cc.ConnectionState()
}

// sameState reports how rebuilt differs from want: every exported field
// (found by reflect, so a field a Go release adds is compared too) and the
// keying material exported from each (RFC 5705 / RFC 8446 §7.5).
func sameState(t *testing.T, what string, want, rebuilt tls.ConnectionState) {
	t.Helper()
	wv, rv := reflect.ValueOf(want), reflect.ValueOf(rebuilt)
	for i := range wv.NumField() {
		f := wv.Type().Field(i)
		if f.IsExported() && !reflect.DeepEqual(wv.Field(i).Interface(), rv.Field(i).Interface()) {
			t.Errorf("%s: %s = %v, crypto/tls says %v", what, f.Name, rv.Field(i), wv.Field(i))
		}
	}
	for _, l := range []int{0, 32, 100} {
		a, aerr := want.ExportKeyingMaterial("EXPERIMENTAL weir", []byte("ctx"), l)
		b, berr := rebuilt.ExportKeyingMaterial("EXPERIMENTAL weir", []byte("ctx"), l)
		if !bytes.Equal(a, b) || (aerr == nil) != (berr == nil) || len(a) != l {
			t.Errorf("%s: ExportKeyingMaterial(%d) = %x %v, crypto/tls says %x %v", what, l, b, berr, a, aerr)
		}
	}
}

// TestStateRebuilt: what Conn.ConnectionState rebuilds from the compact form
// is crypto/tls's state, field by field and in its exported keying material,
// for TLS 1.2 and 1.3, with and without a client certificate, ALPN and a
// resumed session, on both ends.
func TestStateRebuilt(t *testing.T) {
	if ekmOffset == 0 {
		t.Fatal("tls.ConnectionState is not the struct state.go knows: compaction is off")
	}
	cert, pool := testCert(t)
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		for _, clientCert := range []bool{false, true} {
			for _, resume := range []bool{false, true} {
				srv := &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: v, NextProtos: []string{"weir", "h"}}
				cli := &tls.Config{RootCAs: pool, ServerName: "localhost", MaxVersion: v, NextProtos: []string{"weir"}}
				if clientCert {
					srv.ClientAuth, srv.ClientCAs = tls.RequireAndVerifyClientCert, pool
					cli.Certificates = []tls.Certificate{cert}
				}
				if resume {
					cli.ClientSessionCache = tls.NewLRUClientSessionCache(1)
					handshake(t, srv, cli)
				}
				s, c := handshake(t, srv, cli)
				if s.Version != v || s.DidResume != resume || (len(s.PeerCertificates) > 0) != clientCert {
					t.Fatalf("handshake: version %#x resumed %v peer certs %d", s.Version, s.DidResume, len(s.PeerCertificates))
				}
				for _, end := range []struct {
					name string
					st   tls.ConnectionState
				}{{"server", s}, {"client", c}} {
					what := tls.VersionName(v) + " " + end.name
					if clientCert {
						what += " client-cert"
					}
					if resume {
						what += " resumed"
					}
					id := compact(&end.st)
					sameState(t, what, end.st, id.state())
					if !clientCert && end.name == "server" && v == tls.VersionTLS13 && id.rare != nil {
						t.Errorf("%s: a server without a client certificate keeps the rare part", what)
					}
				}
			}
		}
	}
}

// TestStateFallback: when tls.ConnectionState is not the struct state.go
// knows, compaction is off and the whole state is kept.
func TestStateFallback(t *testing.T) {
	typ := reflect.TypeFor[tls.ConnectionState]()
	if stateLayout(typ, knownFields) == 0 {
		t.Fatal("the known layout is not recognised")
	}
	fewer := map[string]bool{}
	for k := range knownFields {
		if k != "HelloRetryRequest" {
			fewer[k] = true
		}
	}
	fewer["Renamed"] = true
	if stateLayout(typ, fewer) != 0 {
		t.Error("a struct with a field state.go does not know is compacted")
	}
	delete(fewer, "Renamed")
	if stateLayout(typ, fewer) != 0 {
		t.Error("a struct with more fields than state.go knows is compacted")
	}
	cert, pool := testCert(t)
	s, _ := handshake(t, &tls.Config{Certificates: []tls.Certificate{cert}},
		&tls.Config{RootCAs: pool, ServerName: "localhost"})
	saved := ekmOffset
	ekmOffset = 0 // not parallel: restored before any parallel test runs
	id := compact(&s)
	ekmOffset = saved
	if id.rare == nil || id.rare.full == nil {
		t.Fatal("no full state kept")
	}
	sameState(t, "fallback", s, id.state())
}

// TestIdentSize: the compact state is 56 bytes with the exporter's secret
// (tls.ConnectionState is 192, and crypto/tls's exporter 120 more).
func TestIdentSize(t *testing.T) {
	if s := unsafe.Sizeof(ident{}); s > 56 {
		t.Errorf("ident is %d bytes, over 56", s)
	}
}

// TestInternShares: connections with the same ALPN protocol and SNI share
// one string (names.go), whichever of the two they have, and get their own
// back.
func TestInternShares(t *testing.T) {
	for _, c := range []struct{ alpn, sni string }{
		{"", ""}, {"", "shares.example"}, {"http/1.1", ""}, {"http/1.1", "shares.example"}, {"weir", "x"},
	} {
		var first *string
		for i := range 3 {
			// Each connection's strings are its own copies, as crypto/tls's are.
			st := tls.ConnectionState{NegotiatedProtocol: string([]byte(c.alpn)), ServerName: string([]byte(c.sni))}
			id := compact(&st)
			got := id.state()
			if got.NegotiatedProtocol != c.alpn || got.ServerName != c.sni {
				t.Fatalf("%q %q: rebuilt %q %q", c.alpn, c.sni, got.NegotiatedProtocol, got.ServerName)
			}
			if i == 0 {
				first = id.names
			} else if id.names != first {
				t.Errorf("%q %q: connection %d has its own copy", c.alpn, c.sni, i)
			}
		}
	}
}

// TestInternBounded: the table of names stops growing at maxInterned
// strings and keeps no string over maxInternLen; names past either still
// come back right.
func TestInternBounded(t *testing.T) {
	interned.mu.Lock()
	saved := interned.m
	interned.m = nil
	interned.mu.Unlock()
	defer func() { // not parallel: the table is put back before any parallel test runs
		interned.mu.Lock()
		interned.m = saved
		interned.mu.Unlock()
	}()
	long := string(bytes.Repeat([]byte("a"), maxInternLen))
	for i := range maxInterned + 50 {
		alpn, sni := "p", fmt.Sprintf("host%d.example", i)
		if i%7 == 0 {
			sni = long
		}
		if got := intern(alpn, sni); got == nil || *got != alpn+sni {
			t.Fatalf("intern(%q, %q) = %v", alpn, sni, got)
		}
	}
	interned.mu.Lock()
	n := len(interned.m)
	for k := range interned.m {
		if len(k) > maxInternLen {
			t.Errorf("a %d-byte string was kept", len(k))
		}
	}
	interned.mu.Unlock()
	if n != maxInterned {
		t.Errorf("%d strings kept, want %d", n, maxInterned)
	}
	// An ALPN protocol over RFC 7301's 255 bytes (never negotiated by
	// crypto/tls, but not ours to trust): the whole state is kept.
	st := tls.ConnectionState{NegotiatedProtocol: string(bytes.Repeat([]byte("p"), 256)), ServerName: "x"}
	id := compact(&st)
	if got := id.state(); got.NegotiatedProtocol != st.NegotiatedProtocol || got.ServerName != "x" {
		t.Errorf("a 256-byte protocol came back as %d bytes", len(got.NegotiatedProtocol))
	}
}

// BenchmarkConnectionState: rebuilding the state allocates nothing.
func BenchmarkConnectionState(b *testing.B) {
	st := tls.ConnectionState{Version: tls.VersionTLS13, CipherSuite: tls.TLS_AES_128_GCM_SHA256,
		NegotiatedProtocol: "http/1.1", ServerName: "bench.example", HandshakeComplete: true}
	c := &Conn{id: compact(&st)}
	b.ReportAllocs()
	for b.Loop() {
		if c.ConnectionState().ServerName != "bench.example" {
			b.Fatal("wrong state")
		}
	}
}

// TestDropExporter: a state whose exporter was dropped keeps every exported
// field, and its ExportKeyingMaterial returns ErrNoExporter instead of
// crypto/tls's keys (or a nil func's panic); the state it was dropped from
// nothing else.
func TestDropExporter(t *testing.T) {
	cert, pool := testCert(t)
	s, _ := handshake(t, &tls.Config{Certificates: []tls.Certificate{cert}},
		&tls.Config{RootCAs: pool, ServerName: "localhost"})
	if _, err := s.ExportKeyingMaterial("EXPERIMENTAL weir", nil, 32); err != nil {
		t.Fatalf("crypto/tls's exporter: %v", err)
	}
	d := s
	if !DropExporter(&d) {
		t.Fatal("DropExporter did nothing on the known layout")
	}
	id := compact(&d)
	if id.flags&fNoExporter == 0 || id.rare != nil {
		t.Errorf("the dropped exporter is kept (flags %#x, rare part %v)", id.flags, id.rare != nil)
	}
	st := id.state()
	if k, err := st.ExportKeyingMaterial("EXPERIMENTAL weir", nil, 32); err != ErrNoExporter || k != nil {
		t.Errorf("ExportKeyingMaterial after DropExporter = %x, %v", k, err)
	}
	if st.Version != s.Version || st.CipherSuite != s.CipherSuite || st.ServerName != s.ServerName {
		t.Errorf("DropExporter changed the state: %+v", st)
	}
	if _, err := s.ExportKeyingMaterial("EXPERIMENTAL weir", nil, 32); err != nil {
		t.Errorf("the state copied from lost its exporter: %v", err)
	}
}
