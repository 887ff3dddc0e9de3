package opening

import (
	"errors"
	"log/slog"
	"net/http"
	"net/netip"

	"github.com/weir-ws/weir/bufpool"
	"github.com/weir-ws/weir/internal/admit"
	"github.com/weir-ws/weir/internal/assemble"
	"github.com/weir-ws/weir/internal/guard"
	"github.com/weir-ws/weir/upgrade"
)

var (
	// ErrHookPanic answers a handshake whose user hook (Verify, CheckOrigin,
	// ...) panicked: 500.
	ErrHookPanic = &upgrade.CheckError{Status: http.StatusInternalServerError, Reason: "internal error"}
	// ErrBusy answers handshakes that arrive or are pending while the server
	// stops: 503.
	ErrBusy = &upgrade.CheckError{Status: http.StatusServiceUnavailable, Reason: "server shutting down"}
	// ErrEarlyData ends a connection that sent more than MaxEarly bytes while
	// its handshake waited for a deferred decision.
	ErrEarlyData = errors.New("weir: too much data before the handshake was answered")
)

// MaxEarly caps what a client may send while its handshake waits for a
// deferred decision.
const MaxEarly = 64 << 10

// keptMin is the size of the buffer a request cut by a read starts in.
const keptMin = 1024

// Conn is a server connection in its opening handshake as the machine reaches
// it. W is the key of the context that holds its read side, where the machine
// calls every method (Abort, Notifier, Aborting and Stopping are safe from any
// goroutine as well).
type Conn[W any] interface {
	// Kept is the read side's pooled buffer of bytes kept unparsed, nil for
	// none: the request so far, then what followed a request whose decision
	// is deferred.
	Kept(w W) *[]byte
	// Scratch is the context's reusable request view and answer buffer.
	Scratch(w W) (*upgrade.Request, *[]byte)
	Upgrader() *upgrade.Upgrader
	Remote() netip.AddrPort
	Notifier() upgrade.Notifier // told when a deferred decision is made
	// Aborting: the server closes without a word to anyone; Stopping: it
	// answers handshakes 503 (Shutdown).
	Aborting() bool
	Stopping() bool
	Abort()
	// AdmitClientIP counts the connection under the client IP req carries
	// (behind a trusted proxy) and reports whether the per-IP cap leaves it
	// room; without room nothing stays counted.
	AdmitClientIP(w W, req *upgrade.Request) bool
	// HookGuard is how the calls that may run user hooks are guarded
	// (guard.Hook): the panic policy and the logger a recovered panic goes
	// to. The machine calls guard.Hook itself, so that the call's closure and
	// what it captures stay on the stack (through an interface method they
	// escaped: three allocations, 216 bytes of garbage per handshake).
	HookGuard() (guard.Policy, *slog.Logger)
	// Wait makes the read side wait for h (nothing is parsed meanwhile);
	// Waited takes h back once decided, false when none was waited for.
	Wait(w W, h *upgrade.Handle)
	Waited(w W) (*upgrade.Handle, bool)
	// Open takes what res negotiated and makes the connection open. res is
	// a copy: a pointer through this interface would move the caller's
	// Result to the heap, once per handshake.
	Open(res upgrade.Result)
	// Answer writes out, a 101 or a refusal, behind nothing.
	Answer(out []byte) error
	// Opened ends the handshake state, counts it accepted and tells the
	// handler (OnOpen); Parse handles bytes as frames; Finished reports
	// whether the connection ended (in a callback, say).
	Opened(w W)
	Parse(w W, head []byte)
	Finished(w W) bool
	// Linger ends a refused connection once its answer is out (input dropped
	// until the peer hangs up or a deadline passes), or reports false where
	// it cannot.
	Linger(w W, err error) bool
	Finish(w W, err error) // ends the connection at once (1006), for err
	Refused(err error)     // counts a refusal by the status it answers
}

