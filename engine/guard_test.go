package engine

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/upgrade"
)

// Contained panics (guard.go): a callback that panics costs its own connection
// (1011) and nothing else, in every mode, server and client side.

// panicky echoes, and panics once in the callback named by `in` while armed.
type panicky struct {
	in     string
	armed  atomic.Bool
	fired  chan struct{}
	opened chan *Conn
	closed chan closeRecord

	// For OnDrain: the connection that queued the big message, and a signal
	// once it has. Only its OnDrain may panic: in goroutine mode every write
	// is queued, so the bystander's echo owes an OnDrain too, and one that
	// came after arming took the panic meant for this connection (which then
	// never wrote, and the test waited for keepalive).
	drainer atomic.Pointer[Conn]
	wrote   chan struct{}
}

func newPanicky(in string) *panicky {
	return &panicky{in: in, fired: make(chan struct{}, 1), opened: make(chan *Conn, 8), closed: make(chan closeRecord, 8),
		wrote: make(chan struct{})}
}

func (h *panicky) maybe(where string) {
	if where == h.in && h.armed.CompareAndSwap(true, false) {
		h.fired <- struct{}{}
		panic("boom in " + where)
	}
}

func (h *panicky) OnOpen(c *Conn) {
	// maybe before the send: a test that arms once it has a connection's
	// OnOpen from opened must not arm that same OnOpen. Sent first, the
	// bystander's OnOpen, descheduled between the send and maybe on a busy
	// machine, took the panic meant for the connection dialled after arming.
	h.maybe("OnOpen")
	h.opened <- c
	if h.in == "OnDrain" && h.armed.Load() && h.drainer.CompareAndSwap(nil, c) {
		// More than the socket takes at once while the peer does not read
		// (it waits for wrote), so the rest waits in the buffer and OnDrain
		// comes once it is out.
		c.WriteMessage(frame.OpBinary, make([]byte, 8<<20))
		close(h.wrote)
	}
}

func (h *panicky) OnMessage(c *Conn, op frame.Opcode, p []byte) {
	h.maybe("OnMessage")
	c.WriteMessage(op, p)
}

func (h *panicky) OnFrame(c *Conn, fh frame.Header, p []byte) {
	h.maybe("OnFrame")
	c.WriteMessage(fh.Opcode, p)
}

func (h *panicky) OnPing(c *Conn, p []byte) bool { h.maybe("OnPing"); return true }
func (h *panicky) OnPong(c *Conn, p []byte)      { h.maybe("OnPong") }
func (h *panicky) OnDrain(c *Conn) {
	if c == h.drainer.Load() {
		h.maybe("OnDrain")
	}
}

func (h *panicky) OnClose(c *Conn, code frame.StatusCode, reason string, err error) {
	h.closed <- closeRecord{code, reason, err}
	h.maybe("OnClose")
}

// syncBuf is a goroutine-safe log sink.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func logTo(b *syncBuf) *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }

func waitFired(t *testing.T, h *panicky) {
	t.Helper()
	select {
	case <-h.fired:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s never ran", h.in)
	}
}

// checkEcho checks that a bystander connection still echoes.
func checkEcho(t *testing.T, rc *rawClient) {
	t.Helper()
	rc.send(true, frame.OpText, []byte("still here"))
	if _, p := rc.readMessage(); string(p) != "still here" {
		t.Fatalf("bystander echo %q", p)
	}
}

