package bufpool

import (
	"bytes"
	"fmt"
	"math/bits"
	"runtime"
	"sync"
	"testing"
	"unsafe"
)

func TestGetClassRounding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n, wantCap int
	}{
		{0, MinSize},
		{1, MinSize},
		{MinSize - 1, MinSize},
		{MinSize, MinSize},
		{MinSize + 1, 2 * MinSize},
		{4095, 4096},
		{4096, 4096},
		{4097, 8192},
		{MaxSize/2 + 1, MaxSize},
		{MaxSize - 1, MaxSize},
		{MaxSize, MaxSize},
		{MaxSize + 1, MaxSize + 1}, // plain allocation, exact size
		{2 * MaxSize, 2 * MaxSize}, // a power of two above MaxSize is still plain
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.n), func(t *testing.T) {
			t.Parallel()
			b := Get(tt.n)
			if len(b) != tt.n || cap(b) != tt.wantCap {
				t.Fatalf("Get(%d): len %d cap %d, want len %d cap %d", tt.n, len(b), cap(b), tt.n, tt.wantCap)
			}
			Put(b)
		})
	}
}

// TestClassOfExhaustive checks the rounding rule for every size up to 1 MiB
// against its definition, so an off-by-one at any class edge shows up.
func TestClassOfExhaustive(t *testing.T) {
	t.Parallel()
	for n := 0; n <= 1<<20; n++ {
		s := classOf(n, minShift)
		size := 1 << s
		if size < n || size < MinSize {
			t.Fatalf("classOf(%d) = %d: class %d too small", n, s, size)
		}
		if size > MinSize && size/2 >= n {
			t.Fatalf("classOf(%d) = %d: class %d not the smallest", n, s, size)
		}
	}
	for _, n := range []int{-1, -1 << 30, -int(^uint(0) >> 1), -int(^uint(0)>>1) - 1, int(^uint(0) >> 1)} {
		if s := classOf(n, minShift); s <= maxShift {
			t.Errorf("classOf(%d) = %d, want above the largest class", n, s)
		}
	}
}

func TestGetNegativePanics(t *testing.T) {
	t.Parallel()
	for _, n := range []int{-1, -MaxSize} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Get(%d) did not panic", n)
				}
			}()
			Get(n)
		}()
	}
}

// TestPutReuses is the positive control for the tests that check dropping: a
// class-sized buffer does come back. sync.Pool gives no guarantee (the
// goroutine may move to another P between Put and Get), hence the retries.
func TestPutReuses(t *testing.T) {
	t.Parallel()
	if raceEnabled {
		t.Skip("sync.Pool drops Puts at random under -race")
	}
	p := New(64, 1<<20)
	for _, n := range []int{0, 64, 1000, 1 << 20} {
		reused := false
		for try := 0; try < 100 && !reused; try++ {
			b := p.Get(n)
			p.Put(b)
			reused = unsafe.SliceData(p.Get(n)) == unsafe.SliceData(b)
		}
		if !reused {
			t.Errorf("size %d: a Put buffer never came back from Get", n)
		}
	}
}

// TestForeignCapacityDropped puts slices whose capacity is not one of the
// pool's classes and checks that no Get ever hands their arrays out: a pooled
// foreign slice would come back with a capacity larger than its array.
func TestForeignCapacityDropped(t *testing.T) {
	t.Parallel()
	p := New(64, 1<<16)
	foreign := [][]byte{
		make([]byte, 100),                 // not a power of two
		make([]byte, 10, 96),              // len differs, cap still not a class
		make([]byte, 4097),                // one above a class
		make([]byte, 32),                  // power of two below the smallest class
		make([]byte, 1<<17),               // power of two above the largest class
		make([]byte, 0, 127),              // empty but with a foreign capacity
		make([]byte, 128)[:64:100],        // re-sliced to a foreign capacity
		make([]byte, 256)[128:],           // tail of an array: cap 128 is a class, still misuse but must stay memory-safe
		nil,                               // nil is a no-op
		p.Get(1 << 17)[: 1<<16 : 1<<16+1], // oversized Get, capacity trimmed off a class
	}
	isForeign := func(b []byte) bool {
		for _, f := range foreign {
			if cap(f) == 0 {
				continue
			}
			lo := uintptr(unsafe.Pointer(unsafe.SliceData(f)))
			hi := lo + uintptr(cap(f))
			x := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
			// The 128-byte tail is a legitimate class-sized buffer once Put;
			// what must never happen is a buffer that extends past its array.
			if x >= lo && x < hi && x+uintptr(cap(b)) > hi {
				return true
			}
		}
		return false
	}
	for round := 0; round < 10; round++ {
		for _, f := range foreign {
			p.Put(f)
		}
		var held [][]byte
		for s := 6; s <= 16; s++ {
			for i := 0; i < 4; i++ {
				b := p.Get(1 << s)
				if cap(b) != 1<<s {
					t.Fatalf("Get(%d): cap %d", 1<<s, cap(b))
				}
				if isForeign(b) {
					t.Fatalf("Get(%d) returned a dropped foreign buffer (cap %d)", 1<<s, cap(b))
				}
				held = append(held, b)
			}
		}
		for _, b := range held {
			p.Put(b)
		}
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		min, max  int
		wantPanic bool
	}{
		{1, 1, false},
		{16, 1024, false},
		{64, 1 << 30, false},
		{0, 64, true},
		{-64, 64, true},
		{48, 64, true},
		{64, 96, true},
		{128, 64, true},
		{64, 1 << (bits.UintSize - 2), bits.UintSize == 64}, // above 1 GiB where int allows
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.min, "-", tt.max), func(t *testing.T) {
			t.Parallel()
			defer func() {
				if got := recover() != nil; got != tt.wantPanic {
					t.Fatalf("New(%d, %d) panic = %v, want %v", tt.min, tt.max, got, tt.wantPanic)
				}
			}()
			New(tt.min, tt.max)
		})
	}
}

