package cli

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/weir-ws/weir/engine"
	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/upgrade"
)

// The demo server on real sockets: each test starts its own on 127.0.0.1:0 and
// shuts it down in Cleanup.

// serveModes are the engine's three ways of running connections.
var serveModes = []struct {
	name string
	cfg  engine.Config
}{
	{"pool", engine.Config{}},
	{"inline", engine.Config{Dispatch: engine.DispatchInline}},
	{"goroutine-per-conn", engine.Config{GoroutinePerConn: true}},
}

func startTestDemo(t *testing.T, o demoOptions) *demo {
	t.Helper()
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	d, err := startDemo(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := d.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return d
}

// testCtx bounds one command of a test: generously, since it only ends a
// hung run (a TLS handshake took over 10 s with the test at nice 19 behind
// two CPU hogs and a load of 16).
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// dialDemo dials path on d with a client of the test's own, closed in Cleanup.
func dialDemo(t *testing.T, d *demo, path string, opts *engine.DialOptions) *engine.Conn {
	t.Helper()
	c, _, err := testClient(t).Dial(testCtx(t), "ws://"+d.Addr().String()+path, opts)
	if err != nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	t.Cleanup(func() { c.Close(frame.StatusNormalClosure, "") })
	return c
}

func testClient(t *testing.T) *engine.Client {
	t.Helper()
	cl, err := engine.NewClient(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

func getStats(t *testing.T, d *demo) demoStats {
	t.Helper()
	resp, err := http.Get("http://" + d.Addr().String() + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("/stats Content-Type %q", ct)
	}
	var s demoStats
	dec := json.NewDecoder(resp.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("/stats: %v", err)
	}
	return s
}

// waitStats polls /stats until ok holds (the handler counts a message it sent
// after the write, so a client may see the message a moment before the count)
// and returns the last document.
func waitStats(t *testing.T, d *demo, ok func(demoStats) bool) demoStats {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s := getStats(t, d)
		if ok(s) || time.Now().After(deadline) {
			return s
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestServeHTTPRoutes(t *testing.T) {
	t.Parallel()
	d := startTestDemo(t, demoOptions{})
	base := "http://" + d.Addr().String()
	tests := []struct {
		name, method, path string
		header             http.Header
		status             int
		contentType        string
		bodyHas            string
	}{
		{"page", "GET", "/", nil, 200, "text/html; charset=utf-8", `<script src="/demo.js"`},
		{"page HEAD", "HEAD", "/", nil, 200, "text/html; charset=utf-8", ""},
		{"script", "GET", "/demo.js", nil, 200, "text/javascript; charset=utf-8", "'/chat'"},
		{"script tells your join from others'", "GET", "/demo.js", nil, 200, "", "m.self ? 'you joined' : 'someone joined'"},
		{"style", "GET", "/demo.css", nil, 200, "text/css; charset=utf-8", "#log"},
		{"stats", "GET", "/stats", nil, 200, "application/json", `"goroutines"`},
		{"unknown path", "GET", "/nope", nil, 404, "", ""},
		{"POST page", "POST", "/", nil, 405, "", ""},
		// A plain GET of the chat endpoint reaches the Upgrader, which answers
		// 426 Upgrade Required (RFC 7231 §6.5.15).
		{"chat without upgrade", "GET", "/chat", nil, 426, "text/plain; charset=utf-8", "Upgrade: websocket required"},
		{"upgrade without key", "GET", "/", http.Header{"Upgrade": {"websocket"}, "Connection": {"Upgrade"}}, 400, "", ""},
		{"cross-origin upgrade", "GET", "/", http.Header{
			"Upgrade": {"websocket"}, "Connection": {"Upgrade"}, "Sec-Websocket-Version": {"13"},
			"Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}, "Origin": {"http://elsewhere.example"},
		}, 403, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(tt.method, base+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.header {
				req.Header[k] = v
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tt.status, body)
			}
			if tt.contentType != "" && resp.Header.Get("Content-Type") != tt.contentType {
				t.Fatalf("Content-Type %q, want %q", resp.Header.Get("Content-Type"), tt.contentType)
			}
			if !strings.Contains(string(body), tt.bodyHas) {
				t.Fatalf("body does not hold %q:\n%s", tt.bodyHas, body)
			}
			if tt.status == 200 && tt.path != "/stats" && resp.Header.Get("Content-Security-Policy") == "" {
				t.Fatal("no Content-Security-Policy")
			}
		})
	}
}

func TestServeAnyOrigin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		anyOrigin bool
		status    int
	}{{false, http.StatusForbidden}, {true, http.StatusSwitchingProtocols}}
	for _, tt := range tests {
		d := startTestDemo(t, demoOptions{AnyOrigin: tt.anyOrigin})
		c, _, err := testClient(t).Dial(testCtx(t), "ws://"+d.Addr().String()+"/chat",
			&engine.DialOptions{Origin: "http://elsewhere.example"})
		if got := upgrade.StatusOf(err); err == nil {
			c.Close(frame.StatusNormalClosure, "")
			if tt.status != http.StatusSwitchingProtocols {
				t.Errorf("any-origin %v: cross-origin handshake accepted", tt.anyOrigin)
			}
		} else if got != tt.status {
			t.Errorf("any-origin %v: status %d (%v), want %d", tt.anyOrigin, got, err, tt.status)
		}
	}
}

func TestServeEcho(t *testing.T) {
	t.Parallel()
	for _, m := range serveModes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			cfg := m.cfg
			d := startTestDemo(t, demoOptions{Config: &cfg})
			var inBytes uint64
			for _, path := range []string{"/", "/echo", "/stats", "/any/path?q=1"} {
				c := dialDemo(t, d, path, nil)
				for _, msg := range []struct {
					op frame.Opcode
					p  string
				}{{frame.OpText, "hello " + path}, {frame.OpBinary, "\x00\xff" + path}, {frame.OpText, ""}} {
					if err := c.WriteMessage(msg.op, []byte(msg.p)); err != nil {
						t.Fatal(err)
					}
					op, p, err := c.ReadMessage(testCtx(t))
					if err != nil {
						t.Fatalf("%s: %v", path, err)
					}
					if op != msg.op || string(p) != msg.p {
						t.Fatalf("%s: echo %v %q, want %v %q", path, op, p, msg.op, msg.p)
					}
					inBytes += uint64(len(msg.p))
				}
			}
			want := inOut{In: 12, Out: 12}
			s := waitStats(t, d, func(s demoStats) bool { return s.Messages == want })
			if s.Connections.Echo != 4 || s.Connections.Chat != 0 || s.Connections.Total != 4 {
				t.Errorf("connections %+v, want 4 echo", s.Connections)
			}
			if s.Messages != want {
				t.Errorf("messages %+v, want %+v", s.Messages, want)
			}
			if s.Wire.Opened != 4 || s.Wire.Messages != want || s.Wire.Frames != want || s.Wire.BytesIn <= s.Bytes.In {
				t.Errorf("engine totals %+v; the handler counted %+v messages, %d bytes in", s.Wire, want, s.Bytes.In)
			}
			if want := (inOut{In: inBytes, Out: inBytes}); s.Bytes != want {
				t.Errorf("bytes %+v, want %+v", s.Bytes, want)
			}
		})
	}
}

