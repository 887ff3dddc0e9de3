package engine

import (
	"sync"
	"sync/atomic"
	"time"
)

// wheel is a hashed timing wheel, one per loop: every connection deadline
// (handshake, keepalive ping, pong grace, idle, close) is one intrusive list entry in
// it, so there is no time.Timer and no goroutine per connection. A connection has at
// most one entry, at its earliest deadline; when it fires, the connection works out
// what is due and re-arms (timer.go). Input does not touch the wheel: it stores the
// current tick in lastRead, and keepalive checks are lazy.
type wheel struct {
	mu    sync.Mutex
	res   time.Duration
	start time.Time
	now   atomic.Int64 // current tick, read by workers
	done  int64        // last tick processed
	slots []*Conn      // list heads, len a power of two
	due   []*Conn      // scratch for advance
}

const wheelSlots = 1024

func newWheel(res time.Duration) *wheel {
	return &wheel{res: res, start: time.Now(), slots: make([]*Conn, wheelSlots)}
}

// ticks converts a duration to whole ticks, rounding up, at least 1.
func (w *wheel) ticks(d time.Duration) int64 {
	return max(1, int64((d+w.res-1)/w.res))
}

// Never early. advance fires an entry once the tick it is armed for has begun,
// so a deadline armed for tick D fires at D·res or later. A deadline from now
// (armDeadline) is the first tick that begins at or after now+d, from the clock.
// A deadline from a recorded tick (lastRead, pingDue: the tick an event fell
// in, read from now, which lags the clock by up to a loop iteration) adds
// tickSlack: the event happened before the end of its tick (one), and the tick
// recorded may be one behind the clock's (two).
const tickSlack = 2

// at is the first tick that begins at or after t.
func (w *wheel) at(t time.Time) int64 {
	d := t.Sub(w.start)
	return max(0, int64((d+w.res-1)/w.res))
}

// tick is the tick t falls in.
func (w *wheel) tick(t time.Time) int64 { return int64(t.Sub(w.start) / w.res) }

// publish moves now forward to t's tick (loop goroutine, right after its wait),
// so that input read in this batch is stamped with a current tick.
func (w *wheel) publish(t time.Time) int64 {
	now := w.tick(t)
	if now > w.now.Load() {
		w.now.Store(now)
	}
	return w.now.Load()
}

// schedule (re)arms c to fire at tick when.
func (w *wheel) schedule(c *Conn, when int64) {
	w.mu.Lock()
	w.unlink(c)
	if when <= w.done {
		when = w.done + 1
	}
	c.twhen = when
	slot := &w.slots[when&(wheelSlots-1)]
	c.tnext = *slot
	c.tprev = nil
	if *slot != nil {
		(*slot).tprev = c
	}
	*slot = c
	w.mu.Unlock()
}

// cancel removes c's entry, if any.
func (w *wheel) cancel(c *Conn) {
	w.mu.Lock()
	w.unlink(c)
	w.mu.Unlock()
}

func (w *wheel) unlink(c *Conn) {
	if c.twhen == 0 {
		return
	}
	if c.tprev != nil {
		c.tprev.tnext = c.tnext
	} else {
		w.slots[c.twhen&(wheelSlots-1)] = c.tnext
	}
	if c.tnext != nil {
		c.tnext.tprev = c.tprev
	}
	c.tnext, c.tprev, c.twhen = nil, nil, 0
}

// advance moves the wheel to the current time and returns the connections whose
// deadline passed (valid until the next call). The loop posts evTimer to each.
func (w *wheel) advance(t time.Time) []*Conn {
	now := max(w.tick(t), w.now.Load()) // publish may have gone ahead
	w.now.Store(now)
	w.due = w.due[:0]
	w.mu.Lock()
	// Catch up at most one revolution: every slot is visited once.
	from := max(w.done+1, now-wheelSlots+1)
	for tick := from; tick <= now; tick++ {
		for c := w.slots[tick&(wheelSlots-1)]; c != nil; {
			next := c.tnext
			if c.twhen <= now {
				w.unlink(c)
				w.due = append(w.due, c)
			}
			c = next
		}
	}
	if now > w.done {
		w.done = now
	}
	w.mu.Unlock()
	return w.due
}

// untilNext is how long the loop may sleep before the next tick.
func (w *wheel) untilNext(t time.Time) int {
	next := w.start.Add(time.Duration(w.done+1) * w.res)
	ms := int(next.Sub(t).Milliseconds()) + 1
	return max(ms, 0)
}
