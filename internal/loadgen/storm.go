package loadgen

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// storm dials and closes connections for o.StormFor from o.Concurrency goroutines,
// recording each handshake's duration (for Raw: the TCP connect) in the histogram.
// Dials still in flight at the end finish and count; ctx ends the storm at once.
func (g *gen) storm(ctx context.Context) {
	deadline := time.Now().Add(g.o.StormFor)
	var seq atomic.Int64
	var wg sync.WaitGroup
	for range g.o.Concurrency {
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(deadline) {
				i := g.o.Base + int(seq.Add(1))
				t0 := time.Now()
				if err := g.dialClose(ctx, i); err != nil {
					if ctx.Err() == nil {
						g.dialFailed(err)
						g.errs.Add(1)
					}
					continue
				}
				g.h.add(time.Since(t0).Nanoseconds())
				g.handshakes.Add(1)
			}
		})
	}
	wg.Wait()
}

// dialClose opens connection i and closes it at once (no closing handshake: a
// storm measures opening).
func (g *gen) dialClose(ctx context.Context, i int) error {
	if g.o.Raw {
		nc, err := newDialer(srcAddr(i, g.o.Sources), g.o.dialTimeout()).DialContext(ctx, "tcp", g.addr)
		if err != nil {
			return err
		}
		return nc.Close()
	}
	c, _, err := g.cl.Dial(ctx, g.url, g.dial[i%len(g.dial)])
	if err != nil {
		return err
	}
	c.Abort()
	return nil
}
