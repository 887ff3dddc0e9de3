package engine

import (
	"bytes"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// Fragmentation both ways (RFC 6455 §5.4): reassembly with control frames between
// fragments, DisableAssembly, manual fragmentation with WriteFrame, and
// Config.WriteFragmentSize.

// frHandler records frames (DisableAssembly) and messages.
type frHandler struct {
	NopHandler
	opened chan *Conn
	mu     sync.Mutex
	frames []frRecord
	msgs   [][]byte
	echo   bool
}

type frRecord struct {
	fin     bool
	op      frame.Opcode
	payload string
}

func newFRHandler(echo bool) *frHandler { return &frHandler{opened: make(chan *Conn, 4), echo: echo} }

func (h *frHandler) OnOpen(c *Conn) { h.opened <- c }

func (h *frHandler) OnFrame(c *Conn, hd frame.Header, p []byte) {
	h.mu.Lock()
	h.frames = append(h.frames, frRecord{hd.Fin, hd.Opcode, string(p)})
	h.mu.Unlock()
}

func (h *frHandler) OnMessage(c *Conn, op frame.Opcode, p []byte) {
	h.mu.Lock()
	h.msgs = append(h.msgs, bytes.Clone(p))
	h.mu.Unlock()
	if h.echo {
		c.WriteMessage(op, p)
	}
}

func (h *frHandler) counts() (frames, msgs int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.frames), len(h.msgs)
}

func (h *frHandler) conn(t testing.TB) *Conn {
	t.Helper()
	select {
	case c := <-h.opened:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no OnOpen within 10s")
	}
	return nil
}

// frSplit encodes p as a message of n fragments (the first with op), a ping with
// payload "p<i>" after each fragment but the last.
func frSplit(op frame.Opcode, p []byte, n int) (wire [][]byte, pings int) {
	size := (len(p) + n - 1) / n
	for i := 0; i < n; i++ {
		lo, hi := min(i*size, len(p)), min((i+1)*size, len(p))
		fop := frame.OpContinuation
		if i == 0 {
			fop = op
		}
		wire = append(wire, frameBytes(i == n-1, fop, 0, p[lo:hi], true))
		if i < n-1 {
			wire = append(wire, frameBytes(true, frame.OpPing, 0, []byte{'p', byte('0' + i%10)}, true))
			pings++
		}
	}
	return wire, pings
}

func TestReassemblyWithPings(t *testing.T) {
	t.Parallel()
	text := bytes.Repeat([]byte("naïve café ☕ "), 300) // multi-byte runes cut by the fragment edges
	cases := []struct {
		name     string
		op       frame.Opcode
		payload  []byte
		frags    int
		separate bool // one write per frame, else everything in one write
	}{
		{"text 64 fragments one write", frame.OpText, text, 64, false},
		{"text 64 fragments separate writes", frame.OpText, text, 64, true},
		{"binary 200 fragments", frame.OpBinary, bytes.Repeat([]byte{0, 1, 2, 0xff}, 5000), 200, false},
		{"more fragments than bytes (empty ones)", frame.OpBinary, []byte("abc"), 7, true},
		{"large fragments", frame.OpBinary, bytes.Repeat([]byte("x"), 300000), 3, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				h := newFRHandler(true)
				_, addr := startServer(t, h, cfg, nil)
				rc := dialRaw(t, addr)
				wire, pings := frSplit(tc.op, tc.payload, tc.frags)
				if tc.separate {
					for _, b := range wire {
						rc.write(b)
					}
				} else {
					rc.write(bytes.Join(wire, nil))
				}
				// Every ping is answered in order, before the echo of the message.
				pongs := 0
				for {
					hd, p, err := rc.readFrame()
					if err != nil {
						t.Fatalf("after %d pongs: %v", pongs, err)
					}
					if hd.Opcode == frame.OpPong {
						if want := []byte{'p', byte('0' + pongs%10)}; !bytes.Equal(p, want) {
							t.Fatalf("pong %d payload %q, want %q", pongs, p, want)
						}
						pongs++
						continue
					}
					if hd.Opcode != tc.op || !hd.Fin {
						t.Fatalf("echo frame %v fin=%v", hd.Opcode, hd.Fin)
					}
					mustEqual(t, p, tc.payload)
					break
				}
				if pongs != pings {
					t.Fatalf("%d pongs for %d pings", pongs, pings)
				}
				if _, msgs := h.counts(); msgs != 1 {
					t.Fatalf("OnMessage called %d times", msgs)
				}
			})
		})
	}
}

