package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"flag"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
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

// catOpen is what the test server saw of a handshake.
type catOpen struct {
	header      http.Header
	subprotocol string
	deflate     bool
}

// catClose is the close status the test server saw.
type catClose struct {
	code   frame.StatusCode
	reason string
}

// catServer echoes, and obeys a few text messages: "close CODE REASON" closes
// the connection, "send-binary" answers 0xdeadbeef as binary, "ping-me" sends a
// ping with payload "srv".
type catServer struct {
	engine.NopHandler
	opened chan catOpen
	closed chan catClose
}

func (s *catServer) OnOpen(c *engine.Conn) {
	o := catOpen{subprotocol: c.Subprotocol()}
	if k := c.Request(); k != nil {
		o.header = http.Header(k.Header)
	}
	_, o.deflate = c.Compression()
	select { // the first handshake is the one a test looks at
	case s.opened <- o:
	default:
	}
}

func (s *catServer) OnMessage(c *engine.Conn, op frame.Opcode, p []byte) {
	msg := string(p)
	switch {
	case strings.HasPrefix(msg, "close "):
		code, reason, _ := strings.Cut(msg[len("close "):], " ")
		n, _ := strconv.Atoi(code)
		c.Close(frame.StatusCode(n), reason)
	case msg == "send-binary":
		c.WriteBinary([]byte{0xde, 0xad, 0xbe, 0xef})
	case msg == "ping-me":
		c.Ping([]byte("srv"))
	default:
		c.WriteMessage(op, p)
	}
}

func (s *catServer) OnClose(_ *engine.Conn, code frame.StatusCode, reason string, _ error) {
	select {
	case s.closed <- catClose{code, reason}:
	default:
	}
}

