package engine

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/weir-ws/weir/deflate"
	"github.com/weir-ws/weir/frame"
)

// Options of Config and DialOptions that change behaviour on the wire:
// SkipUTF8Validation, NetDialContext, ReadQueue.

// ---------------------------------------------------------------------------
// Config.SkipUTF8Validation

// utf8Cases are text messages that are not UTF-8, as client frames (masked):
// each is rejected with 1007 by default and delivered as sent when validation is
// skipped.
func utf8Cases(t *testing.T, masked bool) []struct {
	name   string
	frames []byte
	msg    []byte
} {
	return []struct {
		name   string
		frames []byte
		msg    []byte
	}{
		{"bad byte", frameBytes(true, frame.OpText, 0, []byte("ab\xffcd"), masked), []byte("ab\xffcd")},
		{"surrogate", frameBytes(true, frame.OpText, 0, []byte("\xed\xa0\x80"), masked), []byte("\xed\xa0\x80")},
		{"cut sequence at the end", frameBytes(true, frame.OpText, 0, []byte("abc\xe2\x82"), masked), []byte("abc\xe2\x82")},
		{"bad across fragments", append(frameBytes(false, frame.OpText, 0, []byte("ab\xe2"), masked),
			frameBytes(true, frame.OpContinuation, 0, []byte("\x82\xff"), masked)...), []byte("ab\xe2\x82\xff")},
		{"compressed", frameBytes(true, frame.OpText, frame.Rsv1, mustCompress(t, []byte("a\xffb")), masked), []byte("a\xffb")},
	}
}

// TestSkipUTF8Validation: on a server connection, invalid UTF-8 in a text
// message fails the connection with 1007 (ErrTextNotUTF8), unless
// SkipUTF8Validation is set: then it is delivered byte for byte and the
// connection goes on.
func TestSkipUTF8Validation(t *testing.T) {
	t.Parallel()
	for _, skip := range []bool{false, true} {
		for _, tc := range utf8Cases(t, true) {
			t.Run(fmt.Sprintf("skip=%v/%s", skip, tc.name), func(t *testing.T) {
				t.Parallel()
				forModes(t, func(t *testing.T, cfg Config) {
					cfg.SkipUTF8Validation = skip
					cfg.Compression = &deflate.Options{}
					h := newCliPeer(false)
					_, addr := startServer(t, h, cfg, nil)
					rc := dialRaw(t, addr, "Sec-WebSocket-Extensions: permessage-deflate")
					rc.write(tc.frames)
					if !skip {
						rc.expectClose(frame.StatusInvalidFramePayloadData)
						rc.nc.Close() // hang up, as the server asks after a protocol error
						r := cliRecv(t, h.closed, "OnClose")
						if r.code != frame.StatusInvalidFramePayloadData || !errors.Is(r.err, ErrTextNotUTF8) {
							t.Fatalf("OnClose %d %v, want 1007 ErrTextNotUTF8", r.code, r.err)
						}
						select {
						case m := <-h.msgs:
							t.Fatalf("invalid text delivered: %q", m.data)
						default:
						}
						return
					}
					m := cliRecv(t, h.msgs, "OnMessage")
					if m.op != frame.OpText {
						t.Fatalf("delivered as %v", m.op)
					}
					mustEqual(t, m.data, tc.msg)
					rc.send(true, frame.OpText, []byte("still open"))
					if m := cliRecv(t, h.msgs, "OnMessage"); string(m.data) != "still open" {
						t.Fatalf("next message %q", m.data)
					}
				})
			})
		}
	}
}

