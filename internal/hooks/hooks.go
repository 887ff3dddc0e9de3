package hooks

import (
	"sync"
	"sync/atomic"
)

// List is the funcs waiting for one end; see the package doc.
type List[T any] struct {
	mu  sync.Mutex
	ran bool
	fns []func(T)
}

// Ended returns a List that has ended already (Add refuses everything).
func Ended[T any]() *List[T] { return &List[T]{ran: true} }

// Add keeps fn for Take and reports true, or reports false once the list
// has ended.
func (l *List[T]) Add(fn func(T)) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ran {
		return false
	}
	l.fns = append(l.fns, fn)
	return true
}

// Take ends the list and returns what was added, for the caller to run.
func (l *List[T]) Take() []func(T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fns := l.fns
	l.ran, l.fns = true, nil
	return fns
}

// Slot is where a List is made on first need: one pointer, nil (no
// allocation) for the many things nobody hooks. The zero Slot is ready.
type Slot[T any] struct{ p atomic.Pointer[List[T]] }

// Add keeps fn in the slot's List, making it first if need be, and reports
// true; false once Take has run.
func (s *Slot[T]) Add(fn func(T)) bool {
	l := s.p.Load()
	if l == nil {
		s.p.CompareAndSwap(nil, &List[T]{})
		l = s.p.Load()
	}
	return l.Add(fn)
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