// TestDisableAssembly: every data frame goes to OnFrame with its own Fin and opcode
// (OpContinuation after the first); OnMessage is never called; control frames are
// still handled.
func TestDisableAssembly(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		cfg.DisableAssembly = true
		h := newFRHandler(false)
		_, addr := startServer(t, h, cfg, nil)
		rc := dialRaw(t, addr)
		rc.send(false, frame.OpText, []byte("he"))
		rc.send(false, frame.OpContinuation, []byte("ll"))
		rc.send(true, frame.OpPing, []byte("between"))
		rc.send(false, frame.OpContinuation, nil)
		rc.send(true, frame.OpContinuation, []byte("o"))
		rc.send(true, frame.OpBinary, []byte{7, 8})
		want := []frRecord{
			{false, frame.OpText, "he"},
			{false, frame.OpContinuation, "ll"},
			{false, frame.OpContinuation, ""},
			{true, frame.OpContinuation, "o"},
			{true, frame.OpBinary, "\x07\x08"},
		}
		hd, p, err := rc.readFrame()
		if err != nil || hd.Opcode != frame.OpPong || string(p) != "between" {
			t.Fatalf("pong between fragments: %v %q %v", hd.Opcode, p, err)
		}
		waitFor(t, func() bool { n, _ := h.counts(); return n >= len(want) })
		time.Sleep(20 * time.Millisecond)
		h.mu.Lock()
		got := append([]frRecord(nil), h.frames...)
		nmsgs := len(h.msgs)
		h.mu.Unlock()
		if len(got) != len(want) {
			t.Fatalf("OnFrame called %d times, want %d: %+v", len(got), len(want), got)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("frame %d: %+v, want %+v", i, got[i], want[i])
			}
		}
		if nmsgs != 0 {
			t.Errorf("OnMessage called %d times with DisableAssembly", nmsgs)
		}
		// Fragmentation rules still hold: a continuation with no message open fails.
		rc.send(true, frame.OpContinuation, []byte("stray"))
		rc.expectClose(frame.StatusProtocolError)
	})
}

// TestWriteFrameFragments: WriteFrame sends exactly the frames asked for, control
// frames may go between them, and the message counts once.
func TestWriteFrameFragments(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		h := newFRHandler(false)
		_, addr := startServer(t, h, cfg, nil)
		rc := dialRaw(t, addr)
		c := h.conn(t)
		before := c.Stats().MessagesOut
		steps := []struct {
			fin bool
			op  frame.Opcode
			p   string
		}{
			{false, frame.OpText, "hel"},
			{false, frame.OpContinuation, "lo "},
			{true, frame.OpPing, "mid"},
			{true, frame.OpContinuation, "world"},
		}
		for _, s := range steps {
			if err := c.WriteFrame(s.fin, s.op, 0, []byte(s.p)); err != nil {
				t.Fatalf("WriteFrame(%v, %v): %v", s.fin, s.op, err)
			}
		}
		for i, s := range steps {
			hd, p, err := rc.readFrame()
			if err != nil {
				t.Fatal(err)
			}
			if hd.Fin != s.fin || hd.Opcode != s.op || string(p) != s.p || hd.Masked || hd.Rsv != 0 {
				t.Fatalf("frame %d: fin=%v %v %q masked=%v rsv=%d, want fin=%v %v %q", i, hd.Fin, hd.Opcode, p, hd.Masked, hd.Rsv, s.fin, s.op, s.p)
			}
		}
		if got := c.Stats().MessagesOut - before; got != 1 {
			t.Errorf("MessagesOut grew by %d for one fragmented message", got)
		}
		if got := c.Stats().FramesOut; got < 4 {
			t.Errorf("FramesOut %d", got)
		}
		if err := c.WriteFrame(false, frame.OpPing, 0, nil); err == nil {
			t.Error("WriteFrame accepted a fragmented ping")
		}
		if err := c.WriteFrame(true, frame.OpPong, 0, make([]byte, 126)); !errors.Is(err, ErrControlTooLong) {
			t.Errorf("WriteFrame with a 126-byte pong: %v", err)
		}
	})
}