// TestSkipUTF8ValidationClient: the same on a dialled connection (the Config of
// its Client), read with ReadMessage.
func TestSkipUTF8ValidationClient(t *testing.T) {
	t.Parallel()
	for _, skip := range []bool{false, true} {
		for _, tc := range utf8Cases(t, false) {
			t.Run(fmt.Sprintf("skip=%v/%s", skip, tc.name), func(t *testing.T) {
				t.Parallel()
				forModes(t, func(t *testing.T, cfg Config) {
					cfg.SkipUTF8Validation = skip
					// The raw server agrees to deflate without context takeover, so
					// that its compressed frames need no shared history.
					u, accepted := rawSrv(t, "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n", tc.frames)
					c := cliDial(t, cliClient(t, nil, cfg), u, &DialOptions{Compression: &deflate.Options{}})
					sc := cliRecv(t, accepted, "the client's connection")
					if !skip {
						// The client fails the connection: a 1007 close, then it waits
						// for the server to hang up.
						h, p := sc.readClientFrame()
						if h.Opcode != frame.OpClose {
							t.Fatalf("the client sent %v, want its close", h.Opcode)
						}
						if code, _, _ := frame.ParseClose(p); code != frame.StatusInvalidFramePayloadData {
							t.Fatalf("the client closed with %d, want 1007", code)
						}
						sc.nc.Close()
						op, p, err := c.ReadMessage(cliCtx(t))
						if CloseStatus(err) != frame.StatusInvalidFramePayloadData {
							t.Fatalf("ReadMessage = %v %q %v, want a 1007 close", op, p, err)
						}
						return
					}
					op, p, err := c.ReadMessage(cliCtx(t))
					if err != nil || op != frame.OpText {
						t.Fatalf("ReadMessage = %v %v", op, err)
					}
					mustEqual(t, p, tc.msg)
					sc.write(frameBytes(true, frame.OpText, 0, []byte("still open"), false))
					if _, p, err := c.ReadMessage(cliCtx(t)); err != nil || string(p) != "still open" {
						t.Fatalf("next message %q %v", p, err)
					}
				})
			})
		}
	}
}

// ---------------------------------------------------------------------------
// DialOptions.NetDialContext

// dialCall is one call of a test dialer.
type dialCall struct {
	network, addr string
	deadline      bool
}

// recDialer records its calls and dials with a net.Dialer, or fails with err.
type recDialer struct {
	mu    sync.Mutex
	calls []dialCall
	err   error
	wrap  func(net.Conn) net.Conn
}

func (d *recDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	_, dl := ctx.Deadline()
	d.mu.Lock()
	d.calls = append(d.calls, dialCall{network, addr, dl})
	d.mu.Unlock()
	if d.err != nil {
		return nil, d.err
	}
	nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err == nil && d.wrap != nil {
		nc = d.wrap(nc)
	}
	return nc, err
}

func (d *recDialer) got() []dialCall {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]dialCall(nil), d.calls...)
}

// countConn counts the bytes written through it: proof that the connection a
// custom dialer returns is the one the client uses.
type countConn struct {
	net.Conn
	mu      sync.Mutex
	written int
}

func (c *countConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.mu.Lock()
	c.written += n
	c.mu.Unlock()
	return n, err
}

func (c *countConn) n() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.written
}

