package engine

import (
	"crypto/tls"
	"errors"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/testcert"
)

// echoOver sends one message over rc, wants it back, and closes cleanly.
func echoOver(t *testing.T, rc *rawClient) {
	t.Helper()
	rc.send(true, frame.OpText, []byte("over tls"))
	if op, got := rc.readMessage(); op != frame.OpText || string(got) != "over tls" {
		t.Fatalf("echo: op %v, %q", op, got)
	}
	rc.send(true, frame.OpClose, []byte{0x03, 0xe8})
	rc.expectClose(1000)
}

// TestServeTLS serves wss from a listener of the caller's, TCP and Unix: on
// the loops with the record layer (in goroutine mode when the Config says
// so), until Close makes ServeTLS return ErrServerClosed and closes the
// listener.
func TestServeTLS(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, network string
		cfg           Config
		loops         bool
	}{
		{"tcp", "tcp", Config{}, true},
		{"tcp-inline", "tcp", Config{Dispatch: DispatchInline}, true},
		{"unix", "unix", Config{}, true},
		{"tcp-goroutine", "tcp", Config{GoroutinePerConn: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr := "127.0.0.1:0"
			if tc.network == "unix" {
				addr = filepath.Join(t.TempDir(), "wss.sock")
			}
			ln, err := net.Listen(tc.network, addr)
			if err != nil {
				t.Fatal(err)
			}
			h := newModeHandler()
			s, err := NewServer(h, &tc.cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			served := make(chan error, 1)
			go func() {
				served <- s.ServeTLS(ln, &tls.Config{Certificates: []tls.Certificate{cliTestCert(t).cert}})
			}()
			nc, err := net.DialTimeout(tc.network, ln.Addr().String(), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			tcn := tls.Client(nc, clientTLS(t))
			if err := tcn.Handshake(); err != nil {
				t.Fatal(err)
			}
			rc, resp := handshakeRaw(t, tcn, "localhost")
			if resp.StatusCode != 101 {
				t.Fatalf("handshake status %d", resp.StatusCode)
			}
			if loops := <-h.mode; loops != tc.loops {
				t.Fatalf("on the loops with the record layer: %v, want %v", loops, tc.loops)
			}
			echoOver(t, rc)
			if m := s.TLSMetrics(); tc.loops && m.Loop != 1 {
				t.Fatalf("TLS metrics %+v, want one connection on the loops", m)
			}
			if got := s.Addr(); got == nil || got.String() != ln.Addr().String() {
				t.Fatalf("Addr %v, want %v", got, ln.Addr())
			}
			s.Close()
			select {
			case err := <-served:
				if !errors.Is(err, ErrServerClosed) {
					t.Fatalf("ServeTLS returned %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("ServeTLS did not return after Close")
			}
			if c, err := net.DialTimeout(tc.network, ln.Addr().String(), time.Second); err == nil {
				c.Close()
				t.Fatal("the listener still accepts after Close")
			}
		})
	}
}

// TestListenAndServeTLS reads the certificate and key from PEM files and
// serves on the loops; a missing file is an error at once.
func TestListenAndServeTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile, err := testcert.WriteFiles(cliTestCert(t).cert, dir)
	if err != nil {
		t.Fatal(err)
	}
	h := newModeHandler()
	s, err := NewServer(h, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ListenAndServeTLS("127.0.0.1:0", filepath.Join(dir, "missing.pem"), keyFile); err == nil || errors.Is(err, ErrServerClosed) {
		t.Fatalf("missing certificate file: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- s.ListenAndServeTLS("127.0.0.1:0", certFile, keyFile) }()
	var addr net.Addr
	for deadline := time.Now().Add(10 * time.Second); addr == nil; time.Sleep(time.Millisecond) {
		if addr = s.Addr(); addr == nil && time.Now().After(deadline) {
			t.Fatal("not listening")
		}
	}
	rc := dialRawTLS(t, addr.String(), nil)
	if !<-h.mode {
		t.Fatal("the connection is not on the loops with the record layer")
	}
	echoOver(t, rc)
	s.Close()
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Fatalf("ListenAndServeTLS returned %v", err)
	}
}

// TestStartTLSRefuses: a nil tls.Config, and a closed server (which leaves
// the caller's listener open, as Start does).
func TestStartTLSRefuses(t *testing.T) {
	t.Parallel()
	s, err := NewServer(NopHandler{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := s.StartTLS(ln, nil); !errors.Is(err, ErrNoTLSConfig) {
		t.Fatalf("nil config: %v", err)
	}
	if err := s.ListenTLS("127.0.0.1:0", nil); !errors.Is(err, ErrNoTLSConfig) {
		t.Fatalf("ListenTLS, nil config: %v", err)
	}
	if _, err := s.TLSListener(ln, nil); !errors.Is(err, ErrNoTLSConfig) {
		t.Fatalf("TLSListener, nil config: %v", err)
	}
	s.Close()
	cfg := &tls.Config{Certificates: []tls.Certificate{cliTestCert(t).cert}}
	if err := s.StartTLS(ln, cfg); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("closed server: %v", err)
	}
	if err := s.ServeTLS(ln, cfg); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("ServeTLS, closed server: %v", err)
	}
	go func() {
		if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
			c.Close()
		}
	}()
	c, err := ln.Accept()
	if err != nil {
		t.Fatalf("the caller's listener was closed: %v", err)
	}
	c.Close()
}
