package census

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/weir-ws/weir/internal/opmetrics"
)

// Census is an engine's count of its connections. The zero value is ready.
type Census struct {
	Live   atomic.Int64 // connections now, handshakes in progress included
	opened atomic.Uint64

	mu     sync.Mutex // Fold and Totals: each connection counted once
	ended  opmetrics.Stats
	closed uint64

	emu   sync.Mutex
	empty chan struct{} // closed when Live reaches zero while stopping
}

// Join counts a connection taken on (accepted, adopted or dialled).
func (c *Census) Join() {
	c.Live.Add(1)
	c.opened.Add(1)
}

// Flag is the engine's stopping flag (an *atomic.Bool) as Leave reads it.
type Flag interface{ Load() bool }

// Leave counts a connection gone; if it was the last while the engine stops,
// the channel Emptied made is closed. stopping is read after the count goes
// down: read before, a stop that began in between (its flag set, then Live
// read while still 1) would wait on a channel nobody closes.
func (c *Census) Leave(stopping Flag) {
	if c.Live.Add(-1) != 0 || !stopping.Load() {
		return
	}
	c.emu.Lock()
	if c.empty != nil {
		select {
		case <-c.empty:
		default:
			close(c.empty)
		}
	}
	c.emu.Unlock()
}

// Emptied returns a channel that Leave closes when the last connection goes
// (the engine must be stopping already). Callers that wait at once (Shutdown,
// then Close during its wait) share one channel: Leave closes only the latest,
// so a fresh one for each would leave the earlier waiter waiting for good.
// Once closed, the next call makes a fresh one (a connection may have joined
// since).
func (c *Census) Emptied() <-chan struct{} {
	c.emu.Lock()
	defer c.emu.Unlock()
	if c.empty != nil {
		select {
		case <-c.empty:
		default:
			return c.empty // still open: another waiter's
		}
	}
	c.empty = make(chan struct{})
	return c.empty
}

// Fold adds the traffic st of a connection that ends to the totals, unless
// *folded says it was added already; *folded is the connection's, read and
// set only under the census's lock.
func (c *Census) Fold(folded *bool, st opmetrics.Stats) {
	c.mu.Lock()
	if !*folded {
		*folded = true
		c.ended.Add(st)
		c.closed++
	}
	c.mu.Unlock()
}

// Totals returns the totals: the ended connections' traffic plus live's
// sum, which live makes under the lock Fold takes, of the connections whose
// folded flag is still false. Its cost is live's walk: call it per metrics
// scrape, not per message.
func (c *Census) Totals(live func() opmetrics.Stats) opmetrics.EngineStats {
	st := opmetrics.EngineStats{Opened: c.opened.Load()}
	c.mu.Lock()
	st.Stats, st.Closed = c.ended, c.closed
	st.Stats.Add(live())
	c.mu.Unlock()
	st.Conns = c.Live.Load()
	return st
}

// Abort calls abort, which aborts every live connection, every rescan until
// none is left or done (from Emptied) closes, and reports false when they
// were still there after deadline.
func (c *Census) Abort(done <-chan struct{}, abort func(), rescan, deadline time.Duration) bool {
	end := time.After(deadline)
	for c.Live.Load() > 0 {
		abort()
		select {
		case <-done:
			return true
		case <-time.After(rescan):
		case <-end:
			return false
		}
	}
	return true
}
