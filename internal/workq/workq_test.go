package workq

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestPutNeverBlocks: with nobody taking and the channel full, Put neither
// blocks nor starts goroutines, and Get then returns everything in order. Not
// parallel: it counts the process's goroutines.
func TestPutNeverBlocks(t *testing.T) {
	q := New[int](8)
	defer q.Stop()
	g0 := runtime.NumGoroutine()
	const n = 1000
	for i := range n {
		q.Put(i)
	}
	if g := runtime.NumGoroutine(); g > g0 {
		t.Fatalf("%d goroutines after %d puts, %d before", g, n, g0)
	}
	if q.Overflow() != n-8 {
		t.Fatalf("overflow %d, want %d", q.Overflow(), n-8)
	}
	for i := range n {
		if v, ok := q.Get(); !ok || v != i {
			t.Fatalf("item %d: got %d, %v", i, v, ok)
		}
	}
	if q.Overflow() != 0 || len(q.fresh.ch) != 0 {
		t.Fatalf("left behind: %d in overflow, %d in the channel", q.Overflow(), len(q.fresh.ch))
	}
}

// TestConcurrentNothingLost: many posters on a tiny channel, two takers; every
// item is taken exactly once (-race).
func TestConcurrentNothingLost(t *testing.T) {
	t.Parallel()
	q := New[[2]int](2)
	const posters, each = 4, 3000
	var got [posters][]int
	var mu sync.Mutex
	var takers sync.WaitGroup
	for range 2 {
		takers.Go(func() {
			for {
				v, ok := q.Get()
				if !ok {
					return
				}
				mu.Lock()
				got[v[0]] = append(got[v[0]], v[1])
				mu.Unlock()
			}
		})
	}
	var wg sync.WaitGroup
	for g := range posters {
		wg.Go(func() {
			for i := range each {
				q.Put([2]int{g, i})
			}
		})
	}
	wg.Wait()
	for {
		mu.Lock()
		n := 0
		for g := range got {
			n += len(got[g])
		}
		mu.Unlock()
		if n == posters*each {
			break
		}
		runtime.Gosched()
	}
	q.Stop()
	takers.Wait()
	for g := range got {
		seen := make([]bool, each)
		for _, i := range got[g] {
			if seen[i] {
				t.Fatalf("poster %d item %d taken twice", g, i)
			}
			seen[i] = true
		}
	}
}

func TestStop(t *testing.T) {
	t.Parallel()
	q := New[int](1)
	done := make(chan bool)
	go func() { _, ok := q.Get(); done <- ok }()
	q.Stop()
	if <-done {
		t.Fatal("Get reported an item after Stop")
	}
}

func BenchmarkPutGet(b *testing.B) {
	q := New[*int](64)
	defer q.Stop()
	v := new(int)
	b.ReportAllocs()
	for b.Loop() {
		q.Put(v)
		q.Get()
	}
}

// TestFreshFirstBackNotStarved: fresh work is taken before work put back,
// but one take in backEvery tries the back lane first, so a steady stream of
// fresh work does not starve it.
func TestFreshFirstBackNotStarved(t *testing.T) {
	t.Parallel()
	q := New[string](64)
	defer q.Stop()
	for range 20 {
		q.PutBack("back")
	}
	for range 20 {
		q.Put("fresh")
	}
	var got []string
	for range 8 {
		v, _ := q.Get()
		got = append(got, v)
	}
	fresh := 0
	for _, v := range got {
		if v == "fresh" {
			fresh++
		}
	}
	if fresh != 8-8/backEvery {
		t.Fatalf("first 8 takes %v: %d fresh, want %d (one in %d from the back lane)", got, fresh, 8-8/backEvery, backEvery)
	}
	// With no fresh work left (14 fresh remain: 18 takes of which one in
	// backEvery went to the back lane first), the back lane is taken every time.
	for range 18 {
		q.Get()
	}
	for range 8 {
		if v, _ := q.Get(); v != "back" {
			t.Fatalf("took %q with only back work queued", v)
		}
	}
}

// TestGetWakesForEitherLane: a waiting Get takes work put in either lane.
func TestGetWakesForEitherLane(t *testing.T) {
	t.Parallel()
	for _, back := range []bool{false, true} {
		q := New[int](1)
		got := make(chan int)
		go func() { v, _ := q.Get(); got <- v }()
		if back {
			q.PutBack(2)
		} else {
			q.Put(1)
		}
		select {
		case v := <-got:
			if want := map[bool]int{false: 1, true: 2}[back]; v != want {
				t.Fatalf("got %d, want %d", v, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("back=%v: Get never woke", back)
		}
		q.Stop()
	}
}

// TestFrontFirst: work put in the front lane is taken before fresh work put
// earlier, overflow or not, and in order; the back lane keeps its one take
// in four. A waiting Get wakes for front work too.
func TestFrontFirst(t *testing.T) {
	t.Parallel()
	q := New[int](2)
	defer q.Stop()
	for i := range 4 {
		q.Put(i) // 2 in the channel, 2 in overflow
	}
	q.PutBack(50)
	for i := 100; i < 104; i++ {
		q.PutFront(i)
	}
	// Takes 1-3: front; take 4: back (one in four); then front, then fresh.
	want := []int{100, 101, 102, 50, 103, 0, 1, 2, 3}
	for i, w := range want {
		if v, ok := q.Get(); !ok || v != w {
			t.Fatalf("take %d: got %d, %v; want %d", i+1, v, ok, w)
		}
	}
	done := make(chan int)
	go func() { v, _ := q.Get(); done <- v }()
	q.PutFront(7)
	select {
	case v := <-done:
		if v != 7 {
			t.Fatalf("a waiting Get took %d, want 7", v)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a waiting Get did not wake for front work")
	}
}

// TestTryGet: TryGet never waits, takes front, then fresh (overflow in
// order), then back work, and reports false on an empty Queue.
func TestTryGet(t *testing.T) {
	t.Parallel()
	q := New[int](2)
	defer q.Stop()
	if v, ok := q.TryGet(); ok {
		t.Fatalf("empty queue gave %d", v)
	}
	for i := range 3 {
		q.Put(i) // 2 in the channel, 1 in overflow
	}
	q.PutBack(50)
	q.PutFront(100)
	for i, w := range []int{100, 0, 1, 2, 50} {
		if v, ok := q.TryGet(); !ok || v != w {
			t.Fatalf("take %d: got %d, %v; want %d", i+1, v, ok, w)
		}
	}
	if v, ok := q.TryGet(); ok {
		t.Fatalf("emptied queue gave %d", v)
	}
}
