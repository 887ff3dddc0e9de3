package engine

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weir-ws/weir/frame"
)

// For programs that prefer to block: a connection dialled without a Handler, and
// every connection of a server made without one (NewServer(nil, ...)), queues its
// messages, and ReadMessage takes them one at a time. The event-driven core stays
// as it is: the queue is a Handler, and when it holds ReadQueue messages (64 on a
// server) the connection stops reading (PauseRead) until the program catches up,
// so a slow reader pushes back through TCP instead of growing memory.

// ErrNoQueue: ReadMessage on a connection that has a Handler of its own.
var ErrNoQueue = errors.New("weir: connection has a handler; ReadMessage needs one dialled or served without a Handler")

type queued struct {
	op   frame.Opcode
	data []byte
}

// queue is the Handler behind ReadMessage.
type queue struct {
	NopHandler
	c      *Conn
	mu     sync.Mutex
	msgs   []queued
	max    int
	err    error
	notify chan struct{}
	opened atomic.Bool // OnOpen came, so OnClose will
}

func newQueue(c *Conn, max int) *queue {
	if max <= 0 {
		max = 64
	}
	return &queue{c: c, max: max, notify: make(chan struct{}, 1)}
}

func (q *queue) signal() {
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

func (q *queue) OnOpen(*Conn) { q.opened.Store(true) }

// OnMessage queues a copy of p and pauses reading once the queue is full. The
// pause comes before the signal, so a reader it wakes sees it (readMessage).
func (q *queue) OnMessage(c *Conn, op frame.Opcode, p []byte) {
	q.mu.Lock()
	q.msgs = append(q.msgs, queued{op, append([]byte(nil), p...)})
	full := len(q.msgs) >= q.max
	q.mu.Unlock()
	if full {
		c.PauseRead()
	}
	q.signal()
}

func (q *queue) OnClose(c *Conn, code frame.StatusCode, reason string, err error) {
	q.mu.Lock()
	if err == nil || code != frame.StatusAbnormalClosure {
		q.err = &CloseError{Code: code, Reason: reason}
	} else {
		q.err = err
	}
	q.mu.Unlock()
	q.signal()
}

// queueHandler is the Handler of a server made without one: each connection's
// messages and close go to a queue of its own (serverQueue), as a dialled
// connection's go to the queue that is its Handler.
type queueHandler struct{ NopHandler }

func (queueHandler) OnOpen(c *Conn) { c.serverQueue().OnOpen(c) }

func (queueHandler) OnMessage(c *Conn, op frame.Opcode, p []byte) {
	c.serverQueue().OnMessage(c, op, p)
}

func (queueHandler) OnClose(c *Conn, code frame.StatusCode, reason string, err error) {
	c.serverQueue().OnClose(c, code, reason, err)
}

// serverQueue returns the queue of a connection served by queueHandler, made by
// whichever comes first: its first message or close (worker context), or a
// ReadMessage (any goroutine).
func (c *Conn) serverQueue() *queue {
	a := c.sharedExtras()
	if q := a.queue.Load(); q != nil {
		return q
	}
	a.queue.CompareAndSwap(nil, newQueue(c, c.eng.cfg.ReadQueue))
	return a.queue.Load()
}

// ReadMessage returns the next message of a connection dialled without a Handler
// or served by a server made without one, blocking until one arrives, the
// connection closes (a *CloseError, or the error that ended it) or ctx ends. The
// returned slice is the caller's. Taking messages resumes reading that a full
// queue (or PauseRead) stopped.
func (c *Conn) ReadMessage(ctx context.Context) (frame.Opcode, []byte, error) {
	return c.readMessage(ctx, nil)
}

// readMessage is ReadMessage that also returns errKicked when kick has a token.
func (c *Conn) readMessage(ctx context.Context, kick <-chan struct{}) (frame.Opcode, []byte, error) {
	q, ok := c.handler.(*queue)
	if !ok {
		if _, served := c.handler.(queueHandler); !served {
			return 0, nil, ErrNoQueue
		}
		q = c.serverQueue()
	}
	for {
		q.mu.Lock()
		if len(q.msgs) > 0 {
			m := q.msgs[0]
			q.msgs[0] = queued{}
			q.msgs = q.msgs[1:]
			resume := len(q.msgs) < q.max/2+1 && c.IsPaused()
			q.mu.Unlock()
			if resume {
				c.ResumeRead()
			}
			return m.op, m.data, nil
		}
		err := q.err
		q.mu.Unlock()
		if err != nil {
			return 0, nil, err
		}
		if c.IsPaused() {
			// OnMessage paused after this reader took the last message: with
			// nothing queued, nothing else would resume reading.
			c.ResumeRead()
		}
		if c.State() == StateClosed && !q.opened.Load() {
			// Closed without opening (Adopt while the server stops, or over a
			// cap): no OnClose will come to fill q.err.
			code, reason := c.CloseStatus()
			return 0, nil, &CloseError{Code: code, Reason: reason}
		}
		select {
		case <-q.notify:
		case <-ctx.Done():
			return 0, nil, ctx.Err()
		case <-kick:
			return 0, nil, errKicked
		}
	}
}

var errKicked = errors.New("weir: read deadline changed")

// NetConn adapts a connection that ReadMessage can read (dialled without a
// Handler, or served by a server made without one) to a net.Conn (ws
// createWebSocketStream): Read returns the bytes of successive messages as one
// stream; each Write sends one message with opcode op. A normal close reads as
// io.EOF. Past a deadline Read and Write fail with an error that is
// os.ErrDeadlineExceeded and a net.Error whose Timeout is true.
func NetConn(c *Conn, op frame.Opcode) net.Conn {
	return &netConn{c: c, op: op, kick: make(chan struct{}, 1)}
}

type netConn struct {
	c    *Conn
	op   frame.Opcode
	kick chan struct{} // SetReadDeadline wakes a blocked Read to look again

	rmu  sync.Mutex // one Read at a time
	rest []byte

	dmu      sync.Mutex
	rdl, wdl time.Time
}

func (n *netConn) Read(p []byte) (int, error) {
	n.rmu.Lock()
	defer n.rmu.Unlock()
	for len(n.rest) == 0 {
		n.dmu.Lock()
		dl := n.rdl
		n.dmu.Unlock()
		if !dl.IsZero() && !time.Now().Before(dl) {
			return 0, timeoutError{}
		}
		ctx, cancel := context.Background(), context.CancelFunc(func() {})
		if !dl.IsZero() {
			ctx, cancel = context.WithDeadline(ctx, dl)
		}
		_, msg, err := n.c.readMessage(ctx, n.kick)
		cancel()
		switch {
		case err == errKicked, errors.Is(err, context.DeadlineExceeded):
			continue // look at the (new) deadline again
		case err != nil:
			var ce *CloseError
			if errors.As(err, &ce) && (ce.Code == frame.StatusNormalClosure || ce.Code == frame.StatusGoingAway || ce.Code == frame.StatusNoStatusRcvd) {
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
	dl := n.wdl
	n.dmu.Unlock()
	if !dl.IsZero() && !time.Now().Before(dl) {
		return 0, timeoutError{}
	}
	if err := n.c.WriteMessage(n.op, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (n *netConn) Close() error { return n.c.Close(frame.StatusNormalClosure, "") }

func (n *netConn) LocalAddr() net.Addr  { return net.TCPAddrFromAddrPort(n.c.LocalAddr()) }
func (n *netConn) RemoteAddr() net.Addr { return net.TCPAddrFromAddrPort(n.c.RemoteAddr()) }

func (n *netConn) SetDeadline(t time.Time) error {
	n.SetWriteDeadline(t)
	return n.SetReadDeadline(t)
}

// SetReadDeadline applies to a Read in progress too.
func (n *netConn) SetReadDeadline(t time.Time) error {
	n.dmu.Lock()
	n.rdl = t
	n.dmu.Unlock()
	select {
	case n.kick <- struct{}{}:
	default:
	}
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
