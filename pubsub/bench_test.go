package pubsub

import (
	"fmt"
	"testing"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
)

const benchSubs = 64

// benchHub returns a Hub over benchSubs connections whose peers drain their
// sockets, each subscribed to what sub returns for it (and to a topic of its
// own, so that the index is not trivially small).
func benchHub(b *testing.B, sub func(i int) []string) (*Hub, []*engine.Conn) {
	s := newServer(b, nil, benchSubs)
	h := newHub(b, &Config{ParallelFanout: -1})
	conns := make([]*engine.Conn, benchSubs)
	for i := range conns {
		_, conns[i] = dialRaw(b, s, true)
		for _, name := range append(sub(i), fmt.Sprintf("own.%d", i)) {
			if err := h.Subscribe(conns[i], name); err != nil {
				b.Fatal(err)
			}
		}
	}
	return h, conns
}

// benchPublish publishes one prepared 128-byte message to topic per op and
// reports the cost per delivered message.
func benchPublish(b *testing.B, h *Hub, topic string, want int) {
	pm := engine.NewPreparedMessage(frame.OpBinary, make([]byte, 128))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if n, err := h.PublishPrepared(topic, pm); n != want || err != nil {
			b.Fatalf("delivered %d, %v; want %d", n, err, want)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*want), "ns/msg")
}

// Exact topic, no pattern anywhere: the fast path.
func BenchmarkPublishExact(b *testing.B) {
	h, _ := benchHub(b, func(int) []string { return []string{"bench.t"} })
	benchPublish(b, h, "bench.t", benchSubs)
}

// Exact topic while 64 patterns that do not match it exist: the tree walk an
// exact publish pays once patterns are in use.
func BenchmarkPublishExactPatternsPresent(b *testing.B) {
	h, _ := benchHub(b, func(i int) []string {
		return []string{"bench.t", fmt.Sprintf("other.%d.*", i), fmt.Sprintf("bench.x%d.>", i)}
	})
	benchPublish(b, h, "bench.t", benchSubs)
}

// Every receiver by one pattern ("bench.*"): one set, no union.
func BenchmarkPublishWildcard(b *testing.B) {
	h, _ := benchHub(b, func(int) []string { return []string{"bench.*"} })
	benchPublish(b, h, "bench.t", benchSubs)
}

// Receivers by the topic, two patterns, or both: the union, each once.
func BenchmarkPublishMixed(b *testing.B) {
	h, _ := benchHub(b, func(i int) []string {
		switch i % 3 {
		case 0:
			return []string{"bench.t"}
		case 1:
			return []string{"bench.*", "bench.>"}
		}
		return []string{"bench.t", "bench.>"}
	})
	benchPublish(b, h, "bench.t", benchSubs)
}

// The chat shape (bench/cmd/wsbench pubsub -shape chat): publishes go round
// six topics of 10 subscribers each, so every publish is one small batch.
func BenchmarkPublishChat(b *testing.B) {
	const perTopic, topics = 10, benchSubs / 10
	h, _ := benchHub(b, func(i int) []string {
		if i >= perTopic*topics {
			return nil
		}
		return []string{fmt.Sprintf("room.%d", i/perTopic)}
	})
	names := make([]string, topics)
	for i := range names {
		names[i] = fmt.Sprintf("room.%d", i)
	}
	pm := engine.NewPreparedMessage(frame.OpBinary, make([]byte, 128))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if n, err := h.PublishPrepared(names[i%topics], pm); n != perTopic || err != nil {
			b.Fatalf("delivered %d, %v; want %d", n, err, perTopic)
		}
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perTopic), "ns/msg")
}

// Publish (not prepared): the PreparedMessage per publish is all it adds.
func BenchmarkPublishBytes(b *testing.B) {
	h, _ := benchHub(b, func(int) []string { return []string{"bench.t"} })
	p := make([]byte, 128)
	b.ReportAllocs()
	for b.Loop() {
		if n, _ := h.Publish("bench.t", frame.OpBinary, p); n != benchSubs {
			b.Fatalf("delivered %d", n)
		}
	}
}

// The index alone, without the writes: finding the receivers of an exact
// topic among 1,088 topics, with and without 128 patterns present, and of a
// topic reached only through patterns.
func BenchmarkReceivers(b *testing.B) {
	for _, tc := range []struct {
		name, topic string
		patterns    bool
	}{
		{"exact", "room.7.3", false},
		{"exact-patterns-present", "room.7.3", true},
		{"wildcard", "pat.7.x", true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			h, _ := benchHub(b, func(i int) []string {
				var names []string
				for j := range 16 {
					names = append(names, fmt.Sprintf("room.%d.%d", j, i%8))
				}
				if tc.patterns {
					names = append(names, fmt.Sprintf("pat.%d.*", i%8), fmt.Sprintf("pat.%d.>", i))
				}
				return names
			})
			b.ReportAllocs()
			for b.Loop() {
				if h.Receivers(tc.topic) == 0 {
					b.Fatal("no receivers")
				}
			}
		})
	}
}

// BenchmarkSubscribe: subscribing one connection to new topics (the
// subscriber sets made, the maps grown), then dropping them all at once as a
// close does. B/op is the heap a subscription holds, map growth included.
func BenchmarkSubscribe(b *testing.B) {
	s := newServer(b, nil, 1)
	h := newHub(b, &Config{MaxTopicsPerConn: -1})
	_, c := dialRaw(b, s, true)
	names := make([]string, b.N)
	for i := range names {
		names[i] = fmt.Sprintf("room.%08d", i)
	}
	benchSubscribe(b, h, c, names)
}

// BenchmarkSubscribeDeepPattern: the worst a client's pattern can cost with
// the default bounds: 16 tokens in 256 bytes, the first one new, so that the
// whole path of the pattern tree is its own (16 nodes, 15 maps of one
// entry). B/op is what one such subscription holds.
func BenchmarkSubscribeDeepPattern(b *testing.B) {
	s := newServer(b, nil, 1)
	h := newHub(b, &Config{MaxTopicsPerConn: -1})
	_, c := dialRaw(b, s, true)
	names := make([]string, b.N)
	for i := range names {
		// 15 tokens of 15 bytes and a final "*": 255 bytes.
		name := fmt.Sprintf("%015d", i)
		for j := range 14 {
			name += fmt.Sprintf(".%014d%d", i, j%10)
		}
		names[i] = name + ".*"
	}
	benchSubscribe(b, h, c, names)
}

// benchSubscribe times c subscribing to names, one per iteration, and
// checks every subscription was kept.
func benchSubscribe(b *testing.B, h *Hub, c *engine.Conn, names []string) {
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := h.Subscribe(c, names[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if h.UnsubscribeAll(c) != b.N {
		b.Fatal("lost subscriptions")
	}
}
