//go:build !linux

package uring

// Ring is not available here.
type Ring struct{}

// Get returns nil: no io_uring outside Linux.
func Get() *Ring { return nil }

// Put does nothing.
func Put(*Ring) {}

// Cap is 0.
func (r *Ring) Cap() int { return 0 }

// Add is never called (Get returns nil).
func (r *Ring) Add(fd int, p []byte) {}

// Send is never called (Get returns nil).
func (r *Ring) Send(res []int32) error { return nil }

// Outcome is never called (Get returns nil).
func Outcome(res int32) (int, error) { return 0, ErrUnknown }
