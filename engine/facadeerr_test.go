package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/guard"
	"github.com/weir-ws/weir/internal/wsconn"
)

// Errors across the split (issue 14): the machine (internal/wsconn) makes
// most errors a connection reports, engine exports them. These tests pin
// that errors.Is and errors.As with engine's names match what the machine
// returns, and that their texts are the ones of before (6286e8b).

// TestErrorsAreTheMachines: each exported error the machine can return is
// the machine's own value, and its text is unchanged.
func TestErrorsAreTheMachines(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name          string
		engine, inner error
		text          string // "" for errors whose text is their package's
	}{
		{"ErrNoQueue", ErrNoQueue, wsconn.ErrNoQueue, "weir: connection has a handler; ReadMessage needs one dialled or served without a Handler"},
		{"ErrAborted", ErrAborted, wsconn.ErrAborted, ""},
		{"ErrAbnormalClosure", ErrAbnormalClosure, wsconn.ErrAbnormalClosure, "weir: connection ended without a close frame"},
		{"ErrPeerTimeout", ErrPeerTimeout, wsconn.ErrPeerTimeout, "weir: peer did not respond to keepalive"},
		{"ErrIdleTimeout", ErrIdleTimeout, wsconn.ErrIdleTimeout, "weir: idle timeout"},
		{"ErrCloseTimeout", ErrCloseTimeout, wsconn.ErrCloseTimeout, "weir: close handshake timed out"},
		{"ErrHandshakeTimeout", ErrHandshakeTimeout, wsconn.ErrHandshakeTimeout, "weir: handshake timed out"},
		{"ErrControlTooLong", ErrControlTooLong, wsconn.ErrControlTooLong, "weir: control frame payload over 125 bytes"},
		{"ErrServerClosed", ErrServerClosed, wsconn.ErrServerClosed, "weir: server closed"},
		{"ErrClientClosed", ErrClientClosed, wsconn.ErrClientClosed, "weir: client closed"},
		{"ErrNotOpen", ErrNotOpen, wsconn.ErrNotOpen, "weir: connection not open"},
		{"ErrTooManyConns", ErrTooManyConns, wsconn.ErrTooManyConns, ""},
		{"ErrBadOpcode", ErrBadOpcode, wsconn.ErrBadOpcode, "frame: write: not a data opcode"},
		{"ErrFragmentOrder", ErrFragmentOrder, wsconn.ErrFragmentOrder, ""},
		{"ErrInboundBudget", ErrInboundBudget, wsconn.ErrInboundBudget, ""},
		{"ErrClosed", ErrClosed, wsconn.ErrClosed, ""},
		{"ErrSlowConsumer", ErrSlowConsumer, wsconn.ErrSlowConsumer, ""},
		{"ErrBudgetCut", ErrBudgetCut, wsconn.ErrBudgetCut, ""},
		{"ErrHandlerPanic", ErrHandlerPanic, wsconn.ErrHandlerPanic, ""},
	} {
		if c.engine == nil || c.engine != c.inner || !errors.Is(fmt.Errorf("wrapped: %w", c.inner), c.engine) {
			t.Errorf("%s: engine's %v is not the machine's %v", c.name, c.engine, c.inner)
		}
		if c.text != "" && c.engine.Error() != c.text {
			t.Errorf("%s: text %q, want %q (as before)", c.name, c.engine.Error(), c.text)
		}
	}
	// The error types are the machine's (aliases): errors.As with engine's
	// finds what the machine made, and the texts are as before.
	inner := errors.New("boom")
	ce := error(&wsconn.CloseError{Code: frame.StatusGoingAway, Reason: "bye"})
	var pce *CloseError
	if !errors.As(fmt.Errorf("x: %w", ce), &pce) || pce.Code != frame.StatusGoingAway || pce.Reason != "bye" {
		t.Errorf("errors.As *CloseError: %v", pce)
	}
	for _, c := range []struct {
		err  error
		text string
	}{
		{&CloseError{Code: frame.StatusGoingAway, Reason: "bye"}, fmt.Sprintf("weir: connection closed: %d %s: %q", 1001, frame.StatusGoingAway, "bye")},
		{&CloseError{Code: frame.StatusNormalClosure}, fmt.Sprintf("weir: connection closed: %d %s", 1000, frame.StatusNormalClosure)},
		{&IOError{Err: inner}, "weir: i/o: boom"},
		{&TLSError{Err: inner}, "weir: tls: boom"},
	} {
		if c.err.Error() != c.text {
			t.Errorf("%T text %q, want %q", c.err, c.err.Error(), c.text)
		}
	}
	var ioe *IOError
	if err := fmt.Errorf("x: %w", &wsconn.IOError{Err: inner}); !errors.As(err, &ioe) || !errors.Is(err, inner) {
		t.Errorf("errors.As *IOError / Is its Err: %v", err)
	}
	var te *TLSError
	if err := fmt.Errorf("x: %w", &wsconn.TLSError{Err: inner}); !errors.As(err, &te) || !errors.Is(err, inner) {
		t.Errorf("errors.As *TLSError / Is its Err: %v", err)
	}
	var pe *PanicError
	if err := fmt.Errorf("x: %w", &guard.Error{Callback: "OnMessage", Value: 1}); !errors.As(err, &pe) || !errors.Is(err, ErrHandlerPanic) || CloseStatus(err) != 1011 {
		t.Errorf("errors.As *PanicError / Is ErrHandlerPanic / CloseStatus 1011: %v", err)
	}
	for _, c := range []struct {
		err  error
		want frame.StatusCode
	}{
		{nil, 0}, {inner, 0}, {&IOError{Err: inner}, 0},
		{fmt.Errorf("x: %w", &wsconn.CloseError{Code: 4000}), 4000},
		{ErrTextNotUTF8, frame.StatusInvalidFramePayloadData},
		{fmt.Errorf("x: %w", ErrMessageTooBig), frame.StatusMessageTooBig},
		{ErrInboundBudget, frame.StatusTryAgainLater},
		{ErrBadOpcode, frame.StatusProtocolError},
	} {
		if got := CloseStatus(c.err); got != c.want || wsconn.CloseStatus(c.err) != c.want {
			t.Errorf("CloseStatus(%v) = %d (machine's %d), want %d", c.err, got, wsconn.CloseStatus(c.err), c.want)
		}
	}
}

