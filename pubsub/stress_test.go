package pubsub

import (
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"testing"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
)

// TestStress runs subscribes, unsubscribes, publishes (local, prepared and
// from the bridge) and closes at once on real connections, under -race, with
// the parallel fan-out on; then closes everything and checks that nothing is
// left: no topic, pattern, connection, tree node, nor bridge interest.
func TestStress(t *testing.T) {
	t.Parallel()
	const nconns = 24
	s := newServer(t, nil, nconns)
	b := newFakeBridge()
	h := newHub(t, &Config{Bridge: b, ParallelFanout: 4})
	conns := make([]*engine.Conn, nconns)
	raws := make([]net.Conn, nconns)
	for i := range conns {
		raws[i], conns[i] = dialRaw(t, s, true)
	}
	names := []string{"s.0", "s.1", "s.2", "s.3", "s.0.x", "s.*", "s.>", ">", "*.1", "s.*.x"}
	topics := []string{"s.0", "s.1", "s.2", "s.3", "s.0.x", "t"}
	pm := engine.NewPreparedMessage(frame.OpText, []byte("prepared"))

	var wg sync.WaitGroup
	for g := range 4 { // subscribers
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for range 400 {
				c := conns[r.IntN(nconns)]
				name := names[r.IntN(len(names))]
				switch r.IntN(8) {
				case 0:
					h.UnsubscribeAll(c)
				case 1, 2, 3:
					h.Unsubscribe(c, name)
				default:
					h.Subscribe(c, name) // may find c closed
				}
				h.NumTopics(c)
			}
		})
	}
	for g := range 3 { // publishers
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 2))
			for i := range 300 {
				topic := topics[r.IntN(len(topics))]
				switch g {
				case 0:
					h.Publish(topic, frame.OpText, []byte(fmt.Sprint(i)))
				case 1:
					h.PublishPrepared(topic, pm)
				case 2:
					b.deliver(topic, frame.OpBinary, []byte{byte(i)})
				}
				h.Receivers(topic)
				h.Subscribers(topic)
			}
		})
	}
	wg.Go(func() { // closer: half the connections end during the run
		for i := 0; i < nconns; i += 2 {
			switch i % 3 {
			case 0:
				conns[i].Close(frame.StatusGoingAway, "")
			case 1:
				conns[i].Abort()
			case 2:
				raws[i].Close()
			}
		}
	})
	wg.Wait()
	for _, c := range conns {
		c.Abort()
	}
	eventually(t, "every connection to leave the hub", func() bool {
		st := h.Stats()
		return st.Conns == 0 && st.Topics == 0 && st.Patterns == 0
	})
	if !h.wild.root.empty() {
		t.Error("pattern tree not empty")
	}
	eventually(t, "the bridge interest to go", func() bool {
		m, _, _ := b.snapshot()
		return len(m) == 0
	})
	if st := h.Stats(); st.Published != 600 || st.Delivered == 0 {
		t.Errorf("Stats = %+v", st)
	}
}
