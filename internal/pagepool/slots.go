package pagepool

import (
	"slices"
	"sync"
	"unsafe"
)

// Slots hands out fixed-size blocks of memory outside the Go heap, for
// small, long-lived, pointer-free state that every connection keeps (the
// keys of a wss connection's record layer, internal/tlsloop). On the Go heap
// such state costs about twice its size in RSS at the default GOGC (the heap
// grows to twice what is live before it collects, and the scavenger keeps
// what that growth touched); here it costs its size, and freeing it makes no
// garbage.
//
// Contract (besides the package's):
//   - A Slots is made by NewSlots with its slot size; Alloc returns a zeroed
//     slot of that size, 8-byte aligned, that never straddles a page; nil when
//     the kernel refuses a mapping (or without mmap): the caller then keeps
//     its state on the heap.
//   - Free takes a slot back exactly once: it zeroes it at once (a slot may
//     hold secrets) and reports false, changing nothing, for a pointer that
//     is not a slot of this Slots in use (a second Free included).
//   - The slots hold no Go pointers: the collector does not see them, so a
//     Go pointer stored in one does not keep its object alive.
//   - A page whose slots are all free goes back to the kernel once more than
//     KeepWarm bytes of slots are free; its slots stay free and read zeros.
//     Memory is never unmapped: the address space grows to the most slots
//     ever in use at once.
//   - Safe for concurrent use.
type Slots struct {
	size    uintptr // bytes per slot
	perPage uintptr // slots per page

	mu    sync.Mutex
	slabs []slotSlab       // sorted by base
	free  []unsafe.Pointer // free slots, the most recently freed last
	inUse int
}

// slotSlab is one mapping carved into slots, page by page.
type slotSlab struct {
	base, end uintptr
	mem       []byte   // the mapping (kept for release)
	used      []uint16 // slots in use per page
	bits      []uint64 // one bit per slot: in use
}

// slotSlabSize is what one mapping of slots holds.
const slotSlabSize = 256 << 10

// NewSlots returns a Slots of size-byte slots, size rounded up to 8 bytes;
// it panics if size is not in 1..PageSize.
func NewSlots(size int) *Slots {
	if size < 1 || size > pageSize {
		panic("pagepool: slot size out of range")
	}
	s := uintptr(size+7) &^ 7
	return &Slots{size: s, perPage: pageSize / s}
}

// Size is the size of a slot.
func (s *Slots) Size() int { return int(s.size) }

// SlotStats is a snapshot of a Slots.
type SlotStats struct {
	InUse  int   // slots handed out and not yet freed
	Free   int   // slots free in mapped slabs
	Mapped int64 // bytes of address space mapped
}

// Stats returns the Slots' counts.
func (s *Slots) Stats() SlotStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return SlotStats{InUse: s.inUse, Free: len(s.free), Mapped: int64(len(s.slabs)) * slotSlabSize}
}

// Alloc returns a zeroed slot, or nil when no memory can be mapped.
func (s *Slots) Alloc() unsafe.Pointer {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.free) == 0 && !s.grow() {
		return nil
	}
	p := s.free[len(s.free)-1]
	s.free = s.free[:len(s.free)-1]
	sl, page, bit := s.locate(uintptr(p))
	sl.used[page]++
	sl.bits[bit/64] |= 1 << (bit % 64)
	s.inUse++
	return p
}

// grow maps a slab and lists its slots free (under mu), highest first so
// that Alloc hands them out from the slab's start.
func (s *Slots) grow() bool {
	mem := mapSlab(slotSlabSize)
	if mem == nil {
		return false
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(mem)))
	pages := uintptr(slotSlabSize / pageSize)
	sl := slotSlab{base: base, end: base + slotSlabSize, mem: mem, used: make([]uint16, pages),
		bits: make([]uint64, (pages*s.perPage+63)/64)}
	i, _ := slices.BinarySearchFunc(s.slabs, base, func(x slotSlab, b uintptr) int {
		return cmpUintptr(x.base, b)
	})
	s.slabs = slices.Insert(s.slabs, i, sl)
	for pg := pages; pg > 0; pg-- {
		for k := s.perPage; k > 0; k-- {
			s.free = append(s.free, unsafe.Pointer(unsafe.SliceData(mem[(pg-1)*pageSize+(k-1)*s.size:])))
		}
	}
	return true
}

func cmpUintptr(a, b uintptr) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// locate finds the slab, page and slot number of p (under mu); sl is nil
// when p is not the start of a slot of this Slots.
func (s *Slots) locate(p uintptr) (sl *slotSlab, page, bit uintptr) {
	i, _ := slices.BinarySearchFunc(s.slabs, p, func(x slotSlab, p uintptr) int {
		if x.end <= p {
			return -1
		}
		if x.base > p {
			return 1
		}
		return 0
	})
	if i == len(s.slabs) || p < s.slabs[i].base || p >= s.slabs[i].end {
		return nil, 0, 0
	}
	sl = &s.slabs[i]
	off := p - sl.base
	page, in := off/pageSize, off%pageSize
	if in%s.size != 0 || in/s.size >= s.perPage {
		return nil, 0, 0
	}
	return sl, page, page*s.perPage + in/s.size
}

// Free zeroes the slot at p and takes it back; false if p is not a slot of
// s in use.
func (s *Slots) Free(p unsafe.Pointer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	sl, page, bit := s.locate(uintptr(p))
	if sl == nil || sl.bits[bit/64]&(1<<(bit%64)) == 0 {
		return false
	}
	clear(unsafe.Slice((*byte)(p), s.size))
	sl.bits[bit/64] &^= 1 << (bit % 64)
	sl.used[page]--
	s.inUse--
	s.free = append(s.free, p)
	if sl.used[page] == 0 && uintptr(len(s.free))*s.size > KeepWarm {
		release(sl.mem[page*pageSize : (page+1)*pageSize])
	}
	return true
}
