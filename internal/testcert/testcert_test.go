package testcert

import (
	"crypto/tls"
	"net"
	"testing"
)

// TestPEMRoundTrip: the files WriteFiles writes load with
// tls.LoadX509KeyPair, and a client trusting New's pool completes a
// handshake with a server serving them, by IP and by name.
func TestPEMRoundTrip(t *testing.T) {
	t.Parallel()
	cert, pool, err := New("127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, err := WriteFiles(cert, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"127.0.0.1", "localhost"} {
		a, b := net.Pipe()
		srv := tls.Server(a, &tls.Config{Certificates: []tls.Certificate{loaded}})
		done := make(chan error, 1)
		go func() { done <- srv.Handshake() }()
		cli := tls.Client(b, &tls.Config{RootCAs: pool, ServerName: name})
		if err := cli.Handshake(); err != nil {
			t.Errorf("%s: client handshake: %v", name, err)
		}
		if err := <-done; err != nil {
			t.Errorf("%s: server handshake: %v", name, err)
		}
		a.Close() // net.Pipe has no buffer: a close_notify would wait for a reader
		b.Close()
	}
	if _, _, err := PEM(tls.Certificate{}); err == nil {
		t.Error("PEM of an empty certificate: no error")
	}
}
