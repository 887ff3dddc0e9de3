package engine

import (
	"bytes"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// pingHandler records pings and pongs; cancel makes OnPing cancel the auto-pong.
type pingHandler struct {
	*openHandler
	cancel atomic.Bool
	pings  chan []byte
	pongs  chan []byte
}

func newPingHandler() *pingHandler {
	return &pingHandler{openHandler: newOpenHandler(), pings: make(chan []byte, 64), pongs: make(chan []byte, 64)}
}

func (h *pingHandler) OnPing(c *Conn, p []byte) bool {
	pong := !h.cancel.Load() // before the test hears of the ping and flips cancel
	h.pings <- bytes.Clone(p)
	return pong
}

func (h *pingHandler) OnPong(c *Conn, p []byte) { h.pongs <- bytes.Clone(p) }

func TestPingPong(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		h := newPingHandler()
		_, addr := startServer(t, h, cfg, nil)
		rc := dialRaw(t, addr)
		c := h.conn(t)

		// A ping is answered with its payload, also between fragments of a message.
		rc.send(false, frame.OpText, []byte("hel"))
		rc.send(true, frame.OpPing, []byte("are you there"))
		hd, p, err := rc.readFrame()
		if err != nil || hd.Opcode != frame.OpPong || string(p) != "are you there" {
			t.Fatalf("pong: %v %q %v", hd.Opcode, p, err)
		}
		rc.send(true, frame.OpContinuation, []byte("lo"))
		if _, msg := rc.readMessage(); string(msg) != "hello" {
			t.Fatalf("message around the ping: %q", msg)
		}
		if got := <-h.pings; string(got) != "are you there" {
			t.Fatalf("OnPing saw %q", got)
		}

		// OnPing can cancel the pong for one ping.
		h.cancel.Store(true)
		rc.send(true, frame.OpPing, []byte("cancelled"))
		<-h.pings
		h.cancel.Store(false)
		rc.send(true, frame.OpPing, []byte("second"))
		hd, p, _ = rc.readFrame()
		if hd.Opcode != frame.OpPong || string(p) != "second" {
			t.Fatalf("after a cancelled ping: %v %q", hd.Opcode, p)
		}

		// Server pings, and sees the client's pong.
		if err := c.Ping([]byte("srv")); err != nil {
			t.Fatal(err)
		}
		hd, p, _ = rc.readFrame()
		if hd.Opcode != frame.OpPing || string(p) != "srv" {
			t.Fatalf("server ping: %v %q", hd.Opcode, p)
		}
		rc.send(true, frame.OpPong, p)
		if got := <-h.pongs; string(got) != "srv" {
			t.Fatalf("OnPong saw %q", got)
		}
		if err := c.Ping(make([]byte, 126)); !errors.Is(err, ErrControlTooLong) {
			t.Fatalf("Ping(126 bytes) = %v", err)
		}
		if err := c.Pong(make([]byte, 126)); !errors.Is(err, ErrControlTooLong) {
			t.Fatalf("Pong(126 bytes) = %v", err)
		}
	})
}

func TestDisableAutoPong(t *testing.T) {
	t.Parallel()
	h := newPingHandler()
	_, addr := startServer(t, h, Config{DisableAutoPong: true}, nil)
	rc := dialRaw(t, addr)
	rc.send(true, frame.OpPing, []byte("x"))
	<-h.pings
	rc.send(true, frame.OpText, []byte("after"))
	if op, msg := rc.readMessage(); op != frame.OpText || string(msg) != "after" {
		t.Fatalf("got %v %q", op, msg)
	}
	// readMessage skips control frames; check none was a pong by reading raw.
	rc.send(true, frame.OpPing, []byte("y"))
	<-h.pings
	rc.send(true, frame.OpBinary, []byte("z"))
	hd, _, _ := rc.readFrame()
	if hd.Opcode != frame.OpBinary {
		t.Fatalf("got %v, want the echo and no pong", hd.Opcode)
	}
}

// TestPingFloodNoRead: a peer that floods pings and never reads cannot grow the
// server's memory: only the latest pong waits behind the blocked output.
func TestPingFloodNoRead(t *testing.T) {
	t.Parallel()
	// Goroutine mode writes block instead of queueing, so only the loop modes queue.
	forLoopModes(t, func(t *testing.T, cfg Config) {
		// Read backpressure would stop reading the pings at once (TestBackpressure*):
		// off, to see the pongs' own bound.
		cfg.WriteHighWater = -1
		h := newOpenHandler()
		_, addr := startServer(t, h, cfg, nil)
		rc := dialRaw(t, addr)
		c := h.conn(t)
		// Fill the path to the client, which does not read.
		big := make([]byte, 1<<20)
		for c.BufferedAmount() == 0 {
			c.WriteBinary(big)
		}
		queued := c.BufferedAmount()
		ping := frameBytes(true, frame.OpPing, 0, make([]byte, 125), true)
		flood := bytes.Repeat(ping, 2000) // 2000 pings, 262 KB
		rc.write(flood)
		deadline := time.Now().Add(5 * time.Second)
		for c.Stats().FramesIn < 2000 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if got := c.Stats().FramesIn; got < 2000 {
			t.Fatalf("server read %d frames", got)
		}
		if grown := c.BufferedAmount() - queued; grown > 2+125 { // one pong frame
			t.Fatalf("buffered output grew by %d bytes under a ping flood", grown)
		}
	})
}
