package w3c

import (
	"crypto/rand"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/upgrade"
)

// A real weir server on 127.0.0.1:0 that echoes, and obeys "close CODE
// REASON", "abort" (drop the connection) and "pause" (stop reading, to let the
// client's buffer fill) / a resume once resume is closed.
type testServer struct {
	engine.NopHandler
	resume chan struct{}
}

func (s *testServer) OnMessage(c *engine.Conn, op frame.Opcode, p []byte) {
	msg := string(p)
	switch {
	case op == frame.OpText && strings.HasPrefix(msg, "close "):
		code, reason, _ := strings.Cut(msg[len("close "):], " ")
		n, _ := strconv.Atoi(code)
		c.Close(frame.StatusCode(n), reason)
	case op == frame.OpText && strings.HasPrefix(msg, "flood "):
		n, _ := strconv.Atoi(msg[len("flood "):])
		for i := range n {
			c.WriteText(strconv.Itoa(i) + strings.Repeat(".", 1000))
		}
	case op == frame.OpText && strings.HasPrefix(msg, "big "):
		// "big N": N binary messages of bigSize bytes (random: compression
		// does not shrink them on the wire), from a goroutine that waits
		// while the outbound buffer is full (the client stops reading).
		n, _ := strconv.Atoi(msg[len("big "):])
		go func() {
			b := make([]byte, bigSize)
			for i := range n {
				rand.Read(b)
				b[0] = byte(i)
				for errors.Is(c.WriteBinary(b), engine.ErrWriteBufferFull) {
					time.Sleep(time.Millisecond)
				}
			}
		}()
	case op == frame.OpText && msg == "abort": // gone without a close frame
		c.Abort()
	case op == frame.OpText && msg == "pause":
		c.PauseRead()
		go func() {
			<-s.resume
			c.ResumeRead()
		}()
	default:
		c.WriteMessage(op, p)
	}
}

func startServer(t *testing.T) (string, *testServer) {
	t.Helper()
	h := &testServer{resume: make(chan struct{})}
	u := &upgrade.Upgrader{Subprotocols: []string{"chat"}}
	srv, err := engine.NewServer(h, &engine.Config{Compression: &deflate.Options{}}, u)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return "ws://" + srv.Addr().String() + "/", h
}

// recorder keeps the events of one WebSocket, in order, and checks that none
// overlaps another.
type recorder struct {
	mu      sync.Mutex
	events  []string
	msgs    []any
	errs    []error
	closeEv CloseEvent
	inCall  bool
	overlap bool
	changed chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{}, 1)} }

func (r *recorder) note(name string, f func()) {
	r.mu.Lock()
	if r.inCall {
		r.overlap = true
	}
	r.inCall = true
	r.events = append(r.events, name)
	if f != nil {
		f()
	}
	r.inCall = false
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

func (r *recorder) options(o *Options) *Options {
	if o == nil {
		o = &Options{}
	}
	o.OnOpen = func(e Event) {
		if e.Target.ReadyState() != Open {
			r.note("open in the wrong state", nil)
			return
		}
		r.note("open", nil)
	}
	o.OnMessage = func(e MessageEvent) { r.note("message", func() { r.msgs = append(r.msgs, e.Data) }) }
	o.OnError = func(e ErrorEvent) { r.note("error", func() { r.errs = append(r.errs, e.Err) }) }
	o.OnClose = func(e CloseEvent) { r.note("close", func() { r.closeEv = e }) }
	return o
}

// waitFor waits until ok holds over the recorder, bounded generously.
func (r *recorder) waitFor(t *testing.T, what string, ok func(*recorder) bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		done := ok(r)
		r.mu.Unlock()
		if done {
			return
		}
		select {
		case <-r.changed:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("no %s; events %v", what, r.events)
		}
	}
}

func waitDone(t *testing.T, ws *WebSocket) {
	t.Helper()
	select {
	case <-ws.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("no close event; state %d", ws.ReadyState())
	}
}

