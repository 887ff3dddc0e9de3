//go:build linux || darwin || freebsd

package poller

import (
	"sync"
	"sync/atomic"
)

// lifecycle keeps the kernel fds of a Poller alive for as long as any call
// uses them. Without it, Close racing with Wake or a blocked Wait could close
// an fd number that the process immediately reuses, and the late call would
// then write to, or wait on, somebody else's file.
//
// Add, Modify, Remove and Wake hold mu shared while they use the fds; the fds
// are closed with mu held exclusively. Wait cannot hold mu (it blocks for
// arbitrarily long, and Close must interrupt it), so it announces itself in
// state instead: if Close finds Wait in progress, it only signals the wake-up
// and leaves the closing of the fds to Wait on its way out.
type lifecycle struct {
	mu    sync.RWMutex
	state atomic.Uint32 // stateClosed | stateWaiting
	// wakePending is set by the Wake that signals the kernel and cleared by
	// Wait when it consumes the wake-up, so that a burst of Wakes costs one
	// syscall.
	wakePending atomic.Bool
}

const (
	stateClosed uint32 = 1 << iota
	stateWaiting
)

// acquire reports whether the Poller is open and, if so, holds it open until
// release.
func (l *lifecycle) acquire() bool {
	l.mu.RLock()
	if l.state.Load()&stateClosed != 0 {
		l.mu.RUnlock()
		return false
	}
	return true
}

func (l *lifecycle) release() { l.mu.RUnlock() }

// closed reports whether Close has been called.
func (l *lifecycle) closed() bool { return l.state.Load()&stateClosed != 0 }

// enterWait marks a Wait in progress; false means the Poller is closed.
func (l *lifecycle) enterWait() bool {
	for {
		s := l.state.Load()
		if s&stateClosed != 0 {
			return false
		}
		if l.state.CompareAndSwap(s, s|stateWaiting) {
			return true
		}
	}
}

// exitWait ends a Wait and reports whether Close ran meanwhile; the caller
// must then release the fds with finishClose.
func (l *lifecycle) exitWait() bool {
	return l.state.And(^stateWaiting)&stateClosed != 0
}

// beginClose marks the Poller closed; the caller holds mu exclusively. It
// reports whether this was the first Close and whether a Wait is in
// progress (which then owns the closing of the fds).
func (l *lifecycle) beginClose() (first, waiting bool) {
	old := l.state.Or(stateClosed)
	return old&stateClosed == 0, old&stateWaiting != 0
}

// Close releases the kernel objects (the epoll instance and its eventfd, or the
// kqueue). A blocked Wait returns ErrClosed; it closes them itself on its way out.
func (p *Poller) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	first, waiting := p.beginClose()
	if !first {
		return ErrClosed
	}
	if waiting {
		return p.signal()
	}
	return p.closeFds()
}

// finishClose closes the kernel objects for a Close that found Wait in progress.
// It waits for that Close (and any call still holding the Poller open) to end.
func (p *Poller) finishClose() {
	p.mu.Lock()
	p.closeFds()
	p.mu.Unlock()
}

// Wake makes the current or the next Wait return, from any goroutine. Calls before
// that Wait returns coalesce into one signal (an eventfd write, or a trigger of the
// kqueue user event).
func (p *Poller) Wake() error {
	if p.closed() {
		return ErrClosed
	}
	if !p.wakePending.CompareAndSwap(false, true) {
		return nil // a wake-up is already on its way
	}
	if !p.acquire() {
		return ErrClosed
	}
	err := p.signal()
	p.release()
	if err != nil {
		p.wakePending.Store(false)
		return err
	}
	return nil
}