func TestHandlerPanicServer(t *testing.T) {
	for _, cb := range []string{"OnOpen", "OnMessage", "OnFrame", "OnPing", "OnPong", "OnDrain", "OnClose"} {
		t.Run(cb, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				var log syncBuf
				cfg.Logger = logTo(&log)
				cfg.DisableAssembly = cb == "OnFrame"
				cfg.MaxWriteBuffer = 32 << 20
				h := newPanicky(cb)
				s, addr := startServer(t, h, cfg, nil)
				by := dialRaw(t, addr)
				checkEcho(t, by)

				h.armed.Store(true)
				rc := dialRaw(t, addr)
				// The 8 MiB message below takes seconds under -race on a busy
				// machine: the 20 s guard against a hang is too tight for it.
				rc.nc.SetDeadline(time.Now().Add(time.Minute))
				switch cb {
				case "OnMessage", "OnFrame":
					rc.send(true, frame.OpBinary, []byte("hi"))
				case "OnPing":
					rc.send(true, frame.OpPing, []byte("p"))
				case "OnPong":
					rc.send(true, frame.OpPong, []byte("p"))
				case "OnDrain":
					select {
					case <-h.wrote: // read only once the message is queued
					case <-time.After(30 * time.Second):
						t.Fatal("OnOpen never wrote the big message")
					}
					if op, p := rc.readMessage(); op != frame.OpBinary || len(p) != 8<<20 {
						t.Fatalf("big message: %v %d bytes", op, len(p))
					}
				case "OnClose":
					cp, _ := frame.AppendClose(nil, frame.StatusNormalClosure, "")
					rc.send(true, frame.OpClose, cp)
					rc.expectClose(frame.StatusNormalClosure)
					rc.expectEOF()
				}
				if cb != "OnClose" {
					// Read the close before waiting for OnClose: the server
					// finishes on our EOF, not after its CloseTimeout.
					rc.expectClose(frame.StatusInternalError)
					rc.expectEOF()
				}
				waitFired(t, h)
				rec := <-h.closed
				if cb == "OnClose" {
					if rec.code != frame.StatusNormalClosure || rec.err != nil {
						t.Fatalf("OnClose got %d %v", rec.code, rec.err)
					}
				} else {
					var pe *PanicError
					if rec.code != frame.StatusInternalError || !errors.As(rec.err, &pe) || pe.Callback != cb ||
						!errors.Is(rec.err, ErrHandlerPanic) || CloseStatus(rec.err) != frame.StatusInternalError {
						t.Fatalf("OnClose got %d %v", rec.code, rec.err)
					}
				}
				checkEcho(t, by)
				waitNoConns(t, s, 1) // the victim is gone, buffers and all
				waitLog(t, &log, "boom in "+cb, "guard_test.go")
			})
		})
	}
}