func TestOpenMessagesClose(t *testing.T) {
	t.Parallel()
	url, _ := startServer(t)
	r := newRecorder()
	ws, err := New(url, []string{"chat"}, r.options(&Options{Compression: &deflate.Options{}}))
	if err != nil {
		t.Fatal(err)
	}
	if ws.URL() != url || ws.BinaryType() != "arraybuffer" {
		t.Fatalf("url %q, binary type %q", ws.URL(), ws.BinaryType())
	}
	r.waitFor(t, "open", func(r *recorder) bool { return len(r.events) > 0 })
	if ws.ReadyState() != Open || ws.Protocol() != "chat" || !strings.HasPrefix(ws.Extensions(), "permessage-deflate") {
		t.Fatalf("state %d, protocol %q, extensions %q", ws.ReadyState(), ws.Protocol(), ws.Extensions())
	}
	for _, d := range []any{"hello", []byte{0, 1, 0xff}, "", []byte{}, "h\xffi"} {
		if err := ws.Send(d); err != nil {
			t.Fatalf("Send(%q): %v", d, err)
		}
	}
	if err := ws.Send(42); !errors.Is(err, ErrDataType) {
		t.Fatalf("Send(42): %v", err)
	}
	r.waitFor(t, "5 echoes", func(r *recorder) bool { return len(r.msgs) == 5 })
	want := []any{"hello", []byte{0, 1, 0xff}, "", []byte{}, "h\uFFFDi"}
	for i, m := range r.msgs {
		switch w := want[i].(type) {
		case string:
			if s, ok := m.(string); !ok || s != w {
				t.Errorf("message %d: %#v, want text %q", i, m, w)
			}
		case []byte:
			if b, ok := m.([]byte); !ok || string(b) != string(w) {
				t.Errorf("message %d: %#v, want binary %x", i, m, w)
			}
		}
	}
	if err := ws.Close(4000, "bye"); err != nil {
		t.Fatal(err)
	}
	if st := ws.ReadyState(); st != Closing && st != Closed {
		t.Fatalf("after Close: state %d", st)
	}
	if err := ws.Send("late"); !errors.Is(err, engine.ErrClosed) {
		t.Fatalf("Send after Close: %v", err)
	}
	waitDone(t, ws)
	r.mu.Lock()
	defer r.mu.Unlock()
	// The close event has the server's close frame: weir echoes the code.
	if c := r.closeEv; c.Code != 4000 || !c.WasClean || c.Target != ws {
		t.Fatalf("close event %+v", c)
	}
	if got := strings.Join(r.events, " "); got != "open message message message message message close" || r.overlap {
		t.Fatalf("events %q (overlapping %v)", got, r.overlap)
	}
	if ws.ReadyState() != Closed || ws.Close(1000, "") != nil {
		t.Fatalf("state %d after close", ws.ReadyState())
	}
}

// TestServerCloses: the server's close code and reason reach the close event.
func TestServerCloses(t *testing.T) {
	t.Parallel()
	url, _ := startServer(t)
	tests := []struct {
		send   string
		code   int
		reason string
	}{
		{"close 4001 go away", 4001, "go away"},
		{"close 1000", 1000, ""},
		{"close 0", 1005, ""}, // a close frame with no status
	}
	for _, tt := range tests {
		r := newRecorder()
		o := r.options(nil)
		o.OnOpen = func(e Event) { e.Target.Send(tt.send) }
		ws, err := New(url, nil, o)
		if err != nil {
			t.Fatal(err)
		}
		waitDone(t, ws)
		r.mu.Lock()
		c := r.closeEv
		errs := len(r.errs)
		r.mu.Unlock()
		if c.Code != tt.code || c.Reason != tt.reason || !c.WasClean || errs != 0 {
			t.Errorf("%q: close %+v, %d errors", tt.send, c, errs)
		}
	}
}

// TestRefusedHandshake: an error event with the handshake's status, then close
// 1006, not clean; never open.
func TestRefusedHandshake(t *testing.T) {
	t.Parallel()
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no sockets here", http.StatusForbidden)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	r := newRecorder()
	ws, err := New("ws://"+ln.Addr().String()+"/", nil, r.options(nil))
	if err != nil {
		t.Fatal(err)
	}
	waitDone(t, ws)
	r.mu.Lock()
	defer r.mu.Unlock()
	if got := strings.Join(r.events, " "); got != "error close" {
		t.Fatalf("events %q, want error close", got)
	}
	if upgrade.StatusOf(r.errs[0]) != http.StatusForbidden {
		t.Fatalf("error %v, want a 403 handshake error", r.errs[0])
	}
	if c := r.closeEv; c.Code != 1006 || c.WasClean {
		t.Fatalf("close %+v, want 1006 not clean", c)
	}
	if ws.ReadyState() != Closed {
		t.Fatalf("state %d", ws.ReadyState())
	}
}

