package tlshand

import (
	"testing"
	"time"
)

// TestSlots: n handshakes at once; the next waits until its deadline, or
// gets the slot one gives back, or gives up when the listener stops.
func TestSlots(t *testing.T) {
	t.Parallel()
	s := NewSlots(2)
	for range 2 {
		if !s.Acquire(time.Time{}) {
			t.Fatal("a free slot was refused")
		}
	}
	start := time.Now()
	if s.Acquire(start.Add(20 * time.Millisecond)) {
		t.Fatal("a third slot was granted")
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Fatalf("gave up after %v, before its deadline", d)
	}
	got := make(chan bool)
	go func() { got <- s.Acquire(time.Now().Add(time.Minute)) }()
	s.Release()
	if !<-got {
		t.Fatal("a released slot was not granted to the waiter")
	}
	go func() { got <- s.Acquire(time.Time{}) }()
	s.Stop()
	if <-got {
		t.Fatal("a waiter got a slot after Stop")
	}
	if s.Context().Err() == nil {
		t.Fatal("the handshakes' context is not done after Stop")
	}
	(*Slots)(nil).Stop() // no TLS listener: nothing to stop
}
