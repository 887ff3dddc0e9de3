package pubsub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
)

// TestPublishReachesSubscribers: each table row subscribes four connections
// to the given names, publishes to topic and checks who received it (each
// once: a final marker on a topic of their own follows).
func TestPublishReachesSubscribers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		subs  [4][]string
		topic string
		want  [4]bool
	}{
		{"exact", [4][]string{{"a.b"}, {"a.c"}, {}, {"a.b", "x"}}, "a.b", [4]bool{true, false, false, true}},
		{"star", [4][]string{{"a.*"}, {"*.b"}, {"a.*.c"}, {"*"}}, "a.b", [4]bool{true, true, false, false}},
		{"tail", [4][]string{{"a.>"}, {">"}, {"a.b.>"}, {"b.>"}}, "a.b.c", [4]bool{true, true, true, false}},
		{"tail needs a token", [4][]string{{"a.>"}, {"a"}, {"a.*"}, {">"}}, "a", [4]bool{false, true, false, true}},
		{"once per connection", [4][]string{{"a.b", "a.*", "a.>", ">"}, {"*.*", "*.b"}, {"a.b"}, {"q.>"}}, "a.b", [4]bool{true, true, true, false}},
		{"none", [4][]string{{"a"}, {"b"}, {"c.*"}, {}}, "d", [4]bool{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, nil, 4)
			cl := newClient(t)
			h := newHub(t, nil)
			var peers [4]*peer
			var conns [4]*engine.Conn
			wantN := 0
			for i := range peers {
				peers[i], conns[i] = dialPeer(t, s, cl)
				for _, name := range tc.subs[i] {
					if err := h.Subscribe(conns[i], name); err != nil {
						t.Fatal(err)
					}
				}
				if err := h.Subscribe(conns[i], fmt.Sprintf("end.%d", i)); err != nil {
					t.Fatal(err)
				}
				if tc.want[i] {
					wantN++
				}
			}
			if got := h.Receivers(tc.topic); got != wantN {
				t.Errorf("Receivers(%q) = %d, want %d", tc.topic, got, wantN)
			}
			n, err := h.Publish(tc.topic, frame.OpText, []byte("msg"))
			if err != nil || n != wantN {
				t.Fatalf("Publish = %d, %v; want %d", n, err, wantN)
			}
			for i, p := range peers {
				if _, err := h.Publish(fmt.Sprintf("end.%d", i), frame.OpText, []byte("end")); err != nil {
					t.Fatal(err)
				}
				if tc.want[i] {
					p.expect(t, "msg")
				}
				p.expect(t, "end")
			}
		})
	}
}

// TestSubscriptionsBookkeeping: presence numbers, idempotent subscribe,
// Unsubscribe and UnsubscribeAll, and the index left empty after.
func TestSubscriptionsBookkeeping(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil, 2)
	cl := newClient(t)
	h := newHub(t, nil)
	_, a := dialPeer(t, s, cl)
	_, b := dialPeer(t, s, cl)
	for _, name := range []string{"x", "y", "n.*", "x"} {
		if err := h.Subscribe(a, name); err != nil {
			t.Fatal(err)
		}
	}
	h.Subscribe(b, "x")
	if got := h.Topics(a); !slices.Equal(got, []string{"n.*", "x", "y"}) {
		t.Errorf("Topics = %q", got)
	}
	if h.NumTopics(a) != 3 || h.NumTopics(b) != 1 {
		t.Errorf("NumTopics = %d, %d", h.NumTopics(a), h.NumTopics(b))
	}
	if h.Subscribers("x") != 2 || h.Subscribers("n.*") != 1 || h.Subscribers("n.q") != 0 || h.Receivers("n.q") != 1 {
		t.Errorf("Subscribers x %d n.* %d n.q %d, Receivers n.q %d",
			h.Subscribers("x"), h.Subscribers("n.*"), h.Subscribers("n.q"), h.Receivers("n.q"))
	}
	if st := h.Stats(); st.Topics != 2 || st.Patterns != 1 || st.Conns != 2 {
		t.Errorf("Stats = %+v", st)
	}
	if !h.Unsubscribe(a, "x") || h.Unsubscribe(a, "x") || h.Unsubscribe(a, "nope") {
		t.Error("Unsubscribe results")
	}
	if h.Subscribers("x") != 1 {
		t.Errorf("Subscribers(x) = %d after Unsubscribe", h.Subscribers("x"))
	}
	if n := h.UnsubscribeAll(a); n != 2 {
		t.Errorf("UnsubscribeAll = %d, want 2", n)
	}
	h.UnsubscribeAll(b)
	if st := h.Stats(); st.Topics != 0 || st.Patterns != 0 || st.Conns != 2 {
		t.Errorf("Stats after UnsubscribeAll = %+v", st)
	}
	if !h.wild.root.empty() {
		t.Error("pattern tree not empty")
	}
}

