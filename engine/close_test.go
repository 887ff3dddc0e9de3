package engine

import (
	"errors"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
)

// openHandler hands out the server-side Conn of each connection.
type openHandler struct {
	*echoHandler
	opened chan *Conn
}

func newOpenHandler() *openHandler {
	return &openHandler{echoHandler: newEcho(), opened: make(chan *Conn, 16)}
}

func (h *openHandler) OnOpen(c *Conn) { h.opened <- c }

func (h *openHandler) conn(t testing.TB) *Conn {
	t.Helper()
	select {
	case c := <-h.opened:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no OnOpen within 10s")
	}
	return nil
}

func TestServerClose(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		h := newOpenHandler()
		_, addr := startServer(t, h, cfg, nil)
		rc := dialRaw(t, addr)
		c := h.conn(t)
		if err := c.Close(4001, "done here"); err != nil {
			t.Fatal(err)
		}
		if got := rc.expectClose(4001); got != "done here" {
			t.Fatalf("reason %q", got)
		}
		if c.State() != StateClosing {
			t.Fatalf("state %v, want closing", c.State())
		}
		if err := c.WriteText("late"); !errors.Is(err, ErrClosed) {
			t.Fatalf("write after close: %v", err)
		}
		rc.send(true, frame.OpClose, []byte{0x0f, 0xa1}) // echo 4001
		rc.expectEOF()
		r := h.waitClose(t)
		if r.code != 4001 || r.err != nil {
			t.Fatalf("OnClose = %d %q %v", r.code, r.reason, r.err)
		}
		if code, _ := c.CloseStatus(); code != 4001 || c.State() != StateClosed {
			t.Fatalf("after close: %d %v", code, c.State())
		}
	})
}

func TestCloseTimeout(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		cfg.CloseTimeout = 200 * time.Millisecond
		cfg.TimerResolution = 20 * time.Millisecond
		h := newOpenHandler()
		_, addr := startServer(t, h, cfg, nil)
		rc := dialRaw(t, addr)
		c := h.conn(t)
		start := time.Now()
		c.Close(frame.StatusNormalClosure, "")
		rc.expectClose(frame.StatusNormalClosure)
		// The peer never answers: the server gives up after CloseTimeout.
		r := h.waitClose(t)
		if !errors.Is(r.err, ErrCloseTimeout) || r.code != frame.StatusAbnormalClosure {
			t.Fatalf("OnClose = %d %v, want 1006 ErrCloseTimeout", r.code, r.err)
		}
		if d := time.Since(start); d < 150*time.Millisecond {
			t.Fatalf("closed after %v, before the close timeout", d)
		}
		rc.expectEOF()
	})
}

func TestPeerCloseCodes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		payload []byte
		echo    frame.StatusCode // what the server echoes (0: empty close payload)
		code    frame.StatusCode // what OnClose reports
		reason  string
	}{
		{"1000 with reason", []byte{0x03, 0xe8, 'o', 'k'}, 1000, 1000, "ok"},
		{"1001", []byte{0x03, 0xe9}, 1001, 1001, ""},
		{"4999 with utf8 reason", append([]byte{0x13, 0x87}, "héllo"...), 4999, 4999, "héllo"},
		{"no status", nil, 0, frame.StatusNoStatusRcvd, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forModes(t, func(t *testing.T, cfg Config) {
				h := newEcho()
				_, addr := startServer(t, h, cfg, nil)
				rc := dialRaw(t, addr)
				rc.send(true, frame.OpClose, tc.payload)
				for {
					hd, p, err := rc.readFrame()
					if err != nil {
						t.Fatal(err)
					}
					if hd.Opcode != frame.OpClose {
						continue
					}
					if tc.echo == 0 {
						if len(p) != 0 {
							t.Fatalf("echo payload %x, want empty", p)
						}
					} else if code, _, _ := frame.ParseClose(p); code != tc.echo {
						t.Fatalf("echo %d, want %d", code, tc.echo)
					}
					break
				}
				rc.expectEOF()
				r := h.waitClose(t)
				if r.code != tc.code || r.reason != tc.reason || r.err != nil {
					t.Fatalf("OnClose = %d %q %v", r.code, r.reason, r.err)
				}
			})
		})
	}
}

func TestAbnormalClosure(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		h := newEcho()
		_, addr := startServer(t, h, cfg, nil)
		rc := dialRaw(t, addr)
		rc.nc.Close()
		r := h.waitClose(t)
		if r.code != frame.StatusAbnormalClosure || !errors.Is(r.err, ErrAbnormalClosure) {
			t.Fatalf("OnClose = %d %v", r.code, r.err)
		}
	})
}

func TestCloseNowAndAbort(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		h := newOpenHandler()
		_, addr := startServer(t, h, cfg, nil)

		rc := dialRaw(t, addr)
		c := h.conn(t)
		c.CloseNow(frame.StatusProtocolError, "drop")
		rc.expectClose(frame.StatusProtocolError)
		rc.expectEOF()
		if r := h.waitClose(t); r.code != frame.StatusProtocolError || r.err != nil {
			t.Fatalf("CloseNow: OnClose = %d %v", r.code, r.err)
		}

		rc = dialRaw(t, addr)
		c = h.conn(t)
		c.Abort()
		rc.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		if h, _, err := rc.readFrame(); err == nil {
			t.Fatalf("Abort sent a frame: %v", h.Opcode)
		}
		if r := h.waitClose(t); r.code != frame.StatusAbnormalClosure || !errors.Is(r.err, ErrAborted) {
			t.Fatalf("Abort: OnClose = %d %v", r.code, r.err)
		}
	})
}

func TestCloseValidation(t *testing.T) {
	t.Parallel()
	h := newOpenHandler()
	_, addr := startServer(t, h, Config{}, nil)
	dialRaw(t, addr)
	c := h.conn(t)
	for _, code := range []frame.StatusCode{999, 1004, 1005, 1006, 1015, 2999, 5000} {
		if err := c.Close(code, ""); !errors.Is(err, ErrInvalidCloseCode) {
			t.Errorf("Close(%d) = %v", code, err)
		}
	}
	long := make([]byte, 124)
	for i := range long {
		long[i] = 'x'
	}
	if err := c.Close(1000, string(long)); !errors.Is(err, frame.ErrCloseReasonTooLong) {
		t.Errorf("Close with a 124-byte reason = %v", err)
	}
	if err := c.Close(1000, "bad \xff reason"); !errors.Is(err, frame.ErrInvalidUTF8) {
		t.Errorf("Close with a reason that is not UTF-8 = %v", err)
	}
	if err := c.Close(1000, string(long[:123])); err != nil {
		t.Errorf("Close with a 123-byte reason = %v", err)
	}
}