func TestDialNetDialContext(t *testing.T) {
	t.Parallel()
	t.Run("used for every dial", func(t *testing.T) {
		t.Parallel()
		forModes(t, func(t *testing.T, cfg Config) {
			_, addr := startServer(t, newCliPeer(true), cfg, nil)
			d := &recDialer{}
			cl := cliClient(t, nil, cfg)
			for i := 1; i <= 2; i++ {
				c := cliDial(t, cl, "ws://"+addr+"/", &DialOptions{NetDialContext: d.DialContext})
				cliEchoOnce(t, c)
				calls := d.got()
				if len(calls) != i {
					t.Fatalf("after %d dials the dialer ran %d times", i, len(calls))
				}
				if got := calls[i-1]; got != (dialCall{"tcp", addr, true}) {
					t.Fatalf("dial %d: dialer called with %+v, want tcp %s and a ctx deadline (HandshakeTimeout)", i, got, addr)
				}
			}
		})
	})
	t.Run("its conn carries the traffic", func(t *testing.T) {
		t.Parallel()
		forModes(t, func(t *testing.T, cfg Config) {
			_, addr := startServer(t, newCliPeer(true), cfg, nil)
			var cc *countConn
			d := &recDialer{wrap: func(nc net.Conn) net.Conn { cc = &countConn{Conn: nc}; return cc }}
			c := cliDial(t, cliClient(t, nil, cfg), "ws://"+addr+"/", &DialOptions{NetDialContext: d.DialContext})
			if cc == nil || cc.n() == 0 {
				t.Fatal("the handshake did not go through the dialer's conn")
			}
			before := cc.n()
			cliEchoOnce(t, c) // a wrapped conn has no fd to take: goroutine mode
			// The writer goroutine counts after its Write returns, which may
			// be after the echo came back.
			waitFor(t, func() bool { return cc.n() > before })
		})
	})
	t.Run("its error fails the dial", func(t *testing.T) {
		t.Parallel()
		boom := errors.New("no route for tests")
		d := &recDialer{err: boom}
		c, resp, err := cliClient(t, nil, Config{}).Dial(cliCtx(t), "ws://127.0.0.1:1/", &DialOptions{NetDialContext: d.DialContext})
		if !errors.Is(err, boom) || c != nil || resp != nil {
			t.Fatalf("Dial = %v, %v, %v; want the dialer's error", c, resp, err)
		}
		if n := len(d.got()); n != 1 {
			t.Fatalf("dialer ran %d times", n)
		}
	})
	t.Run("each redirect hop", func(t *testing.T) {
		t.Parallel()
		_, target := startServer(t, newCliPeer(true), Config{}, nil)
		redir := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "ws://"+target+"/", http.StatusTemporaryRedirect)
		}))
		t.Cleanup(redir.Close)
		from := redir.Listener.Addr().String()
		d := &recDialer{}
		c := cliDial(t, cliClient(t, nil, Config{}), "ws://"+from+"/", &DialOptions{NetDialContext: d.DialContext, MaxRedirects: 1})
		cliEchoOnce(t, c)
		calls := d.got()
		if len(calls) != 2 || calls[0].addr != from || calls[1].addr != target {
			t.Fatalf("dialer calls %+v, want %s then %s", calls, from, target)
		}
	})
	t.Run("to the proxy", func(t *testing.T) {
		t.Parallel()
		_, target := startServer(t, newCliPeer(true), Config{}, nil)
		p := cliStartProxy(t, "", false)
		d := &recDialer{}
		c := cliDial(t, cliClient(t, nil, Config{}), "ws://"+target+"/", &DialOptions{
			NetDialContext: d.DialContext, Proxy: http.ProxyURL(p.url(nil)),
		})
		cliEchoOnce(t, c)
		if calls := d.got(); len(calls) != 1 || calls[0].addr != p.ln.Addr().String() {
			t.Fatalf("dialer calls %+v, want one to the proxy %s", calls, p.ln.Addr())
		}
		if used := p.used(); len(used) != 1 {
			t.Fatalf("proxy saw %d CONNECTs", len(used))
		}
	})
	t.Run("unix socket", func(t *testing.T) {
		t.Parallel()
		dir, err := os.MkdirTemp("", "weir")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		sock := filepath.Join(dir, "s") // short: sun_path is about 100 bytes
		ln, err := net.Listen("unix", sock)
		if err != nil {
			t.Skipf("no unix sockets: %v", err)
		}
		s, err := NewServer(newCliPeer(true), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if err := s.Start(ln); err != nil {
			t.Fatal(err)
		}
		d := &recDialer{}
		c := cliDial(t, cliClient(t, nil, Config{}), "ws+unix:"+sock+":/ws", &DialOptions{NetDialContext: d.DialContext})
		cliEchoOnce(t, c)
		if calls := d.got(); len(calls) != 1 || calls[0].network != "unix" || calls[0].addr != sock {
			t.Fatalf("dialer calls %+v, want unix %s", calls, sock)
		}
	})
}

// ---------------------------------------------------------------------------
// DialOptions.ReadQueue

// rqDrain records OnDrain on the server side.
type rqDrain struct {
	*cliPeer
	drained chan struct{}
}

func (h *rqDrain) OnDrain(*Conn) {
	select {
	case h.drained <- struct{}{}:
	default:
	}
}

// tcpWmemMax is the kernel's cap on an autotuned TCP send buffer (Linux), or a
// generous guess elsewhere.
func tcpWmemMax() int {
	if b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_wmem"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 3 {
			if n, err := strconv.Atoi(f[2]); err == nil {
				return n
			}
		}
	}
	return 16 << 20
}

