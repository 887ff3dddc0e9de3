package fanout

import (
	"sync"
	"testing"
)

// TestRun: every receiver of every group gets one send, empty groups
// included, the count is of the sends that reported true, and the lists go
// back to the pool cleared.
func TestRun(t *testing.T) {
	t.Parallel()
	for _, sizes := range [][]int{{0}, {3}, {0, 0, 5}, {4, 0, 7, 1}, {2, 3, 0}} {
		var lists Lists[*int]
		var groups [][]*int
		want := 0
		for _, n := range sizes {
			var g []*int
			for range n {
				v := len(g) + 100*len(groups)
				g = append(g, &v)
				if v%2 == 0 {
					want++
				}
			}
			groups = append(groups, g)
		}
		var mu sync.Mutex
		seen := map[*int]int{}
		got := Run(&lists, len(groups), func(i int, dst []*int) []*int {
			return append(dst, groups[i]...)
		}, func(xs []*int) int {
			k := 0
			mu.Lock()
			for _, x := range xs {
				seen[x]++
				if *x%2 == 0 {
					k++
				}
			}
			mu.Unlock()
			return k
		})
		if got != want {
			t.Errorf("%v: Run = %d, want %d", sizes, got, want)
		}
		for _, g := range groups {
			for _, x := range g {
				if seen[x] != 1 {
					t.Errorf("%v: receiver %d sent to %d times", sizes, *x, seen[x])
				}
			}
		}
		p := lists.get()
		if len(*p) != 0 || (cap(*p) > 0 && (*p)[:1][0] != nil) {
			t.Errorf("%v: a pooled list keeps %d receivers", sizes, len(*p))
		}
	}
}

// BenchmarkRun: a fan-out of 4 groups of 64 allocates only its goroutines.
func BenchmarkRun(b *testing.B) {
	var lists Lists[int]
	g := make([]int, 64)
	b.ReportAllocs()
	for b.Loop() {
		Run(&lists, 4, func(_ int, dst []int) []int { return append(dst, g...) }, func(xs []int) int { return len(xs) })
	}
}
