package workq

import (
	"runtime"
	"sync"
	"testing"
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
	if q.Overflow() != 0 || len(q.q) != 0 {
		t.Fatalf("left behind: %d in overflow, %d in the channel", q.Overflow(), len(q.q))
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
