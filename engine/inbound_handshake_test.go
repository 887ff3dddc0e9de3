package engine

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/upgrade"
)

// TestInboundBudgetDeferredHandshake: bytes a client sends behind a request
// whose verify decision is deferred are kept for after the decision (up to
// opening.MaxEarly each). They count against MaxTotalInbound like any inbound
// bytes held between reads: they used not to, and 300 such clients held 10 to
// 24 MiB beside a 1 MiB budget that read 0. Now a connection whose kept bytes
// would pass the budget ends (ErrInboundBudget, its Handle's context is done),
// the rest get their frames after the decision, and nothing stays counted.
func TestInboundBudgetDeferredHandshake(t *testing.T) {
	const (
		conns  = 100
		budget = 1 << 20
	)
	forModes(t, func(t *testing.T, cfg Config) {
		cfg.PingInterval = -1
		cfg.MaxTotalInbound = budget
		cfg.HandshakeTimeout = time.Minute
		var mu sync.Mutex
		var hds []*upgrade.Handle
		u := &upgrade.Upgrader{Verify: func(r *upgrade.Request, d *upgrade.Decision) {
			hd := d.Defer()
			mu.Lock()
			hds = append(hds, hd)
			mu.Unlock()
		}}
		var msgs atomic.Int64
		h := &msgCounter{msgs: &msgs}
		srv, addr := startServer(t, h, cfg, u)

		var early []byte
		for len(early) < 60<<10 {
			early = append(early, frameBytes(true, frame.OpBinary, 0, make([]byte, 4000), true)...)
		}
		frames := int64(len(early) / (4000 + 8))
		req := append([]byte(vfRequest("GET", "/", addr, vfStd...)), early...)
		ncs := make([]net.Conn, conns)
		for i := range ncs {
			nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { nc.Close() })
			nc.Write(req)
			ncs[i] = nc
		}
		handles := func() []*upgrade.Handle {
			mu.Lock()
			defer mu.Unlock()
			return append([]*upgrade.Handle(nil), hds...)
		}
		waitFor(t, func() bool { return len(handles()) == conns })

		// The kept bytes are counted, and those past the budget end their
		// connection (each keeps what its first read brought behind the
		// request, 32 or 64 KiB on loopback: 100 of them do not fit in 1 MiB).
		var peak int64
		ended := func() int {
			peak = max(peak, srv.BufferedInbound())
			n := 0
			for _, hd := range handles() {
				if hd.Context().Err() != nil {
					n++
				}
			}
			return n
		}
		deadline := time.Now().Add(10 * time.Second)
		for ended() == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("none of %d deferred handshakes ended within 10s (inbound counted %d, budget %d)",
					conns, srv.BufferedInbound(), budget)
			}
			time.Sleep(5 * time.Millisecond)
		}
		if peak == 0 || peak > budget {
			t.Errorf("inbound counted peaked at %d, want within (0, %d]", peak, budget)
		}

		// The rest are accepted and get their early frames. One at a time: the
		// frames an accepted one reads later are charged too, while the others
		// still hold their kept bytes.
		live := 0
		for _, hd := range handles() {
			if hd.Accept(upgrade.Acceptance{}) != nil {
				continue // ended over the budget
			}
			live++
			deadline = time.Now().Add(10 * time.Second)
			for msgs.Load() != int64(live)*frames {
				if time.Now().After(deadline) {
					t.Fatalf("%d messages reached OnMessage, want %d from %d accepted connections", msgs.Load(), int64(live)*frames, live)
				}
				time.Sleep(time.Millisecond)
			}
		}
		if live == 0 {
			t.Fatal("no deferred handshake was left to accept")
		}
		t.Logf("%d of %d deferred handshakes ended, inbound counted peaked at %d; %d accepted", conns-live, conns, peak, live)
		for _, nc := range ncs {
			nc.Close()
		}
		waitFor(t, func() bool { return srv.NumConns() == 0 && srv.BufferedInbound() == 0 })
	})
}

// msgCounter counts the messages it receives.
type msgCounter struct {
	NopHandler
	msgs *atomic.Int64
}

func (h *msgCounter) OnMessage(*Conn, frame.Opcode, []byte) { h.msgs.Add(1) }
