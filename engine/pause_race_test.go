package engine

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// serverFD is the number of the socket under a server connection on a loop.
func serverFD(c *Conn) int { return c.c.FD.Num() }

// TestPauseAfterCloseSparesFdReuser: PauseRead and ResumeRead on a connection that
// has closed must not touch its old fd number, which the next accepted connection
// already owns: that connection goes on reading. Not parallel: other tests opening
// sockets meanwhile would take the number this test waits for.
func TestPauseAfterCloseSparesFdReuser(t *testing.T) {
	for _, m := range modes {
		if m.cfg.GoroutinePerConn {
			continue
		}
		t.Run(m.name, func(t *testing.T) {
			cfg := m.cfg
			cfg.PingInterval = -1
			cfg.Loops = 1 // B on A's poller
			h := &psCloseHandler{psHandler: newPSHandler(), closed: make(chan closeRecord, 64)}
			_, addr := startServer(t, h, cfg, nil)
			ra := dialRaw(t, addr)
			a := h.conn(t)
			old := serverFD(a)
			ra.nc.Close()
			select {
			case <-h.closed:
			case <-time.After(10 * time.Second):
				t.Fatal("A was not closed")
			}
			// Connect until a server connection gets A's old number (the lowest
			// free one: usually the next accept).
			var rb *rawClient
			var b *Conn
			for range 20 {
				rc := dialRaw(t, addr)
				if c := h.conn(t); serverFD(c) == old {
					rb, b = rc, c
					break
				}
			}
			if b == nil {
				t.Skipf("no new connection got fd %d", old)
			}
			a.PauseRead()
			a.ResumeRead()
			a.PauseRead()
			if b.IsPaused() {
				t.Fatal("B paused by A's PauseRead")
			}
			rb.send(true, frame.OpText, []byte("still reading"))
			waitFor(t, func() bool { return slices.Contains(h.got(), "still reading") })
		})
	}
}

// TestPauseResumeHammer: PauseRead and ResumeRead from two goroutines at once, then
// a last ResumeRead, leave the connection reading, every time: the last call wins
// and no interleaving loses the switch of input interest back on. The resuming
// goroutine waits for the pause to show, so that its ResumeRead lands while the
// PauseRead is still under way.
func TestPauseResumeHammer(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		h, rc, c := psOpen(t, cfg)
		for round := range 100 {
			var wg sync.WaitGroup
			wg.Add(2)
			go func() {
				defer wg.Done()
				c.PauseRead()
			}()
			go func() {
				defer wg.Done()
				for deadline := time.Now().Add(5 * time.Second); !c.IsPaused() && time.Now().Before(deadline); {
				}
				c.ResumeRead()
			}()
			wg.Wait()
			c.ResumeRead()
			m := fmt.Sprintf("round %d", round)
			rc.send(true, frame.OpText, []byte(m))
			deadline := time.Now().Add(10 * time.Second)
			for !slices.Contains(h.got(), m) {
				if time.Now().After(deadline) {
					t.Fatalf("%s: no message after the last ResumeRead (paused %v)", m, c.IsPaused())
				}
				time.Sleep(time.Millisecond)
			}
		}
	})
}
