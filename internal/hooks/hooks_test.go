package hooks

import (
	"runtime"
	"sync"
	"testing"
	"weak"
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

// keyed is a List or a Slot as TestRemove drives it.
type keyed struct {
	add  func(fn func(int)) (uint64, bool)
	rm   func(uint64) bool
	take func() []func(int)
}

func keyedList() keyed {
	l := new(List[int])
	return keyed{l.AddKey, l.Remove, l.Take}
}

func keyedSlot() keyed {
	s, ended := new(Slot[int]), Ended[int]()
	return keyed{s.AddKey, s.Remove, func() []func(int) { return s.Take(ended) }}
}

// TestRemove: a func added with a key and removed before Take is not taken;
// Remove reports false after Take, for a key removed already, for 0 and on
// a Slot nobody added to.
func TestRemove(t *testing.T) {
	t.Parallel()
	if new(Slot[int]).Remove(1) {
		t.Fatal("Remove on an empty Slot reported true")
	}
	for name, mk := range map[string]func() keyed{"list": keyedList, "slot": keyedSlot} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			k := mk()
			var ran []int
			k1, ok1 := k.add(func(int) { ran = append(ran, 1) })
			k2, ok2 := k.add(func(int) { ran = append(ran, 2) })
			k3, ok3 := k.add(func(int) { ran = append(ran, 3) })
			if !ok1 || !ok2 || !ok3 || k1 == 0 || k1 == k2 || k2 == k3 {
				t.Fatalf("AddKey: keys %d %d %d, ok %v %v %v", k1, k2, k3, ok1, ok2, ok3)
			}
			if !k.rm(k2) {
				t.Fatal("Remove of a kept func reported false")
			}
			if k.rm(k2) || k.rm(0) {
				t.Fatal("Remove of a removed key, or of 0, reported true")
			}
			for _, fn := range k.take() {
				fn(0)
			}
			if len(ran) != 2 || ran[0] != 1 || ran[1] != 3 {
				t.Fatalf("ran %v, want [1 3]", ran)
			}
			if k.rm(k1) {
				t.Fatal("Remove after Take reported true")
			}
		})
	}
}

// TestRemoveReleases: a removed fn is not kept by the list's spare capacity,
// so what it holds can be collected (a closed pubsub Hub's entry).
func TestRemoveReleases(t *testing.T) {
	t.Parallel()
	var l List[int]
	key, w := addHolding(&l)
	if !l.Remove(key) {
		t.Fatal("Remove reported false")
	}
	gone := false
	for range 20 {
		runtime.GC()
		if gone = w.Value() == nil; gone {
			break
		}
	}
	runtime.KeepAlive(&l) // the list lives on, as a connection's does
	if !gone {
		t.Fatal("what a removed fn held is still reachable")
	}
}

// addHolding adds a fn that alone holds a fresh object, and returns its key
// and a weak pointer to the object.
func addHolding(l *List[int]) (uint64, weak.Pointer[[64]byte]) {
	held := new([64]byte)
	key, _ := l.AddKey(func(int) { _ = held[0] })
	return key, weak.Make(held)
}
