package hooks

import "sync"

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
