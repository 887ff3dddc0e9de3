package wsconn

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

// AfterClose is engine.Conn.AfterClose (documented there).
func (c *Conn) AfterClose(fn func(*Conn)) bool { return c.hooks.Add(fn) }

// AfterCloseFunc is engine.Conn.AfterCloseFunc (documented there).
func (c *Conn) AfterCloseFunc(fn func(*Conn)) (stop func() bool, ok bool) {
	key, ok := c.hooks.AddKey(fn)
	return func() bool { return ok && c.hooks.Remove(key) }, ok
}

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