func TestCustomPoolClasses(t *testing.T) {
	t.Parallel()
	p := New(16, 1024)
	tests := []struct{ n, wantCap int }{
		{0, 16}, {1, 16}, {16, 16}, {17, 32}, {1000, 1024}, {1024, 1024}, {1025, 1025},
	}
	for _, tt := range tests {
		b := p.Get(tt.n)
		if len(b) != tt.n || cap(b) != tt.wantCap {
			t.Errorf("Get(%d): len %d cap %d, want cap %d", tt.n, len(b), cap(b), tt.wantCap)
		}
		p.Put(b)
	}
}

func TestZeroPoolUsesDefaults(t *testing.T) {
	t.Parallel()
	var p Pool
	for _, n := range []int{0, MinSize + 1, MaxSize, MaxSize + 1} {
		got, want := p.Get(n), Get(n)
		if cap(got) != cap(want) {
			t.Errorf("zero Pool Get(%d): cap %d, want %d", n, cap(got), cap(want))
		}
		p.Put(got)
		Put(want)
	}
}

func TestGrow(t *testing.T) {
	t.Parallel()
	fill := func(n, c int) []byte {
		b := make([]byte, n, c)
		for i := range b {
			b[i] = byte(i)
		}
		return b
	}
	tests := []struct {
		name            string
		b               []byte
		n               int
		wantCap         int
		wantSameBacking bool
	}{
		{"nil zero", nil, 0, 0, true},
		{"nil ten", nil, 10, MinSize, false},
		{"fits exactly", fill(60, 64), 4, 64, true},
		{"one too many", fill(60, 64), 5, 128, false},
		{"foreign small", fill(3, 3), 1, MinSize, false},
		{"to next class", fill(4096, 4096), 1, 8192, false},
		{"past MaxSize", fill(MaxSize, MaxSize), 1, MaxSize + 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want := append([]byte(nil), tt.b...)
			oldData := unsafe.SliceData(tt.b)
			got := Grow(tt.b, tt.n)
			if len(got) != len(want) || cap(got)-len(got) < tt.n || cap(got) != tt.wantCap {
				t.Fatalf("Grow(len %d cap %d, %d): len %d cap %d, want len %d cap %d",
					len(tt.b), cap(tt.b), tt.n, len(got), cap(got), len(want), tt.wantCap)
			}
			if same := unsafe.SliceData(got) == oldData; same != tt.wantSameBacking {
				t.Fatalf("same backing array = %v, want %v", same, tt.wantSameBacking)
			}
			if string(got) != string(want) {
				t.Fatal("Grow lost the contents")
			}
			Put(got)
		})
	}
	t.Run("negative", func(t *testing.T) {
		t.Parallel()
		defer func() {
			if recover() == nil {
				t.Fatal("Grow(b, -1) did not panic")
			}
		}()
		Grow(nil, -1)
	})
}

// TestGrowByAppending grows one buffer from empty to 1 MiB in uneven steps and
// checks the bytes written so far survive every move.
func TestGrowByAppending(t *testing.T) {
	t.Parallel()
	var b []byte
	for i := 0; len(b) < 1<<20; i++ {
		step := 1 + i%777
		b = Grow(b, step)
		for j := 0; j < step; j++ {
			b = append(b, byte(len(b)*7))
		}
		if bits.OnesCount(uint(cap(b))) != 1 {
			t.Fatalf("cap %d is not a class size", cap(b))
		}
	}
	for i, c := range b {
		if c != byte(i*7) {
			t.Fatalf("byte %d = %d, want %d", i, c, byte(i*7))
		}
	}
	Put(b)
}

func TestAllocsSteadyState(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops Puts at random under -race")
	}
	// Not parallel: other tests' allocations would not change the count,
	// but a GC they trigger could empty the pools mid-measurement.
	for _, n := range []int{0, 64, 4096, 65536, MaxSize} {
		Put(Get(n)) // warm the class
		allocs := testing.AllocsPerRun(1000, func() {
			b := Get(n)
			if n+100 <= MaxSize {
				b = Grow(b, 100) // may move to the next class: still pooled
			}
			Put(b)
		})
		if allocs != 0 {
			t.Errorf("Get/Grow/Put(%d): %v allocs/op, want 0", n, allocs)
		}
	}
}

// TestConcurrentOwnership has many goroutines take, stamp, check and return
// buffers. A buffer handed to two owners at once shows up as a foreign stamp;
// under -race the detector also watches every byte.
func TestConcurrentOwnership(t *testing.T) {
	t.Parallel()
	p := New(64, 1<<16)
	const workers, rounds = 16, 2000
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(id byte) {
			defer wg.Done()
			seed := uint32(id) + 1
			stamp := bytes.Repeat([]byte{id}, 1<<16)
			for i := 0; i < rounds; i++ {
				seed = seed*1664525 + 1013904223
				n := int(seed>>8) % (1 << 16)
				b := p.Get(n)
				b = b[:cap(b)]
				copy(b, stamp)
				if i%16 == 0 {
					runtime.Gosched()
				}
				if !bytes.Equal(b, stamp[:len(b)]) {
					errs <- fmt.Errorf("worker %d: a %d-byte buffer changed while owned", id, cap(b))
					return
				}
				if i%3 == 0 {
					b = p.Grow(b[:n/2], n)
				}
				p.Put(b)
			}
		}(byte(w))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
