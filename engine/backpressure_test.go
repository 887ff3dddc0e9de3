package engine

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// Backpressure: a peer that never reads makes the server's writes queue, and the
// outbound cap (Config.MaxWriteBuffer) applies the WriteBufferPolicy. Only the loop
// modes queue; in goroutine mode a write blocks until the socket takes it.

const bpMsgSize = 16 << 10

// bpHandler hands out the server-side Conn and records OnDrain and OnClose.
type bpHandler struct {
	NopHandler
	opened   chan *Conn
	closed   chan closeRecord
	drains   atomic.Int32
	drainBuf atomic.Int64 // BufferedAmount seen by the latest OnDrain
}

func newBPHandler() *bpHandler {
	return &bpHandler{opened: make(chan *Conn, 4), closed: make(chan closeRecord, 4)}
}

func (h *bpHandler) OnOpen(c *Conn) { h.opened <- c }

func (h *bpHandler) OnDrain(c *Conn) {
	h.drainBuf.Store(int64(c.BufferedAmount()))
	h.drains.Add(1)
}

func (h *bpHandler) OnClose(c *Conn, code frame.StatusCode, reason string, err error) {
	h.closed <- closeRecord{code, reason, err}
}

func (h *bpHandler) conn(t testing.TB) *Conn {
	t.Helper()
	select {
	case c := <-h.opened:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no OnOpen within 10s")
	}
	return nil
}

func (h *bpHandler) waitClose(t testing.TB) closeRecord {
	t.Helper()
	select {
	case r := <-h.closed:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no OnClose within 10s")
	}
	return closeRecord{}
}

// bpMsg is message number seq: its first 8 bytes carry seq, the rest a pattern.
func bpMsg(seq uint64, size int) []byte {
	p := make([]byte, size)
	binary.BigEndian.PutUint64(p, seq)
	for i := 8; i < size; i++ {
		p[i] = byte(seq) + byte(i)
	}
	return p
}

// bpDial connects a client that does not read. Its receive buffer is pinned (which
// turns autotuning off), so the kernel stops taking the server's output at a fixed
// point. It stays well above the loopback MSS (64 KiB): a receive window that cannot
// reach one MSS is never reopened by the receiver (silly-window avoidance) and the
// stream would crawl on zero-window probes once the client reads.
func bpDial(t *testing.T, addr string) *rawClient {
	t.Helper()
	rc := dialRaw(t, addr)
	if err := rc.nc.(*net.TCPConn).SetReadBuffer(256 << 10); err != nil {
		t.Fatal(err)
	}
	rc.nc.SetDeadline(time.Time{})
	return rc
}

// bpFill writes numbered messages until one is refused; it returns the numbers of
// the messages the server took and the refusal.
func bpFill(t *testing.T, c *Conn) (ok []uint64, err error) {
	t.Helper()
	for seq := uint64(0); seq < 1<<16; seq++ {
		if err := c.WriteBinary(bpMsg(seq, bpMsgSize)); err != nil {
			return ok, err
		}
		ok = append(ok, seq)
	}
	t.Fatalf("%d messages to a peer that does not read and no refusal", 1<<16)
	return nil, nil
}

// bpQueue writes numbered messages until the socket stops taking them, then n more,
// so that a later write is queued behind at least n messages.
func bpQueue(t *testing.T, c *Conn, n int) (ok []uint64) {
	t.Helper()
	seq := uint64(0)
	for ; c.BufferedAmount() == 0; seq++ {
		if seq == 1<<16 {
			t.Fatal("the socket never pushed back")
		}
		if err := c.WriteBinary(bpMsg(seq, bpMsgSize)); err != nil {
			t.Fatalf("write %d: %v", seq, err)
		}
		ok = append(ok, seq)
	}
	for range n {
		if err := c.WriteBinary(bpMsg(seq, bpMsgSize)); err != nil {
			t.Fatalf("write %d: %v", seq, err)
		}
		ok = append(ok, seq)
		seq++
	}
	return ok
}

// readSeqs reads the numbered messages want, in order, and fails on anything else.
func (rc *rawClient) readSeqs(want []uint64) {
	rc.t.Helper()
	rc.nc.SetReadDeadline(time.Now().Add(20 * time.Second))
	for _, seq := range want {
		h, p, err := rc.readFrame()
		if err != nil {
			rc.t.Fatalf("reading message %d: %v", seq, err)
		}
		if h.Opcode != frame.OpBinary || !h.Fin || len(p) != bpMsgSize {
			rc.t.Fatalf("message %d: %v fin=%v len=%d", seq, h.Opcode, h.Fin, len(p))
		}
		if got := binary.BigEndian.Uint64(p); got != seq {
			rc.t.Fatalf("got message %d, want %d (a refused write was sent, or one was lost)", got, seq)
		}
		mustEqual(rc.t, p, bpMsg(seq, bpMsgSize))
	}
}

