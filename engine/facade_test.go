package engine

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/wsconn"
	"github.com/weir-ws/weir/upgrade"
)

// The public API over the connection machine (internal/wsconn, issue 14):
// engine.Conn is the machine's Conn under another type (pub), the Handler
// and the Trace are adapted, AfterClose hooks are wrapped. These tests pin
// that the application meets one *Conn per connection wherever the engine
// hands it one: every Handler callback, Trace.FrameIn and FrameOut,
// AfterClose and AfterCloseFunc hooks, Server.Conns, Broadcast's filter, and
// what Dial, Client.Adopt and Server.Adopt return; and that UserData set
// through one is seen through all the others. A conversion that made a new
// *Conn (a wrapper per call, a copy) fails them.

// seen records, per side of a connection, the *Conn each place handed over
// and the UserData it carried.
type seen struct {
	mu     sync.Mutex
	conns  map[string][]*Conn
	user   map[string][]any
	notify chan struct{}
}

func newSeen() *seen {
	return &seen{conns: map[string][]*Conn{}, user: map[string][]any{}, notify: make(chan struct{}, 1)}
}

func (s *seen) add(where string, c *Conn) {
	u := c.UserData()
	s.mu.Lock()
	s.conns[where] = append(s.conns[where], c)
	s.user[where] = append(s.user[where], u)
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

func (s *seen) has(where string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns[where]) > 0
}

// wait waits until where has been seen.
func (s *seen) wait(t *testing.T, where string) {
	t.Helper()
	waitFor(t, func() bool { return s.has(where) })
}

// check: every place saw want and nothing else, with user as its UserData
// (where the UserData was set before: after says which places come after
// SetUserData), and every place of need was seen.
func (s *seen) check(t *testing.T, side string, want *Conn, user any, after []string, need ...string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for where, cs := range s.conns {
		for i, c := range cs {
			if c != want {
				t.Errorf("%s: %s got *Conn %p, want %p (the same connection)", side, where, c, want)
			}
			if slices.Contains(after, where) && s.user[where][i] != user {
				t.Errorf("%s: %s saw UserData %v, want %v", side, where, s.user[where][i], user)
			}
		}
	}
	for _, where := range need {
		if len(s.conns[where]) == 0 {
			t.Errorf("%s: %s never called: the test does not cover it", side, where)
		}
	}
}

func (s *seen) trace() *Trace {
	return &Trace{
		FrameIn:  func(c *Conn, _ frame.Header) { s.add("Trace.FrameIn", c) },
		FrameOut: func(c *Conn, _ frame.Header) { s.add("Trace.FrameOut", c) },
	}
}

// hook registers AfterClose and AfterCloseFunc hooks that record what they get.
func (s *seen) hook(c *Conn) {
	c.AfterClose(func(k *Conn) { s.add("AfterClose", k) })
	if _, ok := c.AfterCloseFunc(func(k *Conn) { s.add("AfterCloseFunc", k) }); !ok {
		s.add("AfterCloseFunc refused", c)
	}
}

// seenHandler records every callback; OnOpen sets the UserData and the
// close hooks, OnMessage echoes "echo".
type seenHandler struct {
	s      *seen
	user   any
	opened chan *Conn
}

func newSeenHandler(user any) *seenHandler {
	return &seenHandler{s: newSeen(), user: user, opened: make(chan *Conn, 4)}
}

func (h *seenHandler) OnOpen(c *Conn) {
	c.SetUserData(h.user)
	h.s.add("OnOpen", c)
	h.s.hook(c)
	h.opened <- c
}

func (h *seenHandler) OnMessage(c *Conn, op frame.Opcode, p []byte) {
	h.s.add("OnMessage", c)
	if string(p) == "echo" {
		c.WriteMessage(op, p)
	}
}

func (h *seenHandler) OnFrame(c *Conn, _ frame.Header, _ []byte) { h.s.add("OnFrame", c) }
func (h *seenHandler) OnPing(c *Conn, _ []byte) bool             { h.s.add("OnPing", c); return true }
func (h *seenHandler) OnPong(c *Conn, _ []byte)                  { h.s.add("OnPong", c) }
func (h *seenHandler) OnDrain(c *Conn)                           { h.s.add("OnDrain", c) }
func (h *seenHandler) OnClose(c *Conn, _ frame.StatusCode, _ string, _ error) {
	h.s.add("OnClose", c)
}

