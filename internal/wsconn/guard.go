package wsconn

import (
	"log/slog"
	"net/netip"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/guard"
)

// Contained panics (internal/guard): every Handler call goes through one of the
// call points below (c.callOnX(w, ...)), one per callback, each a direct call
// with an open-coded defer of guard.Recover around the Handler's. They take the
// worker because a panic fails the connection, which reaches its read side.
// The handshake's user hooks (upgrade's Verify, CheckOrigin, OnHandshakeError,
// ...) run through guard.Hook in internal/opening (openSide.HookGuard),
// WriteMessageFunc's done callbacks through callDone and callDoneAny. A panic
// in OnClose (or in a done callback run while closing) is only logged: the
// connection was released before OnClose.

// PanicPolicy is engine.PanicPolicy (documented there).
type PanicPolicy = guard.Policy

const (
	PanicClose     = guard.Close
	PanicPropagate = guard.Propagate
)

// ErrHandlerPanic is engine.ErrHandlerPanic (documented there).
var ErrHandlerPanic = guard.ErrPanic

// PanicError is engine.PanicError (documented there).
type PanicError = guard.Error

// guardedConn is a Conn as its guard reaches it after a panic (guard.Conn).
type guardedConn Conn

func (c *Conn) guarded() *guardedConn { return (*guardedConn)(c) }

func (g *guardedConn) Logger() *slog.Logger      { return g.Eng().Cfg.Logger }
func (g *guardedConn) Remote() netip.AddrPort    { return g.Identity.PeerAddr() }
func (g *guardedConn) Fail(w *worker, err error) { (*Conn)(g).fail(w, err) }
func (g *guardedConn) CloseNow()                 { (*Conn)(g).CloseNow(frame.StatusInternalError, "") }
func (c *Conn) policy() PanicPolicy              { return c.Eng().Cfg.PanicPolicy }

// The Handler's call points (worker context).

func (c *Conn) callOnOpen(w *worker) {
	defer guard.Recover(c.policy(), c.guarded(), w, "OnOpen")
	c.Handler().OnOpen(c)
}

func (c *Conn) callOnMessage(w *worker, op frame.Opcode, p []byte) {
	defer guard.Recover(c.policy(), c.guarded(), w, "OnMessage")
	c.Handler().OnMessage(c, op, p)
}

func (c *Conn) callOnFrame(w *worker, h frame.Header, p []byte) {
	defer guard.Recover(c.policy(), c.guarded(), w, "OnFrame")
	c.Handler().OnFrame(c, h, p)
}

// callOnPing reports false (no automatic pong) when the handler panicked.
func (c *Conn) callOnPing(w *worker, p []byte) (pong bool) {
	defer guard.Recover(c.policy(), c.guarded(), w, "OnPing")
	return c.Handler().OnPing(c, p)
}

func (c *Conn) callOnPong(w *worker, p []byte) {
	defer guard.Recover(c.policy(), c.guarded(), w, "OnPong")
	c.Handler().OnPong(c, p)
}

func (c *Conn) callOnDrain(w *worker) {
	defer guard.Recover(c.policy(), c.guarded(), w, "OnDrain")
	c.Handler().OnDrain(c)
}

func (c *Conn) callOnClose(w *worker, code frame.StatusCode, reason string, err error) {
	defer guard.Recover(c.policy(), c.guarded(), w, "OnClose")
	c.Handler().OnClose(c, code, reason, err)
}

// callDone calls a WriteMessageFunc done callback in worker context (flush,
// finish).
func (c *Conn) callDone(w *worker, fn func(error), err error) {
	defer guard.Recover(c.policy(), c.guarded(), w, "WriteMessageFunc done")
	fn(err)
}

// callDoneAny calls a done callback from any goroutine (a write or close on the
// caller's goroutine, which may be a worker).
func (c *Conn) callDoneAny(fn func(error), err error) {
	defer guard.RecoverAny[*guardedConn, *worker](c.policy(), c.guarded(), "WriteMessageFunc done")
	fn(err)
}