// readEvent reads the next chat event from c.
func readEvent(t *testing.T, c *engine.Conn) chatEvent {
	t.Helper()
	op, p, err := c.ReadMessage(testCtx(t))
	if err != nil {
		t.Fatalf("waiting for a chat event: %v", err)
	}
	var ev chatEvent
	if op != frame.OpText || json.Unmarshal(p, &ev) != nil {
		t.Fatalf("not a chat event: %v %q", op, p)
	}
	return ev
}

// awaitOnline reads presence events from c until the count is n.
func awaitOnline(t *testing.T, c *engine.Conn, n int64) {
	t.Helper()
	for {
		ev := readEvent(t, c)
		if ev.Type != "presence" {
			t.Fatalf("before anyone spoke: %+v", ev)
		}
		if ev.Online == n {
			return
		}
	}
}

func TestServeChat(t *testing.T) {
	t.Parallel()
	for _, m := range serveModes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			cfg := m.cfg
			d := startTestDemo(t, demoOptions{Config: &cfg})
			ada := dialDemo(t, d, "/chat", nil)
			awaitOnline(t, ada, 1)
			bob := dialDemo(t, d, "/chat", nil)
			awaitOnline(t, ada, 2)
			awaitOnline(t, bob, 2)
			// An echo client must not hear the chat.
			echo := dialDemo(t, d, "/", nil)

			sent := []string{
				`{"name":"ada","text":"hello from ada"}`,
				`{"name":"  bob  ","text":"  hi ada  "}`,
			}
			if err := ada.WriteText(sent[0]); err != nil {
				t.Fatal(err)
			}
			if err := bob.WriteText(sent[1]); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"ada": "hello from ada", "bob": "hi ada"}
			for _, c := range []*engine.Conn{ada, bob} {
				got := map[string]string{}
				for len(got) < len(want) {
					ev := readEvent(t, c)
					if ev.Type != "message" || ev.Time == 0 {
						t.Fatalf("unexpected %+v", ev)
					}
					got[ev.Name] = ev.Text
				}
				for k, v := range want {
					if got[k] != v {
						t.Fatalf("got %v, want %v", got, want)
					}
				}
			}

			if err := echo.WriteText("ping"); err != nil {
				t.Fatal(err)
			}
			if _, p, err := echo.ReadMessage(testCtx(t)); err != nil || string(p) != "ping" {
				t.Fatalf("echo beside the chat: %q %v (a chat message leaked to it?)", p, err)
			}

			// Out: 1 + 2 presence notices, 2 messages to each of 2 clients, 1 echo.
			const wantOut = 3 + 4 + 1
			s := waitStats(t, d, func(s demoStats) bool { return s.Messages.Out == wantOut })
			if s.Connections != (connStats{Total: 3, Chat: 2, Echo: 1}) {
				t.Errorf("connections %+v", s.Connections)
			}
			if s.Messages.In != 3 || s.Bytes.In != uint64(len(sent[0])+len(sent[1])+len("ping")) {
				t.Errorf("in: messages %d, bytes %d", s.Messages.In, s.Bytes.In)
			}
			if s.Messages.Out != wantOut {
				t.Errorf("messages out %d, want %d", s.Messages.Out, wantOut)
			}

			// Leaving is told to those who stay.
			bob.Close(frame.StatusNormalClosure, "")
			if ev := readEvent(t, ada); ev.Type != "presence" || ev.Event != "leave" || ev.Online != 1 {
				t.Fatalf("after bob left: %+v", ev)
			}
		})
	}
}