// TestWriteBufferRefuses: under WriteBufferError and WriteBufferDrop the write that
// would pass MaxWriteBuffer is refused with the policy's error and nothing of it is
// sent; the connection stays up, OnDrain comes once the peer reads and the buffer is
// back at DrainLowWater, and writing works again.
func TestWriteBufferRefuses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		policy   WriteBufferPolicy
		lowWater int
		want     error
	}{
		{"error", WriteBufferError, 0, ErrWriteBufferFull},
		{"error low water 16KiB", WriteBufferError, 16 << 10, ErrWriteBufferFull},
		{"drop", WriteBufferDrop, 0, ErrMessageDropped},
		{"drop low water 32KiB", WriteBufferDrop, 32 << 10, ErrMessageDropped},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forLoopModes(t, func(t *testing.T, cfg Config) {
				const maxBuf = 64 << 10
				cfg.MaxWriteBuffer = maxBuf
				cfg.WriteBufferPolicy = tc.policy
				cfg.DrainLowWater = tc.lowWater
				cfg.PingInterval = -1
				h := newBPHandler()
				_, addr := startServer(t, h, cfg, nil)
				rc := bpDial(t, addr)
				c := h.conn(t)

				ok, err := bpFill(t, c)
				if !errors.Is(err, tc.want) {
					t.Fatalf("refused write: %v, want %v", err, tc.want)
				}
				queued := c.BufferedAmount()
				if queued == 0 || queued > maxBuf {
					t.Fatalf("BufferedAmount %d at the refusal, want 1..%d", queued, maxBuf)
				}
				drainsAtRefusal := h.drains.Load()
				// Every further write is refused too and queues nothing.
				for i := range 5 {
					if err := c.WriteBinary(bpMsg(uint64(len(ok)+1+i), bpMsgSize)); !errors.Is(err, tc.want) {
						t.Fatalf("write %d after the refusal: %v, want %v", i, err, tc.want)
					}
				}
				if got := c.BufferedAmount(); got != queued {
					t.Fatalf("refused writes changed BufferedAmount %d -> %d", queued, got)
				}
				if c.State() != StateOpen {
					t.Fatalf("state %v after refusals, want open", c.State())
				}

				// The peer reads: exactly the accepted messages, in order.
				rc.readSeqs(ok)
				waitFor(t, func() bool { return h.drains.Load() > drainsAtRefusal })
				if got := h.drainBuf.Load(); got > int64(tc.lowWater) {
					t.Fatalf("OnDrain saw BufferedAmount %d, above DrainLowWater %d", got, tc.lowWater)
				}
				if got := c.BufferedAmount(); got != 0 {
					t.Fatalf("BufferedAmount %d after the peer read everything", got)
				}
				if got := h.drains.Load(); got != drainsAtRefusal+1 {
					t.Fatalf("OnDrain called %d times for one drain", got-drainsAtRefusal)
				}
				// Nothing of the refused writes follows: the next frame is the marker.
				if err := c.WriteText("marker"); err != nil {
					t.Fatalf("write after the drain: %v", err)
				}
				if op, p := rc.readMessage(); op != frame.OpText || string(p) != "marker" {
					t.Fatalf("after the drain got %v %q, want the marker", op, trunc(p))
				}
			})
		})
	}
}

// TestWriteBufferClose: under WriteBufferClose the write that would pass the cap
// returns ErrSlowConsumer and the connection is closed with 1008; the peer sees the
// bytes the kernel had taken (a prefix of the accepted messages), at most a 1008 close
// frame, and the end of the TCP connection.
func TestWriteBufferClose(t *testing.T) {
	t.Parallel()
	forLoopModes(t, func(t *testing.T, cfg Config) {
		cfg.MaxWriteBuffer = 64 << 10
		cfg.WriteBufferPolicy = WriteBufferClose
		cfg.PingInterval = -1
		h := newBPHandler()
		s, addr := startServer(t, h, cfg, nil)
		rc := bpDial(t, addr)
		c := h.conn(t)

		ok, err := bpFill(t, c)
		if !errors.Is(err, ErrSlowConsumer) {
			t.Fatalf("refused write: %v, want ErrSlowConsumer", err)
		}
		r := h.waitClose(t)
		if r.code != frame.StatusPolicyViolation || r.reason != "slow consumer" {
			t.Errorf("OnClose code %d reason %q, want 1008 \"slow consumer\"", r.code, r.reason)
		}
		if !errors.Is(r.err, ErrSlowConsumer) {
			t.Errorf("OnClose err %v, want ErrSlowConsumer (the connection did not close cleanly)", r.err)
		}
		if code, _ := c.CloseStatus(); code != frame.StatusPolicyViolation {
			t.Errorf("CloseStatus %d, want 1008", code)
		}
		if err := c.WriteBinary([]byte("late")); !errors.Is(err, ErrClosed) {
			t.Errorf("write after the slow-consumer close: %v, want ErrClosed", err)
		}
		waitFor(t, func() bool { return s.NumConns() == 0 })

		// The peer now reads: numbered messages in order, then possibly a close frame
		// 1008, then the end of the stream (a frame may be cut by it).
		rc.nc.SetReadDeadline(time.Now().Add(20 * time.Second))
		next := 0
		for {
			hd, p, err := rc.readFrame()
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					t.Fatal("the TCP connection of a slow consumer was not closed")
				}
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, syscall.ECONNRESET) {
					t.Fatalf("end of stream: %v", err)
				}
				break
			}
			if hd.Opcode == frame.OpClose {
				if code, _, _ := frame.ParseClose(p); code != frame.StatusPolicyViolation {
					t.Fatalf("close frame %d, want 1008", code)
				}
				continue
			}
			if next >= len(ok) || hd.Opcode != frame.OpBinary || binary.BigEndian.Uint64(p) != ok[next] {
				t.Fatalf("frame %d: %v, not the next accepted message", next, hd.Opcode)
			}
			next++
		}
		if next == 0 {
			t.Fatal("the peer got none of the accepted messages")
		}
	})
}