// TestWriteFragmentSize: outgoing messages are cut into frames of at most
// WriteFragmentSize payload bytes.
func TestWriteFragmentSize(t *testing.T) {
	t.Parallel()
	const frag = 4096
	cases := []struct {
		name   string
		size   int
		frames int
	}{
		{"empty", 0, 1},
		{"exactly one fragment", frag, 1},
		{"one byte over", frag + 1, 2},
		{"100 KiB", 100 << 10, 25},
		{"100 KiB + 1", 100<<10 + 1, 26},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				cfg.WriteFragmentSize = frag
				h := newFRHandler(false)
				_, addr := startServer(t, h, cfg, nil)
				rc := dialRaw(t, addr)
				c := h.conn(t)
				msg := bytes.Repeat([]byte("0123456789abcdef"), tc.size/16+1)[:tc.size]
				for _, op := range []frame.Opcode{frame.OpBinary, frame.OpText} {
					if err := c.WriteMessage(op, msg); err != nil {
						t.Fatal(err)
					}
					var got []byte
					for i := 0; ; i++ {
						hd, p, err := rc.readFrame()
						if err != nil {
							t.Fatal(err)
						}
						wantOp := frame.OpContinuation
						if i == 0 {
							wantOp = op
						}
						if hd.Opcode != wantOp {
							t.Fatalf("frame %d: %v, want %v", i, hd.Opcode, wantOp)
						}
						if len(p) > frag {
							t.Fatalf("frame %d: %d payload bytes, over WriteFragmentSize %d", i, len(p), frag)
						}
						got = append(got, p...)
						if hd.Fin {
							if i+1 != tc.frames {
								t.Fatalf("%d frames, want %d", i+1, tc.frames)
							}
							break
						}
					}
					mustEqual(t, got, msg)
				}
			})
		})
	}
}

// TestWriteRejectsNonDataOpcode: the message writers take OpText and OpBinary only,
// and a refused write sends nothing.
func TestWriteRejectsNonDataOpcode(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		h := newFRHandler(false)
		_, addr := startServer(t, h, cfg, nil)
		rc := dialRaw(t, addr)
		c := h.conn(t)
		var called atomic.Int32
		for _, op := range []frame.Opcode{frame.OpContinuation, frame.OpClose, frame.OpPing, frame.OpPong, 3, 0xB} {
			if err := c.WriteMessage(op, []byte("x")); !errors.Is(err, ErrBadOpcode) {
				t.Errorf("WriteMessage(%v) = %v, want ErrBadOpcode", op, err)
			}
			if err := c.WriteMessageFunc(op, []byte("x"), func(error) { called.Add(1) }); !errors.Is(err, ErrBadOpcode) {
				t.Errorf("WriteMessageFunc(%v) = %v, want ErrBadOpcode", op, err)
			}
		}
		if n := called.Load(); n != 0 {
			t.Errorf("done called %d times for refused writes", n)
		}
		if err := c.WriteText("ok"); err != nil {
			t.Fatal(err)
		}
		if err := c.WriteBinary([]byte("ok")); err != nil {
			t.Fatal(err)
		}
		for _, op := range []frame.Opcode{frame.OpText, frame.OpBinary} {
			hd, p, err := rc.readFrame()
			if err != nil || hd.Opcode != op || string(p) != "ok" {
				t.Fatalf("after refused writes the client got %v %q %v, want %v \"ok\"", hd.Opcode, p, err, op)
			}
		}
		if got := c.Stats().MessagesOut; got != 2 {
			t.Errorf("MessagesOut %d, want 2", got)
		}
	})
}
