package pubsub

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
)

// TestHubCloseRacesTraffic: Close while subscribes, unsubscribes, publishes
// (local and from the bridge) and a connection's close run, on a new Hub
// each round: no panic, nothing but ErrHubClosed or ErrConnClosed refused,
// every call after Close refused, and the Hub ends empty (a Subscribe that
// passed its first check before Close must undo itself).
func TestHubCloseRacesTraffic(t *testing.T) {
	t.Parallel()
	const nconns = 8
	s := newServer(t, nil, nconns)
	conns := make([]*engine.Conn, nconns)
	for i := range conns {
		_, conns[i] = dialRaw(t, s, true)
	}
	conns[0].Abort()
	for round := range 1000 {
		b := newFakeBridge()
		h := newHub(t, &Config{Bridge: b})
		var busy atomic.Int32
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				busy.Add(1)
				for i := 0; ; i++ {
					c := conns[(g+i)%nconns]
					name := fmt.Sprintf("t.%d", i%5)
					var err error
					switch i % 4 {
					case 0:
						err = h.Subscribe(c, name)
					case 1:
						err = h.Subscribe(c, "t.*")
					case 2:
						_, err = h.Publish(name, frame.OpText, []byte("m"))
					case 3:
						b.deliver(name, frame.OpBinary, []byte("r"))
						h.Unsubscribe(c, name)
					}
					if errors.Is(err, ErrHubClosed) {
						return
					}
					if err != nil && !errors.Is(err, ErrConnClosed) {
						t.Error(err)
						return
					}
				}
			})
		}
		for busy.Load() < 4 {
			runtime.Gosched()
		}
		if err := h.Close(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		if err := h.Subscribe(conns[1], "late"); !errors.Is(err, ErrHubClosed) {
			t.Errorf("Subscribe after Close: %v", err)
		}
		if _, err := h.Publish("late", frame.OpText, nil); !errors.Is(err, ErrHubClosed) {
			t.Errorf("Publish after Close: %v", err)
		}
		if st := h.Stats(); st.Conns != 0 || st.Topics != 0 || st.Patterns != 0 || !h.wild.root.empty() {
			t.Fatalf("round %d, after Close: %+v", round, st)
		}
	}
}