// Input takes bytes read from a connection in its handshake.
func Input[C Conn[W], W any](c C, w W, data []byte) {
	kept := c.Kept(w)
	buf := data
	if *kept != nil {
		*kept = assemble.Keep(*kept, data, 0)
		buf = *kept
	}
	req, rsp := c.Scratch(w)
	u := c.Upgrader()
	n, err := u.Parse(buf, req)
	if err == upgrade.ErrNeedMore {
		if *kept == nil {
			*kept = assemble.Keep(nil, data, keptMin)
		}
		return
	}
	if err != nil {
		Refuse(c, w, (*rsp)[:0], err)
		return
	}
	if c.Aborting() {
		c.Abort() // Close: no answer to anyone
		return
	}
	if c.Stopping() {
		Refuse(c, w, (*rsp)[:0], ErrBusy)
		return
	}
	if !c.AdmitClientIP(w, req) {
		Refuse(c, w, (*rsp)[:0], admit.TooMany(admit.ReasonTooManyIP)) // 503 (internal/admit)
		return
	}
	var out []byte
	var res upgrade.Result
	if hooked(c, func() { out, res = u.Handshake(req, c.Remote(), (*rsp)[:0], c.Notifier()) }) {
		Refuse(c, w, (*rsp)[:0], ErrHookPanic)
		return
	}
	*rsp = out[:0]
	head := buf[n:]
	if res.Pending != nil {
		c.Wait(w, res.Pending)
		keepOnly(kept, head) // frames sent early, for after the decision
		return
	}
	complete(c, w, out, &res, head)
}

// keepOnly replaces *kept with a pooled copy of head (which may alias it).
func keepOnly(kept *[]byte, head []byte) {
	var b []byte
	if len(head) > 0 {
		b = assemble.Keep(nil, head, 0)
	}
	if *kept != nil {
		bufpool.Put(*kept)
	}
	*kept = b
}

// Early keeps bytes that arrive while a deferred decision is pending (a
// reader that reads on to notice a hang-up), for after it: at most MaxEarly
// in all, past which the connection ends (ErrEarlyData).
func Early[C Conn[W], W any](c C, w W, data []byte) {
	kept := c.Kept(w)
	if len(*kept)+len(data) > MaxEarly {
		c.Finish(w, ErrEarlyData)
		return
	}
	*kept = assemble.Keep(*kept, data, 0)
}

// Decided finishes a handshake whose deferred decision arrived, and reports
// whether it answered the decision (accepted or refused) rather than ending
// otherwise (nothing waited for, a panic, the server stopping).
func Decided[C Conn[W], W any](c C, w W) bool {
	h, ok := c.Waited(w)
	if !ok {
		return false
	}
	_, rsp := c.Scratch(w)
	var out []byte
	var res upgrade.Result
	if hooked(c, func() { out, res = h.Finish((*rsp)[:0]) }) {
		Refuse(c, w, (*rsp)[:0], ErrHookPanic)
		return false
	}
	*rsp = out[:0]
	if c.Stopping() && res.Accepted() {
		Refuse(c, w, (*rsp)[:0], ErrBusy)
		return false
	}
	complete(c, w, out, &res, *c.Kept(w))
	return true
}

// complete writes the answer; on acceptance the connection opens and head
// (the bytes after the request, in the kept buffer or the read's) is parsed
// as frames.
func complete[C Conn[W], W any](c C, w W, out []byte, res *upgrade.Result, head []byte) {
	if !res.Accepted() {
		reject(c, w, out, res.Err)
		return
	}
	// Open before the 101 leaves: a client that saw it finds the connection
	// open. OnOpen still comes after the 101.
	c.Open(*res)
	if err := c.Answer(out); err != nil {
		c.Finish(w, err)
		return
	}
	kept := c.Kept(w)
	in := *kept
	*kept = nil
	c.Opened(w)
	if len(head) > 0 && !c.Finished(w) {
		c.Parse(w, head)
	}
	if in != nil {
		bufpool.Put(in)
	}
}

// Refuse answers err (upgrade.Upgrader.Refuse, which tells OnHandshakeError,
// appended to dst) and ends the connection as a refusal does. A panicking
// OnHandshakeError still gets the answer written.
func Refuse[C Conn[W], W any](c C, w W, dst []byte, err error) {
	var out []byte
	if hooked(c, func() { out = c.Upgrader().Refuse(dst, c.Remote(), err) }) {
		out = upgrade.AppendError(dst, err)
	}
	reject(c, w, out, err)
}

// hooked runs f, which may run user hooks, under c's guard and reports
// whether it panicked (the caller answers 500). f does not escape.
func hooked[C Conn[W], W any](c C, f func()) (panicked bool) {
	p, log := c.HookGuard()
	return guard.Hook(p, log, c.Remote(), f)
}

// reject writes a refusal and ends the connection: it lingers, or ends at
// once where it cannot or the answer could not be written. OnOpen was never
// called, so OnClose is not either.
func reject[C Conn[W], W any](c C, w W, out []byte, err error) {
	c.Refused(err)
	if werr := c.Answer(out); werr != nil || !c.Linger(w, err) {
		c.Finish(w, err)
	}
}
