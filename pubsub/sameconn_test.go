package pubsub

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// TestSameConnSubscribeRacesUnsubscribe: a client's subscribe and
// unsubscribe of one name are often handled on different goroutines (a
// message handler and an application's own), so they can run at once. Once
// both have returned, the Hub must agree with itself: the name is among the
// connection's topics if and only if a publish to it reaches the connection.
// Before the fix, an Unsubscribe that had taken the name out of the
// connection's list, but not yet out of the index, could remove the
// connection from the set a racing Subscribe had just found it in: the
// connection kept the name (counted against MaxTopicsPerConn, listed by
// Topics, a second Subscribe a no-op) and was never delivered to again.
func TestSameConnSubscribeRacesUnsubscribe(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil, 1)
	h := newHub(t, nil)
	_, c := dialRaw(t, s, true)
	for _, tc := range []struct {
		name, topic string
		all         bool
	}{
		{"r.t", "r.t", false},
		{"r.*", "r.x", false},
		{"r.t", "r.t", true},
		{"r.>", "r.x", true},
	} {
		for i := range 20000 {
			if err := h.Subscribe(c, tc.name); err != nil {
				t.Fatal(err)
			}
			// Both wait on run, yielding, so that they start close together:
			// a channel's wake-up takes longer than the window. (A tight
			// spin is closer still, but on a loaded box it can take minutes.)
			var ready, run atomic.Int32
			var wg sync.WaitGroup
			wg.Go(func() {
				ready.Add(1)
				for run.Load() == 0 {
					runtime.Gosched()
				}
				if tc.all {
					h.UnsubscribeAll(c)
				} else {
					h.Unsubscribe(c, tc.name)
				}
			})
			wg.Go(func() {
				ready.Add(1)
				for run.Load() == 0 {
					runtime.Gosched()
				}
				h.Subscribe(c, tc.name)
			})
			for ready.Load() < 2 {
				runtime.Gosched()
			}
			run.Store(1)
			wg.Wait()
			if listed, reached := h.NumTopics(c), h.Receivers(tc.topic); listed != reached {
				t.Fatalf("%+v, round %d: the connection lists %d subscriptions, a publish to %q reaches %d connections",
					tc, i, listed, tc.topic, reached)
			}
			h.UnsubscribeAll(c)
		}
	}
	if st := h.Stats(); st.Topics != 0 || st.Patterns != 0 || !h.wild.root.empty() {
		t.Errorf("left behind: %+v", st)
	}
}

// TestSameConnConcurrentSubscribesBounded: subscribes of one connection on
// several goroutines at once (a client pipelining them to a handler that
// fans out) cannot go past MaxTopicsPerConn together, patterns included.
func TestSameConnConcurrentSubscribesBounded(t *testing.T) {
	t.Parallel()
	const max = 100
	s := newServer(t, nil, 1)
	h := newHub(t, &Config{MaxTopicsPerConn: max})
	_, c := dialRaw(t, s, true)
	var ok atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 64 {
				name := fmt.Sprintf("g%d.%d", g, i)
				if i%2 == 1 {
					name += ".*"
				}
				switch err := h.Subscribe(c, name); {
				case err == nil:
					ok.Add(1)
				case !errors.Is(err, ErrTooManyTopics):
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	st := h.Stats()
	if ok.Load() != max || h.NumTopics(c) != max || st.Topics+st.Patterns != max {
		t.Errorf("%d subscribes succeeded, the connection has %d, the index %d topics and %d patterns; want %d",
			ok.Load(), h.NumTopics(c), st.Topics, st.Patterns, max)
	}
}

// TestFirstSubscribeRacesClose: a connection's first subscribes (which make
// its state and hook its close) race its close; whichever wins, the Hub
// keeps nothing of it after: no connection, topic or pattern, and so no
// closed Conn pinned in the index.
func TestFirstSubscribeRacesClose(t *testing.T) {
	t.Parallel()
	const rounds = 200
	s := newServer(t, nil, rounds)
	h := newHub(t, nil)
	for range rounds {
		_, c := dialRaw(t, s, true)
		var ready, run atomic.Int32
		var wg sync.WaitGroup
		wait := func() {
			ready.Add(1)
			for run.Load() == 0 {
				runtime.Gosched()
			}
		}
		wg.Go(func() {
			wait()
			h.Subscribe(c, "x")
			h.Subscribe(c, "y.*")
		})
		wg.Go(func() {
			wait()
			c.Abort()
		})
		for ready.Load() < 2 {
			runtime.Gosched()
		}
		run.Store(1)
		wg.Wait()
	}
	eventually(t, "the hub to forget every closed connection", func() bool {
		st := h.Stats()
		return st.Conns == 0 && st.Topics == 0 && st.Patterns == 0
	})
	if !h.wild.root.empty() {
		t.Error("pattern tree not empty")
	}
}
