package hooks

import (
	"sync"
	"testing"
)

// Every Add before Take is taken exactly once, in order; every Add after it
// is refused, also when they race.
func TestAddTake(t *testing.T) {
	t.Parallel()
	var l List[int]
	var got []int
	for i := range 3 {
		if !l.Add(func(int) { got = append(got, i) }) {
			t.Fatalf("Add %d refused before Take", i)
		}
	}
	for _, fn := range l.Take() {
		fn(0)
	}
	if len(got) != 3 || got[0] != 0 || got[2] != 2 {
		t.Fatalf("ran %v", got)
	}
	if l.Add(func(int) { t.Error("ran after Take") }) {
		t.Fatal("Add after Take accepted")
	}
	if len(l.Take()) != 0 {
		t.Fatal("a second Take returned funcs")
	}
	if Ended[int]().Add(func(int) {}) {
		t.Fatal("an Ended list accepted a func")
	}
}

func TestAddRacesTake(t *testing.T) {
	t.Parallel()
	for range 100 {
		var l List[int]
		var mu sync.Mutex
		accepted, ran := 0, 0
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if l.Add(func(int) { mu.Lock(); ran++; mu.Unlock() }) {
					mu.Lock()
					accepted++
					mu.Unlock()
				}
			}()
		}
		for _, fn := range l.Take() {
			fn(0)
		}
		wg.Wait()
		for _, fn := range l.Take() { // nothing: added after the first Take were refused
			fn(0)
		}
		if accepted != ran {
			t.Fatalf("%d accepted, %d ran", accepted, ran)
		}
	}
}