// errHandler reports OnOpen and OnClose.
type errHandler struct {
	NopHandler
	opened chan *Conn
	closed chan closeRecord
	panics atomic.Bool // OnMessage panics
}

func newErrHandler() *errHandler {
	return &errHandler{opened: make(chan *Conn, 4), closed: make(chan closeRecord, 4)}
}

func (h *errHandler) OnOpen(c *Conn) { h.opened <- c }
func (h *errHandler) OnMessage(c *Conn, _ frame.Opcode, _ []byte) {
	if h.panics.Load() {
		panic("facade test")
	}
}
func (h *errHandler) OnClose(_ *Conn, code frame.StatusCode, reason string, err error) {
	h.closed <- closeRecord{code, reason, err}
}

// TestErrorsFromTheMachine: errors a real connection returns or reports
// match engine's names with errors.Is and errors.As, in every mode.
func TestErrorsFromTheMachine(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		// A server closing and pinging quickly, and a client that answers
		// nothing itself (the raw one) or everything (the engine's).
		scfg := cfg
		scfg.CloseTimeout = 200 * time.Millisecond
		scfg.TimerResolution = 10 * time.Millisecond
		type run struct {
			name string
			cfg  func(*Config)
			// do drives the connection: sc the server's, cc an engine client's,
			// rc a raw peer's (nil unless raw); it returns what to check:
			// an error the call returned, or nil to take OnClose's.
			raw  bool
			do   func(t *testing.T, h *errHandler, sc, cc *Conn, rc *rawClient) error
			is   error
			as   any // a pointer to a pointer of an error type, or nil
			code frame.StatusCode
		}
		runs := []run{
			{name: "ReadMessage with a handler", do: func(t *testing.T, h *errHandler, sc, cc *Conn, rc *rawClient) error {
				_, _, err := sc.ReadMessage(context.Background())
				return err
			}, is: ErrNoQueue},
			{name: "long ping", do: func(t *testing.T, h *errHandler, sc, cc *Conn, rc *rawClient) error {
				return sc.Ping(make([]byte, 126))
			}, is: ErrControlTooLong},
			{name: "ping as a message", do: func(t *testing.T, h *errHandler, sc, cc *Conn, rc *rawClient) error {
				return sc.WriteMessage(frame.OpPing, nil)
			}, is: ErrBadOpcode, code: frame.StatusProtocolError},
			{name: "continuation first", do: func(t *testing.T, h *errHandler, sc, cc *Conn, rc *rawClient) error {
				return sc.WriteFrame(true, frame.OpContinuation, 0, nil)
			}, is: ErrFragmentOrder},
			{name: "invalid close code", do: func(t *testing.T, h *errHandler, sc, cc *Conn, rc *rawClient) error {
				return sc.Close(frame.StatusNoStatusRcvd, "")
			}, is: ErrInvalidCloseCode},
			{name: "write after close", do: func(t *testing.T, h *errHandler, sc, cc *Conn, rc *rawClient) error {
				sc.Close(frame.StatusNormalClosure, "")
				return sc.WriteText("late")
			}, is: ErrClosed},
			{name: "PingRTT after close", do: func(t *testing.T, h *errHandler, sc, cc *Conn, rc *rawClient) error {
				cc.Close(frame.StatusNormalClosure, "")
				cliRecv(t, h.closed, "OnClose")
				_, err := sc.PingRTT(context.Background())
				return err
			}, is: ErrClosed},
			{name: "abort", do: func(t *testing.T, h *errHandler, sc, cc *Conn, rc *rawClient) error {
				sc.Abort()
				return nil
			}, is: ErrAborted, code: frame.StatusAbnormalClosure},
			{name: "peer hangs up", raw: true, do: func(t *testing.T, h *errHandler, sc, cc *Conn, rc *rawClient) error {
				rc.nc.Close()
				return nil
			}, is: ErrAbnormalClosure, code: frame.StatusAbnormalClosure},
			{name: "peer resets", raw: true, do: func(t *testing.T, h *errHandler, sc, cc *Conn, rc *rawClient) error {
				rc.nc.(*net.TCPConn).SetLinger(0)
				rc.nc.Close()
				return nil
			}, is: syscall.ECONNRESET, as: new(*IOError), code: frame.StatusAbnormalClosure},
			{name: "close unanswered", raw: true, do: func(t *testing.T, h *errHandler, sc, cc *Conn, rc *rawClient) error {
				sc.Close(frame.StatusNormalClosure, "")
				return nil
			}, is: ErrCloseTimeout, code: frame.StatusAbnormalClosure},
			{name: "keepalive unanswered", raw: true, cfg: func(c *Config) {
				c.PingInterval, c.PongTimeout = 50*time.Millisecond, 50*time.Millisecond
			}, do: func(t *testing.T, h *errHandler, sc, cc *Conn, rc *rawClient) error {
				return nil
			}, is: ErrPeerTimeout, code: frame.StatusAbnormalClosure},
			{name: "idle", cfg: func(c *Config) { c.IdleTimeout, c.PingInterval = 50*time.Millisecond, -1 },
				do: func(t *testing.T, h *errHandler, sc, cc *Conn, rc *rawClient) error { return nil },
				is: ErrIdleTimeout, code: frame.StatusGoingAway},
			{name: "panic", do: func(t *testing.T, h *errHandler, sc, cc *Conn, rc *rawClient) error {
				h.panics.Store(true)
				cc.WriteText("panic")
				return nil
			}, is: ErrHandlerPanic, as: new(*PanicError), code: frame.StatusInternalError},
		}
		for _, r := range runs {
			t.Run(r.name, func(t *testing.T) {
				t.Parallel()
				h := newErrHandler()
				c := scfg
				if r.cfg != nil {
					r.cfg(&c)
				}
				_, addr := startServer(t, h, c, nil)
				var cc *Conn
				var rc *rawClient
				if r.raw {
					rc = dialRaw(t, addr)
					defer rc.nc.Close()
				} else {
					cc = cliDial(t, cliClient(t, nil, cfg), "ws://"+addr+"/", nil)
					defer cc.Abort()
				}
				sc := cliRecv(t, h.opened, "OnOpen")
				err := r.do(t, h, sc, cc, rc)
				code := frame.StatusCode(0)
				if err == nil {
					rec := cliRecv(t, h.closed, "OnClose")
					err, code = rec.err, rec.code
				}
				if !errors.Is(err, r.is) {
					t.Fatalf("got %v (%T), want errors.Is %v", err, err, r.is)
				}
				if r.as != nil && !errors.As(err, r.as) {
					t.Fatalf("%v (%T) is not a %T", err, err, r.as)
				}
				if r.code != 0 && code != 0 && code != r.code {
					t.Fatalf("OnClose code %d, want %d", code, r.code)
				}
				if r.code != 0 && code == 0 && CloseStatus(err) != r.code {
					t.Fatalf("CloseStatus(%v) = %d, want %d", err, CloseStatus(err), r.code)
				}
			})
		}
	})
}

