package engine

import (
	"strings"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/wsconn"
)

// A PauseRead or ResumeRead that reaches the connection's owner in the same turn
// as the request that finishes it does nothing: no epoll_ctl on the closed
// handle (which would fail with EBADF and log a warning).
func TestPauseAfterFinishInSameTurn(t *testing.T) {
	t.Parallel()
	forLoopModes(t, func(t *testing.T, cfg Config) {
		_, addr := startServer(t, NopHandler{}, cfg, nil)
		var log syncBuf
		ccfg := cfg
		ccfg.Logger = logTo(&log)
		cl := cliClient(t, NopHandler{}, ccfg)
		for range 200 {
			c := cliDial(t, cl, "ws://"+addr+"/", nil)
			// Take the running bit as a worker would, so that the close request
			// and the pause are handled in one turn.
			for c.c.Sched.Or(wsconn.EvRunning)&wsconn.EvRunning != 0 {
				time.Sleep(time.Millisecond)
			}
			c.Abort()
			c.PauseRead()
			c.c.Eng().Reactor.Run(wsconn.NewWorker(cfg.filled().ReadBufferSize), &c.c)
			for deadline := time.Now().Add(10 * time.Second); c.State() != StateClosed; {
				if time.Now().After(deadline) {
					t.Fatal("the aborted connection never closed")
				}
				time.Sleep(time.Millisecond)
			}
		}
		if strings.Contains(log.String(), "poller modify") {
			t.Fatalf("a pause after finish reached the poller:\n%s", log.String())
		}
	})
}

// A ping and a close frame in one read: the pong owed for the ping goes out
// before the close echo (it was batched for the end of the turn, and the close
// must not drop it).
func TestPongBeforeCloseEcho(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		_, addr := startServer(t, NopHandler{}, cfg, nil)
		rc := dialRaw(t, addr)
		b := frameBytes(true, frame.OpPing, 0, []byte("hello"), true)
		b = append(b, frameBytes(true, frame.OpClose, 0, []byte{0x03, 0xe8}, true)...)
		rc.write(b)
		h, p, err := rc.readFrame()
		if err != nil || h.Opcode != frame.OpPong || string(p) != "hello" {
			t.Fatalf("first frame %v %q %v, want the pong", h.Opcode, p, err)
		}
		rc.expectClose(frame.StatusNormalClosure)
	})
}
