package pubsub

import (
	"runtime"
	"testing"
	"time"
	"weak"

	"github.com/weir-ws/weir/engine"
)

// TestClosedHubReleased: a Hub hooks the close of every connection it has
// seen (engine Conn.AfterClose), and the engine keeps a hook until the
// connection closes. Before the fix the hook was the Hub's own method, so a
// closed Hub stayed reachable from every connection it had ever seen, with
// its bridge and indexes, and each later close ran into it; an application
// that makes a Hub per room or per test kept them all. After Close the
// hooks must hold no Hub, and a connection's close must then be harmless.
func TestClosedHubReleased(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil, 2)
	_, c1 := dialRaw(t, s, true)
	_, c2 := dialRaw(t, s, true)

	// A Hub made and closed in a function of its own, so that nothing on
	// this stack keeps it; the connections stay open.
	hub := func(conns ...*engine.Conn) weak.Pointer[Hub] {
		b := newFakeBridge()
		h, err := New(&Config{Bridge: b})
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range conns {
			if err := h.Subscribe(c, "room"); err != nil {
				t.Fatal(err)
			}
			if err := h.Subscribe(c, "room.*"); err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				h.UnsubscribeAll(c) // known to the Hub, no subscription left
			}
		}
		if err := h.Close(); err != nil {
			t.Fatal(err)
		}
		return weak.Make(h)
	}
	w := hub(c1, c2)
	if !collected(w) {
		t.Fatal("a closed Hub is still reachable from the connections it had seen")
	}

	// A later close runs the hooks the closed Hub left: they must be no-ops.
	live, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	if err := live.Subscribe(c2, "room"); err != nil {
		t.Fatal(err)
	}
	c1.Abort()
	c2.Abort()
	eventually(t, "the live Hub forgets c2", func() bool { return live.Stats().Conns == 0 })
	if n := live.Subscribers("room"); n != 0 {
		t.Errorf("live Hub: %d subscribers of room after the close", n)
	}
}

// collected reports whether w's object goes away within a few collections
// (a weak pointer is cleared once its object is unreachable).
func collected[T any](w weak.Pointer[T]) bool {
	for range 20 {
		runtime.GC()
		if w.Value() == nil {
			return true
		}
		time.Sleep(time.Millisecond)
	}
	return false
}

// TestClosedHubTakesItsHooksBack: Hub.Close takes back the close hook it
// registered on each connection (engine Conn.AfterCloseFunc), so a
// connection that outlives the Hub keeps nothing of it, not even the entry
// the hook held (before, about 100 bytes per connection per closed Hub until
// the connection closed).
func TestClosedHubTakesItsHooksBack(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil, 1)
	_, c := dialRaw(t, s, true)
	entry := func() weak.Pointer[connState] {
		h, err := New(nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Subscribe(c, "room"); err != nil {
			t.Fatal(err)
		}
		v, ok := h.conns.Load(c)
		if !ok {
			t.Fatal("no entry for the connection")
		}
		w := weak.Make(v.(*connState))
		if err := h.Close(); err != nil {
			t.Fatal(err)
		}
		return w
	}()
	if !collected(entry) {
		t.Fatal("a closed Hub's entry for an open connection is still reachable (its close hook)")
	}
}
