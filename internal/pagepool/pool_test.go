package pagepool

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"
)

func TestGetSizes(t *testing.T) {
	t.Parallel()
	var p Pool
	for _, tc := range []struct{ n, cap int }{
		{0, MinSize}, {1, MinSize}, {512, 512}, {513, 1024}, {4096, 4096},
		{4097, 8192}, {MaxSize, MaxSize}, {MaxSize + 1, MaxSize + 1},
	} {
		b := p.Get(tc.n)
		if len(b) != tc.n || cap(b) != tc.cap {
			t.Errorf("Get(%d): len %d cap %d, want %d %d", tc.n, len(b), cap(b), tc.n, tc.cap)
		}
		p.Put(b)
	}
	if st := p.Stats(); st.InUse != 0 {
		t.Errorf("in use %d after every buffer came back", st.InUse)
	}
}

// A buffer put back is handed out again, and a warm one keeps its bytes
// (nothing zeroes it).
func TestReuse(t *testing.T) {
	t.Parallel()
	var p Pool
	b := p.Get(4096)
	b[0] = 7
	p.Put(b)
	c := p.Get(4000)
	if unsafe.SliceData(c) != unsafe.SliceData(b) || c[0] != 7 {
		t.Fatalf("the warm buffer was not reused")
	}
	p.Put(c)
}

// Put never takes what Get did not hand out: heap slices, a slice into the
// middle of a buffer, a buffer of another class at a class-aligned offset.
func TestPutForeign(t *testing.T) {
	t.Parallel()
	var p Pool
	big := p.Get(16 << 10)
	for name, b := range map[string][]byte{
		"heap":        make([]byte, 4096),
		"nil":         nil,
		"middle":      big[4096:8192:8192][:0],
		"half":        big[8192:],
		"not a class": big[:100:3000],
	} {
		p.Put(b)
		if got := p.Get(cap(b)); cap(b) > 0 && unsafe.SliceData(got) == unsafe.SliceData(b) {
			t.Errorf("%s: Put took a slice it never handed out", name)
		}
	}
}

// Buffers handed out at the same time never share memory, under concurrent
// Get and Put (run with -race).
func TestConcurrentDisjoint(t *testing.T) {
	t.Parallel()
	var p Pool
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				n := 1 << (9 + (i+g)%8)
				b := p.Get(n)
				for j := range b {
					b[j] = byte(g)
				}
				runtime.Gosched()
				for j := range b {
					if b[j] != byte(g) {
						t.Errorf("goroutine %d: byte %d of its buffer changed under it", g, j)
						return
					}
				}
				p.Put(b)
			}
		}()
	}
	wg.Wait()
	if st := p.Stats(); st.InUse != 0 {
		t.Errorf("in use %d after all came back", st.InUse)
	}
}

// A buffer given back to the kernel is handed out again only after its pages
// were released: a Get racing the Put that releases them must never have its
// bytes zeroed under it. A class no warm list holds (1 MiB > KeepWarm) is
// released at every Put.
func TestReleaseBeforeReuse(t *testing.T) {
	t.Parallel()
	var p Pool
	const size = 1 << 20
	var wg sync.WaitGroup
	var bad atomic.Int64
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 2000 {
				b := p.Get(size)
				b[0] = byte(g + 1) // one page: a release zeroes it
				runtime.Gosched()
				if b[0] != byte(g+1) {
					bad.Add(1)
				}
				p.Put(b)
			}
		}()
	}
	wg.Wait()
	if n := bad.Load(); n > 0 {
		t.Errorf("%d buffers had bytes zeroed under their owner (released after they were handed out again)", n)
	}
}

// The point of the package: freed pages leave the process's RSS, and what is
// resident follows what is in use.
func TestReleaseRSS(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/self/statm")
	}
	var p Pool
	const n, size = 64, 1 << 20
	before := rss(t)
	bufs := make([][]byte, n)
	for i := range bufs {
		bufs[i] = p.Get(size)
		for j := 0; j < size; j += 4096 {
			bufs[i][j] = 1
		}
	}
	held := rss(t)
	for _, b := range bufs {
		p.Put(b)
	}
	after := rss(t)
	t.Logf("RSS: %+d MiB with %d MiB in use, %+d MiB after it all came back", (held-before)>>20, n*size>>20, (after-before)>>20)
	if held-before < n*size*9/10 {
		t.Errorf("RSS grew %d MiB for %d MiB touched: the measure is broken", (held-before)>>20, n*size>>20)
	}
	if after-before > 4<<20 {
		t.Errorf("RSS still %+d MiB after every buffer came back", (after-before)>>20)
	}
	if st := p.Stats(); st.Warm > KeepWarm || st.InUse != 0 {
		t.Errorf("stats %+v", st)
	}
}

