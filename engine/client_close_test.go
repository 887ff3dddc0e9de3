package engine

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// Client.Close against Dials running at the same moment: every Dial returns
// either ErrClientClosed or a connection that Close ends, Close leaves no
// connection counted, and the server sees every connection go.
func TestClientCloseRacingDials(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		s, addr := startServer(t, NopHandler{}, cfg, nil)
		url := "ws://" + addr + "/"
		for round := range 5 {
			cl, err := NewClient(nil, &cfg)
			if err != nil {
				t.Fatal(err)
			}
			// One connection open before, so Close has something to scan.
			if _, _, err := cl.Dial(cliCtx(t), url, nil); err != nil {
				t.Fatalf("round %d: first dial: %v", round, err)
			}
			const n = 30
			start := make(chan struct{})
			type result struct {
				c   *Conn
				err error
			}
			results := make(chan result, n)
			var wg sync.WaitGroup
			for range n {
				wg.Go(func() {
					<-start
					c, _, err := cl.Dial(cliCtx(t), url, nil)
					results <- result{c, err}
				})
			}
			closed := make(chan struct{})
			go func() {
				<-start
				time.Sleep(time.Duration(round) * time.Millisecond)
				cl.Close()
				close(closed)
			}()
			close(start)
			wg.Wait()
			close(results)
			cliRecv(t, closed, "Client.Close")
			if n := cl.NumConns(); n != 0 {
				t.Fatalf("round %d: %d connections counted after Close", round, n)
			}
			var opened, refused int
			for r := range results {
				if r.err != nil {
					if !errors.Is(r.err, ErrClientClosed) {
						t.Fatalf("round %d: Dial racing Close: %v, want ErrClientClosed", round, r.err)
					}
					refused++
					continue
				}
				opened++
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				_, _, err := r.c.ReadMessage(ctx)
				cancel()
				if err == nil || errors.Is(err, context.DeadlineExceeded) || r.c.State() != StateClosed {
					t.Fatalf("round %d: a connection Dial returned is still there after Close: %v, %v", round, err, r.c.State())
				}
			}
			t.Logf("round %d: %d opened then closed, %d refused", round, opened, refused)
			if _, _, err := cl.Dial(cliCtx(t), url, nil); !errors.Is(err, ErrClientClosed) {
				t.Fatalf("round %d: Dial after Close: %v, want ErrClientClosed", round, err)
			}
		}
		deadline := time.Now().Add(cliWait)
		for s.NumConns() != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("server still has %d connections", s.NumConns())
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}
