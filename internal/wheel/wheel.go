package wheel

import (
	"sync"
	"sync/atomic"
	"time"
)

// Slots is the number of slots: a deadline more than Slots ticks ahead shares
// a slot with nearer ones and is passed over (not fired) until its tick.
const Slots = 1024

// Slack is what After adds to a deadline counted from a recorded tick (see
// After): the event happened before the end of its tick (one), and the tick
// recorded, read from Now, may be one behind the clock's (two).
const Slack = 2

// Node is the intrusive entry an element embeds: its links in a slot's list
// and the tick it is armed for. The zero Node is not scheduled. Its fields
// are the Wheel's, under the Wheel's lock.
type Node[T any] struct {
	next, prev *T
	when       int64 // 0: not scheduled
}

// Wheel is a hashed timing wheel of elements of type T; see the package
// documentation.
type Wheel[T any] struct {
	mu    sync.Mutex
	res   time.Duration
	start time.Time
	now   atomic.Int64 // current tick, read by any goroutine
	done  int64        // last tick processed (Advance's goroutine, under mu)
	slots []*T         // list heads, len Slots
	due   []*T         // Advance's result, reused
	link  func(*T) *Node[T]
}

// New returns a wheel with tick res (positive) starting now; link finds an
// element's Node.
func New[T any](res time.Duration, link func(*T) *Node[T]) *Wheel[T] {
	return &Wheel[T]{res: res, start: time.Now(), slots: make([]*T, Slots), link: link}
}

// Ticks converts a duration to whole ticks, rounding up, at least 1.
func (w *Wheel[T]) Ticks(d time.Duration) int64 {
	return max(1, int64((d+w.res-1)/w.res))
}

// At is the first tick that begins at or after t: a deadline armed for At(t)
// never fires before t.
func (w *Wheel[T]) At(t time.Time) int64 {
	d := t.Sub(w.start)
	return max(0, int64((d+w.res-1)/w.res))
}

// After is the deadline d after the recorded tick from (a tick read from Now
// when an event happened): never before d has passed since the event (Slack).
func (w *Wheel[T]) After(from int64, d time.Duration) int64 { return from + w.Ticks(d) + Slack }

// Tick is the tick t falls in.
func (w *Wheel[T]) Tick(t time.Time) int64 { return int64(t.Sub(w.start) / w.res) }

// Now is the current tick as last published or advanced: it lags the clock
// by up to one run of the driving loop, never leads it.
func (w *Wheel[T]) Now() int64 { return w.now.Load() }

// Publish moves Now forward to t's tick (the driving goroutine, right after
// its wait), so that events handled in this batch are stamped with a current
// tick. It returns Now.
func (w *Wheel[T]) Publish(t time.Time) int64 {
	now := w.Tick(t)
	if now > w.now.Load() {
		w.now.Store(now)
	}
	return w.now.Load()
}

// Schedule (re)arms x to fire at tick when (the next unprocessed tick, if
// when has been processed already). An element has at most one entry.
func (w *Wheel[T]) Schedule(x *T, when int64) {
	w.mu.Lock()
	w.unlink(x)
	if when <= w.done {
		when = w.done + 1
	}
	n := w.link(x)
	n.when = when
	slot := &w.slots[when&(Slots-1)]
	n.next, n.prev = *slot, nil
	if *slot != nil {
		w.link(*slot).prev = x
	}
	*slot = x
	w.mu.Unlock()
}

// Cancel removes x's entry, if any.
func (w *Wheel[T]) Cancel(x *T) {
	w.mu.Lock()
	w.unlink(x)
	w.mu.Unlock()
}

func (w *Wheel[T]) unlink(x *T) {
	n := w.link(x)
	if n.when == 0 {
		return
	}
	if n.prev != nil {
		w.link(n.prev).next = n.next
	} else {
		w.slots[n.when&(Slots-1)] = n.next
	}
	if n.next != nil {
		w.link(n.next).prev = n.prev
	}
	n.next, n.prev, n.when = nil, nil, 0
}

// Advance moves the wheel to t and returns the elements whose tick has begun,
// unscheduled (the slice is valid until the next call). One goroutine drives
// Advance. After a pause longer than a revolution it catches up one
// revolution: every slot is visited once, so every due element fires.
func (w *Wheel[T]) Advance(t time.Time) []*T {
	now := max(w.Tick(t), w.now.Load()) // Publish may have gone ahead
	w.now.Store(now)
	w.due = w.due[:0]
	w.mu.Lock()
	from := max(w.done+1, now-Slots+1)
	for tick := from; tick <= now; tick++ {
		for x := w.slots[tick&(Slots-1)]; x != nil; {
			n := w.link(x)
			next := n.next
			if n.when <= now {
				w.unlink(x)
				w.due = append(w.due, x)
			}
			x = next
		}
	}
	if now > w.done {
		w.done = now
	}
	w.mu.Unlock()
	return w.due
}

// UntilNext is how long, in milliseconds rounded up, the driver may sleep at
// t before the next tick begins.
func (w *Wheel[T]) UntilNext(t time.Time) int {
	next := w.start.Add(time.Duration(w.done+1) * w.res)
	ms := int(next.Sub(t).Milliseconds()) + 1
	return max(ms, 0)
}
