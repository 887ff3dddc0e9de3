package engine

import (
	"github.com/weir-ws/weir/internal/guard"
	"github.com/weir-ws/weir/internal/hooks"
)

// Close hooks let a layer above the engine (a topic index, a presence table)
// forget a connection when it closes without asking every application to
// forward OnClose to it: the application that forgets would leak the
// connection's entries, and the Conn with them. A connection's hooks are a
// hooks.List made on first need (Conn.hooks, a hooks.Slot); finish takes them
// once, so each one runs exactly once or is refused (then its caller knows).

// hooksRan stands for the list of a connection that closed before anyone
// added a hook: shared, never changed.
var hooksRan = hooks.Ended[*Conn]()

// AfterClose registers fn to be called once, after the connection is closed
// (its state is StateClosed, its socket released) and before Handler.OnClose,
// so an OnClose that publishes "left" no longer reaches it. It reports false,
// and never calls fn, when the connection has closed already. Safe from any
// goroutine; fn runs on the goroutine that closes the connection and must not
// block. A panic in fn is logged (Config.Logger) unless PanicPolicy is
// PanicPropagate, and the other hooks and OnClose still run. fn stays
// referenced until the connection closes.
func (c *Conn) AfterClose(fn func(*Conn)) bool { return c.hooks.Add(fn) }

// runCloseHooks calls the hooks added by AfterClose, once (finish).
func (c *Conn) runCloseHooks(w *worker) {
	for _, fn := range c.hooks.Take(hooksRan) {
		c.callCloseHook(w, fn)
	}
}

// callCloseHook runs fn under the callbacks' guard: a panic is logged, and the
// connection, finished already, is left as it is (guard.go).
func (c *Conn) callCloseHook(w *worker, fn func(*Conn)) {
	defer guard.Recover(c.policy(), c.guarded(), w, "AfterClose hook")
	fn(c)
}
