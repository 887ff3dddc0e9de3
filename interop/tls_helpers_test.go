package interop

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weir-ws/weir/engine"
)

// wss against weir's ListenTLS (issue #17): a certificate made per run, the
// peers that dial weir trusting it, and weir's side served over TLS.

// wssSide makes openServerSide listen with Server.ListenTLS and the peers dial
// wss://, or openClientSide dial the peer's TLS server at wss:// with client
// (trusting the test certificate). It counts, over the servers and clients it
// saw, the connections that ran on the loops and in goroutine mode
// (TLSMetrics), so a test can check that the mode the variant asks for (the
// record layer on the loops; with Config.GoroutinePerConn none there), not a
// fallback, carried the cells; and it checks that every connection that
// opened runs over TLS 1.3.
type wssSide struct {
	cfg    *tls.Config // weir's server's
	client *tls.Config // weir's client's
	// goroutineMode: the variant sets Config.GoroutinePerConn, so no
	// connection may be on the loops (verdict).
	goroutineMode           bool
	loop, goroutine, failed atomic.Uint64
	// dials counts the Dials of weir's client that returned a connection;
	// opened counts the connections that opened (OnOpen, or Dial).
	dials, opened atomic.Uint64
	mu            sync.Mutex
	// wrong names the cells whose connection was not where it should be
	// (mode, TLS version).
	wrong []string
}

// sawOpen counts c, open in cell, and checks that it runs over TLS 1.3
// (nil w: ws://, nothing to check).
func (w *wssSide) sawOpen(c *engine.Conn, cell string) {
	if w == nil || c == nil {
		return
	}
	w.opened.Add(1)
	if st, ok := c.TLSConnectionState(); !ok || st.Version != tls.VersionTLS13 {
		w.mu.Lock()
		w.wrong = append(w.wrong, fmt.Sprintf("%s: TLSConnectionState %v, version %#x: want TLS 1.3", cell, ok, st.Version))
		w.mu.Unlock()
	}
}

// verdict says what is wrong with the counters of a column in role r.
func (w *wssSide) verdict(r role) []string {
	loop, gor, failed, opened := w.loop.Load(), w.goroutine.Load(), w.failed.Load(), w.opened.Load()
	var errs []string
	if failed != 0 {
		errs = append(errs, fmt.Sprintf("%d TLS handshakes failed", failed))
	}
	if opened == 0 {
		errs = append(errs, "no connection opened")
	}
	// Each connection that opened went through one TLS handshake counted on
	// its side (ListenTLS's, or its Dial's): moved onto the loops, or with
	// Config.GoroutinePerConn kept in goroutine mode; a refused WebSocket
	// handshake may add one on the server's side.
	on, off, where := loop, gor, "on the loops"
	if w.goroutineMode {
		on, off, where = gor, loop, "in goroutine mode (GoroutinePerConn)"
	}
	if on < opened || off != 0 {
		errs = append(errs, fmt.Sprintf("%d connections opened, TLSMetrics: %d on the loops, %d in goroutine mode: want all %s", opened, loop, gor, where))
	}
	if d := w.dials.Load(); r == weirClient && on != d {
		// Each cell's Client dials once: every Dial that returned a
		// connection handed exactly one off (checkClient).
		errs = append(errs, fmt.Sprintf("%d Dials returned a connection, %d handed off %s", d, on, where))
	}
	w.mu.Lock()
	errs = append(errs, w.wrong...)
	w.mu.Unlock()
	return errs
}

// listen is srv.ListenTLS on a free loopback port; srv.Listen when w is nil.
func (w *wssSide) listen(srv *engine.Server) error {
	if w == nil {
		return srv.Listen("127.0.0.1:0")
	}
	return srv.ListenTLS("127.0.0.1:0", w.cfg)
}

// url turns a ws:// URL into wss:// when w is set.
func (w *wssSide) url(u string) string {
	if w == nil {
		return u
	}
	return "wss://" + strings.TrimPrefix(u, "ws://")
}

// check adds srv's TLS counters (called before srv.Close).
func (w *wssSide) check(srv *engine.Server) {
	if w == nil {
		return
	}
	w.add(srv.TLSMetrics())
}

// add adds one side's TLS counters to the column's.
func (w *wssSide) add(m engine.TLSMetrics) {
	w.loop.Add(m.Loop)
	w.goroutine.Add(m.Goroutine)
	w.failed.Add(m.Failed)
}

// clientConfig is DialOptions.TLSConfig: nil for ws://.
func (w *wssSide) clientConfig() *tls.Config {
	if w == nil {
		return nil
	}
	return w.client
}

// checkClient adds cl's TLS counters (called before cl.Close); dialled says
// that cl's one Dial returned a connection, which must then have moved onto
// the loops: exactly one hand-off there and none in goroutine mode; with
// Config.GoroutinePerConn (w.goroutineMode) the other way round.
func (w *wssSide) checkClient(cl *engine.Client, dialled bool, cell string) {
	if w == nil {
		return
	}
	m := cl.TLSMetrics()
	w.add(m)
	var want uint64 // a refused handshake hands nothing off
	if dialled {
		w.dials.Add(1)
		want = 1
	}
	wantLoop, wantGor := want, uint64(0)
	if w.goroutineMode {
		wantLoop, wantGor = 0, want
	}
	if m.Loop != wantLoop || m.Goroutine != wantGor {
		w.mu.Lock()
		w.wrong = append(w.wrong, fmt.Sprintf("%s: weir's client connection: %d on the loops, %d in goroutine mode, want %d and %d", cell, m.Loop, m.Goroutine, wantLoop, wantGor))
		w.mu.Unlock()
	}
}

// testCert is a self-signed certificate for 127.0.0.1 and localhost, written
// to files for the peer processes, its own CA.
type testCert struct {
	certFile, keyFile string
	pool              *x509.CertPool
	pair              tls.Certificate
	spki              string // base64 SHA-256 of the SubjectPublicKeyInfo (Chromium's pin)
}

// newTestCert makes a certificate for one test, its files in t.TempDir().
func newTestCert(t *testing.T) *testCert {
	t.Helper()
	c, err := makeCert(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func makeCert(dir string) (*testCert, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "weir interop"},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
	c := &testCert{certFile: filepath.Join(dir, "cert.pem"), keyFile: filepath.Join(dir, "key.pem"), pool: x509.NewCertPool()}
	if err := errors.Join(os.WriteFile(c.certFile, certPEM, 0o644), os.WriteFile(c.keyFile, keyPEM, 0o600)); err != nil {
		return nil, err
	}
	if c.pair, err = tls.X509KeyPair(certPEM, keyPEM); err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	c.pool.AddCert(leaf)
	sum := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	c.spki = base64.StdEncoding.EncodeToString(sum[:])
	return c, nil
}

// serverConfig is what weir's ListenTLS gets: crypto/tls defaults.
func (c *testCert) serverConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{c.pair}}
}

// clientConfig is what weir's Dial gets: crypto/tls defaults, trusting c.
func (c *testCert) clientConfig() *tls.Config {
	return &tls.Config{RootCAs: c.pool}
}
