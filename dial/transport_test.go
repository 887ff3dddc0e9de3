package dial

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"testing"
	"time"
)

// TestTLSHandshakeHook: Options.TLSHandshake replaces tls.Client for a
// secure dial: it gets the socket and a clone of TLSConfig with ServerName
// from the address; what it returns is the connection; when it fails the
// socket is closed and its error returned.
func TestTLSHandshakeHook(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			defer nc.Close()
		}
	}()
	user := &tls.Config{NextProtos: []string{"x"}}
	errHook := errors.New("hook failed")
	for _, fail := range []bool{false, true} {
		var got net.Conn
		o := &Options{TLSConfig: user, NoProxy: true,
			TLSHandshake: func(ctx context.Context, nc net.Conn, cfg *tls.Config) (net.Conn, error) {
				if cfg == user || cfg.ServerName != "127.0.0.1" || cfg.NextProtos[0] != "x" {
					t.Errorf("hook got config %p (user's %p), ServerName %q", cfg, user, cfg.ServerName)
				}
				got = nc
				if fail {
					return nil, errHook
				}
				return nc, nil
			}}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		nc, err := Transport(ctx, "tcp", ln.Addr().String(), true, "127.0.0.1", o)
		cancel()
		if fail {
			if !errors.Is(err, errHook) || nc != nil {
				t.Fatalf("failing hook: %v %v", nc, err)
			}
			if _, werr := got.Write([]byte("x")); !errors.Is(werr, net.ErrClosed) {
				t.Fatalf("socket not closed after the hook failed: %v", werr)
			}
			continue
		}
		if err != nil || nc != got {
			t.Fatalf("hook's conn not returned: %v", err)
		}
		nc.Close()
	}
}
