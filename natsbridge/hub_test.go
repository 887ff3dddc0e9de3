//go:build !fuzzonly

package natsbridge

import (
	"sync"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// localHub is the seam between these tests and pubsub.Hub: a minimal
// stand-in for a node's Hub, written while the Hub was being written. It
// does what the Bridge contract asks of a Hub: Interest on a pattern's first
// and after its last local subscriber, Publish for local publishes (after
// fanning them out locally), and local fan-out of what deliver brings. To
// run the cluster tests over the real Hub, replace newLocalHub's body (and
// recorder's feed) with a pubsub.Hub whose Config.Bridge is the bridge; the
// tests use only subscribe, unsubscribe and publish.
type localHub struct {
	b *Bridge

	mu   sync.Mutex
	subs map[*recorder]string // subscriber -> pattern
	refs map[string]int       // pattern -> local subscribers
}

func newLocalHub(t *testing.T, b *Bridge) *localHub {
	h := &localHub{b: b, subs: make(map[*recorder]string), refs: make(map[string]int)}
	if err := b.Start(h.fanOut); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return h
}

func (h *localHub) subscribe(pattern string) *recorder {
	r := &recorder{got: make(map[string]int), ops: make(map[string]frame.Opcode)}
	h.mu.Lock()
	h.subs[r] = pattern
	h.refs[pattern]++
	first := h.refs[pattern] == 1
	h.mu.Unlock()
	if first {
		h.b.Interest(pattern, true)
	}
	return r
}

func (h *localHub) unsubscribe(r *recorder) {
	h.mu.Lock()
	pattern := h.subs[r]
	delete(h.subs, r)
	h.refs[pattern]--
	last := h.refs[pattern] == 0
	if last {
		delete(h.refs, pattern)
	}
	h.mu.Unlock()
	if last {
		h.b.Interest(pattern, false)
	}
}

func (h *localHub) publish(topic string, op frame.Opcode, payload []byte) error {
	_ = h.fanOut(topic, op, payload)
	return h.b.Publish(topic, op, payload)
}

// fanOut gives a message to every local subscriber whose pattern matches.
func (h *localHub) fanOut(topic string, op frame.Opcode, payload []byte) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for r, pattern := range h.subs {
		if match(pattern, topic) {
			r.feed(op, payload)
		}
	}
	return nil
}

// recorder is one local subscriber: it counts what it gets, by payload.
type recorder struct {
	mu    sync.Mutex
	got   map[string]int
	ops   map[string]frame.Opcode
	total int
}

func (r *recorder) feed(op frame.Opcode, payload []byte) {
	r.mu.Lock()
	r.got[string(payload)]++
	r.ops[string(payload)] = op
	r.total++
	r.mu.Unlock()
}

func (r *recorder) count(payload string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got[payload]
}

// waitFor waits (generously: the box is busy) until r has got payload.
func (r *recorder) waitFor(t *testing.T, payload string) {
	t.Helper()
	waitUntil(t, "recorder got "+payload, func() bool { return r.count(payload) > 0 })
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
