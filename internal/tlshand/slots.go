package tlshand

import (
	"context"
	"time"
)

// Slots bound the TLS handshakes a listener runs at once, each on a
// short-lived goroutine: a connection waits for a slot until its deadline,
// and the ones behind it wait in the listen backlog, so a storm of
// handshakes costs at most n goroutines. Stop cuts the handshakes in flight
// (through Context) and the waits.
type Slots struct {
	ch     chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
}

// NewSlots returns n slots.
func NewSlots(n int) *Slots {
	ctx, cancel := context.WithCancel(context.Background())
	return &Slots{ch: make(chan struct{}, n), ctx: ctx, cancel: cancel}
}

// Acquire takes a slot, waiting until deadline (zero: no limit) or until
// Stop, and reports whether it got one. A slot taken is given back with
// Release.
func (s *Slots) Acquire(deadline time.Time) bool {
	select {
	case s.ch <- struct{}{}:
		return true
	default:
	}
	ctx := s.ctx
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	select {
	case s.ch <- struct{}{}:
		return true
	case <-ctx.Done(): // the deadline, or Stop
		return false
	}
}

// Release gives back a slot Acquire took.
func (s *Slots) Release() { <-s.ch }

// Context is the handshakes' context: done once Stop is called.
func (s *Slots) Context() context.Context { return s.ctx }

// Stop cuts the handshakes in flight and the waits for a slot. A nil *Slots
// (no TLS listener) does nothing.
func (s *Slots) Stop() {
	if s != nil {
		s.cancel()
	}
}