func rss(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b))
	pages, err := strconv.Atoi(f[1])
	if err != nil {
		t.Fatal(err)
	}
	return pages * os.Getpagesize()
}

func BenchmarkGetPut(b *testing.B) {
	for _, n := range []int{512, 4096, 64 << 10} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			var p Pool
			b.ReportAllocs()
			for b.Loop() {
				p.Put(p.Get(n))
			}
		})
	}
}

func BenchmarkGetPutParallel(b *testing.B) {
	var p Pool
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p.Put(p.Get(4096))
		}
	})
}

// The pool keeps nothing resident past the most its callers ever held at
// once: free buffers stay warm only while in use + warm is within that peak,
// so a caller that bounds what it holds (the engine's MaxTotalBuffered) bounds
// the pool's resident memory by the same figure. The pattern is a crowd of
// outbound queues growing under a budget (8 KiB, then 16, then 32: each move
// takes the bigger buffer before giving back the smaller), then draining.
func TestResidentWithinPeak(t *testing.T) {
	t.Parallel()
	var p Pool
	const n = 64
	bufs := make([][]byte, n)
	var held, peak int64
	check := func(when string) {
		t.Helper()
		peak = max(peak, held)
		if st := p.Stats(); st.InUse != held || st.InUse+st.Warm > peak {
			t.Fatalf("%s: in use %d (callers hold %d) + warm %d = %d resident, past the peak in use %d",
				when, st.InUse, held, st.Warm, st.InUse+st.Warm, peak)
		}
	}
	for i := range bufs {
		bufs[i] = p.Get(8 << 10)
		held += 8 << 10
		check("filling")
	}
	for _, size := range []int{16 << 10, 32 << 10} {
		for i, b := range bufs {
			nb := p.Get(size)
			held += int64(size)
			check("growing")
			p.Put(b)
			held -= int64(cap(b))
			bufs[i] = nb
			check("growing")
		}
	}
	// Drained and filled again to the same peak: warm buffers serve it.
	for i, b := range bufs {
		p.Put(b)
		held -= int64(cap(b))
		bufs[i] = nil
		check("draining")
	}
	for i := range bufs {
		bufs[i] = p.Get(32 << 10)
		held += 32 << 10
		check("refilling")
	}
	for _, b := range bufs {
		p.Put(b)
		held -= int64(cap(b))
	}
	check("drained")
}

// A class's slabs grow with what it has mapped, so that the span list, copied
// whole at every new mapping (owns reads it without a lock), stays short and
// filling a pool makes little garbage: 64 MiB of 8 KiB buffers take a few
// dozen mappings, not 256.
func TestFewSpans(t *testing.T) {
	t.Parallel()
	var p Pool
	bufs := make([][]byte, 0, 8192)
	for range cap(bufs) {
		bufs = append(bufs, p.Get(8<<10))
	}
	if n := len(*p.spans.Load()); n > 16 {
		t.Errorf("%d mappings for 64 MiB of one class", n)
	}
	for _, b := range bufs {
		p.Put(b)
	}
}

// Buffers below a page share pages, but a page whose buffers are all free is
// given back like a larger buffer when new memory would pass the peak: small
// queues that came and went (a ping queued to each of a crowd of stalled
// connections) do not stay resident on top of the large ones that follow.
func TestResidentWithinPeakSmall(t *testing.T) {
	t.Parallel()
	var p Pool
	small := make([][]byte, 1024) // 512 KiB of 512-byte buffers
	for i := range small {
		small[i] = p.Get(100)
		small[i][0] = 1 // touched: resident
	}
	for _, b := range small {
		p.Put(b)
	}
	big := make([][]byte, 64) // then 512 KiB of 8 KiB ones
	for i := range big {
		big[i] = p.Get(8 << 10)
	}
	st := p.Stats()
	if st.InUse+st.Warm > st.Peak {
		t.Errorf("in use %d + warm %d (%d below a page) = %d resident, past the peak in use %d",
			st.InUse, st.Warm, st.WarmSmall, st.InUse+st.Warm, st.Peak)
	}
	// What was given back is handed out again, zeroed (released), and every
	// buffer is still distinct.
	seen := map[*byte]bool{}
	for i := range small {
		small[i] = p.Get(512)
		if seen[&small[i][0]] {
			t.Fatalf("buffer %p handed out twice", &small[i][0])
		}
		seen[&small[i][0]] = true
	}
	for _, b := range append(small, big...) {
		p.Put(b)
	}
	if st := p.Stats(); st.InUse != 0 {
		t.Errorf("in use %d after every buffer came back", st.InUse)
	}
}
