package hooks

import (
	"slices"
	"sync"
	"sync/atomic"
)

// List is the funcs waiting for one end; see the package doc.
type List[T any] struct {
	mu   sync.Mutex
	ran  bool
	fns  []func(T)
	keys []uint64 // fns[i]'s, for Remove (0: added by Add, not removable)
	next uint64
}

// Ended returns a List that has ended already (Add refuses everything).
func Ended[T any]() *List[T] { return &List[T]{ran: true} }

// Add keeps fn for Take and reports true, or reports false once the list
// has ended.
func (l *List[T]) Add(fn func(T)) bool {
	_, ok := l.add(fn, false)
	return ok
}

// AddKey is Add that also returns a key for Remove (never 0).
func (l *List[T]) AddKey(fn func(T)) (key uint64, ok bool) { return l.add(fn, true) }

func (l *List[T]) add(fn func(T), keyed bool) (uint64, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ran {
		return 0, false
	}
	var key uint64
	if keyed {
		l.next++
		key = l.next
	}
	l.fns = append(l.fns, fn)
	l.keys = append(l.keys, key)
	return key, true
}

// Remove drops the fn AddKey kept under key and reports whether it did:
// false once Take has run (the fn ran, or runs) or when it is gone already.
func (l *List[T]) Remove(key uint64) bool {
	if key == 0 { // Add's, not removable
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, k := range l.keys {
		if k == key {
			// slices.Delete zeroes the freed tail: the fn, and what it
			// holds, go with it.
			l.fns = slices.Delete(l.fns, i, i+1)
			l.keys = slices.Delete(l.keys, i, i+1)
			return true
		}
	}
	return false
}

// Take ends the list and returns what was added, for the caller to run.
func (l *List[T]) Take() []func(T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fns := l.fns
	l.ran, l.fns, l.keys = true, nil, nil
	return fns
}

// Slot is where a List is made on first need: one pointer, nil (no
// allocation) for the many things nobody hooks. The zero Slot is ready.
type Slot[T any] struct{ p atomic.Pointer[List[T]] }

// Add keeps fn in the slot's List, making it first if need be, and reports
// true; false once Take has run.
func (s *Slot[T]) Add(fn func(T)) bool { return s.list().Add(fn) }

// AddKey is Add that also returns a key for Remove.
func (s *Slot[T]) AddKey(fn func(T)) (key uint64, ok bool) { return s.list().AddKey(fn) }

// list returns the slot's List, made on first need.
func (s *Slot[T]) list() *List[T] {
	l := s.p.Load()
	if l == nil {
		s.p.CompareAndSwap(nil, &List[T]{})
		l = s.p.Load()
	}
	return l
}

// Remove drops the fn AddKey kept under key (List.Remove).
func (s *Slot[T]) Remove(key uint64) bool {
	if l := s.p.Load(); l != nil {
		return l.Remove(key)
	}
	return false
}

// Take ends the slot's List and returns what was added. A slot nobody added
// to is ended with ended (an Ended list shared by all slots, so ending costs
// no allocation), which Add then refuses.
func (s *Slot[T]) Take(ended *List[T]) []func(T) {
	l := s.p.Load()
	if l == nil {
		if s.p.CompareAndSwap(nil, ended) {
			return nil
		}
		l = s.p.Load() // an Add made it meanwhile
	}
	return l.Take()
}
