package engine

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// stackHandler echoes and reports whether each message was handled on a
// loop goroutine (its stack holds the reactor loop's run) rather than on a pool worker.
type stackHandler struct {
	NopHandler
	onLoop chan bool
	block  chan struct{} // a message "block" waits here
	held   chan bool     // whether "block" waits on a loop goroutine
}

func onLoopGoroutine() bool {
	buf := make([]byte, 64<<10)
	buf = buf[:runtime.Stack(buf, false)]
	return bytes.Contains(buf, []byte("reactor.(*Loop[...]).run"))
}

func (h *stackHandler) OnMessage(c *Conn, op frame.Opcode, p []byte) {
	if string(p) == "block" {
		h.held <- onLoopGoroutine()
		<-h.block
		return
	}
	select {
	case h.onLoop <- onLoopGoroutine():
	default:
	}
	c.WriteMessage(op, p)
}

// TestPoolRunsLoneReadOnLoop: under DispatchPool, a lone ready connection (a
// small batch) is run by the loop itself, not handed to a worker: the hand-off
// would cost a channel send, a thread wake-up and two context switches per read
// (issue 15).
func TestPoolRunsLoneReadOnLoop(t *testing.T) {
	t.Parallel()
	h := &stackHandler{onLoop: make(chan bool, 1)}
	s, addr := startServer(t, h, Config{Loops: 1}, nil)
	rc := dialRaw(t, addr)
	// A slow turn (on a busy machine, under -race) starts a slow phase, where
	// batches go to the pool: the handshake's turn may end (and start one)
	// after the client has its 101, and so after a reset made then. Each try
	// resets it before its message; a loop that never runs a lone read itself
	// fails them all.
	const tries = 10
	for range tries {
		s.e.Loops[0].Turns().SetSlowUntil(0)
		rc.send(true, frame.OpText, []byte("hello"))
		if _, p := rc.readMessage(); string(p) != "hello" {
			t.Fatalf("echo %q", p)
		}
		if <-h.onLoop {
			return
		}
	}
	t.Fatalf("a lone read was handed to the pool %d times out of %d, want it run on the loop", tries, tries)
}

// TestPoolBlockedHandlerDoesNotStallLoop: under DispatchPool, a handler that
// blocks (here: until the test ends) while the loop runs it must not stall the
// other connections of that loop: another goroutine takes the loop over.
func TestPoolBlockedHandlerDoesNotStallLoop(t *testing.T) {
	t.Parallel()
	h := &stackHandler{onLoop: make(chan bool, 16), block: make(chan struct{}), held: make(chan bool, 1)}
	s, addr := startServer(t, h, Config{Loops: 1}, nil)
	b := dialRaw(t, addr)
	t.Cleanup(func() { close(h.block) }) // before the server's Close (cleanups run last-in first)
	// A slow turn (on a busy machine, under -race: a handshake, a takeover)
	// may put the loop in its slow phase, where "block" goes to the pool: end
	// it and try again on a fresh connection (the one in the pool stays
	// blocked on a worker until the test ends), a few times.
	for try := 1; ; try++ {
		a := dialRaw(t, addr)
		s.e.Loops[0].Turns().SetSlowUntil(0)
		a.send(true, frame.OpText, []byte("block"))
		if <-h.held {
			break
		}
		if try == 4 {
			t.Fatal(`"block" was handed to the pool 4 times: the test needs it on the loop`)
		}
	}
	for i := range 3 {
		done := make(chan []byte, 1)
		go func() {
			b.send(true, frame.OpText, []byte("ping"))
			_, p := b.readMessage()
			done <- p
		}()
		select {
		case p := <-done:
			if string(p) != "ping" {
				t.Fatalf("round %d: echo %q", i, p)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("round %d: no echo while another connection's handler blocks", i)
		}
	}
}

// TestTakeoverLogRateLimited: every takeover is counted, but a starved machine
// (CI under -race takes over loops dozens of times a minute) logs it once a
// minute, not once each.
func TestTakeoverLogRateLimited(t *testing.T) {
	t.Parallel()
	var logs syncBuf
	s, _ := startServer(t, NopHandler{}, Config{Loops: 1, Logger: logTo(&logs)}, nil)
	for range 50 {
		s.e.TookOver()
	}
	if n := s.Metrics().LoopTakeovers; n != 50 {
		t.Fatalf("LoopTakeovers = %d, want 50", n)
	}
	if n := strings.Count(logs.String(), "blocked its event loop"); n != 1 {
		t.Fatalf("%d log lines for 50 takeovers in a minute, want 1:\n%s", n, logs.String())
	}
}