// TestCloseDropsSubscriptions: a connection that closes, from either end,
// leaves the Hub without being unsubscribed, and cannot subscribe again.
func TestCloseDropsSubscriptions(t *testing.T) {
	t.Parallel()
	for _, side := range []string{"client", "server", "abort"} {
		t.Run(side, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, nil, 2)
			cl := newClient(t)
			h := newHub(t, nil)
			p, c := dialPeer(t, s, cl)
			_, other := dialPeer(t, s, cl)
			h.Subscribe(c, "t")
			h.Subscribe(c, "t.>")
			h.Subscribe(other, "t")
			switch side {
			case "client":
				p.c.Close(frame.StatusNormalClosure, "")
			case "server":
				c.Close(frame.StatusGoingAway, "")
			case "abort":
				p.c.Abort()
			}
			// The close hook counts the connection out, then removes its
			// subscriptions one by one: wait for all of it (the pattern
			// was once seen still there, under load).
			eventually(t, "the hub to forget the closed connection", func() bool {
				st := h.Stats()
				return h.Subscribers("t") == 1 && st.Conns == 1 && st.Patterns == 0
			})
			if h.Stats().Patterns != 0 || h.NumTopics(c) != 0 {
				t.Errorf("left behind: %+v, %d topics", h.Stats(), h.NumTopics(c))
			}
			if err := h.Subscribe(c, "t"); !errors.Is(err, ErrConnClosed) {
				t.Errorf("Subscribe on a closed connection: %v", err)
			}
			if h.Stats().Conns != 1 || h.Subscribers("t") != 1 {
				t.Errorf("a refused Subscribe left state: %+v", h.Stats())
			}
		})
	}
}

// TestAfterClose checks the engine hook the Hub relies on: run once, after the
// state is Closed and before OnClose; refused once the connection is closed;
// taken back by AfterCloseFunc's stop before the close (then never run),
// which reports false after it.
func TestAfterClose(t *testing.T) {
	t.Parallel()
	s := newServer(t, &engine.Config{Logger: slog.New(slog.DiscardHandler)}, 1)
	cl := newClient(t)
	p, c := dialPeer(t, s, cl)
	calls := make(chan engine.State, 4)
	for i := range 3 {
		hook := func(c *engine.Conn) { calls <- c.State() }
		if i == 1 {
			hook = func(*engine.Conn) { panic("hook") } // contained; the next one still runs
		}
		if !c.AfterClose(hook) {
			t.Fatal("AfterClose refused on an open connection")
		}
	}
	stopped, ok := c.AfterCloseFunc(func(*engine.Conn) { calls <- 99 }) // never, stopped first
	if !ok || !stopped() || stopped() {
		t.Fatalf("AfterCloseFunc: ok %v, or its stop did not report true once, then false", ok)
	}
	kept, ok := c.AfterCloseFunc(func(c *engine.Conn) { calls <- c.State() })
	if !ok {
		t.Fatal("AfterCloseFunc refused on an open connection")
	}
	p.c.Close(frame.StatusNormalClosure, "")
	var closed *engine.Conn
	select {
	case closed = <-s.closed:
	case <-time.After(20 * time.Second):
		t.Fatal("the connection did not close")
	}
	if closed != c {
		t.Fatal("another connection closed")
	}
	// OnClose has run: the hooks ran before it.
	if len(calls) != 3 {
		t.Fatalf("%d hook calls before OnClose, want 3", len(calls))
	}
	if kept() {
		t.Error("AfterCloseFunc's stop reported true after its hook ran")
	}
	for range 3 {
		if st := <-calls; st != engine.StateClosed {
			t.Errorf("hook ran in state %v", st)
		}
	}
	if c.AfterClose(func(*engine.Conn) { calls <- 0 }) {
		t.Error("AfterClose accepted on a closed connection")
	}
	if stop, ok := c.AfterCloseFunc(func(*engine.Conn) { calls <- 0 }); ok || stop() {
		t.Error("AfterCloseFunc accepted on a closed connection")
	}
	if len(calls) != 0 {
		t.Error("a hook ran twice or after refusal")
	}
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil, 1)
	cl := newClient(t)
	h := newHub(t, &Config{MaxTopicsPerConn: 2, MaxTopicLen: 8, MaxTokens: 3})
	_, c := dialPeer(t, s, cl)
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"a.b.c", nil},
		{"a.b.c.d", ErrInvalidTopic},
		{"toolong.x", ErrInvalidTopic},
		{"a..b", ErrInvalidTopic},
		{"a.*", nil},
		{"c", ErrTooManyTopics},
		{"a.*", nil}, // already subscribed: not a new one
	} {
		if err := h.Subscribe(c, tc.name); !errors.Is(err, tc.err) {
			t.Errorf("Subscribe(%q) = %v, want %v", tc.name, err, tc.err)
		}
	}
	for _, tc := range []struct {
		topic string
		op    frame.Opcode
		p     string
		err   error
	}{
		{"a.*", frame.OpText, "x", ErrWildcardPublish},
		{">", frame.OpText, "x", ErrWildcardPublish},
		{"a b", frame.OpText, "x", ErrInvalidTopic},
		{"a", frame.OpPing, "x", ErrOpcode},
		{"a", frame.OpText, "\xff", ErrInvalidUTF8},
		{"a", frame.OpBinary, "\xff", nil},
	} {
		if _, err := h.Publish(tc.topic, tc.op, []byte(tc.p)); !errors.Is(err, tc.err) {
			t.Errorf("Publish(%q, %v) = %v, want %v", tc.topic, tc.op, err, tc.err)
		}
	}
	h.Close()
	if err := h.Subscribe(c, "z"); !errors.Is(err, ErrHubClosed) {
		t.Errorf("Subscribe after Close: %v", err)
	}
	if _, err := h.Publish("a.b.c", frame.OpText, nil); !errors.Is(err, ErrHubClosed) {
		t.Errorf("Publish after Close: %v", err)
	}
	if st := h.Stats(); st.Topics != 0 || st.Patterns != 0 || st.Conns != 0 {
		t.Errorf("Close left %+v", st)
	}
}

