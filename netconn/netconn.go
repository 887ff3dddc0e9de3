package netconn

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/weir-ws/weir/frame"
)

// Conn is what New needs of a connection; *engine.Conn has it.
type Conn interface {
	// ReadMessage blocks until a message arrives, the connection ends or ctx
	// ends, and leaves the message queued when ctx ends first.
	ReadMessage(ctx context.Context) (frame.Opcode, []byte, error)
	WriteMessage(op frame.Opcode, p []byte) error
	Close(code frame.StatusCode, reason string) error
	// CloseStatus is the close code and reason once the connection closes.
	CloseStatus() (frame.StatusCode, string)
	LocalAddr() netip.AddrPort
	RemoteAddr() netip.AddrPort
}

// New returns c as a net.Conn whose Writes send messages with opcode op
// (frame.OpText: the caller vouches for UTF-8).
func New(c Conn, op frame.Opcode) net.Conn {
	return &netConn{c: c, op: op}
}

// errKicked is the cause of a Read's context when SetReadDeadline changed the
// deadline under it.
var errKicked = errors.New("weir: read deadline changed")

type netConn struct {
	c  Conn
	op frame.Opcode

	rmu  sync.Mutex // one Read at a time
	rest []byte

	dmu      sync.Mutex
	rdl, wdl time.Time
	kick     context.CancelCauseFunc // the Read in progress's (under dmu)
	closed   bool                    // Close was called (under dmu)
}

func (n *netConn) Read(p []byte) (int, error) {
	n.rmu.Lock()
	defer n.rmu.Unlock()
	for {
		n.dmu.Lock()
		if n.closed {
			// net.Conn: after Close, Read fails, whatever the peer still
			// sends before its close frame or was left unread.
			n.dmu.Unlock()
			return 0, net.ErrClosed
		}
		if len(n.rest) > 0 {
			n.dmu.Unlock()
			break
		}
		dl := n.rdl
		if !dl.IsZero() && !time.Now().Before(dl) {
			n.dmu.Unlock()
			return 0, timeoutError{}
		}
		ctx, kick := context.WithCancelCause(context.Background())
		n.kick = kick
		n.dmu.Unlock()
		cancel := context.CancelFunc(func() {})
		if !dl.IsZero() {
			ctx, cancel = context.WithDeadline(ctx, dl)
		}
		_, msg, err := n.c.ReadMessage(ctx)
		done := ctx.Err() != nil
		cancel()
		n.dmu.Lock()
		n.kick = nil
		n.dmu.Unlock()
		kick(nil)
		switch {
		case err != nil && done && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)):
			continue // a deadline passed or changed, or Close: look again
		case err != nil:
			if code, _ := n.c.CloseStatus(); code == frame.StatusNormalClosure || code == frame.StatusGoingAway || code == frame.StatusNoStatusRcvd {
				return 0, io.EOF
			}
			return 0, err
		}
		n.rest = msg
	}
	k := copy(p, n.rest)
	n.rest = n.rest[k:]
	return k, nil
}

func (n *netConn) Write(p []byte) (int, error) {
	n.dmu.Lock()
	dl, closed := n.wdl, n.closed
	n.dmu.Unlock()
	if closed {
		return 0, net.ErrClosed
	}
	if !dl.IsZero() && !time.Now().Before(dl) {
		return 0, timeoutError{}
	}
	if err := n.c.WriteMessage(n.op, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close starts the closing handshake and, as net.Conn's Close does, lets a
// Read in progress go at once with net.ErrClosed: it does not wait for the
// peer's close frame, which a peer may hold back up to the engine's
// CloseTimeout. Later Reads and Writes fail with net.ErrClosed.
func (n *netConn) Close() error {
	n.dmu.Lock()
	n.closed = true
	if n.kick != nil {
		n.kick(errKicked)
	}
	n.dmu.Unlock()
	return n.c.Close(frame.StatusNormalClosure, "")
}

func (n *netConn) LocalAddr() net.Addr  { return net.TCPAddrFromAddrPort(n.c.LocalAddr()) }
func (n *netConn) RemoteAddr() net.Addr { return net.TCPAddrFromAddrPort(n.c.RemoteAddr()) }

func (n *netConn) SetDeadline(t time.Time) error {
	n.SetWriteDeadline(t)
	return n.SetReadDeadline(t)
}

// SetReadDeadline applies to a Read in progress too: it wakes the Read, which
// looks at the new deadline.
func (n *netConn) SetReadDeadline(t time.Time) error {
	n.dmu.Lock()
	n.rdl = t
	if n.kick != nil {
		n.kick(errKicked)
	}
	n.dmu.Unlock()
	return nil
}

// SetWriteDeadline makes Writes from t on fail (net.Conn's contract). A Write
// never blocks otherwise: the message is queued, under Config.MaxWriteBuffer, so
// no Write is in progress for a deadline to interrupt.
func (n *netConn) SetWriteDeadline(t time.Time) error {
	n.dmu.Lock()
	n.wdl = t
	n.dmu.Unlock()
	return nil
}

// timeoutError is a passed deadline: a net.Error with Timeout true that is also
// os.ErrDeadlineExceeded, as the net package's own conns report it.
type timeoutError struct{}

func (timeoutError) Error() string   { return "weir: i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }
func (timeoutError) Unwrap() error   { return os.ErrDeadlineExceeded }
