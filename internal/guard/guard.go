package guard

import (
	"fmt"
	"log/slog"
	"net/netip"
	"runtime/debug"

	"github.com/weir-ws/weir/frame"
)

// Policy says what a panic in a guarded call does.
type Policy uint8

const (
	// Close recovers the panic, logs it with its stack and closes that
	// connection with 1011 (a handshake hook's panic: 500); other connections
	// and the process go on.
	Close Policy = iota
	// Propagate lets the panic go on unrecovered, ending the process.
	Propagate
)

// ErrPanic is the protocol-level error behind every *Error: its Code, 1011,
// is the close status sent.
var ErrPanic = &frame.ProtocolError{Code: frame.StatusInternalError, Reason: "handler panicked"}

// Error is a recovered panic of a guarded call.
type Error struct {
	Callback string // "OnMessage", "OnOpen", "WriteMessageFunc done", ...
	Value    any    // what was passed to panic
	Stack    []byte // the panicking goroutine's stack
}

func (e *Error) Error() string {
	return fmt.Sprintf("weir: %s panicked: %v", e.Callback, e.Value)
}

// Unwrap returns ErrPanic, so the close status of the error is 1011.
func (e *Error) Unwrap() error { return ErrPanic }

// Conn is a connection as its guard reaches it, only after a panic.
type Conn[W any] interface {
	// Logger and Remote are where the panic is logged and the peer named there.
	Logger() *slog.Logger
	Remote() netip.AddrPort
	// Fail fails the connection for err in the context that ran the callback
	// (w): it does nothing once the connection is failing or finished.
	Fail(w W, err error)
	// CloseNow closes the connection with 1011 from any goroutine.
	CloseNow()
}

// Recover is deferred by a call point around a callback run in the context
// keyed by w (defer guard.Recover(p, c, w, "OnMessage")): it is the deferred
// function itself, so its recover sees the callback's panic. Under Propagate
// it does not call recover, so the panic goes on with its stack intact; p is
// the connection's policy, taken when the call point is entered.
func Recover[C Conn[W], W any](p Policy, c C, w W, callback string) {
	if p != Propagate {
		if v := recover(); v != nil {
			Panicked(c, w, callback, v)
		}
	}
}

// RecoverAny is Recover for a callback run on any goroutine (PanickedAny).
func RecoverAny[C Conn[W], W any](p Policy, c C, callback string) {
	if p != Propagate {
		if v := recover(); v != nil {
			PanickedAny[C, W](c, callback, v)
		}
	}
}

// Panicked logs v, a panic recovered in callback run in the context keyed
// by w, and fails c with an *Error. The caller is the deferred function that
// recovered (recover works only there), and called recover only under Close.
func Panicked[C Conn[W], W any](c C, w W, callback string, v any) {
	err := &Error{Callback: callback, Value: v, Stack: debug.Stack()}
	c.Logger().Error("weir: handler panicked; closing the connection with 1011",
		"callback", callback, "panic", fmt.Sprint(v), "remote", c.Remote(), "stack", string(err.Stack))
	c.Fail(w, err)
}

// PanickedAny is Panicked for a callback run on any goroutine (a done
// callback run by a write on the caller's goroutine): c is closed with
// CloseNow, which is safe from anywhere.
func PanickedAny[C Conn[W], W any](c C, callback string, v any) {
	c.Logger().Error("weir: "+callback+" panicked; closing the connection with 1011",
		"panic", fmt.Sprint(v), "remote", c.Remote(), "stack", string(debug.Stack()))
	c.CloseNow()
}

// Hook runs f, a call that may run user hooks during a handshake, and
// reports whether it panicked (logged on log; the caller answers 500).
// Under Propagate the panic goes on.
func Hook(p Policy, log *slog.Logger, remote netip.AddrPort, f func()) (panicked bool) {
	defer func() {
		if p == Propagate {
			return
		}
		if v := recover(); v != nil {
			log.Error("weir: handshake hook panicked; answering 500",
				"panic", fmt.Sprint(v), "remote", remote, "stack", string(debug.Stack()))
			panicked = true
		}
	}()
	f()
	return false
}
