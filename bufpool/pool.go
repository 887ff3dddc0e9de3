package bufpool

import (
	"math/bits"
	"sync"
	"unsafe"
)

const (
	// MinSize is the smallest class of the default pool: every Get returns at
	// least this much capacity, so tiny control-frame buffers still recycle.
	MinSize = 1 << minShift
	// MaxSize is the largest class of the default pool. Larger requests are
	// plain allocations that Put drops, so one huge message never stays
	// resident in a pool.
	MaxSize = 1 << maxShift

	minShift = 6  // 64 B
	maxShift = 24 // 16 MiB

	// limitShift bounds the largest class New accepts (1 GiB), which keeps
	// every class size representable as an int on 32-bit platforms.
	limitShift = 30
)

// Pool recycles byte slices in power-of-two size classes. The zero Pool is
// ready to use and has the default classes (MinSize to MaxSize); New builds
// a Pool with other bounds. A Pool must not be copied after first use.
type Pool struct {
	// custom is false for the zero Pool, which then uses the default bounds;
	// this keeps the zero value usable without a lazy-init step on the hot
	// path.
	custom bool
	lo, hi uint8 // log2 of the smallest and the largest class when custom
	// classes[s] holds buffers of capacity 1<<s, stored as an unsafe.Pointer
	// to their first byte. Indexing by shift keeps Get and Put free of any
	// offset arithmetic.
	classes [limitShift + 1]sync.Pool
}

// New returns a Pool whose classes run from min to max bytes. Callers with
// their own size profile use it instead of the package-level pool. New
// panics unless min and max are powers of two with 1 <= min <= max <= 1 GiB,
// because a Pool with any other bounds could not honour "cap is the class
// size".
func New(min, max int) *Pool {
	if !isPow2(min) || !isPow2(max) || min > max || max > 1<<limitShift {
		panic("bufpool: New needs powers of two with 1 <= min <= max <= 1 GiB")
	}
	return &Pool{
		custom: true,
		lo:     uint8(bits.TrailingZeros(uint(min))),
		hi:     uint8(bits.TrailingZeros(uint(max))),
	}
}

// Get returns a slice of length n. Its capacity is the smallest class size
// that is at least n; above the largest class Get allocates exactly n bytes.
// The contents are not zeroed. Get panics if n < 0, as make does.
func (p *Pool) Get(n int) []byte {
	lo, hi := p.bounds()
	s := classOf(n, lo)
	if s > hi {
		return make([]byte, n) // oversized (or negative n: make panics)
	}
	if v := p.classes[s].Get(); v != nil {
		return unsafe.Slice((*byte)(v.(unsafe.Pointer)), 1<<s)[:n]
	}
	return make([]byte, n, 1<<s)
}

// Put returns b to its class for reuse. b must not be used afterwards. A
// slice whose capacity is not exactly one of the pool's class sizes is
// dropped; see the package documentation for the full contract.
func (p *Pool) Put(b []byte) {
	c := cap(b)
	if !isPow2(c) {
		return // nil, foreign or oversized: never pooled
	}
	s := uint(bits.TrailingZeros(uint(c)))
	lo, hi := p.bounds()
	if s < lo || s > hi {
		return
	}
	// unsafe.SliceData points at the array's first byte even when len(b) is
	// 0; a pointer-shaped value goes into the interface without allocating.
	p.classes[s].Put(unsafe.Pointer(unsafe.SliceData(b)))
}

// Grow returns a slice with the contents and length of b and room for at
// least n more bytes. If b already has the room, Grow returns b itself;
// otherwise it copies b into a buffer from the next fitting class and Puts b,
// so growth by appending costs a copy per doubling and no allocation in
// steady state. Grow panics if n < 0.
func (p *Pool) Grow(b []byte, n int) []byte {
	if n < 0 {
		panic("bufpool: Grow with negative count")
	}
	if cap(b)-len(b) >= n {
		return b
	}
	nb := p.Get(len(b) + n)[:len(b)]
	copy(nb, b)
	p.Put(b)
	return nb
}

// bounds reports the log2 of the smallest and the largest class.
func (p *Pool) bounds() (lo, hi uint) {
	if !p.custom {
		return minShift, maxShift
	}
	return uint(p.lo), uint(p.hi)
}

// classOf returns log2 of the smallest power of two that is >= n and >= 1<<lo.
// For n < 0 the result is larger than any class, which sends Get to make.
func classOf(n int, lo uint) uint {
	if n >= 0 && n <= 1<<lo {
		return lo
	}
	return uint(bits.Len(uint(n - 1)))
}

func isPow2(n int) bool { return n > 0 && n&(n-1) == 0 }
