package engine

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// TestCloseEndsDialInFlight: a Dial still in its opening handshake (the
// server accepted TCP and never answers) when Client.Close runs returns
// ErrClientClosed at once, its socket closed. Before, Close did not reach
// it: it went on until its own bound (HandshakeTimeout, 10 s by default;
// none with a negative one), then reported that timeout, holding its
// socket meanwhile.
func TestCloseEndsDialInFlight(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		cl, err := NewClient(nil, &cfg)
		if err != nil {
			t.Fatal(err)
		}
		dialed := make(chan error, 1)
		go func() {
			_, _, err := cl.Dial(context.Background(), "ws://"+ln.Addr().String(), &DialOptions{HandshakeTimeout: -1})
			dialed <- err
		}()
		nc, err := ln.Accept() // the request comes, no answer goes
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.Read(make([]byte, 1))
		cl.Close()
		select {
		case err := <-dialed:
			if !errors.Is(err, ErrClientClosed) {
				t.Errorf("Dial: %v, want ErrClientClosed", err)
			}
		case <-time.After(3 * time.Second):
			t.Fatal("Dial still running 3 s after Close")
		}
		nc.SetReadDeadline(time.Now().Add(3 * time.Second))
		if _, err := io.ReadAll(nc); err != nil {
			t.Errorf("server side: %v (the dial's socket was not closed)", err)
		}
	})
}