// TestCloseWhileConnecting: a server that never answers the handshake. Send is
// an invalid state; Close abandons the dial: error, then close 1006.
func TestCloseWhileConnecting(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r := newRecorder()
	ws, err := New("ws://"+ln.Addr().String()+"/", nil, r.options(&Options{HandshakeTimeout: time.Minute}))
	if err != nil {
		t.Fatal(err)
	}
	if ws.ReadyState() != Connecting {
		t.Fatalf("state %d, want Connecting", ws.ReadyState())
	}
	if err := ws.Send("x"); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("Send while connecting: %v", err)
	}
	if ws.BufferedAmount() != 0 {
		t.Fatal("buffered amount before open")
	}
	if err := ws.Close(0, ""); err != nil {
		t.Fatal(err)
	}
	waitDone(t, ws)
	r.mu.Lock()
	defer r.mu.Unlock()
	if got := strings.Join(r.events, " "); got != "error close" || r.closeEv.Code != 1006 {
		t.Fatalf("events %q, close %+v", got, r.closeEv)
	}
}

// TestBufferedAmount: while the server does not read, what the socket does not
// take is buffered and counted; once it reads again the count drains to 0.
func TestBufferedAmount(t *testing.T) {
	t.Parallel()
	url, srv := startServer(t)
	r := newRecorder()
	ws, err := New(url, nil, r.options(nil))
	if err != nil {
		t.Fatal(err)
	}
	r.waitFor(t, "open", func(r *recorder) bool { return len(r.events) > 0 })
	if err := ws.Send("pause"); err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 256<<10)
	for i := 0; ws.BufferedAmount() == 0; i++ {
		if i == 200 { // 50 MiB: more than any socket buffer takes
			t.Fatal("BufferedAmount stays 0 while the server does not read")
		}
		if err := ws.Send(chunk); err != nil {
			t.Fatal(err)
		}
	}
	close(srv.resume)
	deadline := time.Now().Add(20 * time.Second)
	for ws.BufferedAmount() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("BufferedAmount %d after the server resumed", ws.BufferedAmount())
		}
		time.Sleep(5 * time.Millisecond)
	}
	ws.Close(1000, "")
	waitDone(t, ws)
}

func TestNewSyntax(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url       string
		protocols []string
	}{
		{"ftp://example.com/", nil},
		{"ws:///nohost", nil},
		{"ws://example.com/#frag", nil},
		{"://", nil},
		{"ws://example.com/", []string{"chat", "chat"}},
		{"ws://example.com/", []string{"a b"}},
		{"ws://example.com/", []string{""}},
		{"ws://example.com/", []string{"é"}},
	}
	for _, tt := range tests {
		if _, err := New(tt.url, tt.protocols, nil); !errors.Is(err, ErrSyntax) {
			t.Errorf("New(%q, %q): %v, want ErrSyntax", tt.url, tt.protocols, err)
		}
	}
}

func TestCloseArguments(t *testing.T) {
	t.Parallel()
	ws := &WebSocket{state: Closed} // validation comes before the state
	for _, code := range []int{999, 1001, 1005, 2999, 5000} {
		if err := ws.Close(code, ""); !errors.Is(err, ErrInvalidAccess) {
			t.Errorf("Close(%d): %v, want ErrInvalidAccess", code, err)
		}
	}
	if err := ws.Close(1000, strings.Repeat("x", 124)); !errors.Is(err, ErrSyntax) {
		t.Errorf("long reason: %v, want ErrSyntax", err)
	}
	for _, code := range []int{0, 1000, 3000, 4999} {
		if err := ws.Close(code, "ok"); err != nil {
			t.Errorf("Close(%d): %v", code, err)
		}
	}
	if ws.SetBinaryType("blob") == nil || ws.SetBinaryType("arraybuffer") != nil {
		t.Error("SetBinaryType")
	}
}

// bigSize is the size of the server's "big" messages.
const bigSize = 256 << 10

