package engine

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/rtt"
)

// rttServer is the server end for the PingRTT tests: it hands each connection
// over at OnOpen, reports pings, and runs onPing (if set) for each.
type rttServer struct {
	NopHandler
	opened chan *Conn
	pings  chan string
	onPing func(c *Conn)
}

func newRTTServer(onPing func(c *Conn)) *rttServer {
	return &rttServer{opened: make(chan *Conn, 1), pings: make(chan string, 64), onPing: onPing}
}

func (h *rttServer) OnOpen(c *Conn) { h.opened <- c }
func (h *rttServer) OnPing(c *Conn, p []byte) bool {
	h.pings <- string(p)
	if h.onPing != nil {
		h.onPing(c)
	}
	return true
}

// rttPending reports whether PingRTT calls are still registered on c.
func rttPending(c *Conn) bool {
	a := c.c.Extras.Load()
	return a != nil && !a.RTT.Empty()
}

// TestPingRTT runs several PingRTT calls at once from each end of a connection,
// in every mode.
func TestPingRTT(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		h := newRTTServer(nil)
		_, addr := startServer(t, h, cfg, nil)
		c := cliDial(t, cliClient(t, nil, cfg), "ws://"+addr+"/", nil)
		sc := cliRecv(t, h.opened, "server OnOpen")
		for _, end := range []struct {
			name string
			c    *Conn
		}{{"client", c}, {"server", sc}} {
			const calls = 8
			var wg sync.WaitGroup
			errs := make(chan error, calls)
			for range calls {
				wg.Go(func() {
					d, err := end.c.PingRTT(cliCtx(t))
					if err == nil && d <= 0 {
						err = errors.New("round trip not positive: " + d.String())
					}
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatalf("%s PingRTT: %v", end.name, err)
				}
			}
			if rttPending(end.c) {
				t.Fatalf("%s: calls still registered after all returned", end.name)
			}
		}
		// The server saw the client's pings, each payload unique.
		seen := map[string]bool{}
		for range 8 {
			p := cliRecv(t, h.pings, "ping")
			if len(p) != rtt.Len || seen[p] {
				t.Fatalf("ping payload %x: length %d, seen before %v", p, len(p), seen[p])
			}
			seen[p] = true
		}
	})
}

// TestPingRTTOtherPongs checks that pongs PingRTT did not ask for still go to
// OnPong, in order, and that its own do not.
func TestPingRTTOtherPongs(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		_, addr := startServer(t, newRTTServer(nil), cfg, nil)
		h := newCliPeer(false)
		c := cliDial(t, cliClient(t, h, cfg), "ws://"+addr+"/", nil)
		cliRecv(t, h.opened, "client OnOpen")
		if err := c.Ping([]byte("app-1")); err != nil {
			t.Fatal(err)
		}
		if _, err := c.PingRTT(cliCtx(t)); err != nil {
			t.Fatal(err)
		}
		if err := c.Ping([]byte("app-2")); err != nil {
			t.Fatal(err)
		}
		// Pongs come in ping order, and OnPong calls in arrival order: had
		// PingRTT's pong reached OnPong, it would come between these two.
		for _, want := range []string{"app-1", "app-2"} {
			if got := cliRecv(t, h.pongs, "OnPong"); got != want {
				t.Fatalf("OnPong %q, want %q", got, want)
			}
		}
	})
}

// TestPingRTTEnds checks the ways a call ends without its pong: ctx, the
// connection closing while it waits, and a connection already closing.
func TestPingRTTEnds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		onPing func(c *Conn, cancel context.CancelFunc)
		before func(c *Conn, cancel context.CancelFunc) // on the client, before PingRTT
		check  func(err error) bool
	}{
		{
			"context cancelled while waiting",
			func(_ *Conn, cancel context.CancelFunc) { cancel() },
			nil,
			func(err error) bool { return errors.Is(err, context.Canceled) },
		},
		{
			"context done before the call",
			nil,
			func(_ *Conn, cancel context.CancelFunc) { cancel() },
			func(err error) bool { return errors.Is(err, context.Canceled) },
		},
		{
			"peer closes while waiting",
			func(c *Conn, _ context.CancelFunc) { c.Close(4000, "no pong for you") },
			nil,
			func(err error) bool {
				var ce *CloseError
				return errors.As(err, &ce) && ce.Code == 4000 && ce.Reason == "no pong for you"
			},
		},
		{
			"already closing",
			nil,
			func(c *Conn, _ context.CancelFunc) { c.Close(frame.StatusNormalClosure, "") },
			func(err error) bool { return errors.Is(err, ErrClosed) },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				ctx, cancel := context.WithCancel(cliCtx(t))
				defer cancel()
				var onPing func(*Conn)
				if tc.onPing != nil {
					onPing = func(c *Conn) { tc.onPing(c, cancel) }
				}
				scfg := cfg
				scfg.DisableAutoPong = true // pings go unanswered
				_, addr := startServer(t, newRTTServer(onPing), scfg, nil)
				c := cliDial(t, cliClient(t, nil, cfg), "ws://"+addr+"/", nil)
				if tc.before != nil {
					tc.before(c, cancel)
				}
				d, err := c.PingRTT(ctx)
				if d != 0 || !tc.check(err) {
					t.Fatalf("PingRTT = %v, %v", d, err)
				}
				if rttPending(c) {
					t.Fatal("the call is still registered")
				}
			})
		})
	}
}

// TestPingRTTNode measures against a third-party peer (ws on Node), which
// answers pings on its own.
func TestPingRTTNode(t *testing.T) {
	t.Parallel()
	n := cliNode(t, false)
	c := cliDial(t, cliClient(t, nil, Config{}), "ws://"+n.addr+"/echo", nil)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if d, err := c.PingRTT(cliCtx(t)); err != nil || d <= 0 {
				t.Errorf("PingRTT = %v, %v", d, err)
			}
		})
	}
	wg.Wait()
	if err := c.WriteText("still fine"); err != nil {
		t.Fatal(err)
	}
	if _, p, err := c.ReadMessage(cliCtx(t)); err != nil || string(p) != "still fine" {
		t.Fatalf("echo after PingRTT: %q, %v", p, err)
	}
}