// The places a Handler's connection is seen after OnOpen set its UserData.
var handlerPlaces = []string{"OnMessage", "OnPing", "OnPong", "OnDrain", "OnClose", "AfterClose", "AfterCloseFunc", "Conns", "Broadcast"}

// TestSameConnEverywhere runs one connection per way in (a listening
// server, ServeHTTP, Server.Adopt) and per client handler (the Client's
// default, a Dial's own, none: ReadMessage), in every mode, and checks
// that each side sees one *Conn everywhere.
func TestSameConnEverywhere(t *testing.T) {
	t.Parallel()
	type way int
	const (
		listen way = iota
		serveHTTP
		adopt // Server.Adopt and Client.Adopt over a TCP pair, no handshake
	)
	type client int
	const (
		clientDefault client = iota // NewClient's handler
		dialOwn                     // DialOptions.Handler, beside a default that must see nothing
		noHandler                   // ReadMessage
	)
	for _, tc := range []struct {
		name string
		way  way
		cl   client
	}{
		{"listen/client default handler", listen, clientDefault},
		{"listen/dial's handler", listen, dialOwn},
		{"listen/no handler", listen, noHandler},
		{"ServeHTTP/client default handler", serveHTTP, clientDefault},
		{"Adopt/client default handler", adopt, clientDefault},
		{"Adopt/no handler", adopt, noHandler},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				sh := newSeenHandler("server's")
				scfg := cfg
				scfg.Trace = sh.s.trace()
				s, err := NewServer(sh, &scfg, &upgrade.Upgrader{})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })

				ch := newSeenHandler("client's")      // the client's side, whichever handler it has
				other := newSeenHandler("not called") // the default handler when the Dial has its own
				ccfg := cfg
				ccfg.Trace = ch.s.trace()
				var def Handler
				switch tc.cl {
				case clientDefault:
					def = ch
				case dialOwn:
					def = other
				}
				cl := cliClient(t, def, ccfg)
				var opts *DialOptions
				if tc.cl == dialOwn {
					opts = &DialOptions{Handler: ch}
				}

				var cc, adopted *Conn
				switch tc.way {
				case listen, serveHTTP:
					addr := ""
					if tc.way == listen {
						if err := s.Listen("127.0.0.1:0"); err != nil {
							t.Fatal(err)
						}
						addr = s.Addr().String()
					} else {
						hs := httptest.NewServer(s)
						t.Cleanup(hs.Close)
						addr = hs.Listener.Addr().String()
					}
					cc = cliDial(t, cl, "ws://"+addr+"/", opts)
				case adopt:
					a, b := tcpPair(t)
					adopted = s.Adopt(a, nil, nil)
					if cc, err = cl.Adopt(b, nil, upgrade.ClientResult{}, opts); err != nil {
						t.Fatal(err)
					}
				}
				defer cc.Abort()
				sc := cliRecv(t, sh.opened, "the server's OnOpen")
				if adopted != nil && adopted != sc {
					t.Errorf("Server.Adopt returned %p, OnOpen got %p", adopted, sc)
				}
				if tc.cl == noHandler {
					cc.SetUserData("client's")
					ch.s.hook(cc)
				} else if got := cliRecv(t, ch.opened, "the client's OnOpen"); got != cc {
					t.Errorf("Dial/Adopt returned %p, the client's OnOpen got %p", cc, got)
				}

				// A message each way, echoed.
				read := func(want string) {
					t.Helper()
					if tc.cl == noHandler {
						if _, p, err := cc.ReadMessage(cliCtx(t)); err != nil || string(p) != want {
							t.Fatalf("ReadMessage: %q %v, want %q", p, err, want)
						}
						return
					}
					ch.s.wait(t, "OnMessage")
				}
				if err := cc.WriteText("echo"); err != nil {
					t.Fatal(err)
				}
				sh.s.wait(t, "OnMessage")
				read("echo")
				// Pings each way: OnPing on the pinged side, OnPong on the other.
				if err := cc.Ping([]byte("c")); err != nil {
					t.Fatal(err)
				}
				sh.s.wait(t, "OnPing")
				if tc.cl != noHandler {
					ch.s.wait(t, "OnPong")
				}
				if err := sc.Ping([]byte("s")); err != nil {
					t.Fatal(err)
				}
				sh.s.wait(t, "OnPong")
				if tc.cl != noHandler {
					ch.s.wait(t, "OnPing")
				}
				// The server's tables and its broadcast.
				for c := range s.Conns() {
					sh.s.add("Conns", c)
				}
				pm := NewPreparedMessage(frame.OpText, []byte("all"))
				if n := s.Broadcast(pm, func(c *Conn) bool { sh.s.add("Broadcast", c); return true }); n != 1 {
					t.Fatalf("Broadcast reached %d, want 1", n)
				}
				if tc.cl == noHandler {
					read("all")
				} else {
					waitFor(t, func() bool { ch.s.mu.Lock(); defer ch.s.mu.Unlock(); return len(ch.s.conns["OnMessage"]) >= 2 })
				}
				// OnDrain: output queued while the client does not read, then taken.
				cc.PauseRead()
				big := make([]byte, 1<<20)
				for i := 0; sc.BufferedAmount() == 0; i++ {
					if i == 64 {
						t.Fatal("64 MiB written to a paused peer and nothing queued")
					}
					if err := sc.WriteBinary(big); err != nil {
						t.Fatalf("write %d: %v", i, err)
					}
				}
				cc.ResumeRead()
				if tc.cl == noHandler {
					go func() { // drain the queue so that reading goes on
						for {
							if _, _, err := cc.ReadMessage(context.Background()); err != nil {
								return
							}
						}
					}()
				}
				sh.s.wait(t, "OnDrain")
				// The close, seen by both sides' OnClose and hooks.
				if err := cc.Close(frame.StatusNormalClosure, "bye"); err != nil {
					t.Fatal(err)
				}
				for _, where := range []string{"OnClose", "AfterClose", "AfterCloseFunc"} {
					sh.s.wait(t, where)
				}
				for _, where := range []string{"AfterClose", "AfterCloseFunc"} {
					ch.s.wait(t, where)
				}
				if tc.cl != noHandler {
					ch.s.wait(t, "OnClose")
				}

				sh.s.check(t, "server", sc, "server's", append(handlerPlaces, "Trace.FrameIn", "Trace.FrameOut"),
					"OnOpen", "OnMessage", "OnPing", "OnPong", "OnDrain", "OnClose", "AfterClose", "AfterCloseFunc",
					"Trace.FrameIn", "Trace.FrameOut", "Conns", "Broadcast")
				need := []string{"AfterClose", "AfterCloseFunc", "Trace.FrameIn", "Trace.FrameOut"}
				if tc.cl != noHandler {
					need = append(need, "OnOpen", "OnMessage", "OnPing", "OnPong", "OnClose")
				}
				ch.s.check(t, "client", cc, "client's", []string{"OnMessage", "OnPing", "OnPong", "OnClose", "AfterClose", "AfterCloseFunc"}, need...)
				if len(other.s.conns) != 0 {
					t.Errorf("the client's default handler was called for a Dial with its own: %v", keys(other.s.conns))
				}
			})
		})
	}
}

func keys[V any](m map[string]V) string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	slices.Sort(k)
	return strings.Join(k, ", ")
}

// TestStatesAreTheMachines: Conn.State converts the machine's state by
// value, so each engine State must be the machine's of the same name, and
// say the same (an unknown one included).
func TestStatesAreTheMachines(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		engine State
		inner  wsconn.State
		text   string
	}{
		{StateConnecting, wsconn.StateConnecting, "connecting"},
		{StateOpen, wsconn.StateOpen, "open"},
		{StateClosing, wsconn.StateClosing, "closing"},
		{StateClosed, wsconn.StateClosed, "closed"},
		{StateClosed + 1, wsconn.StateClosed + 1, "unknown"},
	} {
		if uint32(c.engine) != uint32(c.inner) || c.engine.String() != c.text || c.inner.String() != c.text {
			t.Errorf("engine %d %q, machine %d %q, want %q", c.engine, c.engine, c.inner, c.inner, c.text)
		}
	}
}
