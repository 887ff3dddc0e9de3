package engine

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// psHandler records messages in order; the message "pause" pauses reading from
// inside OnMessage.
type psHandler struct {
	NopHandler
	opened chan *Conn
	mu     sync.Mutex
	msgs   []string
}

func newPSHandler() *psHandler { return &psHandler{opened: make(chan *Conn, 4)} }

func (h *psHandler) OnOpen(c *Conn) { h.opened <- c }

func (h *psHandler) OnMessage(c *Conn, op frame.Opcode, p []byte) {
	h.mu.Lock()
	h.msgs = append(h.msgs, string(p))
	h.mu.Unlock()
	if string(p) == "pause" {
		c.PauseRead()
	}
}

func (h *psHandler) got() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.msgs)
}

// psOpen starts a server with a psHandler (no keepalive pings) and returns
// the handler, a raw client and the server's end of its connection.
func psOpen(t *testing.T, cfg Config) (*psHandler, *rawClient, *Conn) {
	t.Helper()
	cfg.PingInterval = -1
	h := newPSHandler()
	_, addr := startServer(t, h, cfg, nil)
	rc := dialRaw(t, addr)
	return h, rc, h.conn(t)
}

func (h *psHandler) conn(t testing.TB) *Conn {
	t.Helper()
	select {
	case c := <-h.opened:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no OnOpen within 10s")
	}
	return nil
}

// psBatch returns messages prefix0..prefix(n-1) as masked client frames, every frame
// in one buffer, and their payloads.
func psBatch(prefix string, n int) ([]byte, []string) {
	var b []byte
	var want []string
	for i := range n {
		m := fmt.Sprintf("%s%d", prefix, i)
		want = append(want, m)
		b = append(b, frameBytes(true, frame.OpText, 0, []byte(m), true)...)
	}
	return b, want
}

// TestPauseResume: while reading is paused no message is delivered although the peer
// keeps sending (bytes already read are held, the rest waits in the kernel); writes
// go on; ResumeRead delivers everything in order.
func TestPauseResume(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// pause pauses reading and returns the messages delivered before the pause
		// and those sent around it that must wait for ResumeRead.
		pause func(t *testing.T, rc *rawClient, c *Conn, h *psHandler) (seen, held []string)
	}{
		{"from OnMessage with frames behind it in the same read", func(t *testing.T, rc *rawClient, c *Conn, h *psHandler) ([]string, []string) {
			batch, held := psBatch("held", 50)
			rc.write(append(frameBytes(true, frame.OpText, 0, []byte("pause"), true), batch...))
			waitFor(t, func() bool { return len(h.got()) > 0 })
			waitFor(t, c.IsPaused)
			return []string{"pause"}, held
		}},
		{"from OnMessage with a frame cut by the read", func(t *testing.T, rc *rawClient, c *Conn, h *psHandler) ([]string, []string) {
			long := bytes.Repeat([]byte("c"), 300)
			cut := frameBytes(true, frame.OpBinary, 0, long, true)
			rc.write(append(frameBytes(true, frame.OpText, 0, []byte("pause"), true), cut[:100]...))
			waitFor(t, func() bool { return len(h.got()) > 0 })
			waitFor(t, c.IsPaused)
			time.Sleep(20 * time.Millisecond)
			rc.write(cut[100:])
			return []string{"pause"}, []string{string(long)}
		}},
		{"from another goroutine", func(t *testing.T, rc *rawClient, c *Conn, h *psHandler) ([]string, []string) {
			rc.send(true, frame.OpText, []byte("before"))
			waitFor(t, func() bool { return len(h.got()) == 1 })
			c.PauseRead()
			c.PauseRead() // idempotent
			return []string{"before"}, nil
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				h, rc, c := psOpen(t, cfg)
				if c.IsPaused() {
					t.Fatal("a new connection is paused")
				}
				seen, held := tc.pause(t, rc, c, h)
				if !c.IsPaused() {
					t.Fatal("IsPaused false after PauseRead")
				}
				// The peer keeps sending: a batch in one write, then frames one by one.
				batch, want := psBatch("a", 50)
				rc.write(batch)
				for i := range 50 {
					m := fmt.Sprintf("b%d", i)
					want = append(want, m)
					rc.send(true, frame.OpText, []byte(m))
				}
				// Writes go on while reading is paused.
				if err := c.WriteText("still writing"); err != nil {
					t.Fatalf("write while paused: %v", err)
				}
				if op, p := rc.readMessage(); op != frame.OpText || string(p) != "still writing" {
					t.Fatalf("while paused the client got %v %q", op, p)
				}
				time.Sleep(100 * time.Millisecond)
				if got := h.got(); !slices.Equal(got, seen) {
					t.Fatalf("while paused OnMessage got %d messages %q..., want only %q", len(got), got[len(seen):min(len(got), len(seen)+3)], seen)
				}

				// Everything held or sent meanwhile, in order.
				full := slices.Concat(seen, held, want)
				c.ResumeRead()
				c.ResumeRead() // idempotent
				if c.IsPaused() {
					t.Fatal("IsPaused true after ResumeRead")
				}
				deadline := time.Now().Add(10 * time.Second)
				for len(h.got()) < len(full) && time.Now().Before(deadline) {
					time.Sleep(5 * time.Millisecond)
				}
				if got := h.got(); !slices.Equal(got, full) {
					t.Fatalf("after ResumeRead got %d messages, want %d; first difference at %d", len(got), len(full), firstDiff(got, full))
				}
				// And reading goes on normally.
				rc.send(true, frame.OpText, []byte("after"))
				waitFor(t, func() bool { return len(h.got()) == len(full)+1 })
				if got := h.got(); got[len(got)-1] != "after" {
					t.Fatalf("last message %q", got[len(got)-1])
				}
			})
		})
	}
}

