package engine

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/reactor"
	"github.com/weir-ws/weir/internal/uring"
	"github.com/weir-ws/weir/internal/wsconn"
)

// corkHandler answers every message with two writes from its turn (the echo,
// then a copy with its first byte 'B') and one from another goroutine started
// after them ('C'): the corked writes keep their order, and the other
// goroutine's never overtakes them.
type corkHandler struct {
	NopHandler
	wg sync.WaitGroup
}

func (h *corkHandler) OnMessage(c *Conn, op frame.Opcode, p []byte) {
	c.WriteMessage(op, p)
	q := bytes.Clone(p)
	q[0] = 'B'
	c.WriteMessage(op, q)
	r := bytes.Clone(p)
	r[0] = 'C'
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		c.WriteMessage(op, r)
	}()
}

// TestCorkOrder: many connections pipelining messages of many sizes (some
// past what a socket takes at once, some past what a connection corks) at the
// loops, whose batches cork (one loop and one worker, so that work waits and
// batches form even on a slow run). Not parallel: it checks that batches were
// corked.
func TestCorkOrder(t *testing.T) { loopModes(t, testCorkOrder) }

func testCorkOrder(t *testing.T, cfg Config) {
	h := &corkHandler{}
	defer h.wg.Wait()
	cfg.PingInterval, cfg.Loops, cfg.Workers = -1, 1, 1
	_, addr := startServer(t, h, cfg, nil)
	before := reactor.CorkedTurns()
	const conns, msgs = 24, 40
	sizes := []int{8, 100, 1000, 20000, 70000, 300}
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for i := range conns {
		rc := dialRaw(t, addr)
		wg.Add(2)
		go func() { // the writer
			defer wg.Done()
			for m := range msgs {
				p := make([]byte, sizes[(i+m)%len(sizes)])
				p[0] = 'A'
				binary.BigEndian.PutUint32(p[1:], uint32(m))
				if _, err := rc.nc.Write(frameBytes(true, frame.OpBinary, 0, p, true)); err != nil {
					errs <- err
					return
				}
			}
		}()
		go func() { // the reader: A(m) B(m) in order; C(m) after B(m)
			defer wg.Done()
			nextA, seenC := 0, 0
			wantB := -1
			for seenC < msgs || nextA < msgs || wantB >= 0 {
				h, p, err := rc.readFrame()
				if err != nil {
					errs <- fmt.Errorf("conn %d: %v (next A %d, C seen %d)", i, err, nextA, seenC)
					return
				}
				m := int(binary.BigEndian.Uint32(p[1:]))
				if want := sizes[(i+m)%len(sizes)]; h.Opcode != frame.OpBinary || len(p) != want {
					errs <- fmt.Errorf("conn %d: message %d: %v, %d bytes, want %d", i, m, h.Opcode, len(p), want)
					return
				}
				switch {
				case p[0] == 'A' && m == nextA && wantB < 0:
					nextA, wantB = nextA+1, m
				case p[0] == 'B' && m == wantB:
					wantB = -1
				case p[0] == 'C' && m < nextA && (m < nextA-1 || wantB < 0):
					seenC++
				default:
					errs <- fmt.Errorf("conn %d: %c%d out of order (next A %d, B wanted %d)", i, p[0], m, nextA, wantB)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if haveUring() && reactor.CorkedTurns() == before {
		t.Error("no batch corked")
	}
}

// haveUring reports whether io_uring is to be had here: without it nothing
// corks, and the tests check only that the writes are right.
func haveUring() bool {
	r := uring.Get()
	uring.Put(r)
	return r != nil
}

// gateHandler holds the turn of a "gate" message until release is closed, so
// that other connections' frames arrive meanwhile and then run as one batch
// (a loop's poll, or a pool worker that finds more work ready), which corks.
// Every other message is echoed, then then runs.
type gateHandler struct {
	NopHandler
	gated, release chan struct{}
	pre, then      func(c *Conn, p []byte) // before and after the echo
}

func newGate(then func(c *Conn, p []byte)) *gateHandler {
	return &gateHandler{gated: make(chan struct{}), release: make(chan struct{}), then: then}
}

func (h *gateHandler) OnMessage(c *Conn, op frame.Opcode, p []byte) {
	if string(p) == "gate" {
		close(h.gated)
		select {
		case <-h.release:
		case <-time.After(10 * time.Second):
		}
		return
	}
	if h.pre != nil {
		h.pre(c, p)
	}
	c.WriteMessage(op, p)
	if h.then != nil {
		h.then(c, p)
	}
}

// corkBatch starts a server with h (one loop, one worker) and n connections,
// and has each send its frames (send) while the gate holds the server, so
// that their turns run as one batch. It fails the test if io_uring is here
// and no batch corked.
func corkBatch(t *testing.T, cfg Config, h *gateHandler, n int, send func(rc *rawClient)) []*rawClient {
	t.Helper()
	cfg.Loops, cfg.Workers, cfg.PingInterval = 1, 1, -1
	_, addr := startServer(t, h, cfg, nil)
	gate := dialRaw(t, addr)
	rcs := make([]*rawClient, n)
	for i := range rcs {
		rcs[i] = dialRaw(t, addr)
		rcs[i].nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	}
	before := reactor.CorkedTurns()
	gate.send(true, frame.OpText, []byte("gate"))
	select {
	case <-h.gated:
	case <-time.After(10 * time.Second):
		t.Fatal("the gate's turn did not run")
	}
	for _, rc := range rcs {
		send(rc)
	}
	close(h.release)
	t.Cleanup(func() {
		if !haveUring() {
			return
		}
		// The count moves at the batch end, which comes after the batch's
		// turns: a turn that closed its connection (CloseNow, Abort) lets
		// the peer see the end before the loop or worker gets there.
		for deadline := time.Now().Add(5 * time.Second); reactor.CorkedTurns() == before && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		if reactor.CorkedTurns() == before {
			t.Error("no batch corked")
		}
	})
	return rcs
}

// loopModes are the modes whose batches cork.
func loopModes(t *testing.T, f func(t *testing.T, cfg Config)) {
	for _, m := range modes {
		if !m.cfg.GoroutinePerConn {
			t.Run(m.name, func(t *testing.T) { f(t, m.cfg) })
		}
	}
}

// readAll reads frames until n have come or the connection ends, as
// "op:payload" strings.
func readAll(rc *rawClient, n int) []string {
	var got []string
	for len(got) < n {
		h, p, err := rc.readFrame()
		if err != nil {
			return append(got, "err")
		}
		got = append(got, h.Opcode.String()+":"+string(p))
	}
	return got
}

// TestCorkPongOrder: data, a ping, data, in one segment, on connections whose
// turns run as one corked batch: the pong goes out behind the first echo
// (corked) and ahead of the second, as it does without corking (RFC 6455
// §5.5.3: a pong answers as soon as is practical, and the engine's pongs keep
// their place among the writes).
func TestCorkPongOrder(t *testing.T) {
	loopModes(t, func(t *testing.T, cfg Config) {
		rcs := corkBatch(t, cfg, newGate(nil), 6, func(rc *rawClient) {
			var b []byte
			b = append(b, frameBytes(true, frame.OpText, 0, []byte("one"), true)...)
			b = append(b, frameBytes(true, frame.OpPing, 0, []byte("p"), true)...)
			b = append(b, frameBytes(true, frame.OpText, 0, []byte("two"), true)...)
			rc.write(b)
		})
		for i, rc := range rcs {
			if got := strings.Join(readAll(rc, 3), "|"); got != "text:one|pong:p|text:two" {
				t.Errorf("conn %d: %s", i, got)
			}
		}
	})
}

// TestCorkCloseFlushes: a handler that echoes and then closes (CloseNow, or
// Abort with no close frame) in a corked batch: the echo, written before the
// close, reaches the peer before the close frame and the end of the stream.
func TestCorkCloseFlushes(t *testing.T) {
	for _, abort := range []bool{false, true} {
		name, want := "closenow", "text:hi|close:\x03\xe8bye|err"
		if abort {
			name, want = "abort", "text:hi|err"
		}
		t.Run(name, func(t *testing.T) {
			loopModes(t, func(t *testing.T, cfg Config) {
				h := newGate(func(c *Conn, p []byte) {
					if abort {
						c.Abort()
					} else {
						c.CloseNow(frame.StatusNormalClosure, "bye")
					}
				})
				rcs := corkBatch(t, cfg, h, 6, func(rc *rawClient) { rc.send(true, frame.OpText, []byte("hi")) })
				for i, rc := range rcs {
					if got := strings.Join(readAll(rc, 3), "|"); got != want {
						t.Errorf("conn %d: %q, want %q", i, got, want)
					}
				}
			})
		})
	}
}

// blockHandler echoes "n" (a connection's number), then blocks until that
// connection's peer has the echo (or 10 s): under DispatchPool a handler may
// block, and a corked echo must not wait for it (corker.rescue).
type blockHandler struct {
	NopHandler
	got []chan struct{}
}

func (h *blockHandler) OnMessage(c *Conn, op frame.Opcode, p []byte) {
	c.WriteMessage(op, p)
	select {
	case <-h.got[p[0]]:
	case <-time.After(10 * time.Second):
	}
}

// TestCorkBlockedHandler: under DispatchPool a handler that blocks after a
// corked write (until its peer has the echo) has the batch's corked writes
// sent by the watchdog, its own included, and the turn its worker took ahead
// given back to the pool: every echo arrives. Without the rescue the blocked
// turn holds its echo, and the peer's answer never comes. Both where the
// batch runs on a pool worker and where it runs on the loop.
func TestCorkBlockedHandler(t *testing.T) {
	if !haveUring() {
		if os.Getenv("CI") == "true" {
			t.Fatal("io_uring not available (CI=true: corked batches go untested)")
		}
		t.Skip("no io_uring here: nothing corks")
	}
	for _, onLoop := range []bool{false, true} {
		const n = 4
		h := &blockHandler{got: make([]chan struct{}, n)}
		for i := range h.got {
			h.got[i] = make(chan struct{}, 1)
		}
		s, addr := startServer(t, h, Config{Workers: 2, PingInterval: -1, Loops: 1}, nil)
		if !onLoop {
			s.e.Loops[0].Turns().SetSlowUntil(math.MaxInt64) // every turn in the pool
		}
		rcs := make([]*rawClient, n)
		for i := range rcs {
			rcs[i] = dialRaw(t, addr)
		}
		before := reactor.CorkedTurns()
		for round := 0; round < 20 && reactor.CorkedTurns() == before; round++ {
			for i, rc := range rcs {
				rc.send(true, frame.OpBinary, []byte{byte(i)})
			}
			var wg sync.WaitGroup
			for i, rc := range rcs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rc.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
					_, p, err := rc.readFrame()
					if err != nil || len(p) != 1 || p[0] != byte(i) {
						t.Errorf("on loop %v, round %d, conn %d: echo %v, %v", onLoop, round, i, p, err)
					}
					h.got[i] <- struct{}{}
				}()
			}
			wg.Wait()
			if t.Failed() {
				return
			}
		}
		if reactor.CorkedTurns() == before {
			t.Errorf("on loop %v: no batch corked in 20 rounds", onLoop)
		}
	}
}

// TestCorkBytesOut: bytes sent from a corked batch are counted out once the
// kernel has them (Stats, and keepalive's count of output the peer took,
// outTaken, which is bytes out less what the kernel holds), and not before:
// while corked they are in no socket.
func TestCorkBytesOut(t *testing.T) {
	loopModes(t, func(t *testing.T, cfg Config) {
		type seen struct {
			c      *Conn
			before uint64
		}
		conns := make(chan seen, 16)
		h := newGate(nil)
		h.pre = func(c *Conn, p []byte) { conns <- seen{c, c.Stats().BytesOut} }
		rcs := corkBatch(t, cfg, h, 6, func(rc *rawClient) { rc.send(true, frame.OpText, []byte("hi")) })
		for i, rc := range rcs {
			if got := strings.Join(readAll(rc, 1), "|"); got != "text:hi" {
				t.Errorf("conn %d: %q", i, got)
			}
		}
		deadline := time.Now().Add(10 * time.Second)
		for range rcs {
			s := <-conns
			want := s.before + 4 // the echo: 2 bytes of header, 2 of payload
			for s.c.Stats().BytesOut != want && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond) // the batch end's count follows the send
			}
			if got := s.c.Stats().BytesOut; got != want {
				t.Errorf("bytes out %d, want %d", got, want)
			}
		}
	})
}