// TestBridge: publishes go out through the bridge, its deliveries fan out here
// and do not go back, Interest follows the first and last local subscriber of
// each name, a closing connection included.
func TestBridge(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil, 2)
	cl := newClient(t)
	b := newFakeBridge()
	h := newHub(t, &Config{Bridge: b})
	pa, a := dialPeer(t, s, cl)
	pb, c := dialPeer(t, s, cl)
	h.Subscribe(a, "room.1")
	h.Subscribe(c, "room.1")
	h.Subscribe(c, "room.>")
	h.Publish("room.1", frame.OpText, []byte("local"))
	b.deliver("room.1", frame.OpText, []byte("remote"))
	b.deliver("room.*", frame.OpText, []byte("bad"))  // refused: a pattern
	b.deliver("room.2", frame.OpText, []byte("\xff")) // refused: not UTF-8
	b.deliver("room.2", frame.OpText, []byte("remote2"))
	pa.expect(t, "local", "remote")
	pb.expect(t, "local", "remote", "remote2")
	h.Unsubscribe(a, "room.1")
	pb.c.Close(frame.StatusNormalClosure, "")
	eventually(t, "the closed connection's interest to go", func() bool {
		m, _, _ := b.snapshot()
		return len(m) == 0
	})
	_, calls, published := b.snapshot()
	if want := []string{"+room.1", "+room.>"}; !slices.Equal(calls[:2], want) {
		t.Errorf("Interest calls %q, want %q first", calls, want)
	}
	slices.Sort(calls[2:])
	if want := []string{"-room.1", "-room.>"}; !slices.Equal(calls[2:], want) {
		t.Errorf("Interest calls %q, want %q last", calls, want)
	}
	if !slices.Equal(published, []string{"room.1:local"}) {
		t.Errorf("bridge got %q; deliveries must not go back", published)
	}
	if st := h.Stats(); st.Remote != 2 || st.Published != 1 {
		t.Errorf("Stats = %+v", st)
	}
	h.Close()
	if !b.closed {
		t.Error("Close did not close the bridge")
	}
}

// TestCompressedReceivers: one publish to receivers that negotiated
// permessage-deflate with context takeover (two window sizes, so two
// compressions), without it, and not at all; each publish is followed by a
// message of the connection's own, compressed against the history the
// prepared frame advanced. Every peer decodes every message.
func TestCompressedReceivers(t *testing.T) {
	t.Parallel()
	s := newServer(t, &engine.Config{Compression: &deflate.Options{Threshold: 16}}, 4)
	cl := newClient(t)
	h := newHub(t, nil)
	var peers []*peer
	var conns []*engine.Conn
	for _, opts := range []*deflate.Options{
		{}, {ServerMaxWindowBits: 10}, {ServerNoContextTakeover: true}, nil,
	} {
		p := &peer{msgs: make(chan string, 64)}
		c, _, err := cl.Dial(context.Background(), "ws://"+s.addr+"/", &engine.DialOptions{Handler: p, Compression: opts})
		if err != nil {
			t.Fatal(err)
		}
		p.c = c
		sc := s.accept(t)
		prm, ok := sc.Compression()
		if ok != (opts != nil) || (ok && prm.ServerNoContextTakeover != opts.ServerNoContextTakeover) {
			t.Fatalf("negotiated %+v (%v) for %+v", prm, ok, opts)
		}
		h.Subscribe(sc, "z")
		peers, conns = append(peers, p), append(conns, sc)
	}
	var want []string
	for i := range 5 {
		msg := strings.Repeat(fmt.Sprintf("message %d, compressible; ", i), 20)
		if n, err := h.Publish("z", frame.OpText, []byte(msg)); n != len(conns) || err != nil {
			t.Fatalf("Publish = %d, %v", n, err)
		}
		own := msg + " and the connection's own"
		for _, c := range conns {
			if err := c.WriteText(own); err != nil {
				t.Fatal(err)
			}
		}
		want = append(want, msg, own)
	}
	for _, p := range peers {
		p.expect(t, want...)
	}
}
