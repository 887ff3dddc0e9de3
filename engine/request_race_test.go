package engine

import (
	"testing"

	"github.com/weir-ws/weir/frame"
)

// reqPoller reads Conn.Request from its own goroutine for as long as the
// connection lives, while the worker sets up the connection's rarely used
// state (here: failing it).
type reqPoller struct {
	NopHandler
	done chan struct{}
}

func (h *reqPoller) OnOpen(c *Conn) {
	go func() {
		defer close(h.done)
		for c.State() != StateClosed {
			_ = c.Request()
		}
	}()
}

// Conn.Request is safe from any goroutine (run with -race).
func TestRequestRace(t *testing.T) {
	forModes(t, func(t *testing.T, cfg Config) {
		h := &reqPoller{done: make(chan struct{})}
		_, addr := startServer(t, h, cfg, nil)
		rc := dialRaw(t, addr)
		rc.write(frameBytes(true, frame.OpText, 0, []byte("hi"), false)) // unmasked: 1002
		rc.expectClose(frame.StatusProtocolError)
		rc.expectEOF()
		<-h.done
	})
}
