package closing

import (
	"errors"
	"sync/atomic"
	"unicode/utf8"

	"github.com/weir-ws/weir/frame"
)

// Local close requests (Conn.Request), posted from any goroutine.
const (
	Graceful uint32 = iota + 1 // close frame sent; wait for the peer's
	Now                        // close frame sent; close TCP at once (WebSocket-Node drop)
	Abort                      // no frame; close TCP at once (ws terminate)
	Busy                       // a handshake in flight: answer 503 (Shutdown)
	Slow                       // the outbound cap: 1008 sent, close TCP at once
)

// Phases (Conn.Phase): the values of the engine's State.
const (
	Connecting uint32 = iota
	Open
	Closing
	Closed
)

var (
	// ErrAborted is reported after Abort.
	ErrAborted = errors.New("weir: connection aborted locally")
	// ErrInvalidCode: a close code that may not be sent on the wire (§7.4).
	ErrInvalidCode = errors.New("weir: invalid close code")
)

// ReasonSlow is the close reason sent to a slow consumer.
const ReasonSlow = "slow consumer"

// Conn is a connection as the machine reaches it. W is the key of the context
// that holds its read side; the methods that take one are called only there.
type Conn[W any] interface {
	Client() bool
	Request() *atomic.Uint32 // the local close request, from any goroutine
	Phase() *atomic.Uint32   // Connecting, Open, Closing, Closed
	Post()                   // has the read side's context run OnRequest
	// SendClose queues the close frame (code 0: no status) once and reports
	// whether this call did; it moves an open connection to Closing.
	SendClose(code frame.StatusCode, reason string) bool
	SetStatus(code frame.StatusCode, reason string) // unless one is set
	Status() (frame.StatusCode, string)

	// Read is the machine's state in the read side; Failure, the error the
	// connection was failed for (nil: it was not); Failed records it once
	// the connection fails, and releases the read side's buffers.
	Read(w W) *Read
	Failure(w W) error
	Failed(w W, err error)
	ShutdownWrite()                                              // half-close once the queued output is out
	Arm(w W)                                                     // the close deadline, CloseTimeout from now
	Finish(w W, code frame.StatusCode, reason string, err error) // closed for good
	FinishClean(w W)                                             // the handshake is done: finish once output is out
	// Handshaking ends a connection whose request came during the opening
	// handshake (busy: a 503 is owed).
	Handshaking(w W, busy bool)
	GoingAway() (frame.StatusCode, string) // the status when the engine stops
}

// Machine is the close machine with the errors it reports that are the
// engine's.
type Machine[C Conn[W], W any] struct {
	Abnormal     error // the TCP connection ended without a close frame (1006)
	CloseTimeout error // the peer did not answer within the close deadline
	Slow         error // the outbound cap was passed (1008)
}

// Check reports whether code and reason may go in a close frame: a code valid
// on the wire (§7.4.1, §7.4.2; 0 for none, then no reason), a reason of at
// most 123 bytes (§5.5) in UTF-8 (the peer would fail with 1007).
func Check(code frame.StatusCode, reason string) error {
	if code != 0 && !code.IsValidOnWire() {
		return ErrInvalidCode
	}
	if len(reason) > frame.MaxControlPayload-2 || (code == 0 && reason != "") {
		return frame.ErrCloseReasonTooLong
	}
	if !utf8.ValidString(reason) {
		return frame.ErrInvalidUTF8
	}
	return nil
}

// ParsePayload is the code and reason of a close frame's payload written by
// the application (code 0 for an empty one), checked as Check does.
func ParsePayload(p []byte) (frame.StatusCode, string, error) {
	code, reason, err := frame.ParseClose(p)
	if err != nil {
		return 0, "", err
	}
	if code == frame.StatusNoStatusRcvd {
		code = 0
	}
	return code, string(reason), Check(code, string(reason))
}

// Close starts the closing handshake (§7.1.2) from any goroutine: the close
// frame goes out and the read side waits for the peer's. It reports false
// when the close frame was sent before.
func (Machine[C, W]) Close(c C, code frame.StatusCode, reason string) bool {
	if !c.SendClose(code, reason) {
		return false
	}
	c.Request().CompareAndSwap(0, Graceful)
	c.Phase().CompareAndSwap(Open, Closing)
	c.Post()
	return true
}