// startCatServer starts a test server on TCP or a Unix socket and returns its URL.
// It offers the subprotocols chat and superchat, allows the origin
// http://allowed.example besides its own host (others get 403), keeps the request
// headers and accepts permessage-deflate.
func startCatServer(t *testing.T, network string) (*catServer, string) {
	t.Helper()
	h := &catServer{opened: make(chan catOpen, 1), closed: make(chan catClose, 1)}
	u := &upgrade.Upgrader{
		Subprotocols:   []string{"chat", "superchat"},
		OriginPatterns: []string{"allowed.example"},
		Verify:         func(_ *upgrade.Request, d *upgrade.Decision) { d.Keep(upgrade.KeepHeader) },
	}
	srv, err := engine.NewServer(h, &engine.Config{Loops: 1, Workers: 2, Compression: &deflate.Options{}}, u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	switch network {
	case "tls": // through net/http, in goroutine mode, with httptest's certificate
		ts := httptest.NewUnstartedServer(srv)
		ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the unknown-CA case's TLS alert
		ts.StartTLS()
		t.Cleanup(ts.Close)
		return h, "wss://" + ts.Listener.Addr().String() + "/cat"
	case "unix":
		sock := filepath.Join(t.TempDir(), "s.sock")
		ln, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Start(ln); err != nil {
			t.Fatal(err)
		}
		return h, "ws+unix:" + sock + ":/cat"
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	return h, "ws://" + srv.Addr().String() + "/cat"
}

// catHeldReader yields its text, then blocks until release is closed, like a
// terminal nobody types in: the session has to be ended by the server.
type catHeldReader struct {
	r       io.Reader
	release chan struct{}
}

func (h *catHeldReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if err == io.EOF {
		<-h.release
	}
	return n, err
}

// catSyncBuffer is a bytes.Buffer safe to read while runCat writes to it.
type catSyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *catSyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *catSyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits until s holds sub, failing the test after a generous bound.
func (s *catSyncBuffer) waitFor(t *testing.T, sub string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(s.String(), sub); {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in %q", sub, s.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// catRecv receives from ch, failing the test after a generous bound.
func catRecv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("test server: no %s", what)
		panic("unreachable")
	}
}

func TestCat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		network string   // "tcp" when empty, "unix" or "tls"
		args    []string // before the URL
		stdin   string
		hold    bool // stdin stays open after its text: the server ends the session
		wantOut string
		errOut  []string // each must be in stderr
		noOut   []string // none may be in stderr
		// wantCode, when set, is the close code runCat must fail with; wantStatus
		// the HTTP status of a refused handshake. Otherwise runCat must succeed.
		wantCode   frame.StatusCode
		wantReason string
		wantStatus int
		wantErr    bool // some other failure
		open       func(*testing.T, catOpen)
		close      *catClose // the close the server must see
	}{
		{
			name: "echo", stdin: "hello\nworld\n", wantOut: "hello\nworld\n",
			errOut: []string{"connected to ws://", "disconnected: 1000 normal closure"},
			open: func(t *testing.T, o catOpen) {
				if o.deflate || o.subprotocol != "" {
					t.Errorf("deflate %v, subprotocol %q: want neither", o.deflate, o.subprotocol)
				}
			},
			close: &catClose{code: frame.StatusNormalClosure},
		},
		{name: "crlf and a last line without newline", stdin: "a\r\nb", wantOut: "a\nb\n"},
		{name: "empty line is an empty message", stdin: "a\n\nb\n", wantOut: "a\n\nb\n"},
		{name: "unix socket", network: "unix", stdin: "over unix\n", wantOut: "over unix\n"},
		{name: "wss", network: "tls", args: []string{"-insecure"}, stdin: "secret\n", wantOut: "secret\n"},
		{name: "wss with an unknown CA", network: "tls", stdin: "secret\n", wantErr: true},
		{
			name: "quiet", args: []string{"-quiet"}, stdin: "hi\n", wantOut: "hi\n",
			noOut: []string{"connected", "disconnected"},
		},
		{
			name: "invalid UTF-8 is not sent", stdin: "\xff\nok\n", wantOut: "ok\n",
			errOut: []string{"not valid UTF-8"},
		},
		{
			name: "execute prints the first reply", args: []string{"-x", "one", "-x", "two"}, stdin: "ignored\n",
			wantOut: "one\n", close: &catClose{code: frame.StatusNormalClosure},
		},
		{
			name: "execute with wait prints every reply", args: []string{"-x", "one", "-execute", "two", "-wait", "2s"},
			wantOut: "one\ntwo\n",
		},
		{
			name:  "headers, auth, origin and subprotocol",
			args:  []string{"-H", "X-Weir-Test: yes", "-header", "X-Other:2", "-auth", "u:p", "-o", "http://allowed.example", "-s", "chat"},
			stdin: "hi\n", wantOut: "hi\n", errOut: []string{"subprotocol chat"},
			open: func(t *testing.T, o catOpen) {
				for name, want := range map[string]string{
					"X-Weir-Test": "yes", "X-Other": "2", "Authorization": "Basic dTpw", "Origin": "http://allowed.example",
				} {
					if got := o.header.Get(name); got != want {
						t.Errorf("server got %s %q, want %q", name, got, want)
					}
				}
				if o.subprotocol != "chat" {
					t.Errorf("subprotocol %q, want chat", o.subprotocol)
				}
			},
		},
		{
			name: "origin given as a header", args: []string{"-H", "origin: http://allowed.example"}, stdin: "hi\n", wantOut: "hi\n",
			open: func(t *testing.T, o catOpen) {
				if got := o.header.Get("Origin"); got != "http://allowed.example" {
					t.Errorf("Origin %q", got)
				}
			},
		},
		{
			name: "comma-separated subprotocols", args: []string{"-subprotocol", "mqtt, superchat"}, stdin: "hi\n", wantOut: "hi\n",
			errOut: []string{"subprotocol superchat"},
			open: func(t *testing.T, o catOpen) {
				if o.subprotocol != "superchat" || o.header.Get("Sec-WebSocket-Protocol") != "mqtt, superchat" {
					t.Errorf("subprotocol %q of %q, want superchat", o.subprotocol, o.header.Get("Sec-WebSocket-Protocol"))
				}
			},
		},
		{
			name: "compression", args: []string{"-compress"}, stdin: strings.Repeat("squeeze me ", 100) + "\n",
			wantOut: strings.Repeat("squeeze me ", 100) + "\n", errOut: []string{"permessage-deflate"},
			open: func(t *testing.T, o catOpen) {
				if !o.deflate {
					t.Error("permessage-deflate not negotiated")
				}
			},
		},
		{name: "binary as hex", stdin: "send-binary\n", wantOut: "deadbeef\n"},
		{name: "binary as base64", args: []string{"-binary-format", "base64"}, stdin: "send-binary\n", wantOut: "3q2+7w==\n"},
		{name: "binary as size", args: []string{"-binary-format", "size"}, stdin: "send-binary\n", wantOut: "<binary 4 bytes>\n"},
		{name: "binary as raw", args: []string{"-binary-format", "raw"}, stdin: "send-binary\n", wantOut: "\xde\xad\xbe\xef\n"},
		{name: "send binary", args: []string{"-binary"}, stdin: "hi\n", wantOut: "6869\n"},
		{name: "slash commands", args: []string{"-slash"}, stdin: "/binary hi\n//x\n/text plain\n", wantOut: "6869\n/x\nplain\n"},
		{name: "no slash commands without -slash", stdin: "/binary hi\n", wantOut: "/binary hi\n"},
		{
			name: "unknown slash command", args: []string{"-slash"}, stdin: "/bogus\n/help\n",
			errOut: []string{"unknown command /bogus", "/close [code [reason]]"},
		},
		{
			name: "ping shows the pong", args: []string{"-slash"}, stdin: "/ping hello\n",
			errOut: []string{`< pong "hello" rtt `},
		},
		{
			name: "unsolicited pong", args: []string{"-slash"}, stdin: "/pong hi\nafter\n", wantOut: "after\n",
		},
		{
			name: "ping from the server shown", args: []string{"-show-ping-pong"}, stdin: "ping-me\n",
			errOut: []string{`< ping "srv"`},
		},
		{
			name: "ping from the server hidden", stdin: "ping-me\n", noOut: []string{"ping"},
		},
		{
			name: "close code and reason at EOF", args: []string{"-close-code", "4000", "-close-reason", "done"}, stdin: "hi\n",
			wantOut: "hi\n", close: &catClose{code: 4000, reason: "done"},
		},
		{
			name: "slash close", args: []string{"-slash"}, stdin: "/close 4003 why\n", hold: true,
			close: &catClose{code: 4003, reason: "why"},
		},
		{
			name: "server closes with an error code", stdin: "close 4001 bye\n", hold: true,
			wantCode: 4001, wantReason: "bye",
		},
		{
			name: "server closes with going away", stdin: "close 1001 away\n", hold: true,
			errOut: []string{`disconnected by the server: 1001 going away "away"`},
		},
		{
			name: "server closes with no status", stdin: "close 0\n", hold: true,
			errOut: []string{`disconnected by the server: 1005`},
		},
		{
			// echo bad | weir cat URL: stdin ends at once, weir cat closes with 1000,
			// and the server's 1003 (sent before it saw that close) is the outcome.
			name: "server closes with an error code as stdin ends", stdin: "close 1003 unsupported\n",
			wantCode: frame.StatusUnsupportedData, wantReason: "unsupported",
		},
		{
			name: "server closes after execute", args: []string{"-x", "close 4002 nope"},
			wantCode: 4002, wantReason: "nope",
		},
		{
			name: "cross-origin handshake refused", args: []string{"-o", "http://evil.example"}, stdin: "hi\n",
			wantStatus: http.StatusForbidden,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, url := startCatServer(t, tt.network)
			var stdin io.Reader = strings.NewReader(tt.stdin)
			if tt.hold {
				release := make(chan struct{})
				defer close(release)
				stdin = &catHeldReader{r: stdin, release: release}
			}
			var stdout, stderr bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			err := runCat(ctx, append(append([]string(nil), tt.args...), url), stdin, &stdout, &stderr)

			var he *upgrade.HandshakeError
			var ce *catClosedError
			switch {
			case tt.wantStatus != 0:
				if !errors.As(err, &he) || he.Status != tt.wantStatus {
					t.Fatalf("err %v, want a handshake refused with %d", err, tt.wantStatus)
				}
				if !strings.Contains(err.Error(), strconv.Itoa(tt.wantStatus)) {
					t.Errorf("error %q does not give the status", err)
				}
				return
			case tt.wantErr:
				if err == nil || errors.As(err, &he) {
					t.Fatalf("err %v, want a failed dial", err)
				}
				return
			case tt.wantCode != 0:
				if !errors.As(err, &ce) || ce.Code != tt.wantCode || ce.Reason != tt.wantReason {
					t.Fatalf("err %v, want a close %d %q", err, tt.wantCode, tt.wantReason)
				}
				if got := engine.CloseStatus(err); got != tt.wantCode {
					t.Errorf("engine.CloseStatus %d", got)
				}
			case err != nil:
				t.Fatalf("runCat: %v\nstderr: %s", err, &stderr)
			}
			if got := stdout.String(); got != tt.wantOut {
				t.Errorf("stdout %q, want %q", got, tt.wantOut)
			}
			for _, s := range tt.errOut {
				if !strings.Contains(stderr.String(), s) {
					t.Errorf("stderr %q lacks %q", &stderr, s)
				}
			}
			for _, s := range tt.noOut {
				if strings.Contains(stderr.String(), s) {
					t.Errorf("stderr %q has %q", &stderr, s)
				}
			}
			open := catRecv(t, srv.opened, "handshake")
			if tt.open != nil {
				tt.open(t, open)
			}
			if tt.close != nil {
				if got := catRecv(t, srv.closed, "close"); got != *tt.close {
					t.Errorf("server saw close %+v, want %+v", got, *tt.close)
				}
			}
		})
	}
}

