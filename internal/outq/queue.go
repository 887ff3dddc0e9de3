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
	case cap(q.buf)-live >= len(b):
		// Room once the written prefix is dropped: compact in place. Moving
		// to another buffer would copy the same live bytes and hold both
		// buffers meanwhile.
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

// Growth is the most memory appending n bytes adds at any moment: nothing
// when the buffer has room (or gets it by compacting, as Append does), else
// the whole pooled buffer Append takes (a power of two): the one it gives back
// is held until the bytes have moved, so a budget that reserved only the
// difference would be passed for that moment by the old buffer's size.
func (q *Queue) Growth(n int) int64 {
	if cap(q.buf)-q.Len() >= n {
		return 0
	}
	return int64(max(minBuf, 1<<bits.Len(uint(q.Len()+n-1))))
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
// Put once written. A partly written queue is compacted in its buffer first,
// rather than copied into another, which would hold two buffers meanwhile.
func (q *Queue) Take() []byte {
	b := q.buf[q.head:]
	if q.head > 0 {
		b = q.buf[:copy(q.buf, b)]
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