// TestReadMessageCloseError: a connection read with ReadMessage (a server
// made without a Handler, a client dialled without one) ends its reads
// with the close status as a *CloseError, which errors.As with engine's
// type and CloseStatus see, and ReadMessage on a connection with a Handler
// returns ErrNoQueue; Dial on a closed Client and Listen on a closed Server
// return ErrClientClosed and ErrServerClosed.
func TestReadMessageCloseError(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, cfg Config) {
		s, addr := startServer(t, nil, cfg, nil)
		cl := cliClient(t, nil, cfg)
		cc := cliDial(t, cl, "ws://"+addr+"/", nil)
		defer cc.Abort()
		var sc *Conn
		waitFor(t, func() bool {
			for c := range s.Conns() {
				sc = c
			}
			return sc != nil
		})
		if err := cc.WriteText("one"); err != nil {
			t.Fatal(err)
		}
		if _, p, err := sc.ReadMessage(cliCtx(t)); err != nil || string(p) != "one" {
			t.Fatalf("server ReadMessage: %q %v", p, err)
		}
		if err := sc.Close(4001, "done"); err != nil {
			t.Fatal(err)
		}
		// Each side's reads end with the close frame its peer sent: the
		// server's, and the client's echo of its code (no reason).
		for _, side := range []struct {
			name   string
			c      *Conn
			reason string
		}{{"client", cc, "done"}, {"server", sc, ""}} {
			_, _, err := side.c.ReadMessage(cliCtx(t))
			var ce *CloseError
			if !errors.As(err, &ce) || ce.Code != 4001 || ce.Reason != side.reason || CloseStatus(err) != 4001 {
				t.Errorf("%s: ReadMessage after the close: %v (%T)", side.name, err, err)
			}
		}
		cl.Close()
		if _, _, err := cl.Dial(cliCtx(t), "ws://"+addr+"/", nil); !errors.Is(err, ErrClientClosed) {
			t.Errorf("Dial on a closed Client: %v", err)
		}
		s.Close()
		if err := s.Listen("127.0.0.1:0"); !errors.Is(err, ErrServerClosed) {
			t.Errorf("Listen on a closed Server: %v", err)
		}
	})
}