// TestCatPingInterval checks -ping's round trips, and that cancelling the context
// (Ctrl-C) closes with 1000.
func TestCatPingInterval(t *testing.T) {
	t.Parallel()
	srv, url := startCatServer(t, "")
	release := make(chan struct{})
	defer close(release)
	var stdout, stderr catSyncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		errc <- runCat(ctx, []string{"-ping", "5ms", url}, &catHeldReader{strings.NewReader(""), release}, &stdout, &stderr)
	}()
	stderr.waitFor(t, `< pong "weir cat 2" rtt `)
	cancel()
	if err := catRecv(t, errc, "return from runCat"); err != nil {
		t.Fatalf("runCat: %v", err)
	}
	if got := catRecv(t, srv.closed, "close"); got.code != frame.StatusNormalClosure {
		t.Errorf("server saw close %+v, want 1000", got)
	}
}

// TestCatHandshakeTimeout dials a listener that never answers.
func TestCatHandshakeTimeout(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = runCat(context.Background(), []string{"-timeout", "50ms", ln.Addr().String()}, strings.NewReader(""), io.Discard, io.Discard)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want the handshake deadline", err)
	}
}

// TestCatCloseTimeout: a server that completes the handshake and then never
// answers a close frame. weir cat gives up after -close-timeout and fails.
func TestCatCloseTimeout(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		req, err := http.ReadRequest(bufio.NewReader(nc))
		if err != nil {
			return
		}
		h := sha1.Sum([]byte(req.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		io.WriteString(nc, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Accept: "+base64.StdEncoding.EncodeToString(h[:])+"\r\n\r\n")
		io.Copy(io.Discard, nc) // the close frame, never answered
	}()
	start := time.Now()
	err = runCat(context.Background(), []string{"-close-timeout", "300ms", ln.Addr().String()}, strings.NewReader(""), io.Discard, io.Discard)
	var ce *catClosedError
	if !errors.As(err, &ce) || ce.Err == nil {
		t.Fatalf("err %v, want a close that did not complete", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("took %v with -close-timeout 300ms", el)
	}
}

func TestCatFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		wantErr error // flag.ErrHelp, or nil for a *catUsageError
		ok      bool
		check   func(*testing.T, *catOptions)
	}{
		{name: "no URL", args: nil},
		{name: "two URLs", args: []string{"ws://a/", "ws://b/"}},
		{name: "help", args: []string{"-h"}, wantErr: flag.ErrHelp},
		{name: "unknown flag", args: []string{"-nope", "ws://a/"}},
		{name: "bad header", args: []string{"-H", "novalue", "ws://a/"}},
		{name: "close code reserved", args: []string{"-close-code", "1006", "ws://a/"}},
		{name: "close code too big", args: []string{"-close-code", "70000", "ws://a/"}},
		{name: "close reason too long", args: []string{"-close-reason", strings.Repeat("x", 124), "ws://a/"}},
		{name: "bad binary format", args: []string{"-binary-format", "octal", "ws://a/"}},
		{name: "bad auth", args: []string{"-auth", "nopass", "ws://a/"}},
		{name: "bad version", args: []string{"-protocol-version", "7", "ws://a/"}},
		{name: "zero close timeout", args: []string{"-close-timeout", "0", "ws://a/"}},
		{
			name: "flags after the URL and no scheme", args: []string{"-s", "a,b", "localhost:1", "-s", "c", "-x", "m,n"}, ok: true,
			check: func(t *testing.T, o *catOptions) {
				if o.url != "ws://localhost:1" || strings.Join(o.subprotocols, "|") != "a|b|c" || len(o.execute) != 1 || o.execute[0] != "m,n" {
					t.Errorf("url %q, subprotocols %q, execute %q", o.url, o.subprotocols, o.execute)
				}
			},
		},
		{
			name: "unix URL kept", args: []string{"ws+unix:/tmp/s.sock:/x"}, ok: true,
			check: func(t *testing.T, o *catOptions) {
				if o.url != "ws+unix:/tmp/s.sock:/x" || o.closeCode != frame.StatusNormalClosure || o.binaryFormat != catFormatHex {
					t.Errorf("url %q, close code %d, binary format %q", o.url, o.closeCode, o.binaryFormat)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stderr bytes.Buffer
			o, err := parseCatFlags(tt.args, &stderr)
			switch {
			case tt.ok:
				if err != nil {
					t.Fatalf("err %v", err)
				}
				tt.check(t, o)
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err %v, want %v", err, tt.wantErr)
				}
			default:
				if !errors.As(err, new(*catUsageError)) {
					t.Fatalf("err %v, want a usage error", err)
				}
				if !strings.Contains(stderr.String(), "usage: weir cat") {
					t.Errorf("no usage on stderr: %q", &stderr)
				}
			}
		})
	}
}

func TestCatPrinter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		prompt           bool
		wantOut, wantErr string
	}{
		{prompt: false, wantOut: "msg\n", wantErr: "note 1\n"},
		{prompt: true, wantOut: "\r\x1b[K< msg\n> > \r\x1b[K", wantErr: "\r\x1b[Knote 1\n"},
	}
	for _, tt := range tests {
		var out, errw bytes.Buffer
		p := &catPrinter{out: &out, errw: &errw, prompt: tt.prompt}
		p.message("msg")
		p.notef("note %d", 1)
		p.end()
		if out.String() != tt.wantOut || errw.String() != tt.wantErr {
			t.Errorf("prompt %v: out %q, err %q; want %q, %q", tt.prompt, &out, &errw, tt.wantOut, tt.wantErr)
		}
	}
}

