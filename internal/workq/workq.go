package workq

import (
	"sync"
	"sync/atomic"
)

// Queue is a bounded channel with an unbounded, ordered overflow.
type Queue[T any] struct {
	q    chan T
	stop chan struct{}

	mu    sync.Mutex
	over  []T          // overflow, FIFO from head
	head  int          // first live entry of over
	nover atomic.Int32 // len(over)-head, read without mu
}

// New returns a Queue whose channel holds n items.
func New[T any](n int) *Queue[T] {
	return &Queue[T]{q: make(chan T, n), stop: make(chan struct{})}
}

// Get takes the next item, waiting for one; false once the Queue is stopped.
func (p *Queue[T]) Get() (T, bool) {
	select {
	case v := <-p.q:
		p.refill() // the slot just freed goes to the oldest in overflow
		return v, true
	case <-p.stop:
		var zero T
		return zero, false
	}
}

// Put queues v without blocking: into the channel while it has room and
// nothing waits in overflow (so order is kept), else at the end of overflow.
func (p *Queue[T]) Put(v T) {
	if p.nover.Load() == 0 {
		select {
		case p.q <- v:
			return
		default:
		}
	}
	p.mu.Lock()
	p.over = append(p.over, v)
	p.nover.Add(1)
	// The workers may have emptied the channel since the send above failed and
	// be waiting on it now, with nobody left to refill it: refill here.
	p.refillLocked()
	p.mu.Unlock()
}

// Overflow is the number of items waiting in overflow.
func (p *Queue[T]) Overflow() int { return int(p.nover.Load()) }

// Stop makes every Get, waiting or later, report false. Call it once.
func (p *Queue[T]) Stop() { close(p.stop) }

// refill moves overflow into the channel while it has room.
func (p *Queue[T]) refill() {
	if p.nover.Load() == 0 {
		return
	}
	p.mu.Lock()
	p.refillLocked()
	p.mu.Unlock()
}

func (p *Queue[T]) refillLocked() {
	var zero T
	for p.head < len(p.over) {
		select {
		case p.q <- p.over[p.head]:
			p.over[p.head] = zero // no reference kept
			p.head++
			p.nover.Add(-1)
		default:
			return
		}
	}
	p.over, p.head = p.over[:0], 0
}
