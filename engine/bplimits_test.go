package engine

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/wsconn"
)

// Backpressure by default (backpressure.go): reading stops above WriteHighWater,
// and MaxTotalBuffered bounds the outbound bytes of all connections.

// TestBackpressureNeverReadingEchoClients: clients that send and never read their
// echoes stop being read once their output passes WriteHighWater, so the server's
// queued output stays bounded (instead of every refused echo piling up), and a
// fresh client is still served at once.
func TestBackpressureNeverReadingEchoClients(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		const (
			clients   = 8
			highWater = 64 << 10
		)
		cfg.WriteHighWater = highWater
		cfg.PingInterval = -1
		s, addr := startServer(t, newEcho(), cfg, nil)
		msg := frameBytes(true, frame.OpBinary, 0, make([]byte, 16<<10), true)
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for range clients {
			rc := dialRaw(t, addr)
			rc.nc.(*net.TCPConn).SetReadBuffer(64 << 10)
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Send until the server stops taking our bytes (or the test ends).
				for {
					rc.nc.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
					if _, err := rc.nc.Write(msg); err != nil {
						select {
						case <-stop:
							return
						default:
						}
						if ne, ok := err.(net.Error); ok && ne.Timeout() {
							continue
						}
						return
					}
				}
			}()
		}
		// Let them push for a while: with reading never stopped, the server queues
		// every echo up to MaxWriteBuffer (4 MiB) per client.
		time.Sleep(1500 * time.Millisecond)
		total := s.BufferedAmount()
		var sum int
		for c := range s.e.Conns(wsconn.StateOpen) {
			sum += c.BufferedAmount()
		}
		// Each client: its high-water mark plus the echoes of one read turn.
		limit := clients * (highWater + 2<<20)
		if total > int64(limit) || sum > limit {
			t.Errorf("server holds %d bytes of output (per connection sum %d) for %d never-reading clients, want <= %d",
				total, sum, clients, limit)
		}
		// A fresh client is served quickly.
		rc := dialRaw(t, addr)
		start := time.Now()
		rc.send(true, frame.OpText, []byte("hi"))
		if op, p := rc.readMessage(); op != frame.OpText || string(p) != "hi" {
			t.Fatalf("fresh client got %v %q", op, p)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("fresh client's echo took %v", d)
		}
		close(stop)
		wg.Wait()
	})
}

// TestBackpressureBroadcastBudget: a broadcast to clients that never read but
// answer keepalive with pongs: the server's total output stays within
// MaxTotalBuffered (plus one message per connection), and the WriteBufferPolicy
// is applied once the budget is spent (WriteBufferClose closes them: the pongs do
// not keep them alive).
func TestBackpressureBroadcastBudget(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		const (
			clients = 8
			budget  = 1 << 20
			size    = 4 << 10
		)
		cfg.MaxTotalBuffered = budget
		cfg.WriteBufferPolicy = WriteBufferClose
		cfg.PingInterval = -1
		h := newBPHandler()
		h.opened = make(chan *Conn, clients)
		h.closed = make(chan closeRecord, clients)
		s, addr := startServer(t, h, cfg, nil)
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for range clients {
			rc := dialRaw(t, addr)
			rc.nc.(*net.TCPConn).SetReadBuffer(64 << 10)
			h.conn(t)
			wg.Add(1)
			go func() { // an unsolicited pong every 20 ms, never a read
				defer wg.Done()
				pong := frameBytes(true, frame.OpPong, 0, nil, true)
				for {
					select {
					case <-stop:
						return
					case <-time.After(20 * time.Millisecond):
					}
					rc.nc.SetWriteDeadline(time.Now().Add(time.Second))
					if _, err := rc.nc.Write(pong); err != nil {
						return
					}
				}
			}()
		}
		pm := NewPreparedMessage(frame.OpBinary, make([]byte, size))
		peak := int64(0)
		deadline := time.Now().Add(20 * time.Second)
		for s.NumConns() > 0 && time.Now().Before(deadline) {
			s.Broadcast(pm, nil)
			peak = max(peak, s.BufferedAmount())
			time.Sleep(time.Millisecond)
		}
		close(stop)
		wg.Wait()
		if n := s.NumConns(); n != 0 {
			t.Errorf("%d never-reading clients still open after 20 s of broadcasts", n)
		}
		// A write to an empty queue goes ahead whatever the budget: per client
		// one message, in a pooled buffer of up to twice its size. Writes to
		// different connections are admitted concurrently (Broadcast writes
		// each loop's from its own goroutine), each judged against the total
		// before the others' buffers grow: a queue's growth per loop (here at
		// most a quarter of the budget) may pass it.
		loops := int64(s.e.Cfg.Loops)
		if limit := int64(budget+clients*2*(size+16)) + loops*budget/4; peak > limit {
			t.Errorf("buffered output peaked at %d bytes, budget %d (+ one message per client and a queue's growth per loop: %d)", peak, budget, limit)
		}
		for range clients {
			if r := h.waitClose(t); r.code != frame.StatusPolicyViolation {
				t.Errorf("OnClose code %d, want 1008 (slow consumer)", r.code)
			}
		}
		// Every connection gives back what it was charged (settle): in goroutine
		// mode once its writer has given up on the queue (CloseTimeout).
		for deadline := time.Now().Add(15 * time.Second); s.BufferedAmount() != 0 && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		if n := s.BufferedAmount(); n != 0 {
			t.Errorf("%d bytes still counted against the budget with no connection left", n)
		}
	})
}
