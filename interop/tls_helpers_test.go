package interop

import (
	"context"
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
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gorilla/websocket"
	"github.com/weir-ws/weir/engine"
)

// wss against weir's ListenTLS (issue #17): a certificate made per run, the
// peers that dial weir trusting it, and weir's side served over TLS.

// wssSide makes openServerSide listen with Server.ListenTLS and the peers dial
// wss://. It counts, over the servers it started, the connections that ran on
// the loops and in goroutine mode (Server.TLSMetrics), so a test can check
// that the record layer on the loops, not a fallback, carried the cells.
type wssSide struct {
	cfg                     *tls.Config
	loop, goroutine, failed atomic.Uint64
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
	m := srv.TLSMetrics()
	w.loop.Add(m.Loop)
	w.goroutine.Add(m.Goroutine)
	w.failed.Add(m.Failed)
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

// wssPeers are the client peers of the matrix, each trusting c: Node through
// NODE_EXTRA_CA_CERTS, Python (OpenSSL) through SSL_CERT_FILE, the Go
// libraries through RootCAs, Chromium through a pin of c's key
// (--ignore-certificate-errors-spki-list: certificate errors are ignored for
// this key only; the page it loads is served over https with c too). Chromium
// has no other way to trust a root here: its store is an NSS database and
// certutil (libnss3-tools) is not installed.
func wssPeers(c *testCert) []*peerSpec {
	var out []*peerSpec
	for _, p := range peers {
		if p.newClient == nil {
			continue
		}
		q := *p
		q.newServer = nil
		switch p.name {
		case "ws", "websocket", "watershed":
			lib := p.name
			q.newClient = func() (clientPeer, error) {
				return startProc(".", "env", "NODE_EXTRA_CA_CERTS="+c.certFile, "node", "peers/node/peer.js", "client", lib)
			}
		case "python-websockets":
			q.newClient = func() (clientPeer, error) {
				return startProc(".", "env", "SSL_CERT_FILE="+c.certFile, debianPython, "peers/python/peer.py", "client")
			}
		case "gorilla":
			q.newClient = func() (clientPeer, error) { return newGorillaClientTLS(&tls.Config{RootCAs: c.pool}), nil }
		case "gobwas":
			q.newClient = func() (clientPeer, error) { return newGobwasClientTLS(&tls.Config{RootCAs: c.pool}), nil }
		case "chromium":
			q.newClient = func() (clientPeer, error) {
				return startProc(".", "env", "WEIR_PAGE_CERT="+c.certFile, "WEIR_PAGE_KEY="+c.keyFile,
					"WEIR_CHROMIUM_ARGS=--ignore-certificate-errors-spki-list="+c.spki, "node", "peers/chromium/driver.js")
			}
		default:
			continue // a new peer: give it a way to trust c here
		}
		out = append(out, &q)
	}
	return out
}

// newGorillaClientTLS is newGorillaClient (gorilla_test.go) with a TLS config.
func newGorillaClientTLS(cfg *tls.Config) clientPeer {
	return &goClient{conn: func(cmd dialCmd) report {
		rep := newReport(cmd.ID, gorillaLib)
		if cmd.Version != 0 && cmd.Version != 13 {
			rep.Error = "gorilla/websocket dials only version 13"
			return rep
		}
		d := websocket.Dialer{Subprotocols: slices.Clone(cmd.Protocols), HandshakeTimeout: 10 * time.Second, TLSClientConfig: cfg}
		c, resp, err := d.Dial(cmd.URL, nil)
		if err != nil {
			rep.Error = err.Error()
			if resp != nil {
				rep.Status, rep.StatusReason = resp.StatusCode, resp.Header.Get("X-WebSocket-Reject-Reason")
			}
			return rep
		}
		runGorilla(c, &rep)
		return rep
	}}
}

// newGobwasClientTLS is newGobwasClient (gobwas_test.go) with a TLS config.
func newGobwasClientTLS(cfg *tls.Config) clientPeer {
	return &goClient{conn: func(cmd dialCmd) report {
		rep := newReport(cmd.ID, gobwasLib)
		if cmd.Version != 0 && cmd.Version != 13 {
			rep.Error = "gobwas/ws dials only version 13"
			return rep
		}
		d := ws.Dialer{Protocols: slices.Clone(cmd.Protocols), Timeout: 10 * time.Second, TLSConfig: cfg,
			OnStatusError: func(status int, reason []byte, resp io.Reader) {
				rep.Status, rep.StatusReason = status, string(reason)
			}}
		nc, br, hs, err := d.Dial(context.Background(), cmd.URL)
		if err != nil {
			var se ws.StatusError
			if errors.As(err, &se) {
				rep.Status = int(se)
			}
			rep.Error = err.Error()
			return rep
		}
		if br != nil {
			nc = bufConn{nc, io.MultiReader(br, nc)}
		}
		runGobwas(nc, ws.StateClientSide, hs.Protocol, &rep)
		return rep
	}}
}
