package wsread

import (
	"sync/atomic"

	"github.com/weir-ws/weir/bufpool"
)

// Budget counts the bytes that Readers hold between calls (a partial frame's
// buffer), across all the Readers that share it, so that their sum can be
// bounded. It is called only when a buffer is taken, grown or returned, never
// for a frame delivered from the caller's chunk, and from many goroutines at
// once (one per Reader in use).
type Budget interface {
	// Charge asks for n more bytes. On false nothing is charged and the
	// Reader drops the growth and fails with ErrBudget.
	Charge(n int) bool
	// Refund returns n bytes charged earlier.
	Refund(n int)
}

// charge charges the budget for buf's growth from capacity old. Refused, the
// buffer goes back to the pool (its bytes are lost: the Reader fails), old is
// refunded, and the error is ErrBudget.
func (r *Reader) charge(lim *Limits, old int) error {
	b := lim.Budget
	if b == nil || b.Charge(cap(r.buf)-old) {
		return nil
	}
	bufpool.Put(r.buf)
	r.buf = nil
	if old > 0 {
		b.Refund(old)
	}
	return r.fail(ErrBudget)
}

// put returns buf to the pool and refunds its capacity to the budget.
func (r *Reader) put(lim *Limits) {
	if b := lim.Budget; b != nil {
		b.Refund(cap(r.buf))
	}
	bufpool.Put(r.buf)
	r.buf = nil
}

// Total is a Budget shared by many Readers (and by whatever else the caller
// counts against it): a count with a maximum. Max <= 0: counted, never refused.
// Set Max before the Total is shared.
//
// The last part of Max (Reserve) is kept for small growths, of SmallGrowth
// bytes or fewer: a frame of ordinary size cut by a read, the first steps of
// any buffer. Buffers grow by doubling, so the large growths are those of
// large partial messages; without the reserve, peers holding a few of them
// (16 half-sent 16 MiB frames fill the default budget) made every frame cut
// by a read on every other connection fail with 1013. With it they can hold
// Max less the reserve, and the small growths of everyone else share the
// rest; the count still never passes Max.
type Total struct {
	n   atomic.Int64
	Max int64
}

// SmallGrowth is the largest growth that may use the reserve: a buffer of up
// to twice it (a read buffer's worth and more) grows in such steps.
const SmallGrowth = 64 << 10

// maxReserve caps the reserve: it is sized for many small buffers at once,
// not in proportion to large budgets.
const maxReserve = 8 << 20

// Reserve is the part of Max that only growths of SmallGrowth bytes or fewer
// may take: an eighth of it, at most 8 MiB.
func (t *Total) Reserve() int64 { return min(t.Max/8, maxReserve) }

// Charge takes n more bytes unless the count would pass Max, or, for a growth
// of more than SmallGrowth, Max less the Reserve. A compare-and-swap loop, so
// that the count never passes it even for a moment (it runs only when a
// buffer is taken or grows).
func (t *Total) Charge(n int) bool {
	if t.Max <= 0 {
		t.n.Add(int64(n))
		return true
	}
	limit := t.Max
	if n > SmallGrowth {
		limit -= t.Reserve()
	}
	for {
		cur := t.n.Load()
		if cur+int64(n) > limit {
			return false
		}
		if t.n.CompareAndSwap(cur, cur+int64(n)) {
			return true
		}
	}
}

// Refund gives back n bytes charged earlier.
func (t *Total) Refund(n int) { t.n.Add(-int64(n)) }

// Load is the count now.
func (t *Total) Load() int64 { return t.n.Load() }
