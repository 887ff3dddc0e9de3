package workq

import (
	"sync"
	"sync/atomic"
)

// backEvery: one take in backEvery looks at the back lane first, so work put
// back keeps moving while fresh work never stops coming.
const backEvery = 4

// Queue hands items to workers in two lanes: fresh work (Put) and work that
// had a turn and has more to do (PutBack). Fresh work goes first, so an item
// with a little to do is not queued behind every item with a lot.
//
// A third lane, the front (PutFront), goes before fresh work: for small work
// that a client waits on before it can send any more, such as a handshake.
type Queue[T any] struct {
	front, fresh, back lane[T]
	stop               chan struct{}
	takes              atomic.Uint32
}

// New returns a Queue whose lanes' channels hold n items each.
func New[T any](n int) *Queue[T] {
	return &Queue[T]{front: newLane[T](n), fresh: newLane[T](n), back: newLane[T](n), stop: make(chan struct{})}
}

// Get takes the next item, waiting for one; false once the Queue is stopped.
func (p *Queue[T]) Get() (T, bool) {
	if p.takes.Add(1)%backEvery == 0 {
		if v, ok := p.back.poll(); ok {
			return v, true
		}
	}
	if v, ok := p.front.poll(); ok {
		return v, true
	}
	if v, ok := p.fresh.poll(); ok {
		return v, true
	}
	select {
	case v := <-p.front.ch:
		p.front.refill()
		return v, true
	case v := <-p.fresh.ch:
		p.fresh.refill()
		return v, true
	case v := <-p.back.ch:
		p.back.refill()
		return v, true
	case <-p.stop:
		var zero T
		return zero, false
	}
}

// TryGet takes an item if one is ready, without waiting: the front lane,
// then fresh work, then work put back (a worker's batch looks ahead with it).
func (p *Queue[T]) TryGet() (T, bool) {
	if v, ok := p.front.poll(); ok {
		return v, true
	}
	if v, ok := p.fresh.poll(); ok {
		return v, true
	}
	return p.back.poll()
}

// Put queues fresh work without blocking.
func (p *Queue[T]) Put(v T) { p.fresh.put(v) }

// PutFront queues work that goes before fresh work, without blocking.
func (p *Queue[T]) PutFront(v T) { p.front.put(v) }

// PutBack queues work that has just had a turn and has more to do, without
// blocking: it waits behind fresh work (see backEvery).
func (p *Queue[T]) PutBack(v T) { p.back.put(v) }

// Overflow is the number of items waiting in overflow, all lanes.
func (p *Queue[T]) Overflow() int {
	return int(p.front.nover.Load() + p.fresh.nover.Load() + p.back.nover.Load())
}

// Stop makes every Get, waiting or later, report false. Call it once.
func (p *Queue[T]) Stop() { close(p.stop) }

// lane is a bounded channel with an unbounded, ordered overflow.
type lane[T any] struct {
	ch    chan T
	mu    sync.Mutex
	over  []T          // overflow, FIFO from head
	head  int          // first live entry of over
	nover atomic.Int32 // len(over)-head, read without mu
}

func newLane[T any](n int) lane[T] { return lane[T]{ch: make(chan T, n)} }

// poll takes an item if one is ready.
func (l *lane[T]) poll() (T, bool) {
	select {
	case v := <-l.ch:
		l.refill() // the slot just freed goes to the oldest in overflow
		return v, true
	default:
		var zero T
		return zero, false
	}
}

// put queues v without blocking: into the channel while it has room and
// nothing waits in overflow (so order is kept), else at the end of overflow.
func (l *lane[T]) put(v T) {
	if l.nover.Load() == 0 {
		select {
		case l.ch <- v:
			return
		default:
		}
	}
	l.mu.Lock()
	l.over = append(l.over, v)
	l.nover.Add(1)
	// The workers may have emptied the channel since the send above failed and
	// be waiting on it now, with nobody left to refill it: refill here.
	l.refillLocked()
	l.mu.Unlock()
}

// refill moves overflow into the channel while it has room.
func (l *lane[T]) refill() {
	if l.nover.Load() == 0 {
		return
	}
	l.mu.Lock()
	l.refillLocked()
	l.mu.Unlock()
}

func (l *lane[T]) refillLocked() {
	var zero T
	for l.head < len(l.over) {
		select {
		case l.ch <- l.over[l.head]:
			l.over[l.head] = zero // no reference kept
			l.head++
			l.nover.Add(-1)
		default:
			return
		}
	}
	l.over, l.head = l.over[:0], 0
}
