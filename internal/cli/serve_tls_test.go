package cli

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key
// into dir and returns the two file names.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "weir serve test"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestServeTLSFlags: -tls-cert and -tls-key load a key pair, go together,
// and a bad file is an error.
func TestServeTLSFlags(t *testing.T) {
	t.Parallel()
	cert, key := selfSigned(t, t.TempDir())
	tests := []struct {
		args    []string
		wantCfg bool
		wantErr bool
	}{
		{nil, false, false},
		{[]string{"-tls-cert", cert, "-tls-key", key}, true, false},
		{[]string{"-tls-cert", cert}, false, true},
		{[]string{"-tls-key", key}, false, true},
		{[]string{"-tls-cert", key, "-tls-key", key}, false, true},
	}
	for _, tc := range tests {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		f := addServeTLSFlags(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		cfg, err := f.config()
		if (cfg != nil) != tc.wantCfg || (err != nil) != tc.wantErr {
			t.Errorf("%q: config %v, err %v", tc.args, cfg != nil, err)
		}
	}
}

// TestServeTLSCat: weir serve with a self-signed certificate serves wss on
// the event loops (the server's TLS metrics count a loop hand-off, no
// goroutine mode), and weir cat -insecure gets its echo; without -insecure
// the certificate is refused.
func TestServeTLSCat(t *testing.T) {
	t.Parallel()
	certFile, keyFile := selfSigned(t, t.TempDir())
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	f := addServeTLSFlags(fs)
	if err := fs.Parse([]string{"-tls-cert", certFile, "-tls-key", keyFile, "-tls-addr", "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := f.config()
	if err != nil {
		t.Fatal(err)
	}
	d := startTestDemo(t, demoOptions{TLS: cfg, TLSAddr: *f.addr})
	url := "wss://" + d.srv.Addr().String() + "/"

	var stdout, stderr bytes.Buffer
	if err := runCat(testCtx(t), []string{"-timeout", "1m", "-insecure", "-quiet", "-x", "hello over wss", url}, strings.NewReader(""), &stdout, &stderr); err != nil {
		t.Fatalf("cat: %v (%s)", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "hello over wss") {
		t.Fatalf("cat printed %q", stdout.String())
	}
	if m := d.srv.TLSMetrics(); m.Loop != 1 || m.Goroutine != 0 || m.Failed != 0 {
		t.Fatalf("server TLS metrics %+v: not on the loops", m)
	}

	// -timeout 1m: the refusal must be the certificate's, not a handshake
	// that a loaded machine did not finish within the default 10 s.
	err = runCat(testCtx(t), []string{"-timeout", "1m", "-quiet", "-x", "x", url}, strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("cat without -insecure: %v", err)
	}
}
