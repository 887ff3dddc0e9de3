package engine

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/frame"
)

// TestInboundBudgetInflated: a compressed message's inflated copy, held while
// OnMessage runs, counts against MaxTotalInbound as an uncompressed message
// of its size does while it is delivered. It used not to: a 1 KiB bomb
// inflating to 1 MiB held 1 MiB uncounted, so peers whose messages a slow
// handler was still handling held connections × MaxMessageSize (goroutine
// mode: one callback per connection at once; the pool: one per worker) for a
// thousandth of it on the wire, whatever the budget. Now the connection whose
// inflated message does not fit is failed with 1013 like the others.
func TestInboundBudgetInflated(t *testing.T) {
	const (
		conns  = 24
		size   = 1 << 20
		budget = 4 << 20
	)
	for _, m := range modes {
		if m.cfg.Dispatch == DispatchInline {
			continue // callbacks run on the loop: one at a time per loop
		}
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			cfg := m.cfg
			cfg.Workers = 2 * conns // the pool could run every callback at once
			cfg.PingInterval = -1
			cfg.CloseTimeout = time.Second // the refused peers never answer 1013
			cfg.MaxMessageSize = size
			cfg.MaxTotalInbound = budget
			cfg.Compression = &deflate.Options{}
			h := &blockingInflated{release: make(chan struct{}), closed: make(chan closeRecord, conns)}
			srv, addr := startServer(t, h, cfg, nil)
			msg := frameBytes(true, frame.OpBinary, frame.Rsv1, bomb(t, size), true)
			for range conns {
				rc := dialRaw(t, addr, "Sec-WebSocket-Extensions: permessage-deflate")
				rc.write(msg)
			}
			// Each connection either holds its message in a callback or was
			// refused (1013): wait for all of them, or for more callbacks
			// than the budget can hold.
			refused := 0
			deadline := time.After(15 * time.Second)
			for int(h.in.Load())+refused < conns && h.peak.Load()*size <= budget {
				select {
				case r := <-h.closed:
					if r.code != frame.StatusTryAgainLater || !errors.Is(r.err, ErrInboundBudget) {
						t.Fatalf("OnClose %d %v, want 1013 ErrInboundBudget", r.code, r.err)
					}
					refused++
				case <-time.After(5 * time.Millisecond):
				case <-deadline:
					t.Fatalf("%d in callbacks and %d refused within 15s, want %d in all", h.in.Load(), refused, conns)
				}
			}
			close(h.release)
			t.Logf("%d refused, at most %d inflated messages held at once", refused, h.peak.Load())
			if p := h.peak.Load(); p*size > budget {
				t.Fatalf("%d inflated messages of %d KiB held in callbacks at once, budget %d KiB (inbound counted %d)",
					p, size>>10, budget>>10, srv.BufferedInbound())
			}
			srv.Close()
			if n := srv.BufferedInbound(); n != 0 {
				t.Errorf("inbound counted %d after the server closed, want 0", n)
			}
		})
	}
}

// blockingInflated holds every message's callback until release is closed.
type blockingInflated struct {
	NopHandler
	in, peak atomic.Int64
	mu       sync.Mutex
	release  chan struct{}
	closed   chan closeRecord
}

func (h *blockingInflated) OnMessage(c *Conn, op frame.Opcode, p []byte) {
	n := h.in.Add(1)
	h.mu.Lock()
	h.peak.Store(max(h.peak.Load(), n))
	h.mu.Unlock()
	<-h.release
}

func (h *blockingInflated) OnClose(c *Conn, code frame.StatusCode, reason string, err error) {
	h.closed <- closeRecord{code, reason, err}
}
