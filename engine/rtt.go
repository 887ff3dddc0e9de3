package engine

import (
	"context"
	"time"
)

// PingRTT sends a ping with a payload unique to this call and returns the time
// until the peer's pong carries it back: a round trip through the peer's network
// stack and WebSocket implementation (ws's RTT recipe, built in). Other pongs
// still go to Handler.OnPong; this one does not. It returns ctx's error when ctx
// ends first, ErrNotOpen before the handshake is done, ErrClosed when the
// connection is already closing, and a *CloseError with the close status when it
// closes while waiting. Safe from any goroutine; several calls may wait at once.
// The calls waiting on a connection are an rtt.Set in its sharedExtras: a
// connection that never used PingRTT pays one atomic load per pong.
func (c *Conn) PingRTT(ctx context.Context) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if c.State() == StateConnecting {
		return 0, ErrNotOpen
	}
	a := c.sharedExtras()
	// finish may have run before a existed, and then never closes a.done.
	closed := func() bool { return c.State() == StateClosed }
	d, ended, err := a.rtt.Ping(ctx, c.Ping, a.done, closed) // internal/rtt
	if ended {
		return 0, closeError(c.CloseStatus())
	}
	return d, err
}

// rttPong hands a pong to the PingRTT call whose payload it carries and reports
// whether there was one (worker context).
func (c *Conn) rttPong(p []byte) bool {
	a := c.extras.Load()
	if a == nil {
		return false
	}
	_, matched, _ := a.rtt.Deliver(p, c.eng().m.ObserveRTT) // internal/opmetrics, before the caller wakes
	return matched
}
