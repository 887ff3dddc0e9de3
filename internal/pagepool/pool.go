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
	// PageSize is the unit the kernel makes memory resident in: a buffer
	// below it shares its page, which stays resident while any buffer in it
	// is in use, so a caller bounding resident memory counts it as a page.
	PageSize = pageSize
	// KeepWarm is how many free bytes of each class stay resident for reuse
	// before further frees are given back to the kernel.
	KeepWarm = 256 << 10

	minShift  = 9  // 512 B
	maxShift  = 24 // 16 MiB
	pageSize  = 1 << pageShift
	pageShift = 12
	slabSize  = 256 << 10 // what one mapping holds at least
	maxSlab   = 16 << 20  // what one mapping holds at most, unless one buffer is larger
)

// Pool is a set of size classes over mapped slabs. The zero Pool is ready to
// use; Default is the one the engine shares.
type Pool struct {
	classes [maxShift + 1]class
	spans   atomic.Pointer[[]span] // every mapping, sorted by start (copy on write)
	mapMu   sync.Mutex             // serializes additions to spans
	inUse   atomic.Int64           // bytes handed out and not yet put back
	warm    atomic.Int64           // bytes on the warm lists (changed under their class's lock)
	peak    atomic.Int64           // the most inUse has been
	mapped  atomic.Int64           // bytes of address space mapped
}

// Default is the process-wide pool.
var Default Pool

type class struct {
	mu     sync.Mutex
	warm   []unsafe.Pointer // free, pages resident
	cold   []unsafe.Pointer // free, pages given back (or never touched)
	mapped int              // bytes mapped for this class
	// Below a page only (small.go): buffers in use per page handed from,
	// and how many of those pages have none.
	used  map[unsafe.Pointer]int32
	empty int
}

// span is one mapping, carved into buffers of one class.
type span struct {
	lo, hi uintptr
	shift  uint
}

// Stats is a snapshot of a pool's memory.
type Stats struct {
	InUse int64 // bytes in buffers handed out and not yet put back
	Warm  int64 // free bytes kept resident for reuse
	// WarmSmall is the part of Warm in classes below a page, which share
	// pages and are never given back.
	WarmSmall int64
	Peak      int64 // the most ever in use at once: InUse + Warm stays within it
	Mapped    int64 // address space mapped in all
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
	if ptr != nil {
		// Resident already: in use + warm stays the same.
		if size < pageSize {
			c.tookSmall(ptr)
		}
		p.warm.Add(-int64(size))
		p.inUse.Add(int64(size))
		c.mu.Unlock()
		return unsafe.Slice((*byte)(ptr), size)[:n]
	}
	ptr = pop(&c.cold)
	if ptr == nil {
		ptr = p.refill(c, size)
	}
	if ptr != nil && size < pageSize {
		c.tookSmall(ptr)
	}
	c.mu.Unlock()
	if ptr == nil {
		return make([]byte, n, size) // the kernel refused: the heap serves
	}
	// New resident memory: keep in use + warm within the peak in use.
	in := p.inUse.Add(int64(size))
	peak := p.raisePeak(in)
	if over := in + p.warm.Load() - peak; over > 0 {
		p.trim(over)
	}
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
	// Kept warm, in use + warm does not change: within the peak as before.
	// Below a page a buffer shares its page: it stays warm, and its page goes
	// back once all of them are free and trim needs it (small.go).
	if size < pageSize {
		c.gaveSmall(ptr)
	}
	if size < pageSize || (len(c.warm)+1)*size <= KeepWarm {
		c.warm = append(c.warm, ptr)
		p.warm.Add(int64(size))
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
	st := Stats{InUse: p.inUse.Load(), Warm: p.warm.Load(), Peak: p.peak.Load(), Mapped: p.mapped.Load()}
	for s := minShift; s < pageShift; s++ {
		c := &p.classes[s]
		c.mu.Lock()
		st.WarmSmall += int64(len(c.warm)) << s
		c.mu.Unlock()
	}
	return st
}

// raisePeak makes the peak at least in and returns it.
func (p *Pool) raisePeak(in int64) int64 {
	for {
		cur := p.peak.Load()
		if in <= cur {
			return cur
		}
		if p.peak.CompareAndSwap(cur, in) {
			return in
		}
	}
}

// trim gives at least n bytes of warm buffers back to the kernel, largest
// classes first (fewest calls), when a Get has made new memory resident past
// the peak in use: warm buffers are kept only within what callers have held at
// once, never on top of it. Below a page, buffers share pages: what can go
// back then is the pages whose buffers are all free (small.go).
func (p *Pool) trim(n int64) {
	for s := maxShift; s >= pageShift && n > 0; s-- {
		c := &p.classes[s]
		for n > 0 {
			c.mu.Lock()
			ptr := pop(&c.warm)
			if ptr != nil {
				p.warm.Add(-int64(1) << s)
			}
			c.mu.Unlock()
			if ptr == nil {
				break
			}
			// Released before it goes on the cold list (as in Put).
			release(unsafe.Slice((*byte)(ptr), 1<<s))
			c.mu.Lock()
			c.cold = append(c.cold, ptr)
			c.mu.Unlock()
			n -= 1 << s
		}
	}
	for s := pageShift - 1; s >= minShift && n > 0; s-- {
		n -= p.trimSmall(s)
	}
}

// refill maps a new slab for class c (under c.mu), keeps all but one of its
// buffers on the cold list (untouched pages are not resident) and returns that
// one; nil if the kernel refused. A slab is as large as what the class has
// mapped already (from slabSize to maxSlab, powers of two): the span list is
// copied whole at each mapping, so filling a class takes a few mappings and
// makes little garbage, and untouched address space costs no memory.
func (p *Pool) refill(c *class, size int) unsafe.Pointer {
	n := max(size, slabSize, min(c.mapped, maxSlab))
	n &^= size - 1 // a whole number of buffers (all powers of two)
	mem := mapSlab(n)
	if mem == nil {
		return nil
	}
	c.mapped += n
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
