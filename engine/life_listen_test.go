package engine

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// TestListenWhileStopping: Listen, Start, StartTLS, ListenTLS and
// TLSListener called while a Shutdown waits for its connections return
// ErrServerClosed and leave no listener open, and the Shutdown returns.
// Before, they checked only the closed flag, set at the very end of the
// stop: a listener added after stopAccepting was never closed (its socket
// leaked, still accepting on a loop), and in goroutine mode its accept
// goroutine blocked for good in Accept, so the Shutdown never returned.
func TestListenWhileStopping(t *testing.T) {
	t.Parallel()
	srvTLS := &tls.Config{Certificates: []tls.Certificate{cliTestCert(t).cert}}
	for _, tc := range []struct {
		name   string
		listen func(s *Server, ln net.Listener) error
	}{
		{"Listen", func(s *Server, _ net.Listener) error { return s.Listen("127.0.0.1:0") }},
		{"Start", func(s *Server, ln net.Listener) error { return s.Start(ln) }},
		{"StartTLS", func(s *Server, ln net.Listener) error { return s.StartTLS(ln, srvTLS) }},
		{"ListenTLS", func(s *Server, _ net.Listener) error { return s.ListenTLS("127.0.0.1:0", srvTLS) }},
		{"TLSListener", func(s *Server, ln net.Listener) error {
			_, err := s.TLSListener(ln, srvTLS)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				s, addr := startServer(t, NopHandler{}, cfg, nil)
				rc := dialRaw(t, addr) // never answers the 1001: Shutdown waits
				defer rc.nc.Close()
				rc.send(true, frame.OpText, []byte("x"))
				ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
				defer cancel()
				returned := make(chan struct{})
				go func() { s.Shutdown(ctx); close(returned) }()
				for !s.e.Stopping.Load() {
					time.Sleep(time.Millisecond)
				}
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				defer ln.Close()
				if err := tc.listen(s, ln); !errors.Is(err, ErrServerClosed) {
					t.Errorf("%s while stopping: %v, want ErrServerClosed", tc.name, err)
				}
				select {
				case <-returned:
				case <-time.After(3 * time.Second):
					t.Fatal("Shutdown has not returned in 3 s")
				}
			})
		})
	}
}