// TestClientDoesNotCork: a client's connections never cork (corkRun), so a
// client's engine has no corker: its loops and workers run each turn without
// the look-ahead and watchdog a corking batch pays for. A server's has one
// where io_uring is to be had (the control: the check can see a corker).
func TestClientDoesNotCork(t *testing.T) {
	t.Parallel()
	if !haveUring() {
		if os.Getenv("CI") == "true" {
			t.Fatal("io_uring not available (CI=true: corked batches go untested)")
		}
		t.Skip("no io_uring here: nothing corks")
	}
	loopModes(t, func(t *testing.T, cfg Config) {
		cfg.PingInterval = -1
		s, addr := startServer(t, newEcho(), cfg, nil)
		cl, err := NewClient(nil, &cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		c, _, err := cl.Dial(cliCtx(t), "ws://"+addr+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		// A round trip: every loop's runner is running by then.
		if err := c.WriteMessage(frame.OpText, []byte("hi")); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.ReadMessage(cliCtx(t)); err != nil {
			t.Fatal(err)
		}
		corker := func(e *wsconn.Engine) bool {
			for _, l := range e.Loops {
				// An inline loop's worker is set before the loop runs; a
				// pool loop's runner publishes its corker (reactor.Loop.Corking).
				if l.Corking() {
					return true
				}
			}
			return false
		}
		if !corker(s.e) {
			t.Fatal("the server's engine has no corker: the check sees nothing")
		}
		if corker(cl.e) {
			t.Error("the client's engine has a corker")
		}
	})
}