func TestCatCloseText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code   frame.StatusCode
		reason string
		want   string
	}{
		{1000, "", "1000 normal closure"},
		{1011, "oops", `1011 internal error "oops"`},
		{4001, "bye", `4001 "bye"`},
	}
	for _, tt := range tests {
		if got := catCloseText(tt.code, tt.reason); got != tt.want {
			t.Errorf("catCloseText(%d, %q) = %q, want %q", tt.code, tt.reason, got, tt.want)
		}
	}
}

// TestCatNoLeak runs sessions that end each way and checks that every goroutine
// they started (the client engine's, the stdin reader, the test server's) is
// gone afterwards. It does not call t.Parallel: the count is only meaningful
// while no other test runs, and top-level tests without it run alone.
func TestCatNoLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Run("sessions", func(t *testing.T) { // the server closes when it ends
		_, url := startCatServer(t, "")
		ctx := context.Background()
		if err := runCat(ctx, []string{url}, strings.NewReader("a\n"), io.Discard, io.Discard); err != nil {
			t.Fatal(err)
		}
		if err := runCat(ctx, []string{"-x", "b", "-ping", "1ms", url}, strings.NewReader(""), io.Discard, io.Discard); err != nil {
			t.Fatal(err)
		}
		release := make(chan struct{})
		err := runCat(ctx, []string{url}, &catHeldReader{strings.NewReader("close 4001 x\n"), release}, io.Discard, io.Discard)
		close(release)
		if engine.CloseStatus(err) != 4001 {
			t.Fatalf("err %v, want a 4001 close", err)
		}
		if err := runCat(ctx, []string{"-o", "http://evil.example", url}, strings.NewReader(""), io.Discard, io.Discard); err == nil {
			t.Fatal("cross-origin handshake accepted")
		}
	})
	for deadline := time.Now().Add(10 * time.Second); runtime.NumGoroutine() > before; {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines before, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
