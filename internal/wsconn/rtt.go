package wsconn

import (
	"context"
	"time"
)

// PingRTT is engine.Conn.PingRTT (documented there).
func (c *Conn) PingRTT(ctx context.Context) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if c.State() == StateConnecting {
		return 0, ErrNotOpen
	}
	a := c.SharedExtras()
	// finish may have run before a existed, and then never closes a.done.
	closed := func() bool { return c.State() == StateClosed }
	d, ended, err := a.RTT.Ping(ctx, c.Ping, a.done, closed) // internal/rtt
	if ended {
		return 0, closeError(c.CloseStatus())
	}
	return d, err
}

// rttPong hands a pong to the PingRTT call whose payload it carries and reports
// whether there was one (worker context).
func (c *Conn) rttPong(p []byte) bool {
	a := c.Extras.Load()
	if a == nil {
		return false
	}
	_, matched, _ := a.RTT.Deliver(p, c.Eng().Counters.ObserveRTT) // internal/opmetrics, before the caller wakes
	return matched
}
