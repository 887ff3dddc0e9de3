//go:build !race

// Allocation counts are meaningless under -race (sync.Pool drops Puts at random),
// so this file is built without it only.

package engine

import (
	"bytes"
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// Echo round trips with weir on both ends, in one process: a Client connection with
// a Handler (no ReadMessage queue, so no copy per message) writes a message, the
// server echoes it, and the client's OnMessage signals a reused channel. allocs/op
// counts both ends: the client's masking and write, the server's read, unmasking and
// write, the client's read.

// cbEcho is the server: it echoes and nothing else.
type cbEcho struct{ NopHandler }

func (cbEcho) OnMessage(c *Conn, op frame.Opcode, p []byte) { c.WriteMessage(op, p) }

// cbHandler is the client's Handler. A buffered channel of one struct{} is the
// signal: sending and receiving it allocates nothing.
type cbHandler struct {
	NopHandler
	want []byte
	got  chan struct{}
	bad  atomic.Bool
}

func (h *cbHandler) OnMessage(c *Conn, op frame.Opcode, p []byte) {
	if op != frame.OpBinary || !bytes.Equal(p, h.want) {
		h.bad.Store(true)
	}
	h.got <- struct{}{}
}

type cbPair struct {
	c   *Conn
	h   *cbHandler
	msg []byte
}

// newCBPair starts a server and dials it with a Handler-based client, both on cfg.
func newCBPair(tb testing.TB, cfg Config, size int) *cbPair {
	tb.Helper()
	cfg.PingInterval = -1
	_, addr := startServer(tb, cbEcho{}, cfg, nil)
	cl, err := NewClient(nil, &cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cl.Close() })
	msg := make([]byte, size)
	for i := range msg {
		msg[i] = byte(i)
	}
	h := &cbHandler{want: msg, got: make(chan struct{}, 1)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := cl.Dial(ctx, "ws://"+addr+"/", &DialOptions{Handler: h})
	if err != nil {
		tb.Fatal(err)
	}
	p := &cbPair{c: c, h: h, msg: msg}
	for range 100 {
		p.roundTrip(tb) // warm the pools and the mask generators
	}
	return p
}

func (p *cbPair) roundTrip(tb testing.TB) {
	if err := p.c.WriteBinary(p.msg); err != nil {
		tb.Fatal(err)
	}
	<-p.h.got
}

func (p *cbPair) check(tb testing.TB) {
	tb.Helper()
	if p.h.bad.Load() {
		tb.Fatal("an echo differed from the message sent")
	}
}

func BenchmarkClientEcho(b *testing.B) {
	for _, m := range modes {
		for _, size := range []int{64, 1 << 10} {
			b.Run(m.name+"/"+strconv.Itoa(size), func(b *testing.B) {
				p := newCBPair(b, m.cfg, size)
				b.ReportAllocs()
				b.SetBytes(int64(size))
				b.ResetTimer()
				for range b.N {
					p.roundTrip(b)
				}
				b.StopTimer()
				p.check(b)
			})
		}
	}
}

// TestClientEchoAllocs: on the loops, a steady-state round trip between a weir
// client and a weir server allocates nothing, masking included. Not parallel:
// AllocsPerRun counts every goroutine's allocations.
func TestClientEchoAllocs(t *testing.T) {
	for _, m := range modes {
		if m.cfg.GoroutinePerConn {
			continue
		}
		for _, size := range []int{0, 64, 1 << 10, 16 << 10} {
			t.Run(m.name+"/"+strconv.Itoa(size), func(t *testing.T) {
				p := newCBPair(t, m.cfg, size)
				if n := testing.AllocsPerRun(500, func() { p.roundTrip(t) }); n != 0 {
					t.Errorf("%v allocations per client echo round trip, want 0", n)
				}
				p.check(t)
			})
		}
	}
}