// TestDialReadQueue: a connection read with ReadMessage holds at most ReadQueue
// messages (default 64). When the queue is full it stops reading the socket, so
// the server's writes back up in its outbound buffer (TCP flow control, not the
// client's memory); ReadMessage resumes it and every message arrives in order.
func TestDialReadQueue(t *testing.T) {
	t.Parallel()
	for _, rq := range []int{1, 4, 0} {
		t.Run(fmt.Sprintf("ReadQueue=%d", rq), func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				cfg.PingInterval = -1
				want := rq
				if want == 0 {
					want = 64
				}
				const size = 16000
				// Enough to overflow the client's receive buffer (kept small below)
				// and the server's send buffer (autotuned up to tcp_wmem's cap) many
				// times over, after the queue is full.
				n := (want*size+2*tcpWmemMax()+(4<<20))/size + 1
				h := &rqDrain{cliPeer: newCliPeer(false), drained: make(chan struct{}, 1)}
				// The server runs on the loops in every case: its BytesOut counts what
				// the kernel took as it goes (goroutine mode counts after each write).
				_, addr := startServer(t, h, Config{PingInterval: -1, MaxWriteBuffer: n*(size+16) + (1 << 20)}, nil)
				small := func(ctx context.Context, network, addr string) (net.Conn, error) {
					nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
					if err == nil {
						nc.(*net.TCPConn).SetReadBuffer(64 << 10)
					}
					return nc, err
				}
				c := cliDial(t, cliClient(t, nil, cfg), "ws://"+addr+"/", &DialOptions{ReadQueue: rq, NetDialContext: small})
				sc := cliRecv(t, h.opened, "server OnOpen")
				msg := func(i int) []byte {
					p := make([]byte, size)
					binary.BigEndian.PutUint32(p, uint32(i))
					for j := 4; j < size; j++ {
						p[j] = byte(i + j)
					}
					return p
				}
				for i := range n {
					if err := sc.WriteBinary(msg(i)); err != nil {
						t.Fatalf("server write %d of %d: %v", i, n, err)
					}
				}

				// The queue fills and the client stops reading.
				waitFor(t, c.IsPaused)
				paused := c.Stats()
				if paused.MessagesIn != uint64(want) {
					t.Fatalf("paused after %d messages, want %d", paused.MessagesIn, want)
				}
				// It read the queue's messages and at most the rest of the read that
				// completed the last of them (a 64 KiB worker buffer; 16 KiB in
				// goroutine mode).
				if limit := uint64(want*(size+4) + 64<<10); paused.BytesIn > limit {
					t.Fatalf("read %d bytes for %d queued messages of %d bytes", paused.BytesIn, want, size)
				}
				// Wait until bytes sit in the kernel for the client (the server's
				// socket took them; the client has not read them), then check that
				// the client still reads nothing and the server holds the rest.
				const the101 = 256 // at least the 101's size: the server counts it, the client not
				waitFor(t, func() bool { return sc.Stats().BytesOut > paused.BytesIn+the101+(16<<10) })
				if st := c.Stats(); st.BytesIn != paused.BytesIn || st.MessagesIn != paused.MessagesIn || !c.IsPaused() {
					t.Fatalf("the client read on while its queue was full: %+v, then %+v", paused, st)
				}
				// Far more was written than the kernel buffers hold: the rest waits in
				// the server's outbound buffer, so no OnDrain is due.
				if b := sc.BufferedAmount(); b == 0 {
					t.Fatal("the server's writes did not back up")
				}

				// ReadMessage drains the queue, reading resumes, all arrive in order,
				// and the server's buffer empties (OnDrain). A drain from before the
				// pause, while the first messages went out, does not count.
				select {
				case <-h.drained:
				default:
				}
				for i := range n {
					ctx, cancel := context.WithTimeout(context.Background(), cliWait)
					op, p, err := c.ReadMessage(ctx)
					cancel()
					if err != nil {
						t.Fatalf("message %d of %d: %v", i, n, err)
					}
					if op != frame.OpBinary || len(p) != size || binary.BigEndian.Uint32(p) != uint32(i) {
						t.Fatalf("message %d: %v, %d bytes, index %d", i, op, len(p), binary.BigEndian.Uint32(p))
					}
					mustEqual(t, p, msg(i))
				}
				cliRecv(t, h.drained, "server OnDrain after the client caught up")
				if got := c.Stats().MessagesIn; got != uint64(n) {
					t.Fatalf("MessagesIn %d, want %d", got, n)
				}
			})
		})
	}
}

