package engine

import (
	"errors"
	"net"
	"testing"

	"github.com/weir-ws/weir/frame"
)

// TestBudgetKeepsHeadroom: MaxTotalBuffered bounds what the process grows by
// for queued output, so the queues stop short of it by the headroom a busy
// server needs around them (min(2 MiB, a quarter of the budget)): here 1.5 of
// a 2 MiB budget. Writes are made one at a time from this goroutine, so no two
// admissions race and the queues' total is exact.
func TestBudgetKeepsHeadroom(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		const (
			clients = 4
			budget  = 2 << 20
			size    = 4 << 10
			queues  = budget - budget/4
		)
		cfg.MaxTotalBuffered = budget
		cfg.MaxWriteBuffer = budget // the total, not a connection's cap, refuses
		cfg.WriteHighWater = -1
		cfg.WriteBufferPolicy = WriteBufferError
		cfg.PingInterval = -1
		h := newBPHandler()
		h.opened = make(chan *Conn, clients)
		h.closed = make(chan closeRecord, clients)
		s, addr := startServer(t, h, cfg, nil)
		conns := make([]*Conn, clients)
		for i := range conns {
			rc := dialRaw(t, addr)
			rc.nc.(*net.TCPConn).SetReadBuffer(16 << 10) // and never read
			conns[i] = h.conn(t)
		}
		msg := make([]byte, size)
		peak, refused := int64(0), 0
		for i := 0; refused < 4*clients && i < (64<<20)/size; i++ { // the kernel takes a few MiB per connection first
			err := conns[i%clients].WriteMessage(frame.OpBinary, msg)
			switch {
			case errors.Is(err, ErrWriteBufferFull):
				refused++
			case err != nil:
				t.Fatalf("write %d: %v", i, err)
			}
			peak = max(peak, s.BufferedAmount())
		}
		if refused == 0 {
			t.Fatalf("no write refused: the budget was never reached (peak %d B)", peak)
		}
		if peak > queues {
			t.Errorf("queued output peaked at %d B: over the queues' share %d B of the %d B budget", peak, queues, budget)
		}
		// A queue grows by doubling its buffer and holds the old one while the
		// bytes move, so the refusals start up to a growth step short of the
		// share (here 1.0-1.25 of 1.5 MiB, as the socket takes bytes).
		if peak < budget/2 {
			t.Errorf("queued output peaked at %d B, refused well before the queues' share %d B", peak, queues)
		}
	})
}