// TestServeChatPresence: a joining connection hears of its own join as "self",
// the others without it (the page says "you joined" and "someone joined").
func TestServeChatPresence(t *testing.T) {
	t.Parallel()
	d := startTestDemo(t, demoOptions{})
	ada := dialDemo(t, d, "/chat", nil)
	if ev := readEvent(t, ada); ev.Type != "presence" || ev.Event != "join" || !ev.Self || ev.Online != 1 {
		t.Fatalf("ada's own join: %+v, want self, 1 online", ev)
	}
	bob := dialDemo(t, d, "/chat", nil)
	if ev := readEvent(t, bob); ev.Type != "presence" || ev.Event != "join" || !ev.Self || ev.Online != 2 {
		t.Fatalf("bob's own join: %+v, want self, 2 online", ev)
	}
	if ev := readEvent(t, ada); ev.Type != "presence" || ev.Event != "join" || ev.Self || ev.Online != 2 {
		t.Fatalf("ada on bob's join: %+v, want not self, 2 online", ev)
	}
	bob.Close(frame.StatusNormalClosure, "")
	if ev := readEvent(t, ada); ev.Type != "presence" || ev.Event != "leave" || ev.Self || ev.Online != 1 {
		t.Fatalf("ada on bob's leave: %+v", ev)
	}
}

func TestServeChatRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		op   frame.Opcode
		p    string
	}{
		{"binary", frame.OpBinary, `{"name":"x","text":"y"}`},
		{"not JSON", frame.OpText, "hello"},
		{"too long", frame.OpText, `{"text":"` + strings.Repeat("x", maxChatMessage) + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// A chat room of its own: in a shared one, another subtest's broadcast
			// could arrive where this one waits for its error.
			d := startTestDemo(t, demoOptions{})
			c := dialDemo(t, d, "/chat", nil)
			awaitOnline(t, c, 1)
			if err := c.WriteMessage(tt.op, []byte(tt.p)); err != nil {
				t.Fatal(err)
			}
			if ev := readEvent(t, c); ev.Type != "error" || ev.Text == "" {
				t.Fatalf("got %+v, want an error", ev)
			}
			// The connection stays usable.
			if err := c.WriteText(`{"text":"still here"}`); err != nil {
				t.Fatal(err)
			}
			if ev := readEvent(t, c); ev.Type != "message" || ev.Text != "still here" || ev.Name != "anonymous" {
				t.Fatalf("got %+v, want the message back from anonymous", ev)
			}
		})
	}
}