// TestDialReadQueueResumeRace: a reader that keeps up with a fast sender empties
// the queue at the moment the handler finds it full and pauses. Reading must
// always resume: a pause that lands after ReadMessage took the last message
// would leave the connection paused with nothing queued, and ReadMessage
// waiting for ever.
func TestDialReadQueueResumeRace(t *testing.T) {
	t.Parallel()
	for _, rq := range []int{1, 2, 3} {
		t.Run(fmt.Sprintf("ReadQueue=%d", rq), func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				cfg.PingInterval = -1
				h := newCliPeer(false)
				_, addr := startServer(t, h, Config{PingInterval: -1, MaxWriteBuffer: 64 << 20}, nil)
				c := cliDial(t, cliClient(t, nil, cfg), "ws://"+addr+"/", &DialOptions{ReadQueue: rq})
				sc := cliRecv(t, h.opened, "server OnOpen")
				const n = 20000
				go func() {
					var p [4]byte
					for i := range n {
						binary.BigEndian.PutUint32(p[:], uint32(i))
						if sc.WriteBinary(p[:]) != nil {
							return
						}
					}
				}()
				for i := range n {
					// A stall, not slowness, fails: each message gets the full wait.
					ctx, cancel := context.WithTimeout(context.Background(), cliWait)
					_, p, err := c.ReadMessage(ctx)
					cancel()
					if err != nil {
						t.Fatalf("message %d of %d: %v (paused %v, %+v)", i, n, err, c.IsPaused(), c.Stats())
					}
					if binary.BigEndian.Uint32(p) != uint32(i) {
						t.Fatalf("message %d has index %d", i, binary.BigEndian.Uint32(p))
					}
				}
			})
		})
	}
}

// ---------------------------------------------------------------------------
// Config.DisableAssembly with permessage-deflate

// asmFrame is one OnFrame call.
type asmFrame struct {
	h frame.Header
	p []byte
}

// asmRec records OnFrame calls and counts OnMessage calls.
type asmRec struct {
	*cliPeer
	frames chan asmFrame
	nmsgs  chan frame.Opcode
}

func newAsmRec() *asmRec {
	return &asmRec{cliPeer: newCliPeer(false), frames: make(chan asmFrame, 64), nmsgs: make(chan frame.Opcode, 64)}
}

func (r *asmRec) OnFrame(_ *Conn, h frame.Header, p []byte) {
	r.frames <- asmFrame{h, append([]byte{}, p...)}
}

func (r *asmRec) OnMessage(_ *Conn, op frame.Opcode, _ []byte) { r.nmsgs <- op }

// expect takes the next OnFrame calls and compares them with want.
func (r *asmRec) expect(t *testing.T, want []asmFrame) {
	t.Helper()
	for i, w := range want {
		got := cliRecv(t, r.frames, fmt.Sprintf("OnFrame %d", i))
		if got.h.Fin != w.h.Fin || got.h.Opcode != w.h.Opcode || got.h.Length != int64(len(w.p)) {
			t.Fatalf("OnFrame %d: fin=%v %v length %d, want fin=%v %v length %d",
				i, got.h.Fin, got.h.Opcode, got.h.Length, w.h.Fin, w.h.Opcode, len(w.p))
		}
		mustEqual(t, got.p, w.p)
	}
	select {
	case op := <-r.nmsgs:
		t.Fatalf("OnMessage(%v) called with DisableAssembly", op)
	case f := <-r.frames:
		t.Fatalf("an extra OnFrame: fin=%v %v %q", f.h.Fin, f.h.Opcode, trunc(f.p))
	default:
	}
}

func asmWant(fin bool, op frame.Opcode, p []byte) asmFrame {
	return asmFrame{frame.Header{Fin: fin, Opcode: op}, p}
}

