package engine

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestReadersWokenByClose: two goroutines blocked in ReadMessage on one
// connection (a Conn is safe from any goroutine) both return once Close
// ends it. Before, the queue's end woke only one of them; the other waited
// for good.
func TestReadersWokenByClose(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		_, addr := startServer(t, NopHandler{}, cfg, nil)
		cl, err := NewClient(nil, &cfg)
		if err != nil {
			t.Fatal(err)
		}
		c, _, err := cl.Dial(cliCtx(t), "ws://"+addr, nil)
		if err != nil {
			t.Fatal(err)
		}
		var readers sync.WaitGroup
		for range 2 {
			readers.Go(func() {
				if _, _, err := c.ReadMessage(context.Background()); err == nil {
					t.Error("ReadMessage returned a message nobody sent")
				}
			})
		}
		time.Sleep(20 * time.Millisecond) // both waiting
		cl.Close()
		done := make(chan struct{})
		go func() { readers.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			t.Fatal("a ReadMessage still blocked 3 s after Close")
		}
	})
}