// TestWriteMessageFuncDone: done runs once with nil when the socket has taken the
// message: at once when nothing is queued, later when the peer reads; with ErrClosed
// when the connection dies with the message still queued.
func TestWriteMessageFuncDone(t *testing.T) {
	t.Parallel()
	t.Run("socket takes it at once", func(t *testing.T) {
		t.Parallel()
		// Goroutine mode queues every write for its writer goroutine: done comes
		// from there (TestWriteMessageFuncDoneGoroutine).
		forLoopModes(t, func(t *testing.T, cfg Config) {
			h := newBPHandler()
			_, addr := startServer(t, h, cfg, nil)
			rc := dialRaw(t, addr)
			c := h.conn(t)
			done := make(chan error, 4)
			if err := c.WriteMessageFunc(frame.OpText, []byte("now"), func(err error) { done <- err }); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("done(%v), want nil", err)
				}
			default:
				t.Fatal("done not called before WriteMessageFunc returned, though nothing was queued")
			}
			if op, p := rc.readMessage(); op != frame.OpText || string(p) != "now" {
				t.Fatalf("got %v %q", op, p)
			}
		})
	})

	t.Run("after the peer reads", func(t *testing.T) {
		t.Parallel()
		forLoopModes(t, func(t *testing.T, cfg Config) {
			cfg.PingInterval = -1
			h := newBPHandler()
			_, addr := startServer(t, h, cfg, nil)
			rc := bpDial(t, addr)
			c := h.conn(t)
			ok := bpQueue(t, c, 16)
			seq := uint64(len(ok))
			done := make(chan error, 4)
			if err := c.WriteMessageFunc(frame.OpBinary, bpMsg(seq, bpMsgSize), func(err error) { done <- err }); err != nil {
				t.Fatal(err)
			}
			// Queued behind 16 messages nobody reads: not done yet.
			time.Sleep(50 * time.Millisecond)
			select {
			case err := <-done:
				t.Fatalf("done(%v) while the message was still queued", err)
			default:
			}
			rc.readSeqs(append(ok, seq))
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("done(%v), want nil", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("done not called after the peer read the message")
			}
			select {
			case err := <-done:
				t.Fatalf("done called twice (second: %v)", err)
			case <-time.After(20 * time.Millisecond):
			}
		})
	})

	deaths := []struct {
		name string
		kill func(c *Conn, rc *rawClient)
	}{
		{"abort", func(c *Conn, _ *rawClient) { c.Abort() }},
		{"close now", func(c *Conn, _ *rawClient) { c.CloseNow(frame.StatusGoingAway, "") }},
		{"peer hangs up", func(_ *Conn, rc *rawClient) { rc.nc.Close() }},
	}
	for _, d := range deaths {
		t.Run("queued then "+d.name, func(t *testing.T) {
			t.Parallel()
			forLoopModes(t, func(t *testing.T, cfg Config) {
				cfg.PingInterval = -1
				h := newBPHandler()
				_, addr := startServer(t, h, cfg, nil)
				rc := bpDial(t, addr)
				c := h.conn(t)
				bpQueue(t, c, 16)
				done := make(chan error, 4)
				if err := c.WriteMessageFunc(frame.OpBinary, []byte("stuck"), func(err error) { done <- err }); err != nil {
					t.Fatal(err)
				}
				d.kill(c, rc)
				select {
				case err := <-done:
					if !errors.Is(err, ErrClosed) {
						t.Fatalf("done(%v), want ErrClosed", err)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("done not called when the connection died")
				}
				h.waitClose(t)
				select {
				case err := <-done:
					t.Fatalf("done called twice (second: %v)", err)
				default:
				}
			})
		})
	}
}

// TestWriteMessageFuncDoneGoroutine: in goroutine mode done runs once the writer
// goroutine has written the message.
func TestWriteMessageFuncDoneGoroutine(t *testing.T) {
	t.Parallel()
	h := newBPHandler()
	_, addr := startServer(t, h, Config{GoroutinePerConn: true}, nil)
	rc := dialRaw(t, addr)
	c := h.conn(t)
	done := make(chan error, 4)
	if err := c.WriteMessageFunc(frame.OpText, []byte("soon"), func(err error) { done <- err }); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("done(%v), want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("done not called")
	}
	if op, p := rc.readMessage(); op != frame.OpText || string(p) != "soon" {
		t.Fatalf("got %v %q", op, p)
	}
}
