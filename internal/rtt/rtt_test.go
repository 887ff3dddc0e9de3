package rtt

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestWaiterPayloadsUnique(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 1000 {
		p := string(NewWaiter().Payload())
		if len(p) != Len || seen[p] {
			t.Fatalf("payload %x: length %d, seen before %v", p, len(p), seen[p])
		}
		seen[p] = true
	}
}

func TestSetDeliver(t *testing.T) {
	t.Parallel()
	var s Set
	if !s.Empty() {
		t.Fatal("zero Set not empty")
	}
	a, b := NewWaiter(), NewWaiter()
	a.Start()
	b.Start()
	s.Add(a)
	s.Add(b)
	for _, tc := range []struct {
		name           string
		p              []byte
		matched, fresh bool
	}{
		{"other length", []byte("ping"), false, false},
		{"unknown payload", make([]byte, Len), false, false},
		{"b", b.Payload(), true, true},
		{"b again (duplicate)", b.Payload(), true, false},
		{"a", a.Payload(), true, true},
	} {
		d, matched, fresh := s.Deliver(tc.p, nil)
		if matched != tc.matched || fresh != tc.fresh || (fresh && d < 0) {
			t.Fatalf("%s: matched %v fresh %v d %v", tc.name, matched, fresh, d)
		}
	}
	if len(a.Done()) != 1 || len(b.Done()) != 1 {
		t.Fatal("each waiter gets exactly one round trip")
	}
	s.Remove(a)
	if _, matched, _ := s.Deliver(a.Payload(), nil); matched {
		t.Fatal("a removed waiter matched")
	}
	s.Remove(b)
	s.Remove(b) // twice: nothing
	if !s.Empty() {
		t.Fatal("Set not empty after every waiter left")
	}
}

// TestSetConcurrent adds, delivers to and removes waiters from many goroutines
// (run with -race).
func TestSetConcurrent(t *testing.T) {
	t.Parallel()
	var s Set
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				w := NewWaiter()
				w.Start()
				s.Add(w)
				if _, matched, fresh := s.Deliver(w.Payload(), nil); !matched || !fresh {
					t.Error("own waiter not found")
				}
				<-w.Done()
				s.Remove(w)
			}
		})
	}
	wg.Wait()
	if !s.Empty() {
		t.Fatal("waiters left behind")
	}
}

func BenchmarkDeliver(b *testing.B) {
	for _, n := range []int{0, 4} {
		b.Run(map[int]string{0: "none", 4: "4 waiting"}[n], func(b *testing.B) {
			var s Set
			for range n {
				s.Add(NewWaiter())
			}
			p := make([]byte, Len)
			b.ReportAllocs()
			for b.Loop() {
				s.Deliver(p, nil)
			}
		})
	}
}

// TestWait: the round trip, the context's end, the connection's end, and a
// round trip delivered before the end, which wins over it.
func TestWait(t *testing.T) {
	t.Parallel()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	closed := make(chan struct{})
	close(closed)
	for _, tc := range []struct {
		name      string
		ctx       context.Context
		closed    chan struct{}
		delivered bool
		ended     bool
		err       error
	}{
		{"round trip", context.Background(), nil, true, false, nil},
		{"context ends", cancelled, nil, false, false, context.Canceled},
		{"connection ends", context.Background(), closed, false, true, nil},
		{"round trip before the end", context.Background(), closed, true, false, nil},
	} {
		for range 20 { // select picks at random among ready cases
			w := NewWaiter()
			w.Start()
			var s Set
			s.Add(w)
			if tc.delivered {
				if _, matched, _ := s.Deliver(w.Payload(), nil); !matched {
					t.Fatalf("%s: the pong was not matched", tc.name)
				}
			}
			d, ended, err := w.Wait(tc.ctx, tc.closed)
			if ended != tc.ended || err != tc.err || d < 0 {
				t.Fatalf("%s: Wait = %v, %v, %v", tc.name, d, ended, err)
			}
		}
	}
}

// A fresh answer is observed (a metrics histogram) before its Waiter wakes, so
// a caller that reads the metrics after PingRTT returns finds it counted.
func TestDeliverObservesBeforeWaking(t *testing.T) {
	t.Parallel()
	var s Set
	w := NewWaiter()
	w.Start()
	s.Add(w)
	observed := 0
	_, matched, fresh := s.Deliver(w.Payload(), func(time.Duration) {
		observed++
		select {
		case <-w.Done():
			t.Error("the Waiter had its answer before the observer ran")
		default:
		}
	})
	if !matched || !fresh || observed != 1 {
		t.Fatalf("matched %v fresh %v observed %d", matched, fresh, observed)
	}
	if _, _, fresh := s.Deliver(w.Payload(), func(time.Duration) { observed++ }); fresh || observed != 1 {
		t.Fatalf("a duplicate pong: fresh %v observed %d", fresh, observed)
	}
}

func TestSetPing(t *testing.T) {
	t.Parallel()
	never := func() bool { return false }
	open := make(chan struct{})
	var s Set
	// The pong comes back (here at once, from inside ping).
	d, ended, err := s.Ping(context.Background(), func(p []byte) error {
		if _, matched, _ := s.Deliver(p, nil); !matched {
			t.Error("the ping's payload was not waited for")
		}
		return nil
	}, open, never)
	if err != nil || ended || d < 0 || !s.Empty() {
		t.Fatalf("round trip: %v %v %v, empty %v", d, ended, err, s.Empty())
	}
	// The ping fails: its error, and nothing left waiting.
	boom := errors.New("closed")
	if _, _, err := s.Ping(context.Background(), func([]byte) error { return boom }, open, never); err != boom || !s.Empty() {
		t.Fatalf("failed ping: %v, empty %v", err, s.Empty())
	}
	// Closed before the wait could see closed close: ended at once.
	if _, ended, err := s.Ping(context.Background(), func([]byte) error { return nil }, open, func() bool { return true }); !ended || err != nil {
		t.Fatalf("closed already: %v %v", ended, err)
	}
	// The context ends first.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, ended, err := s.Ping(ctx, func([]byte) error { return nil }, open, never); ended || err != context.Canceled {
		t.Fatalf("cancelled: %v %v", ended, err)
	}
}
