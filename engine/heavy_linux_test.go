package engine

import (
	"bytes"
	"math"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/wsconn"
)

// heavyHandler pauses each connection on open (so that the test can let input
// pile up in the socket first) and records, per message, whether the
// connection was heavy when it was handled.
type heavyHandler struct {
	NopHandler
	open chan *Conn
	msgs chan bool // stHeavy at each message, in order
}

func (h *heavyHandler) OnOpen(c *Conn) {
	c.PauseRead()
	h.open <- c
}

func (h *heavyHandler) OnMessage(c *Conn, op frame.Opcode, p []byte) {
	h.msgs <- c.c.Sched.Load()&wsconn.StHeavy != 0
}

// TestReadTurnMakesHeavy: a turn that starts with more input waiting than a
// light turn may read ends after its first full read and makes the connection
// heavy (its later turns read with the full budget, in the back lane); a turn
// that reads the socket dry having read little makes it light again. Real
// sockets; no timing: the input is in the server's socket before reading
// resumes.
func TestReadTurnMakesHeavy(t *testing.T) {
	t.Parallel()
	const frames, size = 8, 32 << 10
	h := &heavyHandler{open: make(chan *Conn, 1), msgs: make(chan bool, frames+2)}
	s, addr := startServer(t, h, Config{Loops: 1, Workers: 1}, nil)
	s.e.Loops[0].Turns().SetSlowUntil(math.MaxInt64) // every turn in the pool
	rc := dialRaw(t, addr)
	var c *Conn
	select {
	case c = <-h.open:
	case <-time.After(10 * time.Second):
		t.Fatal("no OnOpen")
	}
	msg := frameBytes(true, frame.OpBinary, 0, bytes.Repeat([]byte{1}, size), true)
	go rc.nc.Write(bytes.Repeat(msg, frames)) // 256 KiB: more than the socket may take at once
	// Wait until more than a light turn's read is in the server's socket.
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := unix.IoctlGetInt(c.c.FD.Int(), unix.SIOCINQ)
		if err != nil {
			t.Fatal(err)
		}
		if n >= 96<<10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d bytes arrived in the server's socket", n)
		}
		time.Sleep(time.Millisecond)
	}
	c.ResumeRead()
	sawHeavy := false
	for i := range frames {
		select {
		case heavy := <-h.msgs:
			sawHeavy = sawHeavy || heavy
		case <-time.After(10 * time.Second):
			t.Fatalf("message %d of %d not delivered", i+1, frames)
		}
	}
	if !sawHeavy {
		t.Fatalf("no message of a %d KiB burst was handled with the connection heavy", frames*size>>10)
	}
	// Two small messages, one at a time: the first one's turn reads the
	// socket dry with a few bytes, so the second one finds the connection
	// light.
	for i, want := range []string{"first", "second"} {
		rc.send(true, frame.OpText, []byte(want))
		select {
		case heavy := <-h.msgs:
			if i == 1 && heavy {
				t.Fatal("still heavy after a turn that read a few bytes and drained the socket")
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%q not delivered", want)
		}
	}
}
