package engine

import (
	"context"
	"testing"
	"time"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/frame"
)

// TestInboundBudgetReadQueue: messages queued for ReadMessage (a server
// made without a Handler) count against MaxTotalInbound until they are
// taken, and a connection whose message does not fit is closed with 1013.
// They used not to: each connection queues up to 1 MiB and one message of
// any size before its reading pauses, so 24 peers each sending a 1 KiB bomb
// that inflates to 1 MiB, to a program that had not read yet, held 24 MiB
// beside a 4 MiB budget.
func TestInboundBudgetReadQueue(t *testing.T) {
	t.Parallel()
	const (
		conns  = 24
		size   = 1 << 20
		budget = 4 << 20
	)
	forModes(t, func(t *testing.T, cfg Config) {
		cfg.PingInterval = -1
		cfg.CloseTimeout = time.Second
		cfg.MaxMessageSize = size
		cfg.MaxTotalInbound = budget
		cfg.Compression = &deflate.Options{}
		srv, addr := startServer(t, nil, cfg, nil) // ReadMessage's queues; nobody reads
		msg := frameBytes(true, frame.OpBinary, frame.Rsv1, bomb(t, size), true)
		var rcs []*rawClient
		for range conns {
			rc := dialRaw(t, addr, "Sec-WebSocket-Extensions: permessage-deflate")
			rc.write(msg)
			rcs = append(rcs, rc)
		}
		// Those whose message the budget cannot hold are closed with 1013;
		// each queued one holds at least its 1 MiB.
		codes := make(chan frame.StatusCode, conns)
		for _, rc := range rcs {
			go func() {
				rc.nc.SetReadDeadline(time.Now().Add(3 * time.Second))
				h, p, err := rc.readFrame()
				if err != nil {
					codes <- 0 // queued: nothing comes
					return
				}
				code, _, _ := frame.ParseClose(p)
				if h.Opcode != frame.OpClose {
					code = 1
				}
				codes <- code
			}()
		}
		refused := 0
		for range conns {
			switch code := <-codes; code {
			case 0:
			case frame.StatusTryAgainLater:
				refused++
			default:
				t.Fatalf("got %d, want a 1013 close or nothing", code)
			}
		}
		if queued := conns - refused; queued*size > budget {
			t.Fatalf("%d messages of %d KiB queued for ReadMessage, budget %d KiB (inbound counted %d)",
				queued, size>>10, budget>>10, srv.BufferedInbound())
		}
		if srv.BufferedInbound() == 0 {
			t.Fatal("the queued messages are not counted")
		}
		// The program reads at last: what it takes is its own, and the
		// paused connections read on to their peers' end.
		for _, rc := range rcs {
			rc.nc.Close()
		}
		for c := range srv.Conns() {
			go func() {
				for {
					if _, _, err := c.ReadMessage(context.Background()); err != nil {
						return
					}
				}
			}()
		}
		waitFor(t, func() bool { return srv.NumConns() == 0 && srv.BufferedInbound() == 0 })
	})
}
