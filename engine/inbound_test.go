package engine

import (
	"bytes"
	"compress/flate"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/frame"
)

// The inbound budget (Config.MaxTotalInbound, backpressure.go): peers that send the
// first part of large messages and never the rest pin the engine's memory only up
// to the budget. The one whose growth would pass it is failed with 1013; the rest
// go on; and when every connection has ended, the count is exactly zero again.

const (
	ibBudget = 4 << 20
	ibConns  = 8
	ibPer    = 1 << 20 // bytes each peer sends of its unfinished message
)

// ibPartialFrame: one frame that declares 8 MiB, of which 1 MiB is sent (the
// reader's partial frame buffer).
func ibPartialFrame() []byte {
	b := frame.AppendHeader(nil, frame.Header{Opcode: frame.OpBinary, Fin: true, Length: 8 << 20, Masked: true})
	return append(b, make([]byte, ibPer)...)
}

// ibFragments: 1 MiB of 64 KiB fragments of a message never finished (the
// assembly buffer); rsv is Rsv1 for a compressed message (frames collected
// before inflating).
func ibFragments(rsv uint8) []byte {
	var b []byte
	for i := 0; i < ibPer/(64<<10); i++ {
		op, r := frame.OpBinary, rsv
		if i > 0 {
			op, r = frame.OpContinuation, 0
		}
		b = append(b, frameBytes(false, op, r, make([]byte, 64<<10), true)...)
	}
	return b
}

func TestInboundBudget(t *testing.T) {
	cases := []struct {
		name     string
		compress bool
		input    func() []byte
	}{
		{"partial frame", false, ibPartialFrame},
		{"fragments", false, func() []byte { return ibFragments(0) }},
		{"compressed fragments", true, func() []byte { return ibFragments(frame.Rsv1) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				testInboundBudget(t, cfg, tc.compress, tc.input())
			})
		})
	}
}

func testInboundBudget(t *testing.T, cfg Config, compress bool, input []byte) {
	cfg.MaxTotalInbound = ibBudget
	var extra []string
	if compress {
		cfg.Compression = &deflate.Options{}
		extra = append(extra, "Sec-WebSocket-Extensions: permessage-deflate")
	}
	h := newEcho()
	srv, addr := startServer(t, h, cfg, nil)

	// Watch the count while the peers send.
	var peak atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			if n := srv.BufferedInbound(); n > peak.Load() {
				peak.Store(n)
			}
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Microsecond):
			}
		}
	}()

	// Each peer sends its unfinished message and waits for a close frame.
	codes := make(chan frame.StatusCode, ibConns)
	var clients []*rawClient
	for range ibConns {
		rc := dialRaw(t, addr, extra...)
		clients = append(clients, rc)
		wg.Add(1)
		go func() {
			defer wg.Done()
			rc.nc.Write(input) // the server may fail it midway: errors are expected
			for {
				h, p, err := rc.readFrame()
				if err != nil {
					return // a peer within the budget: the test closes it
				}
				if h.Opcode == frame.OpClose {
					code, _, _ := frame.ParseClose(p)
					codes <- code
					rc.nc.Close()
					return
				}
			}
		}()
	}
	// Every peer that keeps its 1 MiB holds at least 1 MiB of the budget, so at
	// least ibConns - ibBudget/ibPer of them are refused.
	refused := 0
	for refused < ibConns-ibBudget/ibPer {
		select {
		case code := <-codes:
			if code != frame.StatusTryAgainLater {
				t.Fatalf("close code %d, want 1013", code)
			}
			refused++
		case <-time.After(15 * time.Second):
			t.Fatalf("%d connections refused within 15s, want at least %d (inbound held %d)",
				refused, ibConns-ibBudget/ibPer, srv.BufferedInbound())
		}
	}
	for range refused {
		r := h.waitClose(t)
		if !errors.Is(r.err, ErrInboundBudget) || r.code != frame.StatusTryAgainLater {
			t.Fatalf("OnClose %d %v, want 1013 ErrInboundBudget", r.code, r.err)
		}
	}

	// Others are unaffected: a new connection's whole messages cost nothing.
	rc := dialRaw(t, addr, extra...)
	rc.send(true, frame.OpText, []byte("still here"))
	if op, p := rc.readMessage(); op != frame.OpText || string(p) != "still here" {
		t.Fatalf("echo: %v %q", op, p)
	}
	rc.nc.Close()

	// Everyone leaves: nothing stays counted.
	for _, c := range clients {
		c.nc.Close()
	}
	for range ibConns + 1 - refused {
		h.waitClose(t)
	}
	close(stop)
	wg.Wait()
	if p := peak.Load(); p > ibBudget {
		t.Errorf("inbound held peaked at %d, budget %d", p, ibBudget)
	}
	if n := srv.BufferedInbound(); n != 0 {
		t.Errorf("inbound held %d after every connection ended, want 0", n)
	}
}

// TestInboundBudgetDelivered: messages that need buffers (a frame cut by reads,
// a fragmented message, a compressed one collected before inflating) arrive
// under the budget, and each one's buffers are refunded once it is delivered,
// while the connection stays open.
func TestInboundBudgetDelivered(t *testing.T) {
	forModes(t, func(t *testing.T, cfg Config) {
		cfg.MaxTotalInbound = ibBudget
		cfg.Compression = &deflate.Options{}
		srv, addr := startServer(t, newEcho(), cfg, nil)
		rc := dialRaw(t, addr, "Sec-WebSocket-Extensions: permessage-deflate")
		big := make([]byte, ibPer)
		rng := rand.New(rand.NewPCG(1, 2))
		for i := range big {
			big[i] = byte(rng.Uint32()) // incompressible: ~1 MiB compressed too
		}
		var zw bytes.Buffer
		fw, _ := flate.NewWriter(&zw, flate.BestSpeed)
		fw.Write(big)
		fw.Flush()
		z := bytes.TrimSuffix(zw.Bytes(), []byte{0, 0, 0xff, 0xff}) // RFC 7692 §7.2.1

		fragments := func(p []byte, rsv uint8) []byte {
			var b []byte
			for off := 0; off < len(p); off += 64 << 10 {
				end := min(off+64<<10, len(p))
				op, r := frame.OpBinary, rsv
				if off > 0 {
					op, r = frame.OpContinuation, 0
				}
				b = append(b, frameBytes(end == len(p), op, r, p[off:end], true)...)
			}
			return b
		}
		for _, in := range []struct {
			name  string
			bytes []byte
		}{
			{"one frame", frameBytes(true, frame.OpBinary, 0, big, true)},
			{"fragments", fragments(big, 0)},
			{"compressed fragments", fragments(z, frame.Rsv1)},
		} {
			rc.write(in.bytes)
			op, p := rc.readMessage()
			if op != frame.OpBinary || len(p) == 0 { // the echo is compressed: not compared
				t.Fatalf("%s: echo %v of %d bytes", in.name, op, len(p))
			}
			deadline := time.Now().Add(10 * time.Second)
			for srv.BufferedInbound() != 0 {
				if time.Now().After(deadline) {
					t.Fatalf("%s: inbound held %d after delivery, want 0", in.name, srv.BufferedInbound())
				}
				time.Sleep(time.Millisecond)
			}
		}
		rc.nc.Close()
	})
}