func TestServeStatsShape(t *testing.T) {
	t.Parallel()
	d := startTestDemo(t, demoOptions{})
	s := getStats(t, d) // decoded with DisallowUnknownFields
	if s.Goroutines <= 0 || s.Heap.AllocBytes == 0 || s.Heap.SysBytes == 0 || s.Heap.InuseBytes == 0 {
		t.Fatalf("stats %+v", s)
	}
	if s.UptimeSeconds <= 0 {
		t.Fatalf("uptime %v", s.UptimeSeconds)
	}
	// Every documented field is in the document.
	resp, err := http.Get("http://" + d.Addr().String() + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"uptime_seconds", "connections", "messages", "bytes", "goroutines", "heap"} {
		if _, ok := m[k]; !ok {
			t.Errorf("no %q in /stats", k)
		}
	}
}

func TestServeReusePort(t *testing.T) {
	t.Parallel()
	d, err := startDemo(demoOptions{Addr: "127.0.0.1:0", ReusePort: true, Config: &engine.Config{Loops: 3}})
	if reusePortControl == nil {
		if !errors.Is(err, errReusePortUnsupported) {
			t.Fatalf("err %v, want errReusePortUnsupported", err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if len(d.lns) != 3 {
		t.Fatalf("%d listeners, want 3", len(d.lns))
	}
	for _, ln := range d.lns {
		if ln.Addr().String() != d.Addr().String() {
			t.Fatalf("listener on %v, want %v", ln.Addr(), d.Addr())
		}
	}
	for range 6 {
		c := dialDemo(t, d, "/", nil)
		if err := c.WriteText("x"); err != nil {
			t.Fatal(err)
		}
		if _, p, err := c.ReadMessage(testCtx(t)); err != nil || string(p) != "x" {
			t.Fatalf("echo %q %v", p, err)
		}
	}
}

func TestIsWebSocket(t *testing.T) {
	t.Parallel()
	tests := []struct {
		upgrade []string
		want    bool
	}{
		{nil, false},
		{[]string{"websocket"}, true},
		{[]string{"WebSocket"}, true},
		{[]string{"h2c, websocket"}, true},
		{[]string{"h2c", " websocket "}, true},
		{[]string{"websockets"}, false},
		{[]string{"h2c"}, false},
	}
	for _, tt := range tests {
		r := &http.Request{Header: http.Header{"Upgrade": tt.upgrade}}
		if got := isWebSocket(r); got != tt.want {
			t.Errorf("Upgrade %q: %v, want %v", tt.upgrade, got, tt.want)
		}
	}
}

func TestClip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"", 3, ""},
		{"  abc  ", 3, "abc"},
		{"abcd", 3, "abc"},
		{"ab cd", 3, "ab"},
		{"héllo", 2, "hé"},
		{"日本語です", 3, "日本語"},
	}
	for _, tt := range tests {
		if got := clip(tt.in, tt.n); got != tt.want {
			t.Errorf("clip(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

// TestServeShutdown is not parallel: it counts the process's goroutines, which
// only means something while no other test runs (parallel tests wait until the
// sequential ones are done).
func TestServeShutdown(t *testing.T) {
	before := runtime.NumGoroutine()
	d, err := startDemo(demoOptions{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := engine.NewClient(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	var conns []*engine.Conn
	for _, path := range []string{"/chat", "/chat", "/"} {
		c, _, err := cl.Dial(ctx, "ws://"+d.Addr().String()+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	// A keep-alive HTTP connection too: Shutdown must close it.
	getStats(t, d)

	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.Shutdown(sctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	for _, c := range conns {
		var err error
		for err == nil {
			_, _, err = c.ReadMessage(ctx)
		}
		if code := engine.CloseStatus(err); code != frame.StatusGoingAway {
			t.Errorf("client saw %v, want 1001", err)
		}
	}
	cl.Close()
	http.DefaultClient.CloseIdleConnections()

	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines after Shutdown, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}
