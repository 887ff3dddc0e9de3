package engine

import (
	"context"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// TestShutdownWaitEndedByClose: a Shutdown waiting (with no deadline) for a
// peer that never answers its 1001 returns once a Close, or a second
// Shutdown whose deadline passes, has ended the connection. Before, each of
// them took a fresh census channel, which the last connection's Leave
// closed, and the first Shutdown's was never closed: it waited for good.
func TestShutdownWaitEndedByClose(t *testing.T) {
	t.Parallel()
	for _, then := range []struct {
		name string
		stop func(*Server)
	}{
		{"Close", func(s *Server) { s.Close() }},
		{"Shutdown", func(s *Server) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			s.Shutdown(ctx)
		}},
	} {
		t.Run(then.name, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				h := newEcho()
				s, addr := startServer(t, h, cfg, nil)
				rc := dialRaw(t, addr) // reads nothing, so never answers the 1001
				defer rc.nc.Close()
				rc.send(true, frame.OpText, []byte("x"))
				rc.readMessage() // open on the server
				waiting := make(chan error, 1)
				go func() { waiting <- s.Shutdown(context.Background()) }()
				for !s.e.stopping.Load() {
					time.Sleep(time.Millisecond)
				}
				time.Sleep(20 * time.Millisecond) // into its wait
				then.stop(s)
				h.waitClose(t)
				select {
				case <-waiting:
				case <-time.After(2 * time.Second):
					t.Fatal("Shutdown still waiting 2 s after its connection ended")
				}
			})
		})
	}
}
