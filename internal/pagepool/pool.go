package pagepool

import (
	"cmp"
	"math/bits"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"
)

const (
	// MinSize is the smallest class: buffers below a page are carved from
	// shared slabs and kept resident; from a page up they are released.
	MinSize = 1 << minShift
	// MaxSize is the largest class; larger requests are plain heap slices.
	MaxSize = 1 << maxShift
	// KeepWarm is how many free bytes of each class stay resident for reuse
	// before further frees are given back to the kernel.
	KeepWarm = 256 << 10

	minShift = 9  // 512 B
	maxShift = 24 // 16 MiB
	pageSize = 4096
	slabSize = 256 << 10 // what one mapping holds at least
)

// Pool is a set of size classes over mapped slabs. The zero Pool is ready to
// use; Default is the one the engine shares.
type Pool struct {
	classes [maxShift + 1]class
	spans   atomic.Pointer[[]span] // every mapping, sorted by start (copy on write)
	mapMu   sync.Mutex             // serializes additions to spans
	inUse   atomic.Int64           // bytes handed out and not yet put back
	mapped  atomic.Int64           // bytes of address space mapped
}

// Default is the process-wide pool.
var Default Pool

type class struct {
	mu   sync.Mutex
	warm []unsafe.Pointer // free, pages resident
	cold []unsafe.Pointer // free, pages given back (or never touched)
}

// span is one mapping, carved into buffers of one class.
type span struct {
	lo, hi uintptr
	shift  uint
}

// Stats is a snapshot of a pool's memory.
type Stats struct {
	InUse  int64 // bytes in buffers handed out and not yet put back
	Warm   int64 // free bytes kept resident for reuse
	Mapped int64 // address space mapped in all
}

// Get returns a slice of length n with a class-sized capacity (see the package
// contract). It panics if n < 0, as make does.
func (p *Pool) Get(n int) []byte {
	s := classOf(n)
	if s > maxShift {
		return make([]byte, n)
	}
	size := 1 << s
	c := &p.classes[s]
	c.mu.Lock()
	ptr := pop(&c.warm)
	if ptr == nil {
		ptr = pop(&c.cold)
	}
	if ptr == nil {
		ptr = p.refill(c, size)
	}
	c.mu.Unlock()
	if ptr == nil {
		return make([]byte, n, size) // the kernel refused: the heap serves
	}
	p.inUse.Add(int64(size))
	return unsafe.Slice((*byte)(ptr), size)[:n]
}

// Put gives b back (see the package contract).
func (p *Pool) Put(b []byte) {
	size := cap(b)
	if size < MinSize || size > MaxSize || size&(size-1) != 0 {
		return
	}
	ptr := unsafe.Pointer(unsafe.SliceData(b))
	if !p.owns(uintptr(ptr), size) {
		return
	}
	p.inUse.Add(-int64(size))
	c := &p.classes[bits.TrailingZeros(uint(size))]
	c.mu.Lock()
	if size < pageSize || (len(c.warm)+1)*size <= KeepWarm {
		c.warm = append(c.warm, ptr)
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	// Released before it goes on the free list, never after: once listed, a
	// Get may hand it out, and a release then would zero its new owner's
	// bytes (TestReleaseBeforeReuse). The syscall runs outside the lock.
	release(b[:size])
	c.mu.Lock()
	c.cold = append(c.cold, ptr)
	c.mu.Unlock()
}

// Stats reports the pool's memory now.
func (p *Pool) Stats() Stats {
	st := Stats{InUse: p.inUse.Load(), Mapped: p.mapped.Load()}
	for s := minShift; s <= maxShift; s++ {
		c := &p.classes[s]
		c.mu.Lock()
		st.Warm += int64(len(c.warm)) << s
		c.mu.Unlock()
	}
	return st
}

// refill maps a new slab for class c (under c.mu), keeps all but one of its
// buffers on the cold list (untouched pages are not resident) and returns that
// one; nil if the kernel refused.
func (p *Pool) refill(c *class, size int) unsafe.Pointer {
	n := max(size, slabSize)
	mem := mapSlab(n)
	if mem == nil {
		return nil
	}
	base := unsafe.Pointer(unsafe.SliceData(mem))
	p.addSpan(span{uintptr(base), uintptr(base) + uintptr(n), uint(bits.TrailingZeros(uint(size)))})
	for off := n - size; off > 0; off -= size {
		c.cold = append(c.cold, unsafe.Add(base, off))
	}
	return base
}

func (p *Pool) addSpan(sp span) {
	p.mapMu.Lock()
	defer p.mapMu.Unlock()
	var next []span
	if cur := p.spans.Load(); cur != nil {
		next = slices.Clone(*cur)
	}
	i, _ := slices.BinarySearchFunc(next, sp.lo, func(s span, lo uintptr) int { return cmp.Compare(s.lo, lo) })
	next = slices.Insert(next, i, sp)
	p.spans.Store(&next)
	p.mapped.Add(int64(sp.hi - sp.lo))
}

// owns reports whether ptr starts a buffer of class size in one of the pool's
// mappings: in its range, of its class, at a multiple of the class size from
// its start (so a slice into the middle of a buffer is never taken as one).
func (p *Pool) owns(ptr uintptr, size int) bool {
	cur := p.spans.Load()
	if cur == nil {
		return false
	}
	sp := *cur
	// The last span starting at or before ptr.
	i, found := slices.BinarySearchFunc(sp, ptr, func(s span, v uintptr) int { return cmp.Compare(s.lo, v) })
	if !found {
		i--
	}
	if i < 0 || ptr < sp[i].lo || ptr+uintptr(size) > sp[i].hi || 1<<sp[i].shift != size {
		return false
	}
	return (ptr-sp[i].lo)&uintptr(size-1) == 0
}

func pop(l *[]unsafe.Pointer) unsafe.Pointer {
	s := *l
	if len(s) == 0 {
		return nil
	}
	p := s[len(s)-1]
	*l = s[:len(s)-1]
	return p
}

// classOf is log2 of the smallest class that holds n (n < 0: past every class).
func classOf(n int) uint {
	if n >= 0 && n <= MinSize {
		return minShift
	}
	if n < 0 {
		return maxShift + 1
	}
	return uint(bits.Len(uint(n - 1)))
}
