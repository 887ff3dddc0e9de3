package engine

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// Connections without a Handler across the split (issue 14): a server made
// with a nil Handler serves every connection through the machine's
// QueueHandler, a client dialled without one through a queue of its own;
// both are read with ReadMessage. Before the split the server's was an
// engine type embedding NopHandler: frames (DisableAssembly), pongs and
// drains went nowhere and every ping was answered. These tests pin that.

// TestNilHandlerServer: with assembly, messages queue for ReadMessage; with
// DisableAssembly, data frames go nowhere (OnFrame does nothing) and reads
// wait; either way pings are answered both ways, ReadMessage is not refused
// with ErrNoQueue, and the reads end with the peer's close as a *CloseError.
func TestNilHandlerServer(t *testing.T) {
	t.Parallel()
	for _, disable := range []bool{false, true} {
		name := "assembly"
		if disable {
			name = "DisableAssembly"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				cfg.DisableAssembly = disable
				s, addr := startServer(t, nil, cfg, nil)
				cc := cliDial(t, cliClient(t, nil, Config{}), "ws://"+addr+"/", nil) // no handler either
				defer cc.Abort()
				var sc *Conn
				waitFor(t, func() bool {
					for c := range s.Conns() {
						sc = c
					}
					return sc != nil
				})
				if err := cc.WriteText("in"); err != nil {
					t.Fatal(err)
				}
				if disable {
					ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
					_, p, err := sc.ReadMessage(ctx)
					cancel()
					if !errors.Is(err, context.DeadlineExceeded) {
						t.Fatalf("DisableAssembly: ReadMessage gave %q %v, want nothing (frames are not queued)", p, err)
					}
				} else if op, p, err := sc.ReadMessage(cliCtx(t)); err != nil || op != frame.OpText || string(p) != "in" {
					t.Fatalf("server ReadMessage: %v %q %v", op, p, err)
				}
				// Pings answered each way: the server's queue handler lets every
				// pong go, and so does the client's.
				for side, c := range map[string]*Conn{"client": cc, "server": sc} {
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					_, err := c.PingRTT(ctx)
					cancel()
					if err != nil {
						t.Errorf("%s PingRTT: %v", side, err)
					}
				}
				if err := sc.WriteText("out"); err != nil {
					t.Fatal(err)
				}
				if op, p, err := cc.ReadMessage(cliCtx(t)); err != nil || op != frame.OpText || string(p) != "out" {
					t.Fatalf("client ReadMessage: %v %q %v", op, p, err)
				}
				if err := cc.Close(4002, "bye"); err != nil {
					t.Fatal(err)
				}
				_, _, err := sc.ReadMessage(cliCtx(t))
				var ce *CloseError
				if !errors.As(err, &ce) || ce.Code != 4002 || ce.Reason != "bye" {
					t.Fatalf("server ReadMessage after the close: %v", err)
				}
			})
		})
	}
}

// TestOnFrameSameConn: with DisableAssembly, OnFrame gets the Conn the
// other callbacks get (TestSameConnEverywhere runs with assembly).
func TestOnFrameSameConn(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		cfg.DisableAssembly = true
		h := newSeenHandler("server's")
		_, addr := startServer(t, h, cfg, nil)
		cc := cliDial(t, cliClient(t, nil, Config{}), "ws://"+addr+"/", nil)
		defer cc.Abort()
		sc := cliRecv(t, h.opened, "OnOpen")
		if err := cc.WriteFrame(false, frame.OpBinary, 0, []byte("a")); err != nil {
			t.Fatal(err)
		}
		if err := cc.WriteFrame(true, frame.OpContinuation, 0, []byte("b")); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { h.s.mu.Lock(); defer h.s.mu.Unlock(); return len(h.s.conns["OnFrame"]) == 2 })
		h.s.check(t, "server", sc, "server's", []string{"OnFrame"}, "OnOpen", "OnFrame")
	})
}
