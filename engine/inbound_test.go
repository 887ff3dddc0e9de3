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
