package engine

import (
	"fmt"
	"runtime/debug"

	"github.com/weir-ws/weir/frame"
)

// Contained panics. The engine calls user code from shared workers, from the
// event loops (DispatchInline) and from reader goroutines; a panic escaping any
// of them would end the process and every other connection with it. So every
// Handler call goes through one guard (net/http recovers a handler's panic per
// connection the same way): the call points below (c.callOnX(w, ...)), one per
// callback, each a direct call and an open-coded defer around the Handler's.
// They take the worker because a panic fails the connection, which reaches
// its read side (conn.go). The handshake's user hooks
// (upgrade's Verify, CheckOrigin, OnHandshakeError, ...) and WriteMessageFunc's
// done callbacks run through guardedHook and callDone.
//
// Under the default PanicClose a panic is logged with its stack on
// Config.Logger and the connection fails with 1011 (internal error, RFC 6455
// §7.4.1) exactly like a protocol error: the close frame goes out, input is
// ignored, the socket is released when the peer hangs up or CloseTimeout
// passes; OnClose then gets a *PanicError. A panic in OnClose (or in a done
// callback run while closing) is only logged: the connection and its buffers
// were released before OnClose was called.

// PanicPolicy says what a panic in a Handler callback, a handshake hook or a
// WriteMessageFunc done callback does.
type PanicPolicy uint8

const (
	// PanicClose recovers the panic, logs it with its stack (Config.Logger) and
	// closes that connection with 1011 (a handshake hook's panic: 500); other
	// connections and the process go on.
	PanicClose PanicPolicy = iota
	// PanicPropagate lets the panic go on unrecovered, ending the process
	// (for those who prefer a crash and a core to a wounded server).
	PanicPropagate
)

// ErrHandlerPanic is the protocol-level error behind every *PanicError: its
// Code, 1011, is the close status sent (errors.Is(err, ErrHandlerPanic)).
var ErrHandlerPanic = &frame.ProtocolError{Code: frame.StatusInternalError, Reason: "handler panicked"}

// PanicError is what OnClose receives after a callback of the connection
// panicked under PanicClose.
type PanicError struct {
	Callback string // "OnMessage", "OnOpen", "WriteMessageFunc done", ...
	Value    any    // what was passed to panic
	Stack    []byte // the panicking goroutine's stack
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("weir: %s panicked: %v", e.Callback, e.Value)
}

// Unwrap returns ErrHandlerPanic, so CloseStatus(err) is 1011.
func (e *PanicError) Unwrap() error { return ErrHandlerPanic }

// The Handler's call points: each calls one callback under the guard, in
// worker context (w: a panic fails the connection, which takes its read side).

func (c *Conn) callOnOpen(w *worker) {
	defer c.recoverCallback(w, "OnOpen")
	c.handler().OnOpen(c)
}

func (c *Conn) callOnMessage(w *worker, op frame.Opcode, p []byte) {
	defer c.recoverCallback(w, "OnMessage")
	c.handler().OnMessage(c, op, p)
}

func (c *Conn) callOnFrame(w *worker, h frame.Header, p []byte) {
	defer c.recoverCallback(w, "OnFrame")
	c.handler().OnFrame(c, h, p)
}

// callOnPing reports false (no automatic pong) when the handler panicked.
func (c *Conn) callOnPing(w *worker, p []byte) (pong bool) {
	defer c.recoverCallback(w, "OnPing")
	return c.handler().OnPing(c, p)
}

func (c *Conn) callOnPong(w *worker, p []byte) {
	defer c.recoverCallback(w, "OnPong")
	c.handler().OnPong(c, p)
}

func (c *Conn) callOnDrain(w *worker) {
	defer c.recoverCallback(w, "OnDrain")
	c.handler().OnDrain(c)
}

func (c *Conn) callOnClose(w *worker, code frame.StatusCode, reason string, err error) {
	defer c.recoverCallback(w, "OnClose")
	c.handler().OnClose(c, code, reason, err)
}

// callDone calls a WriteMessageFunc done callback in worker context (flush,
// finish) under the guard.
func (c *Conn) callDone(w *worker, fn func(error), err error) {
	defer c.recoverCallback(w, "WriteMessageFunc done")
	fn(err)
}

// callDoneAny calls a done callback from any goroutine (a write or close on the
// caller's goroutine, which may be a worker): a panic is logged and the
// connection closed with 1011 through CloseNow, which is safe from anywhere.
func (c *Conn) callDoneAny(fn func(error), err error) {
	defer func() {
		if c.eng.cfg.PanicPolicy == PanicPropagate {
			return
		}
		if r := recover(); r != nil {
			c.eng.cfg.Logger.Error("weir: WriteMessageFunc done panicked; closing the connection with 1011",
				"panic", fmt.Sprint(r), "remote", c.remote, "stack", string(debug.Stack()))
			c.CloseNow(frame.StatusInternalError, "")
		}
	}()
	fn(err)
}

// recoverCallback is deferred by every guarded call (worker context). It must be
// the deferred function itself: recover only works when called directly by one.
// Under PanicPropagate it does not call recover, so the panic goes on with its
// stack intact.
func (c *Conn) recoverCallback(w *worker, callback string) {
	if c.eng.cfg.PanicPolicy == PanicPropagate {
		return
	}
	if r := recover(); r != nil {
		c.handlerPanicked(w, callback, r)
	}
}

// handlerPanicked logs a recovered panic and fails the connection with 1011.
// fail does nothing once the connection is failing or finished (a panic in
// OnClose): the log line is all that is left to do.
func (c *Conn) handlerPanicked(w *worker, callback string, r any) {
	err := &PanicError{Callback: callback, Value: r, Stack: debug.Stack()}
	c.eng.cfg.Logger.Error("weir: handler panicked; closing the connection with 1011",
		"callback", callback, "panic", fmt.Sprint(r), "remote", c.remote, "stack", string(err.Stack))
	c.fail(w, err)
}

// guardedHook runs f, a call into the Upgrader that may run user hooks during
// the handshake (worker context), and reports whether it panicked (logged;
// the caller answers 500). Under PanicPropagate the panic goes on.
func (c *Conn) guardedHook(f func()) (panicked bool) {
	defer func() {
		if c.eng.cfg.PanicPolicy == PanicPropagate {
			return
		}
		if r := recover(); r != nil {
			c.eng.cfg.Logger.Error("weir: handshake hook panicked; answering 500",
				"panic", fmt.Sprint(r), "remote", c.remote, "stack", string(debug.Stack()))
			panicked = true
		}
	}()
	f()
	return false
}
