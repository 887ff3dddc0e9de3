package spawn

import "sync"

// Group is a set of goroutines that Wait waits for. The zero value is
// ready to use; a Group is not copied after first use.
type Group struct {
	mu     sync.Mutex // orders Go's Add before Close's flag, so before Wait
	closed bool
	wg     sync.WaitGroup
}

// Go runs each of fs on a goroutine of its own, or none of them once Close
// has begun; it reports whether it started them.
func (g *Group) Go(fs ...func()) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.wg.Add(len(fs))
	for _, f := range fs {
		go func() {
			defer g.wg.Done()
			f()
		}()
	}
	return true
}

// Close makes every later Go start nothing.
func (g *Group) Close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}

// Closed reports whether Close has been called.
func (g *Group) Closed() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.closed
}

// Wait waits for every goroutine Go started. Called before Close, it may
// return while Go starts more.
func (g *Group) Wait() { g.wg.Wait() }
