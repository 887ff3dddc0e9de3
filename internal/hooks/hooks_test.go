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

// adder is what the race tests drive: a List or a Slot.
type adder interface {
	Add(fn func(int)) bool
	Take() []func(int)
}

// slotTaker is a Slot with its shared ended list, as an adder.
type slotTaker struct {
	Slot[int]
	ended *List[int]
}

func (s *slotTaker) Take() []func(int) { return s.Slot.Take(s.ended) }

func TestAddRacesTake(t *testing.T) {
	t.Parallel()
	ended := Ended[int]()
	for _, tc := range []struct {
		name string
		make func() adder
	}{
		{"List", func() adder { return &List[int]{} }},
		{"Slot", func() adder { return &slotTaker{ended: ended} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for range 100 {
				raceAddTake(t, tc.make())
			}
		})
	}
}

// raceAddTake races eight Adds with the first Take: every Add told true
// runs once, and none told false runs.
func raceAddTake(t *testing.T, l adder) {
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

// A Slot makes its List on the first Add; Take on a slot nobody added to
// allocates nothing and ends it with the shared list, which then refuses.
// (Not parallel: AllocsPerRun.)
func TestSlot(t *testing.T) {
	ended := Ended[int]()
	var s Slot[int]
	ran := 0
	if !s.Add(func(int) { ran++ }) {
		t.Fatal("Add to a fresh slot refused")
	}
	for _, fn := range s.Take(ended) {
		fn(0)
	}
	if ran != 1 {
		t.Fatalf("ran %d, want 1", ran)
	}
	if s.Add(func(int) {}) {
		t.Fatal("Add after Take accepted")
	}

	empty := make([]Slot[int], 101) // AllocsPerRun runs once more to warm up
	i := 0
	if n := testing.AllocsPerRun(100, func() {
		if fns := empty[i].Take(ended); fns != nil {
			t.Fatal("an empty slot returned funcs")
		}
		i++
	}); n != 0 {
		t.Fatalf("Take on an empty slot allocated %v times", n)
	}
	if empty[0].Add(func(int) {}) {
		t.Fatal("Add after an empty slot's Take accepted")
	}
}
