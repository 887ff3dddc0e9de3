package engine

import (
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// TestInboundBudgetSmallFramesSurviveHogs: peers holding large partial
// messages cannot take the part of MaxTotalInbound kept for small growths
// (wsread.Total's reserve), so a small frame cut by reads on another
// connection still arrives. It used not to: one peer holding a partial 4 MiB
// frame under a 4 MiB budget (at the default, 16 peers sending half of a 16
// MiB frame each) had every frame cut by a read on the server, 36 bytes
// included, failed with 1013.
func TestInboundBudgetSmallFramesSurviveHogs(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		cfg.MaxTotalInbound = 4 << 20
		cfg.MaxMessageSize = 4 << 20
		cfg.PingInterval = -1
		h := newEcho()
		srv, addr := startServer(t, h, cfg, nil)
		// Hogs send half and more of a 4 MiB frame each until the budget
		// refuses one (1013): what is left is the reserve.
		hdr := frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: frame.OpBinary, Masked: true, Length: 4 << 20})
		hogMsg := append(hdr, make([]byte, 1<<20+1)...) // a 2 MiB buffer each
		for i := 0; ; i++ {
			if i == 8 {
				t.Fatalf("8 hogs of 2 MiB and no refusal under a 4 MiB budget (inbound counted %d)", srv.BufferedInbound())
			}
			before := srv.BufferedInbound()
			hog := dialRaw(t, addr)
			hog.write(hogMsg)
			hog.nc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			if h, p, err := hog.readFrame(); err == nil {
				if code, _, _ := frame.ParseClose(p); h.Opcode != frame.OpClose || code != frame.StatusTryAgainLater {
					t.Fatalf("hog %d: %v %d, want 1013", i, h.Opcode, code)
				}
				break
			}
			waitFor(t, func() bool { return srv.BufferedInbound() > before })
		}
		held := srv.BufferedInbound()
		// Small frames cut by reads, on connections of their own.
		for i := range 4 {
			rc := dialRaw(t, addr)
			msg := frameBytes(true, frame.OpText, 0, []byte("a small message cut in two"), true)
			rc.write(msg[:10])
			time.Sleep(20 * time.Millisecond) // two reads
			rc.write(msg[10:])
			rc.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
			hd, p, err := rc.readFrame()
			if err != nil || hd.Opcode != frame.OpText || string(p) != "a small message cut in two" {
				code, _, _ := frame.ParseClose(p)
				t.Fatalf("victim %d beside hogs holding %d of %d: %v %q (close %d) %v",
					i, held, cfg.MaxTotalInbound, hd.Opcode, p, code, err)
			}
		}
	})
}
