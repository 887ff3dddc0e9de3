//go:build unix

package pagepool

import (
	"sync"
	"testing"
	"unsafe"
)

func TestSlotsAllocFree(t *testing.T) {
	t.Parallel()
	for _, size := range []int{1, 8, 200, 208, 1000, pageSize} {
		s := NewSlots(size)
		if s.Size()%8 != 0 || s.Size() < size {
			t.Fatalf("size %d: slot size %d", size, s.Size())
		}
		n := 3 * slotSlabSize / s.Size() // more than one slab
		seen := make(map[uintptr]bool, n)
		var ps []unsafe.Pointer
		for range n {
			p := s.Alloc()
			if p == nil {
				t.Fatal("Alloc: nil")
			}
			a := uintptr(p)
			if seen[a] || a%8 != 0 || a/pageSize != (a+uintptr(s.Size())-1)/pageSize {
				t.Fatalf("size %d: slot %#x reused, misaligned or straddling a page", size, a)
			}
			seen[a] = true
			b := unsafe.Slice((*byte)(p), s.Size())
			for i := range b {
				if b[i] != 0 {
					t.Fatalf("size %d: slot not zeroed", size)
				}
				b[i] = 0xA5
			}
			ps = append(ps, p)
		}
		if st := s.Stats(); st.InUse != n {
			t.Fatalf("InUse %d, want %d", st.InUse, n)
		}
		for _, p := range ps {
			if !s.Free(p) {
				t.Fatal("Free of a slot in use: false")
			}
			if s.Free(p) {
				t.Fatal("second Free: true")
			}
		}
		if st := s.Stats(); st.InUse != 0 || st.Free < n {
			t.Fatalf("after Free: %+v", st)
		}
		// Reused slots come back zeroed (Free wiped them, or their page went back).
		for range n {
			p := s.Alloc()
			for _, c := range unsafe.Slice((*byte)(p), s.Size()) {
				if c != 0 {
					t.Fatalf("size %d: reused slot not zeroed", size)
				}
			}
		}
		if st := s.Stats(); st.Mapped != int64(len(s.slabs))*slotSlabSize || st.InUse != n {
			t.Fatalf("stats %+v", st)
		}
	}
}

func TestSlotsFreeForeign(t *testing.T) {
	t.Parallel()
	s := NewSlots(200)
	p := s.Alloc()
	var local [256]byte
	other := NewSlots(200).Alloc()
	for _, q := range []unsafe.Pointer{
		unsafe.Pointer(&local[0]), // the Go heap or stack
		unsafe.Add(p, 8),          // inside a slot
		unsafe.Add(p, 200),        // the next slot, not in use
		other,                     // another Slots'
	} {
		if s.Free(q) {
			t.Fatalf("Free(%p) of a pointer that is not a slot in use: true", q)
		}
	}
	if !s.Free(p) {
		t.Fatal("Free(p): false")
	}
}

func TestSlotsConcurrent(t *testing.T) {
	t.Parallel()
	s := NewSlots(208)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []unsafe.Pointer
			for i := range 5000 {
				p := s.Alloc()
				*(*int)(p) = g
				mine = append(mine, p)
				if i%3 == 2 {
					q := mine[0]
					if *(*int)(q) != g {
						t.Error("slot written by another goroutine")
						return
					}
					s.Free(q)
					mine = mine[1:]
				}
			}
			for _, q := range mine {
				if !s.Free(q) {
					t.Error("Free: false")
				}
			}
		}()
	}
	wg.Wait()
	if st := s.Stats(); st.InUse != 0 {
		t.Fatalf("InUse %d after all were freed", st.InUse)
	}
}
