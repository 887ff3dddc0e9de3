package msgqueue

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/weir-ws/weir/frame"
)

// DefaultMax is the queue length at which reading pauses when New is given 0.
const DefaultMax = 64

// MaxBytes is what the queued messages may hold before reading pauses, however
// few they are: without it a slow reader could leave Max messages of the
// largest size queued (64 of 16 MiB: 1 GiB per connection). A queue holds at
// most MaxBytes plus one message.
const MaxBytes = 1 << 20

// Reader is the connection whose reading a Queue pauses and resumes.
type Reader interface {
	PauseRead()
	ResumeRead()
	IsPaused() bool
}

type msg struct {
	op   frame.Opcode
	data []byte
}

// Budget counts the bytes queues hold across connections (the engine's
// inbound budget, a wsread.Total): Charge refuses what would pass its
// maximum.
type Budget interface {
	Charge(n int) bool
	Refund(n int)
}

// Queue holds a connection's messages until they are popped.
type Queue struct {
	mu      sync.Mutex
	msgs    []msg
	max     int
	bytes   int    // held by msgs
	budget  Budget // charged for msgs' capacity until they are popped; nil once ended
	charged int    // what msgs hold of it
	err     error
	notify  chan struct{}
	opened  atomic.Bool // Open came, so End will
}

// New returns a queue that pauses reading at max messages (<= 0: DefaultMax).
func New(max int) *Queue {
	if max <= 0 {
		max = DefaultMax
	}
	return &Queue{max: max, notify: make(chan struct{}, 1)}
}

// NewBudget is New with the queued copies charged to b (nil: none) from Push
// until Pop takes them or End: a queue holds up to MaxBytes and one message
// of any size before reading pauses, which across connections is bounded
// only by a budget (a compressed message of MaxMessageSize is a few KiB on
// the wire).
func NewBudget(max int, b Budget) *Queue {
	q := New(max)
	q.budget = b
	return q
}

func (q *Queue) signal() {
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

// Open records that the connection opened, so End will come.
func (q *Queue) Open() { q.opened.Store(true) }

// Push queues a copy of p and pauses r once the queue is full: Max messages,
// or MaxBytes. The pause comes
// before the signal, so a reader it wakes sees it (Pop). It reports false,
// queueing nothing, when the budget refuses the copy.
func (q *Queue) Push(r Reader, op frame.Opcode, p []byte) bool {
	c := append([]byte(nil), p...)
	q.mu.Lock()
	if q.budget != nil {
		if !q.budget.Charge(cap(c)) {
			q.mu.Unlock()
			return false
		}
		q.charged += cap(c)
	}
	q.msgs = append(q.msgs, msg{op, c})
	q.bytes += len(p)
	full := len(q.msgs) >= q.max || q.bytes >= MaxBytes
	q.mu.Unlock()
	if full {
		r.PauseRead()
	}
	q.signal()
	return true
}

// End makes Pop return err once the queued messages are taken. What they
// hold leaves the budget now: the program may never take them, and the
// connection that could add more is gone.
func (q *Queue) End(err error) {
	q.mu.Lock()
	q.err = err
	if q.budget != nil {
		q.budget.Refund(q.charged)
		q.budget, q.charged = nil, 0
	}
	q.mu.Unlock()
	q.signal()
}

// Pop returns the next message, blocking until one arrives, End, or ctx's end.
// Taking messages resumes reading that a full queue (or anyone) paused.
// unopened is asked, when nothing is queued, for the error of a connection
// that has ended (nil: not ended); it is returned when Open never came, since
// no End will come for such a connection.
func (q *Queue) Pop(ctx context.Context, r Reader, unopened func() error) (frame.Opcode, []byte, error) {
	for {
		q.mu.Lock()
		if len(q.msgs) > 0 {
			m := q.msgs[0]
			q.msgs[0] = msg{}
			q.msgs = q.msgs[1:]
			q.bytes -= len(m.data)
			if q.budget != nil {
				q.budget.Refund(cap(m.data)) // the caller's from now on
				q.charged -= cap(m.data)
			}
			resume := len(q.msgs) < q.max/2+1 && q.bytes < MaxBytes/2 && r.IsPaused()
			q.mu.Unlock()
			if resume {
				r.ResumeRead()
			}
			return m.op, m.data, nil
		}
		err := q.err
		q.mu.Unlock()
		if err != nil {
			q.signal() // End's one wake-up, passed on to the next popper waiting
			return 0, nil, err
		}
		if r.IsPaused() {
			// Push paused after this reader took the last message: with
			// nothing queued, nothing else would resume reading.
			r.ResumeRead()
		}
		// unopened first, then opened: a connection that opened before it
		// ended gets End, and what it queued, rather than this error.
		if err := unopened(); err != nil && !q.opened.Load() {
			return 0, nil, err
		}
		select {
		case <-q.notify:
		case <-ctx.Done():
			return 0, nil, ctx.Err()
		}
	}
}

// Len is the number of messages queued now.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.msgs)
}
