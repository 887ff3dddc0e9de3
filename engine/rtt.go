package engine

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"sync/atomic"
	"time"
)

// Round-trip time from a ping to its pong (RFC 6455 §5.5.3: a pong echoes the
// ping's payload). Each PingRTT call sends a payload of its own and waits for the
// pong that carries it back. The calls waiting on a connection are an immutable
// set behind an atomic pointer in connAux, replaced whole when a call comes or
// goes, so the pong path takes no lock and, on a connection that never used
// PingRTT, costs one atomic load.

// rttLen is the size of a PingRTT payload: rttPrefix, then a counter.
const rttLen = 16

var (
	// rttPrefix is random per process, so an application's own ping payloads
	// are not taken for ours.
	rttPrefix = func() (p [8]byte) {
		rand.Read(p[:])
		return p
	}()
	// rttSeq makes every call's payload unique in the process.
	rttSeq atomic.Uint64
)

// rttWait is one PingRTT call waiting for its pong.
type rttWait struct {
	key  [rttLen]byte
	sent time.Time
	ch   chan time.Duration // the round trip, sent once (buffered)
}

// rttSet is the calls waiting on one connection; never changed once published.
type rttSet struct{ w []*rttWait }

// PingRTT sends a ping with a payload unique to this call and returns the time
// until the peer's pong carries it back: a round trip through the peer's network
// stack and WebSocket implementation (ws's RTT recipe, built in). Other pongs
// still go to Handler.OnPong; this one does not. It returns ctx's error when ctx
// ends first, ErrNotOpen before the handshake is done, ErrClosed when the
// connection is already closing, and a *CloseError with the close status when it
// closes while waiting. Safe from any goroutine; several calls may wait at once.
func (c *Conn) PingRTT(ctx context.Context) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if c.State() == StateConnecting {
		return 0, ErrNotOpen
	}
	w := &rttWait{ch: make(chan time.Duration, 1)}
	copy(w.key[:], rttPrefix[:])
	binary.BigEndian.PutUint64(w.key[len(rttPrefix):], rttSeq.Add(1))
	a := c.auxState()
	w.sent = time.Now() // before the wait is published: the pong path reads it
	a.addRTT(w)
	defer a.removeRTT(w)
	if err := c.Ping(w.key[:]); err != nil {
		return 0, err
	}
	if c.State() == StateClosed {
		// finish may have run before a existed, and then never closes a.done.
		code, reason := c.CloseStatus()
		return 0, &CloseError{Code: code, Reason: reason}
	}
	select {
	case d := <-w.ch:
		return d, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-a.done:
		select {
		case d := <-w.ch: // the pong came just before the end
			return d, nil
		default:
		}
		code, reason := c.CloseStatus()
		return 0, &CloseError{Code: code, Reason: reason}
	}
}

// rttPong hands a pong to the PingRTT call whose payload it carries and reports
// whether there was one (worker context, c.aux set).
func (c *Conn) rttPong(p []byte) bool {
	s := c.aux.Load().rtt.Load()
	if s == nil || len(p) != rttLen {
		return false
	}
	for _, w := range s.w {
		if string(w.key[:]) == string(p) {
			d := time.Since(w.sent)
			select {
			case w.ch <- d:
				c.eng.observeRTT(d) // metrics.go
			default: // a duplicate pong: the call has its answer already
			}
			return true
		}
	}
	return false
}

// addRTT publishes w among the waiting calls.
func (a *connAux) addRTT(w *rttWait) {
	for {
		old := a.rtt.Load()
		n := &rttSet{}
		if old != nil {
			n.w = make([]*rttWait, 0, len(old.w)+1)
			n.w = append(n.w, old.w...)
		}
		n.w = append(n.w, w)
		if a.rtt.CompareAndSwap(old, n) {
			return
		}
	}
}

// removeRTT withdraws w; the last one out leaves the pointer nil, so pongs go
// straight to OnPong again.
func (a *connAux) removeRTT(w *rttWait) {
	for {
		old := a.rtt.Load()
		if old == nil {
			return
		}
		var n *rttSet
		if len(old.w) > 1 {
			n = &rttSet{w: make([]*rttWait, 0, len(old.w)-1)}
			for _, x := range old.w {
				if x != w {
					n.w = append(n.w, x)
				}
			}
		}
		if a.rtt.CompareAndSwap(old, n) {
			return
		}
	}
}
