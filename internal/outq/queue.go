package outq

import (
	"math/bits"

	"github.com/weir-ws/weir/internal/pagepool"
)

// minBuf is the smallest pooled buffer a Queue takes.
const minBuf = 512

// Queue is an outbound byte queue with a read offset: buf[head:] is what the
// socket has not taken yet. Its zero value is an empty queue holding no memory.
// It keeps no count of the bytes ever appended: every connection has a Queue,
// and only the few with completions need one (the caller counts them).
type Queue struct {
	buf  []byte // pooled; nil when released
	head int    // bytes of buf already taken by the socket
}

// Len is the number of queued bytes the socket has not taken.
func (q *Queue) Len() int { return len(q.buf) - q.head }

// Cap is the capacity of the pooled buffer behind the queue (0 when released):
// the memory it holds.
func (q *Queue) Cap() int { return cap(q.buf) }

// Bytes returns the queued bytes, valid until the next call that changes q.
func (q *Queue) Bytes() []byte { return q.buf[q.head:] }

// Append queues b, taking a pooled buffer, compacting or moving to a larger one
// as needed.
func (q *Queue) Append(b []byte) {
	if len(b) == 0 {
		return
	}
	switch live := q.Len(); {
	case q.buf == nil:
		q.buf = pagepool.Default.Get(max(len(b), minBuf))[:0]
	case cap(q.buf)-len(q.buf) >= len(b):
	case q.head >= len(q.buf)/2 && cap(q.buf)-live >= len(b):
		// Mostly written already: compact in place (copies at most what the
		// writes have consumed since the last compaction).
		q.buf = q.buf[:copy(q.buf, q.buf[q.head:])]
		q.head = 0
	default:
		nb := pagepool.Default.Get(live + len(b))[:live]
		copy(nb, q.buf[q.head:])
		pagepool.Default.Put(q.buf)
		q.buf, q.head = nb, 0
	}
	q.buf = append(q.buf, b...)
}

// Growth is the memory appending n bytes would add: nothing when the buffer
// has room (or gets it by compacting, as Append does), else the pooled buffer
// Append would take (a power of two) less the one it would give back.
func (q *Queue) Growth(n int) int64 {
	live := q.Len()
	if cap(q.buf)-len(q.buf) >= n || (q.head >= len(q.buf)/2 && cap(q.buf)-live >= n) {
		return 0
	}
	size := max(minBuf, 1<<bits.Len(uint(live+n-1)))
	return int64(max(0, size-cap(q.buf)))
}

// Advance drops the first n queued bytes (the socket took them). An emptied
// queue gives its buffer back.
func (q *Queue) Advance(n int) {
	q.head += n
	if q.head >= len(q.buf) && q.buf != nil {
		q.Release()
	}
}

// Take removes every queued byte and returns them in a pooled buffer of their
// own, for a writer that writes without the lock; the caller returns it with
// Put once written.
func (q *Queue) Take() []byte {
	b := q.buf[q.head:]
	if q.head > 0 {
		b = append(pagepool.Default.Get(len(b))[:0], b...)
		pagepool.Default.Put(q.buf)
	}
	q.buf, q.head = nil, 0
	return b
}

// Put gives back a buffer from Take once it is written.
func Put(b []byte) { pagepool.Default.Put(b) }

// Release drops whatever is queued and gives the buffer back.
func (q *Queue) Release() {
	if q.buf != nil {
		pagepool.Default.Put(q.buf)
	}
	q.buf, q.head = nil, 0
}