// TestPauseHoldsClose: a close frame sent while reading is paused is not acted on
// until ResumeRead; then the messages before it are delivered and the close completes.
func TestPauseHoldsClose(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		cfg.PingInterval = -1
		h := &psCloseHandler{psHandler: newPSHandler(), closed: make(chan closeRecord, 2)}
		_, addr := startServer(t, h, cfg, nil)
		rc := dialRaw(t, addr)
		c := h.conn(t)
		c.PauseRead()
		rc.send(true, frame.OpText, []byte("last words"))
		rc.send(true, frame.OpClose, []byte{0x03, 0xe8})
		time.Sleep(100 * time.Millisecond)
		select {
		case r := <-h.closed:
			t.Fatalf("OnClose(%d, %v) while paused", r.code, r.err)
		default:
		}
		if n := len(h.got()); n != 0 {
			t.Fatalf("%d messages delivered while paused", n)
		}
		c.ResumeRead()
		rc.expectClose(frame.StatusNormalClosure)
		rc.expectEOF()
		select {
		case r := <-h.closed:
			if r.code != frame.StatusNormalClosure || r.err != nil {
				t.Fatalf("OnClose = %d %v", r.code, r.err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no OnClose after ResumeRead")
		}
		if got := h.got(); !slices.Equal(got, []string{"last words"}) {
			t.Fatalf("messages %q", got)
		}
	})
}

type psCloseHandler struct {
	*psHandler
	closed chan closeRecord
}

func (h *psCloseHandler) OnClose(c *Conn, code frame.StatusCode, reason string, err error) {
	h.closed <- closeRecord{code, reason, err}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestPauseLeavesInputInKernel: once PauseRead (from any goroutine) has
// returned, what the peer sends stays in the kernel, where TCP flow control
// pushes back, in every mode, and nothing is delivered. Goroutine mode's
// reader, blocked in its net.Conn Read, is woken by a past deadline; Go's
// runtime lets that Read still take input that arrives before the woken
// goroutine runs, so there one read may complete (its bytes kept unparsed),
// and then the reader waits: a second send is not read.
func TestPauseLeavesInputInKernel(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		h, rc, c := psOpen(t, cfg)
		rc.send(true, frame.OpText, []byte("before"))
		waitFor(t, func() bool { return len(h.got()) == 1 })
		time.Sleep(20 * time.Millisecond) // the reader is back in its read
		in := c.Stats().BytesIn
		c.PauseRead()
		first := frameBytes(true, frame.OpText, 0, []byte("while paused"), true)
		rc.write(first)
		time.Sleep(100 * time.Millisecond)
		got := c.Stats().BytesIn - in
		if got != 0 && !(cfg.GoroutinePerConn && got == uint64(len(first))) {
			t.Fatalf("read %d bytes while paused (sent %d)", got, len(first))
		}
		in += got
		rc.send(true, frame.OpText, []byte("still paused"))
		time.Sleep(100 * time.Millisecond)
		if got := c.Stats().BytesIn; got != in {
			t.Fatalf("read %d bytes of a second send while paused", got-in)
		}
		if n := len(h.got()); n != 1 {
			t.Fatalf("%d messages delivered, want 1 while paused", n)
		}
		c.ResumeRead()
		waitFor(t, func() bool { return len(h.got()) == 3 })
	})
}
