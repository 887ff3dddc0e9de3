package engine

import (
	"context"
	"sync"
	"sync/atomic"
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
				for !s.e.Stopping.Load() {
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

// TestStopTwiceWaits: of two stops at once (Close and Close, Shutdown and
// Close, a Client's Close twice) neither returns before the connection's
// OnClose, slow here, has returned. Before, the second to reach the engine's
// stop found the goroutine group or the reactor stopped already and
// returned at once, also closing the pollers under the running loops.
func TestStopTwiceWaits(t *testing.T) {
	t.Parallel()
	closeIt := func(s *Server) { s.Close() }
	short := func(s *Server) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		defer cancel()
		s.Shutdown(ctx)
	}
	for _, tc := range []struct {
		name  string
		stops [2]func(*Server)
	}{
		{"Close/Close", [2]func(*Server){closeIt, closeIt}},
		{"Shutdown/Close", [2]func(*Server){short, closeIt}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				h := &slowOnClose{}
				s, addr := startServer(t, h, cfg, nil)
				rc := dialRaw(t, addr)
				defer rc.nc.Close()
				rc.send(true, frame.OpText, []byte("x"))
				for h.opened.Load() == 0 {
					time.Sleep(time.Millisecond)
				}
				twice(t, h, func(i int) { tc.stops[i](s) })
			})
		})
	}
	t.Run("Client", func(t *testing.T) {
		t.Parallel()
		forModes(t, func(t *testing.T, cfg Config) {
			_, addr := startServer(t, NopHandler{}, cfg, nil)
			h := &slowOnClose{}
			cl := cliClient(t, h, cfg)
			cliDial(t, cl, "ws://"+addr, nil)
			twice(t, h, func(int) { cl.Close() })
		})
	})
}

// twice runs stop(0) and stop(1) at once and checks that neither returns
// while h's OnClose runs.
func twice(t *testing.T, h *slowOnClose, stop func(i int)) {
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			stop(i)
			if in, out := h.in.Load(), h.out.Load(); in != 1 || out != 1 {
				t.Errorf("stop %d returned with OnClose begun %d times, ended %d", i, in, out)
			}
		})
	}
	wg.Wait()
}

// slowOnClose takes 100 ms in OnClose.
type slowOnClose struct {
	NopHandler
	opened, in, out atomic.Int32
}

func (h *slowOnClose) OnOpen(*Conn) { h.opened.Add(1) }

func (h *slowOnClose) OnClose(*Conn, frame.StatusCode, string, error) {
	h.in.Add(1)
	time.Sleep(100 * time.Millisecond)
	h.out.Add(1)
}