// CloseNow sends the close frame, as far as it goes, and has the read side
// close TCP at once.
func (Machine[C, W]) CloseNow(c C, code frame.StatusCode, reason string) {
	c.SendClose(code, reason)
	if code == 0 {
		code = frame.StatusNoStatusRcvd
	}
	c.SetStatus(code, reason)
	c.Request().Store(Now)
	c.Post()
}

// Request posts req (Abort, Slow) from any goroutine.
func (Machine[C, W]) Request(c C, req uint32) {
	if req == Slow {
		c.SendClose(frame.StatusPolicyViolation, ReasonSlow)
		c.SetStatus(frame.StatusPolicyViolation, ReasonSlow)
	}
	c.Request().Store(req)
	c.Post()
}

// OnRequest acts on the posted request in the read side's context.
func (m Machine[C, W]) OnRequest(c C, w W) {
	req := c.Request().Load()
	if c.Phase().Load() == Connecting {
		c.Handshaking(w, req == Busy)
		return
	}
	switch req {
	case Graceful:
		if c.Read(w).Received() && !c.Client() {
			c.FinishClean(w)
			return
		}
		c.Arm(w)
	case Now:
		code, reason := c.Status()
		c.Finish(w, code, reason, nil)
	case Abort:
		c.Finish(w, frame.StatusAbnormalClosure, "", ErrAborted)
	case Slow:
		c.Finish(w, frame.StatusPolicyViolation, ReasonSlow, m.Slow)
	case Busy:
		// A 503 was asked for while the handshake was in flight, and the
		// handshake completed first: the connection is open, so it gets what
		// the engine's stop gives open connections, going-away.
		if !c.Request().CompareAndSwap(Busy, Graceful) {
			m.OnRequest(c, w) // an Abort came meanwhile
			return
		}
		c.SendClose(c.GoingAway())
		c.Arm(w)
	}
}

// Fail fails the WebSocket connection (§7.1.7) for err: the close frame with
// err's code, no more frames read, and a wait of at most the close deadline
// for the peer to hang up. It returns false, for `return m.Fail(c, w, err)`.
func (Machine[C, W]) Fail(c C, w W, err error) bool {
	if !c.Read(w).Discard() {
		return false
	}
	c.Failed(w, err)
	code := frame.StatusProtocolError
	var pe *frame.ProtocolError
	if errors.As(err, &pe) {
		code = pe.Code
	}
	c.SetStatus(code, "")
	c.SendClose(code, "")
	c.Phase().Store(Closing)
	c.ShutdownWrite()
	c.Arm(w)
	return false
}

// OnPeerClose handles the peer's close frame (§5.5.1, §7.1.5).
func (m Machine[C, W]) OnPeerClose(c C, w W, payload []byte) {
	code, reason, err := frame.ParseClose(payload)
	if err != nil {
		m.Fail(c, w, err)
		return
	}
	c.SetStatus(code, string(reason))
	// Echo the status code (none for 1005, which is never sent on the wire).
	echo := code
	if code == frame.StatusNoStatusRcvd {
		echo = 0
	}
	c.Read(w).receive(c.SendClose(echo, ""))
	c.Phase().Store(Closing)
	if c.Client() {
		c.Arm(w) // §7.1.1: the server closes TCP first; a client waits for it
		return
	}
	c.FinishClean(w)
}

// OnEnd handles the end of input: the peer's hang-up (err nil) or an I/O
// error. After a failure or the peer's close frame it is the clean end.
func (m Machine[C, W]) OnEnd(c C, w W, err error) {
	switch {
	case c.Failure(w) != nil || c.Read(w).Received():
		c.FinishClean(w)
	case err == nil:
		c.Finish(w, frame.StatusAbnormalClosure, "", m.Abnormal)
	default:
		c.Finish(w, frame.StatusAbnormalClosure, "", err)
	}
}

// OnDeadline ends a closing connection whose close deadline passed: with its
// status (1006 without one) and the failure, or CloseTimeout.
func (m Machine[C, W]) OnDeadline(c C, w W) {
	code, _ := c.Status()
	if code == 0 {
		code = frame.StatusAbnormalClosure
	}
	err := c.Failure(w)
	if err == nil {
		err = m.CloseTimeout
	}
	c.Finish(w, code, "", err)
}
