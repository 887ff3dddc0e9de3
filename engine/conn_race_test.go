package engine

import (
	"errors"
	"testing"

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
		var err error
		for i := 0; ; i++ {
			err = c.WriteText("hello")
			if err != nil && !errors.Is(err, ErrWriteBufferFull) {
				break
			}
			if i > 10_000_000 {
				t.Fatal("the client never failed")
			}
		}
		if c.State() != StateClosing && c.State() != StateClosed {
			t.Fatalf("state %v after a refused write (%v)", c.State(), err)
		}
	})
}
