package engine

import (
	"context"
	"errors"
	"net"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/msgqueue"
	"github.com/weir-ws/weir/netconn"
)

// For programs that prefer to block: a connection dialled without a Handler, and
// every connection of a server made without one (NewServer(nil, ...)), queues its
// messages, and ReadMessage takes them one at a time. The event-driven core stays
// as it is: the queue is a Handler, and when it holds ReadQueue messages (64 on a
// server) the connection stops reading (PauseRead) until the program catches up,
// so a slow reader pushes back through TCP instead of growing memory.

// ErrNoQueue: ReadMessage on a connection that has a Handler of its own.
var ErrNoQueue = errors.New("weir: connection has a handler; ReadMessage needs one dialled or served without a Handler")

// queue is the Handler behind ReadMessage (internal/msgqueue): it queues
// every message, pauses reading while the queue is full, and ends with the
// close status as a *CloseError (or the error of an abnormal end).
type queue = msgqueue.Handler[*Conn]

// newQueue makes a connection's queue, its messages charged to b (the
// engine's inbound budget, Config.MaxTotalInbound) until ReadMessage takes
// them; one the budget refuses closes the connection with 1013.
func newQueue(max int, b msgqueue.Budget) *queue {
	return msgqueue.NewHandler[*Conn](max, b, closeError, refusedQueue)
}

func refusedQueue(c *Conn) { c.CloseNow(frame.StatusTryAgainLater, "") }

func closeError(code frame.StatusCode, reason string) error {
	return &CloseError{Code: code, Reason: reason}
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
	a.queue.CompareAndSwap(nil, newQueue(c.eng().cfg.ReadQueue, &c.eng().inbound))
	return a.queue.Load()
}

// ReadMessage returns the next message of a connection dialled without a Handler
// or served by a server made without one, blocking until one arrives, the
// connection closes (a *CloseError, or the error that ended it) or ctx ends. The
// returned slice is the caller's. Taking messages resumes reading that a full
// queue (or PauseRead) stopped.
// When ctx ends first, no message is taken (package netconn relies on it).
func (c *Conn) ReadMessage(ctx context.Context) (frame.Opcode, []byte, error) {
	q, ok := c.handler().(*queue)
	if !ok {
		if _, served := c.handler().(queueHandler); !served {
			return 0, nil, ErrNoQueue
		}
		q = c.serverQueue()
	}
	return q.Pop(ctx, c, func() error {
		if c.State() != StateClosed {
			return nil
		}
		// Closed without opening (Adopt while the server stops, or over a
		// cap): no OnClose will come to end the queue.
		return closeError(c.CloseStatus())
	})
}

// NetConn adapts a connection that ReadMessage can read to a net.Conn.
//
// Deprecated: use netconn.New(c, op), which it calls.
func NetConn(c *Conn, op frame.Opcode) net.Conn { return netconn.New(c, op) }
