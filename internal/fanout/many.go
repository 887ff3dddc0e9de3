package fanout

import (
	"sync"

	"github.com/weir-ws/weir/internal/prepared"
	"github.com/weir-ws/weir/internal/uring"
)

// Ops is how WriteMany reaches a receiver of type C (engine: its *Conn, whose
// write lock and write side these methods wrap). A zero-size type with the
// methods keeps C's own method set clean and the calls direct.
type Ops[C any] interface {
	// Direct takes c's write lock unless it is held elsewhere (TryLock: two
	// fan-outs never wait on each other) and admits m's frame for a send
	// straight to the socket. With a frame, the lock stays held until Sent
	// and fd is c's socket; otherwise the lock is let go, and err (a
	// refusal, reported later through Failed) or neither (c is not for the
	// ring: WriteMany sends to it with Write after the batch).
	Direct(c C, m *prepared.Message) (fd int, f []byte, err error)
	// Sent ends the direct write of f that the socket took k bytes of (err:
	// the send's error), queuing the rest as Write would, and lets the lock
	// go; it returns the write's outcome (nil: c took m).
	Sent(c C, f []byte, k int, err error) error
	// Write is the ordinary write of m (nil: c took it).
	Write(c C, m *prepared.Message) error
	// Failed reports a refused write, once no lock of the batch is held.
	Failed(c C, err error)
}

// Batches recycles WriteMany's state. The zero value is ready to use.
type Batches[C any, O Ops[C]] struct{ pool sync.Pool }

// WriteMany writes m to each of conns and returns how many took it. Where
// io_uring is to be had (Linux, internal/uring), the receivers whose frame
// goes straight to the socket (Ops.Direct) are sent to in batches of the
// ring's size, one io_uring_enter each, with their write locks held from
// Direct to Sent; the others, and all where io_uring is missing, refused or
// every ring is in use, get Ops.Write. Failed runs for a batch's refusals
// once its locks are let go, so no receiver is ever under two of this
// goroutine's locks (a Failed that closes takes the lock again).
func (bs *Batches[C, O]) WriteMany(ops O, conns []C, m *prepared.Message) int {
	if len(conns) < 2 {
		return writeEach(ops, conns, m) // one system call either way
	}
	r := uring.Get()
	if r == nil {
		return writeEach(ops, conns, m) // no io_uring here, or every ring in use
	}
	b, _ := bs.pool.Get().(*batch[C, O])
	if b == nil {
		b = new(batch[C, O])
	}
	n := 0
	for _, c := range conns {
		if b.ringFailed || !b.add(ops, r, c, m) {
			b.later = append(b.later, c)
		} else if len(b.conns) == r.Cap() {
			n += b.send(ops, r)
		}
	}
	n += b.send(ops, r)
	if b.ringFailed {
		b.ringFailed = false // the ring is retired (uring.Ring.Send), not put back
	} else {
		uring.Put(r)
	}
	n += writeEach(ops, b.later, m)
	clear(b.later)
	b.later = b.later[:0]
	bs.pool.Put(b)
	return n
}

func writeEach[C any, O Ops[C]](ops O, conns []C, m *prepared.Message) int {
	n := 0
	for _, c := range conns {
		if ops.Write(c, m) == nil {
			n++
		}
	}
	return n
}

// batch is one WriteMany's receivers in flight: their write locks are held
// from add to send.
type batch[C any, O Ops[C]] struct {
	conns      []C
	frames     [][]byte
	failed     []failed[C]
	res        []int32
	later      []C
	ringFailed bool
}

type failed[C any] struct {
	c   C
	err error
}

// add queues c's send in r (or keeps its refusal for send to report) and
// reports true; false: not for the ring, Write after the batch.
func (b *batch[C, O]) add(ops O, r *uring.Ring, c C, m *prepared.Message) bool {
	fd, f, err := ops.Direct(c, m)
	if err != nil {
		b.failed = append(b.failed, failed[C]{c, err})
		return true
	}
	if f == nil {
		return false
	}
	r.Add(fd, f)
	b.conns = append(b.conns, c)
	b.frames = append(b.frames, f)
	return true
}

// send submits the batch, ends every write as the socket took it and lets
// the locks go; it returns how many took the message.
func (b *batch[C, O]) send(ops O, r *uring.Ring) int {
	if len(b.conns) == 0 {
		b.reportFailed(ops)
		return 0
	}
	if cap(b.res) < r.Cap() {
		b.res = make([]int32, r.Cap())
	}
	if r.Send(b.res) != nil {
		b.ringFailed = true // every result not reported is uring.Unknown
	}
	n := 0
	for i, c := range b.conns {
		k, err := uring.Outcome(b.res[i])
		if err = ops.Sent(c, b.frames[i], k, err); err == nil {
			n++
		} else {
			b.failed = append(b.failed, failed[C]{c, err})
		}
	}
	clear(b.conns)
	clear(b.frames)
	b.conns, b.frames = b.conns[:0], b.frames[:0]
	b.reportFailed(ops)
	return n
}

// reportFailed gives the refusals to Failed, once every lock of the batch
// is let go.
func (b *batch[C, O]) reportFailed(ops O) {
	for _, f := range b.failed {
		ops.Failed(f.c, f.err)
	}
	clear(b.failed)
	b.failed = b.failed[:0]
}