// TestSlowCallbacks: while a callback blocks, at most maxQueued events or
// about maxQueuedBytes of messages wait (the connection stops reading; before
// the byte bound, 64 messages of any size: 64 × MaxMessageSize from a hostile
// server), and every message still arrives, in order.
func TestSlowCallbacks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		send string // the server's command
		n    int
		// within reports whether q events of b bytes respect the bound,
		// once reading stopped (a message the parser had begun may still come).
		within func(q, b int) bool
	}{
		{"events", "flood", 400, func(q, _ int) bool { return q <= maxQueued }},
		{"bytes", "big", 40, func(_, b int) bool { return b <= maxQueuedBytes+2*bigSize }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url, _ := startServer(t)
			release := make(chan struct{})
			var got []int // the index each message carries
			opened := make(chan struct{})
			ws, err := New(url, nil, &Options{
				OnOpen: func(Event) { close(opened) },
				OnMessage: func(e MessageEvent) {
					if len(got) == 0 {
						<-release
					}
					got = append(got, messageIndex(e.Data))
					if len(got) == tc.n {
						e.Target.Close(1000, "")
					}
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			<-opened
			if err := ws.Send(tc.send + " " + strconv.Itoa(tc.n)); err != nil {
				t.Fatal(err)
			}
			queued := func() (int, int, bool) {
				ws.mu.Lock()
				defer ws.mu.Unlock()
				return len(ws.queue), ws.queuedBytes(), ws.paused
			}
			// The queue fills (the first message may have been taken already by
			// the blocked callback) and reading pauses.
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
				if _, _, paused := queued(); paused {
					break
				}
				if time.Now().After(deadline) {
					q, b, _ := queued()
					t.Fatalf("%d events (%d bytes) queued, reading not paused", q, b)
				}
			}
			// Watch a while: reading has stopped, so the queue does not grow.
			for range 100 {
				if q, b, _ := queued(); !tc.within(q, b) {
					t.Fatalf("%d events, %d bytes queued: over the bound", q, b)
				}
				time.Sleep(2 * time.Millisecond)
			}
			close(release)
			select {
			case <-ws.Done():
			case <-time.After(30 * time.Second):
				q, b, paused := queued()
				t.Fatalf("no close event 30 s after the release; state %d, %d queued (%d bytes), paused %v",
					ws.ReadyState(), q, b, paused)
			}
			if len(got) != tc.n {
				t.Fatalf("%d messages, want %d", len(got), tc.n)
			}
			for i, k := range got {
				if k != i%256 {
					t.Fatalf("message %d came as %d", i, k)
				}
			}
		})
	}
}

// messageIndex is the index (mod 256) a "flood" or "big" message carries: the
// decimal before its first dot, or its first byte.
func messageIndex(data any) int {
	switch d := data.(type) {
	case string:
		n, _ := strconv.Atoi(d[:strings.IndexByte(d, '.')])
		return n % 256
	case []byte:
		return int(d[0])
	}
	return -1
}

// A reason within 123 bytes as given but over it once invalid UTF-8 becomes
// U+FFFD (3 bytes a run) is a SyntaxError, as the browser checks the reason's
// UTF-8 bytes (WHATWG: close(), reasonBytes); it used to leave the WebSocket
// CLOSING with its connection open, the engine refusing the reason, and every
// later Close a no-op.
func TestCloseReasonLongAfterConversion(t *testing.T) {
	t.Parallel()
	url, _ := startServer(t)
	r := newRecorder()
	ws, err := New(url, nil, r.options(nil))
	if err != nil {
		t.Fatal(err)
	}
	r.waitFor(t, "open", func(r *recorder) bool { return len(r.events) > 0 })
	reason := strings.Repeat("a\xff", 50) // 100 bytes; 200 as UTF-8
	if err := ws.Close(1000, reason); !errors.Is(err, ErrSyntax) {
		t.Fatalf("Close with a reason of %d bytes as UTF-8: %v, want ErrSyntax", len(strings.ToValidUTF8(reason, "\uFFFD")), err)
	}
	if st := ws.ReadyState(); st != Open {
		t.Fatalf("ReadyState %d after a refused Close, want OPEN", st)
	}
	if err := ws.Close(1000, "bye"); err != nil {
		t.Fatal(err)
	}
	waitDone(t, ws)
	if e := r.closeEv; e.Code != 1000 || !e.WasClean {
		t.Fatalf("close event %+v", e)
	}
}
