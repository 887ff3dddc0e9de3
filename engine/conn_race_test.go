package engine

import (
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// badFrameOnMessage answers a client's first message with a frame carrying an
// RSV bit no extension defines, which makes the client fail the connection.
type badFrameOnMessage struct{ NopHandler }

func (badFrameOnMessage) OnMessage(c *Conn, _ frame.Opcode, _ []byte) {
	c.WriteFrame(true, frame.OpBinary, frame.Rsv2, []byte("x"))
}

// A client connection's writers (any goroutine) mask every frame while its
// worker sets up the state a failing connection records: the two must not
// share memory without a lock (run with -race).
func TestClientWriteWhileFailingRace(t *testing.T) {
	forModes(t, func(t *testing.T, cfg Config) {
		_, addr := startServer(t, badFrameOnMessage{}, cfg, nil)
		cl := cliClient(t, nil, cfg)
		c := cliDial(t, cl, "ws://"+addr+"/", nil)
		// Write until the failure shows; a full write buffer (goroutine mode
		// queues every write for its writer) is not it.
		// The bound is in time, not in writes: on a loaded box 10 million
		// writes took 1.8 s, before the client's reader had its turn.
		var err error
		deadline := time.Now().Add(time.Minute)
		for i := 0; ; i++ {
			err = c.WriteText("hello")
			if err != nil && !errors.Is(err, ErrWriteBufferFull) {
				break
			}
			if err != nil {
				runtime.Gosched() // full: let the reader and writer run
			}
			if i%1024 == 0 && time.Now().After(deadline) {
				t.Fatal("the client never failed")
			}
		}
		if c.State() != StateClosing && c.State() != StateClosed {
			t.Fatalf("state %v after a refused write (%v)", c.State(), err)
		}
	})
}
