package rtt

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"sync/atomic"
	"time"
)

// Len is the size of a Waiter's payload: the process prefix, then a counter.
const Len = 16

var (
	prefix = func() (p [8]byte) {
		rand.Read(p[:])
		return p
	}()
	seq atomic.Uint64
)

// Waiter is one measurement waiting for its pong.
type Waiter struct {
	key  [Len]byte
	sent time.Time
	ch   chan time.Duration // the round trip, sent once (buffered)

	answered atomic.Bool // a pong has claimed ch
}

// NewWaiter returns a Waiter with a fresh payload. Start it just before it is
// published in a Set.
func NewWaiter() *Waiter {
	w := &Waiter{ch: make(chan time.Duration, 1)}
	copy(w.key[:], prefix[:])
	binary.BigEndian.PutUint64(w.key[len(prefix):], seq.Add(1))
	return w
}

// Payload is what the ping must carry (do not modify it).
func (w *Waiter) Payload() []byte { return w.key[:] }

// Start records the time the measurement starts from.
func (w *Waiter) Start() { w.sent = time.Now() }

// Done delivers the round trip once the pong arrived.
func (w *Waiter) Done() <-chan time.Duration { return w.ch }

// Wait waits for the round trip until ctx ends (its error) or closed is
// closed (ended: the connection closed first). A pong that arrived just
// before the close still counts.
func (w *Waiter) Wait(ctx context.Context, closed <-chan struct{}) (d time.Duration, ended bool, err error) {
	select {
	case d := <-w.ch:
		return d, false, nil
	case <-ctx.Done():
		return 0, false, ctx.Err()
	case <-closed:
		select {
		case d := <-w.ch: // the pong came just before the end
			return d, false, nil
		default:
		}
		return 0, true, nil
	}
}

// Ping measures one round trip on the connection whose Waiters s is: a
// Waiter is started and published, ping sends its payload, and the wait ends
// with the pong, ctx's end or closed (ended: the connection closed first, as
// it may have before ping: isClosed then says so, since whoever closes it may
// not have known of closed yet). A ping that fails returns its error.
func (s *Set) Ping(ctx context.Context, ping func([]byte) error, closed <-chan struct{}, isClosed func() bool) (d time.Duration, ended bool, err error) {
	w := NewWaiter()
	w.Start() // before the wait is published: the pong path reads it
	s.Add(w)
	defer s.Remove(w)
	if err := ping(w.Payload()); err != nil {
		return 0, false, err
	}
	if isClosed() {
		return 0, true, nil
	}
	return w.Wait(ctx, closed)
}

// Set is the Waiters of one connection.
type Set struct{ p atomic.Pointer[[]*Waiter] }

// Add publishes w.
func (s *Set) Add(w *Waiter) {
	for {
		old := s.p.Load()
		var n []*Waiter
		if old != nil {
			n = make([]*Waiter, 0, len(*old)+1)
			n = append(n, *old...)
		}
		n = append(n, w)
		if s.p.CompareAndSwap(old, &n) {
			return
		}
	}
}

// Remove withdraws w; the last one out leaves the Set empty, back to one atomic
// load per Deliver.
func (s *Set) Remove(w *Waiter) {
	for {
		old := s.p.Load()
		if old == nil {
			return
		}
		var n *[]*Waiter
		if len(*old) > 1 {
			l := make([]*Waiter, 0, len(*old)-1)
			for _, x := range *old {
				if x != w {
					l = append(l, x)
				}
			}
			n = &l
		}
		if s.p.CompareAndSwap(old, n) {
			return
		}
	}
}

// Deliver hands a pong's payload p to the Waiter it belongs to. matched says
// whether one did; fresh says it had no answer yet, and d is then the round
// trip it got, given to observe (if not nil) before the Waiter wakes.
func (s *Set) Deliver(p []byte, observe func(time.Duration)) (d time.Duration, matched, fresh bool) {
	l := s.p.Load()
	if l == nil || len(p) != Len {
		return 0, false, false
	}
	for _, w := range *l {
		if string(w.key[:]) == string(p) {
			if !w.answered.CompareAndSwap(false, true) {
				return 0, true, false // a duplicate pong: the Waiter has its answer already
			}
			d = time.Since(w.sent)
			if observe != nil {
				observe(d) // first: whoever the Waiter wakes may read the metrics at once
			}
			w.ch <- d // buffered, and sent once (answered)
			return d, true, true
		}
	}
	return 0, false, false
}

// Empty reports whether no Waiter is in the Set.
func (s *Set) Empty() bool { return s.p.Load() == nil }
