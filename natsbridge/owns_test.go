//go:build !fuzzonly

package natsbridge

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/weir-ws/weir/frame"
)

// ownsBridge is a bridge, never started, whose upstream wildcard
// subscriptions are patterns (without the prefix), as the interest goroutine
// would have recorded them; the subscriptions are stand-ins.
func ownsBridge(patterns []string) *Bridge {
	b := New(Config{})
	for _, p := range patterns {
		subject := b.prefix + p
		b.subs[subject] = &upstream{sub: &nats.Subscription{Subject: subject}, want: true}
		b.addWild(subject) // literals are not in the tree
	}
	return b
}

// copyVia is the copy of a publish on subject that arrives through the
// subscription of pattern.
func (b *Bridge) copyVia(pattern, subject string) *nats.Msg {
	return &nats.Msg{Subject: b.prefix + subject, Sub: b.subs[b.prefix+pattern].sub}
}

// BenchmarkOwnsManyPatterns: the cost of the overlap check for one copy of a
// message that arrives through "chat.*" while clients hold n other patterns
// that do not match it (patterns cost nothing in NATS's routing unless they
// match: this is the bridge's own cost). They sort before "chat.*", as a
// client picking names can make them.
func BenchmarkOwnsManyPatterns(b *testing.B) {
	for _, n := range []int{0, 1000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			patterns := []string{"chat.*"}
			for i := range n {
				patterns = append(patterns, fmt.Sprintf("!%d.*", i))
			}
			br := ownsBridge(patterns)
			m := br.copyVia("chat.*", "chat.room")
			b.ReportAllocs()
			for b.Loop() {
				if !br.owns(m) {
					b.Fatal("the one matching copy not owned")
				}
			}
		})
	}
}

// TestOwnsOneCopy: of the copies of one publish that NATS sends, one through
// each subscription whose pattern matches the subject, owns takes exactly
// one, whatever overlapping patterns the node holds (random sets, checked
// against match); and the wildcard tree is empty once they are all gone.
func TestOwnsOneCopy(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	name := func(toks []string, tail bool) string {
		n := 1 + r.IntN(4)
		var parts []string
		for range n {
			parts = append(parts, toks[r.IntN(len(toks))])
		}
		if tail && r.IntN(3) == 0 {
			parts[n-1] = ">"
		}
		return strings.Join(parts, ".")
	}
	for round := range 300 {
		var patterns []string
		for range 1 + r.IntN(16) {
			if p := name([]string{"a", "b", "*"}, true); !slices.Contains(patterns, p) {
				patterns = append(patterns, p)
			}
		}
		br := ownsBridge(patterns)
		for range 30 {
			s := name([]string{"a", "b"}, false)
			matching, owned := 0, 0
			for _, p := range patterns {
				if match(p, s) {
					matching++
					if br.owns(br.copyVia(p, s)) {
						owned++
					}
				}
			}
			if want := min(matching, 1); owned != want {
				t.Fatalf("round %d: %d of %d copies of %q owned under %q", round, owned, matching, s, patterns)
			}
		}
		for _, p := range patterns {
			br.dropWild(br.prefix + p)
		}
		if !br.wild.empty() {
			t.Fatalf("round %d: the wildcard tree is not empty after removing %q", round, patterns)
		}
	}
}

// TestOverlapCopies: a node holding 256 patterns that all match one 8-token
// topic (each token literal or "*", as one client within pubsub's default
// MaxTopicsPerConn can) gets 256 copies of one publish from NATS, delivers
// one and counts the rest as Overlap: the figure docs/pubsub.md gives.
func TestOverlapCopies(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "solo", nil, false)
	b := New(Config{URL: srv.ClientURL()})
	var mu sync.Mutex
	got := 0
	if err := b.Start(func(string, frame.Opcode, []byte) error { mu.Lock(); got++; mu.Unlock(); return nil }); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	const topic = "a.b.c.d.e.f.g.h"
	toks := strings.Split(topic, ".")
	for mask := range 1 << len(toks) {
		p := slices.Clone(toks)
		for i := range p {
			if mask&(1<<i) != 0 {
				p[i] = "*"
			}
		}
		b.Interest(strings.Join(p, "."), true)
	}
	waitUntil(t, "256 subscriptions", func() bool { return interest(srv, "weir."+topic) == 256 })
	raw, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if err := raw.Publish("weir."+topic, []byte("tone")); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the copies", func() bool { st := b.Stats(); return st.Delivered+st.Overlap == 256 })
	mu.Lock()
	defer mu.Unlock()
	if st := b.Stats(); got != 1 || st.Delivered != 1 || st.Overlap != 255 {
		t.Errorf("delivered %d (Stats %d), overlap %d; want 1, 1, 255", got, st.Delivered, st.Overlap)
	}
}