// TestDisableAssemblyCompressed: with DisableAssembly, a compressed message,
// however many frames it came in, is one OnFrame (Fin set, the message's opcode)
// with the inflated payload, since its frames cannot be inflated one by one
// (compressedEnd); an uncompressed message keeps one OnFrame per frame; control
// frames between fragments never reach OnFrame.
func TestDisableAssemblyCompressed(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		cfg.DisableAssembly = true
		cfg.Compression = &deflate.Options{}
		r := newAsmRec()
		_, addr := startServer(t, r, cfg, nil)
		rc := dialRaw(t, addr, "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover")

		big := jsonish(20000)
		z := mustCompress(t, big)
		a, b := len(z)/3, 2*len(z)/3
		small := []byte("small and compressed")
		var wire []byte
		for _, f := range [][]byte{
			// A compressed message in three frames, a ping among them.
			frameBytes(false, frame.OpText, frame.Rsv1, z[:a], true),
			frameBytes(true, frame.OpPing, 0, []byte("between"), true),
			frameBytes(false, frame.OpContinuation, 0, z[a:b], true),
			frameBytes(true, frame.OpContinuation, 0, z[b:], true),
			// An uncompressed message in three frames, a pong among them.
			frameBytes(false, frame.OpBinary, 0, []byte("abc"), true),
			frameBytes(false, frame.OpContinuation, 0, []byte("def"), true),
			frameBytes(true, frame.OpPong, 0, nil, true),
			frameBytes(true, frame.OpContinuation, 0, []byte("ghi"), true),
			// A compressed and an uncompressed single-frame message.
			frameBytes(true, frame.OpBinary, frame.Rsv1, mustCompress(t, small), true),
			frameBytes(true, frame.OpText, 0, []byte("plain"), true),
			// A compressed message in two frames, the second one empty.
			frameBytes(false, frame.OpBinary, frame.Rsv1, mustCompress(t, small), true),
			frameBytes(true, frame.OpContinuation, 0, nil, true),
		} {
			wire = append(wire, f...)
		}
		rc.write(wire)
		r.expect(t, []asmFrame{
			asmWant(true, frame.OpText, big),
			asmWant(false, frame.OpBinary, []byte("abc")),
			asmWant(false, frame.OpContinuation, []byte("def")),
			asmWant(true, frame.OpContinuation, []byte("ghi")),
			asmWant(true, frame.OpBinary, small),
			asmWant(true, frame.OpText, []byte("plain")),
			asmWant(true, frame.OpBinary, small),
		})
		if h, p, err := rc.readFrame(); err != nil || h.Opcode != frame.OpPong || string(p) != "between" {
			t.Fatalf("pong %v %q %v", h.Opcode, p, err)
		}
		c := cliRecv(t, r.opened, "OnOpen")
		if st := c.Stats(); st.MessagesIn != 5 || st.FramesIn != 12 {
			t.Fatalf("MessagesIn %d FramesIn %d, want 5 and 12", st.MessagesIn, st.FramesIn)
		}
	})
}

// TestDisableAssemblyCompressedClient: the same on a dialled connection, with
// weir's server fragmenting what it sends (WriteFragmentSize).
func TestDisableAssemblyCompressedClient(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		scfg := cfg
		scfg.Compression = &deflate.Options{ServerNoContextTakeover: true}
		scfg.WriteFragmentSize = 256
		h := newCliPeer(false)
		_, addr := startServer(t, h, scfg, nil)
		ccfg := cfg
		ccfg.DisableAssembly = true
		r := newAsmRec()
		cliDial(t, cliClient(t, nil, ccfg), "ws://"+addr+"/", &DialOptions{Handler: r, Compression: &deflate.Options{}})
		sc := cliRecv(t, h.opened, "server OnOpen")
		big := jsonish(200 << 10) // a few KiB compressed: many 256-byte frames
		if err := sc.WriteMessage(frame.OpBinary, big); err != nil {
			t.Fatal(err)
		}
		sc.EnableWriteCompression(false)
		plain := []byte(strings.Repeat("x", 600)) // 3 frames
		if err := sc.WriteMessage(frame.OpText, plain); err != nil {
			t.Fatal(err)
		}
		r.expect(t, []asmFrame{
			asmWant(true, frame.OpBinary, big),
			asmWant(false, frame.OpText, plain[:256]),
			asmWant(false, frame.OpContinuation, plain[256:512]),
			asmWant(true, frame.OpContinuation, plain[512:]),
		})
		c := cliRecv(t, r.opened, "client OnOpen")
		if st := c.Stats(); st.MessagesIn != 2 || st.FramesIn < 3+5 {
			t.Fatalf("MessagesIn %d FramesIn %d: want 2 messages, the compressed one in several frames", st.MessagesIn, st.FramesIn)
		}
	})
}
