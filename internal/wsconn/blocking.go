package wsconn

import (
	"context"
	"errors"

	"github.com/weir-ws/weir/frame"
	"github.com/weir-ws/weir/internal/msgqueue"
)

// For programs that prefer to block: a connection dialled without a Handler, and
// every connection of a server made without one (NewServer(nil, ...)), queues its
// messages, and ReadMessage takes them one at a time. The event-driven core stays
// as it is: the queue is a Handler, and when it holds ReadQueue messages (64 on a
// server) the connection stops reading (PauseRead) until the program catches up,
// so a slow reader pushes back through TCP instead of growing memory.

// ErrNoQueue is engine.ErrNoQueue (documented there).
var ErrNoQueue = errors.New("weir: connection has a handler; ReadMessage needs one dialled or served without a Handler")

// queue is the Handler behind ReadMessage (internal/msgqueue): it queues
// every message, pauses reading while the queue is full, and ends with the
// close status as a *CloseError (or the error of an abnormal end).
type queue = msgqueue.Handler[*Conn]

// newQueue makes a connection's queue, its messages charged to b (the
// engine's inbound budget, Config.MaxTotalInbound) until ReadMessage takes
// them; one the budget refuses closes the connection with 1013.
func NewQueue(max int, b msgqueue.Budget) *queue {
	return msgqueue.NewHandler[*Conn](max, b, closeError, refusedQueue)
}

func refusedQueue(c *Conn) { c.CloseNow(frame.StatusTryAgainLater, "") }

func closeError(code frame.StatusCode, reason string) error {
	return &CloseError{Code: code, Reason: reason}
}

// QueueHandler is the Handler of a server made without one: each connection's
// messages and close go to a queue of its own (serverQueue), as a dialled
// connection's go to the queue that is its Handler.
type QueueHandler struct{}

func (QueueHandler) OnOpen(c *Conn) { c.ServerQueue().OnOpen(c) }

func (QueueHandler) OnMessage(c *Conn, op frame.Opcode, p []byte) {
	c.ServerQueue().OnMessage(c, op, p)
}

// Frames, pings, pongs and drains are not queued (every ping is answered).
func (QueueHandler) OnFrame(*Conn, frame.Header, []byte) {}
func (QueueHandler) OnPing(*Conn, []byte) bool           { return true }
func (QueueHandler) OnPong(*Conn, []byte)                {}
func (QueueHandler) OnDrain(*Conn)                       {}
func (QueueHandler) OnClose(c *Conn, code frame.StatusCode, reason string, err error) {
	c.ServerQueue().OnClose(c, code, reason, err)
}

// serverQueue returns the queue of a connection served by queueHandler, made by
// whichever comes first: its first message or close (worker context), or a
// ReadMessage (any goroutine).
func (c *Conn) ServerQueue() *queue {
	a := c.SharedExtras()
	if q := a.queue.Load(); q != nil {
		return q
	}
	a.queue.CompareAndSwap(nil, NewQueue(c.Eng().Cfg.ReadQueue, &c.Eng().Inbound))
	return a.queue.Load()
}

// ReadMessage is engine.Conn.ReadMessage (documented there).
func (c *Conn) ReadMessage(ctx context.Context) (frame.Opcode, []byte, error) {
	q, ok := c.Handler().(*queue)
	if !ok {
		if _, served := c.Handler().(QueueHandler); !served {
			return 0, nil, ErrNoQueue
		}
		q = c.ServerQueue()
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
