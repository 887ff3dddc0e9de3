package engine

import (
	"bytes"
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// TestWritePreparedMany: in every mode, each receiver gets every message once,
// whole and in order, and the count is of those that took it, with a receiver
// that does not read until the end (its socket fills: sends the kernel takes
// in part leave the rest queued behind, in order), a receiver named twice
// (two copies), and another goroutine writing to the same connections at the
// same time (their locks contend: a batch never waits for one held).
func TestWritePreparedMany(t *testing.T) {
	forModes(t, func(t *testing.T, cfg Config) {
		const clients, msgs, size = 6, 120, 40 << 10
		cfg.MaxWriteBuffer = 64 << 20
		cfg.PingInterval = -1
		h := &openedHandler{opened: make(chan *Conn, clients)}
		_, addr := startServer(t, h, cfg, nil)
		rcs := make([]*rawClient, clients)
		conns := make([]*Conn, 0, clients+1)
		for i := range rcs {
			rcs[i] = dialRaw(t, addr)
			select {
			case c := <-h.opened:
				conns = append(conns, c)
			case <-time.After(10 * time.Second):
				t.Fatal("no OnOpen")
			}
		}
		// Conns arrive in any order; the test reads every client through the
		// end, so which one is twice in the list does not matter: it is the
		// one whose count is 2 per message (checked below by total).
		conns = append(conns, conns[0])
		// Another writer on the same connections: one small text message each
		// round, its own order kept per connection.
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				for _, c := range conns[:clients] {
					c.WriteMessage(frame.OpText, []byte("side"))
				}
				time.Sleep(time.Millisecond)
			}
		})
		payload := make([]byte, size)
		total := 0
		for i := range msgs {
			binary.BigEndian.PutUint32(payload, uint32(i))
			for j := 4; j < size; j += 997 {
				payload[j] = byte(i)
			}
			total += WritePreparedMany(conns, NewPreparedMessage(frame.OpBinary, payload))
		}
		close(stop)
		wg.Wait()
		if total != msgs*(clients+1) {
			t.Errorf("WritePreparedMany counted %d, want %d", total, msgs*(clients+1))
		}
		got := 0
		for k, rc := range rcs {
			rc.nc.SetReadDeadline(time.Now().Add(30 * time.Second))
			next := 0
			for next < msgs {
				op, p := rc.readMessage()
				if op == frame.OpText {
					continue // the other writer's
				}
				i := int(binary.BigEndian.Uint32(p))
				if len(p) != size {
					t.Fatalf("client %d: message %d has %d bytes", k, i, len(p))
				}
				for j := 4; j < size; j += 997 {
					if p[j] != byte(i) {
						t.Fatalf("client %d: message %d damaged at %d", k, i, j)
					}
				}
				switch {
				case i == next:
					next++
				case i == next-1:
					// the receiver named twice: its second copy follows the first
				default:
					t.Fatalf("client %d: message %d after %d", k, i, next-1)
				}
				got++
			}
		}
		if got < msgs*clients {
			t.Errorf("read %d messages, want at least %d", got, msgs*clients)
		}
	})
}

// TestWritePreparedManyClosed: a closed receiver does not take the message
// and costs the others nothing.
func TestWritePreparedManyClosed(t *testing.T) {
	forModes(t, func(t *testing.T, cfg Config) {
		cfg.PingInterval = -1
		h := &openedHandler{opened: make(chan *Conn, 2)}
		_, addr := startServer(t, h, cfg, nil)
		a, b := dialRaw(t, addr), dialRaw(t, addr)
		ca, cb := <-h.opened, <-h.opened
		_ = b
		cb.CloseNow(frame.StatusGoingAway, "")
		deadline := time.Now().Add(10 * time.Second)
		for cb.State() != StateClosed && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		n := WritePreparedMany([]*Conn{ca, cb, ca}, NewPreparedMessage(frame.OpText, []byte("hi")))
		if n != 2 {
			t.Fatalf("WritePreparedMany = %d, want 2", n)
		}
		// Whichever raw client ca is, it has two "hi"s; the other none.
		for _, rc := range []*rawClient{a, b} {
			rc.nc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			var seen [][]byte
			for {
				h, p, err := rc.readFrame()
				if err != nil || h.Opcode != frame.OpText {
					break
				}
				seen = append(seen, p)
			}
			if len(seen) != 0 && (len(seen) != 2 || !bytes.Equal(seen[0], []byte("hi"))) {
				t.Errorf("a client read %q", seen)
			}
		}
	})
}