// waitLog waits for the log to hold every one of want (it is written after
// the panic unwound, which may be after the peer saw the close).
func waitLog(t *testing.T, log *syncBuf, want ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		l, ok := log.String(), true
		for _, w := range want {
			ok = ok && strings.Contains(l, w)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("log lacks %q:\n%s", want, l)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitNoConns waits for the server to hold n connections.
func waitNoConns(t *testing.T, s *Server, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.NumConns() != n {
		if time.Now().After(deadline) {
			t.Fatalf("server holds %d connections, want %d", s.NumConns(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestHandlerPanicClient(t *testing.T) {
	for _, cb := range []string{"OnOpen", "OnMessage", "OnPing", "OnPong"} {
		t.Run(cb, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				srv := newCliPeer(false)
				_, addr := startServer(t, srv, cfg, nil)
				var log syncBuf
				ccfg := cfg
				ccfg.Logger = logTo(&log)
				h := newPanicky(cb)
				cl := cliClient(t, h, ccfg)
				by := cliDial(t, cl, "ws://"+addr+"/", nil)
				byS := cliRecv(t, srv.opened, "bystander open")
				// OnOpen runs after Dial returns; once it has sent, it is past maybe.
				cliRecv(t, h.opened, "bystander OnOpen")

				h.armed.Store(true)
				c := cliDial(t, cl, "ws://"+addr+"/", nil)
				sc := cliRecv(t, srv.opened, "victim open")
				switch cb {
				case "OnMessage":
					sc.WriteText("hi")
				case "OnPing":
					sc.Ping([]byte("p"))
				case "OnPong":
					sc.Pong([]byte("p"))
				}
				waitFired(t, h)
				rec := cliRecv(t, srv.closed, "server OnClose")
				if rec.code != frame.StatusInternalError {
					t.Fatalf("server saw close %d %v, want 1011", rec.code, rec.err)
				}
				if crec := cliRecv(t, h.closed, "client OnClose"); crec.code != frame.StatusInternalError {
					t.Fatalf("client OnClose %d %v", crec.code, crec.err)
				}
				// That OnClose was the victim's (the state is closed before it
				// runs): one of another connection's means the panic reached it, or
				// went to it instead (a test that armed too early).
				if c.State() != StateClosed {
					t.Fatalf("the client's first OnClose was not the victim's: victim %v, bystander %v", c.State(), by.State())
				}
				// The bystander still works both ways.
				if err := by.WriteText("ping"); err != nil {
					t.Fatalf("bystander write: %v (state %v)", err, by.State())
				}
				if m := cliRecv(t, srv.msgs, "bystander message"); string(m.data) != "ping" {
					t.Fatalf("bystander sent %q", m.data)
				}
				byS.WriteText("pong")
				waitLog(t, &log, "boom in "+cb)
			})
		})
	}
}

// A panicking handshake hook answers 500 and costs nothing else; a panicking
// OnHandshakeError still lets the answer out.
func TestHandshakeHookPanic(t *testing.T) {
	forModes(t, func(t *testing.T, cfg Config) {
		var log syncBuf
		cfg.Logger = logTo(&log)
		u := &upgrade.Upgrader{
			Verify: func(r *upgrade.Request, d *upgrade.Decision) {
				switch r.Header("X-Panic") {
				case "verify":
					panic("boom in Verify")
				case "reject":
					d.Reject(http.StatusForbidden, "no") // and OnHandshakeError panics
				}
			},
			OnHandshakeError: func(peer netip.AddrPort, r *http.Request, err *upgrade.HandshakeError) {
				if err.Status == http.StatusForbidden || err.Status == http.StatusBadRequest {
					panic("boom in OnHandshakeError")
				}
			},
		}
		_, addr := startServer(t, newEcho(), cfg, u)
		by := dialRaw(t, addr)
		for _, tc := range []struct {
			hdr    string
			status int
		}{
			{"X-Panic: verify", http.StatusInternalServerError},
			// The hook panicked inside Handshake, which answers 500 then.
			{"X-Panic: reject", http.StatusInternalServerError},
			// Parse refused it: Refuse's hook panicked, the 400 goes out anyway.
			{"no colon here", http.StatusBadRequest},
		} {
			_, resp := dialRawResp(t, addr, tc.hdr)
			if resp.StatusCode != tc.status {
				t.Fatalf("%s: status %d, want %d", tc.hdr, resp.StatusCode, tc.status)
			}
			checkEcho(t, by)
		}
		waitLog(t, &log, "boom in Verify", "boom in OnHandshakeError")
	})
}

// TestPanicPropagate runs a server with PanicPropagate in a child process: the
// handler's panic must end it (a re-panic on a worker would end this test binary).
func TestPanicPropagate(t *testing.T) {
	if os.Getenv("WEIR_PANIC_CHILD") == "1" {
		panicChild(t)
		return
	}
	if testing.Short() {
		t.Skip("runs a child process")
	}
	t.Parallel()
	for _, m := range modes {
		cmd := exec.Command(os.Args[0], "-test.run=^TestPanicPropagate$", "-test.v")
		cmd.Env = append(os.Environ(), "WEIR_PANIC_CHILD=1", "WEIR_PANIC_MODE="+m.name)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || !bytes.Contains(out, []byte("panic: boom in OnMessage")) {
			t.Fatalf("%s: child did not die of the panic (err %v):\n%s", m.name, err, out)
		}
	}
}

func panicChild(t *testing.T) {
	var cfg Config
	for _, m := range modes {
		if m.name == os.Getenv("WEIR_PANIC_MODE") {
			cfg = m.cfg
		}
	}
	cfg.PanicPolicy = PanicPropagate
	h := newPanicky("OnMessage")
	h.armed.Store(true)
	_, addr := startServer(t, h, cfg, nil)
	rc := dialRaw(t, addr)
	rc.send(true, frame.OpText, []byte("hi"))
	time.Sleep(10 * time.Second) // the panic ends the process long before
	t.Fatal("still alive")
}

// doneBomb sends a message too big for the socket to take at once with a done
// callback that panics when flush (worker context) calls it.
type doneBomb struct {
	NopHandler
	fired chan struct{}
}

func (h *doneBomb) OnOpen(c *Conn) {
	c.WriteMessageFunc(frame.OpBinary, make([]byte, 8<<20), func(error) {
		h.fired <- struct{}{}
		panic("boom in done")
	})
}

func TestDoneCallbackPanic(t *testing.T) {
	forModes(t, func(t *testing.T, cfg Config) {
		var log syncBuf
		cfg.Logger = logTo(&log)
		cfg.MaxWriteBuffer = 32 << 20
		h := &doneBomb{fired: make(chan struct{}, 1)}
		_, addr := startServer(t, h, cfg, nil)
		rc := dialRaw(t, addr)
		if _, p := rc.readMessage(); len(p) != 8<<20 {
			t.Fatalf("big message: %d bytes", len(p))
		}
		<-h.fired
		rc.expectClose(frame.StatusInternalError)
		rc.expectEOF()
		waitLog(t, &log, "boom in done") // via OnOpen when the socket took it all at once
	})
}
